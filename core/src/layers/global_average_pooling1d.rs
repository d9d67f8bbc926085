//! `GlobalAveragePooling1D`: the mean of each channel over a whole sequence.

use core::marker::PhantomData;

use super::pooling;
use crate::{Layer, Params, Shape};

/// Global average pooling (Keras `GlobalAveragePooling1D(keepdims)`), channels-last.
///
/// Each output value is the mean of one channel over all steps.
///
/// `O` is the output shape: `[f32; C]` (the default, Keras's `keepdims = False`) or
/// `[[f32; C]; 1]` with `keepdims = True`. Any other `O` fails to compile when the layer is used.
///
/// # Shapes
/// - input: `[[f32; C]; L]`
/// - output: `O`, `[f32; C]` or `[[f32; C]; 1]`
///
/// ```
/// use kerust::{layers::GlobalAveragePooling1D, Layer};
/// // GlobalAveragePooling1D() on 3 steps of 2 features.
/// let pool = GlobalAveragePooling1D::<3, 2>::new();
/// let mut y = [0.0; 2];
/// pool.forward(&[1.0, -1.0, 4.0, -2.0, 4.0, -3.0], &mut y, &mut [], 1);
/// assert_eq!(y, [3.0, -2.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAveragePooling1D<const L: usize, const C: usize, O: Shape = [f32; C]> {
    marker: PhantomData<O>,
}

impl<const L: usize, const C: usize, O: Shape> GlobalAveragePooling1D<L, C, O> {
    const CHECK: () = assert!(
        L > 0 && C > 0 && O::LEN == C && (O::RANK == 1 || (O::RANK == 2 && O::DIMS[0] == 1)),
        "GlobalAveragePooling1D: the output shape O must be `[f32; C]` or, with keepdims, `[[f32; C]; 1]`"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        GlobalAveragePooling1D { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<const L: usize, const C: usize, O: Shape> Params for GlobalAveragePooling1D<L, C, O> {
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<const L: usize, const C: usize, O: Shape> Layer for GlobalAveragePooling1D<L, C, O> {
    type Input = [[f32; C]; L];
    type Output = O;
    const KIND: &'static str = "GlobalAveragePooling1D";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        pooling::global_avg_forward(L, C, x, y, batch);
    }

    fn backward(
        &self,
        _x: &[f32],
        _y: &[f32],
        _cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        _grads: &mut Self,
        batch: usize,
    ) {
        let () = Self::CHECK;
        if let Some(dx) = dx {
            pooling::global_avg_backward(L, C, dy, dx, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepdims_shape() {
        assert_eq!(
            <<GlobalAveragePooling1D<3, 2, [[f32; 2]; 1]> as Layer>::Output as Shape>::dims(),
            &[1, 2]
        );
        assert_eq!(
            <<GlobalAveragePooling1D<3, 2> as Layer>::Output as Shape>::dims(),
            &[2]
        );
    }
}
