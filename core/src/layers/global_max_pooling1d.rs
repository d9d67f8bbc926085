//! `GlobalMaxPooling1D`: the maximum of each channel over a whole sequence.

use core::marker::PhantomData;

use super::pooling;
use crate::{Layer, Params, Rng, Shape};

/// Global max pooling (Keras `GlobalMaxPooling1D(keepdims)`), channels-last.
///
/// Each output value is the maximum of one channel over all steps; a NaN gives NaN.
///
/// Backward: each output's gradient is shared *equally* by the cells that reach the
/// maximum, as Keras's `ops.max` is differentiated by both the TF and the JAX backend
/// (unlike `MaxPooling`, whose windows send it to the first maximum). The training
/// forward keeps in [`Layer::CACHE`] how many cells reach each maximum.
///
/// `O` is the output shape: `[f32; C]` (the default, Keras's `keepdims = False`) or
/// `[[f32; C]; 1]` with `keepdims = True`. Any other `O` fails to compile when the layer is used.
///
/// # Shapes
/// - input: `[[f32; C]; L]`
/// - output: `O`, `[f32; C]` or `[[f32; C]; 1]`
///
/// ```
/// use kerust::{layers::GlobalMaxPooling1D, Layer};
/// // GlobalMaxPooling1D() on 3 steps of 2 features.
/// let pool = GlobalMaxPooling1D::<3, 2>::new();
/// let mut y = [0.0; 2];
/// pool.forward(&[1.0, -1.0, 4.0, -2.0, 3.0, -3.0], &mut y, &mut [], 1);
/// assert_eq!(y, [4.0, -1.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalMaxPooling1D<const L: usize, const C: usize, O: Shape = [f32; C]> {
    marker: PhantomData<O>,
}

impl<const L: usize, const C: usize, O: Shape> GlobalMaxPooling1D<L, C, O> {
    const CHECK: () = assert!(
        L > 0 && C > 0 && O::LEN == C && (O::RANK == 1 || (O::RANK == 2 && O::DIMS[0] == 1)),
        "GlobalMaxPooling1D: the output shape O must be `[f32; C]` or, with keepdims, `[[f32; C]; 1]`"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        GlobalMaxPooling1D { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<const L: usize, const C: usize, O: Shape> Params for GlobalMaxPooling1D<L, C, O> {
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<const L: usize, const C: usize, O: Shape> Layer for GlobalMaxPooling1D<L, C, O> {
    type Input = [[f32; C]; L];
    type Output = O;
    const KIND: &'static str = "GlobalMaxPooling1D";
    const CACHE: usize = C;

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        pooling::global_max_forward(L, C, x, y, None, batch);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        pooling::global_max_forward(L, C, x, y, Some(cache), batch);
    }

    fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        _grads: &mut Self,
        batch: usize,
    ) {
        let () = Self::CHECK;
        if let Some(dx) = dx {
            pooling::global_max_backward(L, C, x, y, cache, dy, dx, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_propagates() {
        let pool = GlobalMaxPooling1D::<3, 1>::new();
        let mut y = [0.0; 1];
        pool.forward(&[1.0, f32::NAN, 2.0], &mut y, &mut [], 1);
        assert!(y[0].is_nan());
    }
}
