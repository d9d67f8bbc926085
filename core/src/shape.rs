//! Static per-sample shapes.
//!
//! A sample shape is a Rust type: `f32` is a scalar, `[f32; 64]` a vector of 64 values and
//! `[[[f32; 1]; 28]; 28]` a 28×28×1 image (channels-last, row-major). The batch dimension is
//! not part of the shape; it is a run-time value, as Keras's `None`.

/// The largest rank a [`Shape`] may have.
pub const MAX_RANK: usize = 8;

/// A statically known per-sample shape: `f32` or nested arrays of `f32`.
///
/// # Safety
/// Implementors must be plain `f32` data without padding: `size_of::<Self>() == 4 * LEN`, so
/// that a value can be viewed as `&[f32]` of length `LEN`.
///
/// ```
/// use kerust::Shape;
/// assert_eq!(<[[f32; 3]; 2] as Shape>::LEN, 6);
/// assert_eq!(<[[f32; 3]; 2] as Shape>::dims(), &[2, 3]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a sample shape",
    note = "sample shapes are `f32` or nested arrays of `f32`, such as `[f32; 64]` or `[[[f32; 1]; 28]; 28]`"
)]
pub unsafe trait Shape: Copy + 'static {
    /// Number of `f32` values in one sample.
    const LEN: usize;
    /// Number of dimensions (0 for a scalar).
    const RANK: usize;
    /// The dimensions, outermost first, padded with zeros up to [`MAX_RANK`].
    const DIMS: [usize; MAX_RANK];
    /// A sample with every value zero.
    const ZERO: Self;

    /// The dimensions, outermost first.
    fn dims() -> &'static [usize] {
        // A const item per impl keeps the slice 'static.
        struct Dims<S: ?Sized>(core::marker::PhantomData<S>);
        impl<S: Shape> Dims<S> {
            const D: [usize; MAX_RANK] = S::DIMS;
        }
        &<Dims<Self>>::D[..Self::RANK]
    }

    /// Views the sample as a flat slice.
    fn as_flat(&self) -> &[f32] {
        // SAFETY: the trait's contract: `Self` is `LEN` contiguous f32 values.
        unsafe { core::slice::from_raw_parts(self as *const Self as *const f32, Self::LEN) }
    }

    /// Views the sample as a flat mutable slice.
    fn as_flat_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `as_flat`; f32 has no invalid bit patterns.
        unsafe { core::slice::from_raw_parts_mut(self as *mut Self as *mut f32, Self::LEN) }
    }
}

// SAFETY: one f32.
unsafe impl Shape for f32 {
    const LEN: usize = 1;
    const RANK: usize = 0;
    const DIMS: [usize; MAX_RANK] = [0; MAX_RANK];
    const ZERO: Self = 0.0;
}

// SAFETY: an array of N shapes without padding is N * T::LEN f32 values.
unsafe impl<T: Shape, const N: usize> Shape for [T; N] {
    const LEN: usize = N * T::LEN;
    const RANK: usize = {
        assert!(T::RANK < MAX_RANK, "kerust shapes have at most 8 dimensions");
        T::RANK + 1
    };
    const DIMS: [usize; MAX_RANK] = {
        let mut d = [0; MAX_RANK];
        d[0] = N;
        let mut i = 1;
        while i < MAX_RANK {
            d[i] = T::DIMS[i - 1];
            i += 1;
        }
        d
    };
    const ZERO: Self = [T::ZERO; N];
}

/// Views a slice of samples as one flat slice of `f32`.
///
/// ```
/// let batch = [[1.0f32, 2.0], [3.0, 4.0]];
/// assert_eq!(kerust::shape::flatten(&batch), &[1.0, 2.0, 3.0, 4.0]);
/// ```
pub fn flatten<S: Shape>(samples: &[S]) -> &[f32] {
    // SAFETY: each S is S::LEN contiguous f32 values and slices have no gaps.
    unsafe { core::slice::from_raw_parts(samples.as_ptr() as *const f32, samples.len() * S::LEN) }
}

/// Views a mutable slice of samples as one flat mutable slice of `f32`.
pub fn flatten_mut<S: Shape>(samples: &mut [S]) -> &mut [f32] {
    // SAFETY: as in `flatten`.
    unsafe { core::slice::from_raw_parts_mut(samples.as_mut_ptr() as *mut f32, samples.len() * S::LEN) }
}

/// Marker that two shapes are the same type; used to check layer compositions.
#[diagnostic::on_unimplemented(
    message = "shape mismatch: a layer produces `{Self}` but the next layer expects `{T}`",
    label = "the next layer's input shape does not match",
    note = "insert a `Flatten` or `Reshape` layer, or change the layer's units"
)]
pub trait SameShape<T> {}
impl<T> SameShape<T> for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_and_len() {
        assert_eq!(<f32 as Shape>::LEN, 1);
        assert_eq!(<f32 as Shape>::dims(), &[] as &[usize]);
        assert_eq!(<[[[f32; 1]; 28]; 28] as Shape>::dims(), &[28, 28, 1]);
        assert_eq!(<[[[f32; 1]; 28]; 28] as Shape>::LEN, 784);
    }

    #[test]
    fn flat_views() {
        let mut x = [[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(x.as_flat(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        x.as_flat_mut()[4] = 0.5;
        assert_eq!(x[1][1], 0.5);
    }
}
