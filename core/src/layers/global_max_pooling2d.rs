//! `GlobalMaxPooling2D`: the maximum of each channel over a whole image.

use core::marker::PhantomData;

use super::pooling;
use crate::{Layer, Params, Rng, Shape};

/// Global max pooling (Keras `GlobalMaxPooling2D(keepdims)`), channels-last.
///
/// Each output value is the maximum of one channel over all height and width; a NaN gives NaN.
///
/// Backward: each output's gradient is shared *equally* by the cells that reach the
/// maximum, as Keras's `ops.max` is differentiated by both the TF and the JAX backend
/// (unlike `MaxPooling`, whose windows send it to the first maximum). The training
/// forward keeps in [`Layer::CACHE`] how many cells reach each maximum.
///
/// `O` is the output shape: `[f32; C]` (the default, Keras's `keepdims = False`) or
/// `[[[f32; C]; 1]; 1]` with `keepdims = True`. Any other `O` fails to compile when the layer is used.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `O`, `[f32; C]` or `[[[f32; C]; 1]; 1]`
///
/// ```
/// use kerust::{layers::GlobalMaxPooling2D, Layer};
/// // GlobalMaxPooling2D() on a 2x2 image with 2 channels.
/// let pool = GlobalMaxPooling2D::<2, 2, 2>::new();
/// let mut y = [0.0; 2];
/// pool.forward(&[1.0, -1.0, 4.0, -2.0, 3.0, -3.0, 2.0, -4.0], &mut y, &mut [], 1);
/// assert_eq!(y, [4.0, -1.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalMaxPooling2D<const H: usize, const W: usize, const C: usize, O: Shape = [f32; C]> {
    marker: PhantomData<O>,
}

impl<const H: usize, const W: usize, const C: usize, O: Shape> GlobalMaxPooling2D<H, W, C, O> {
    const CHECK: () = assert!(
        H > 0
            && W > 0
            && C > 0
            && O::LEN == C
            && (O::RANK == 1 || (O::RANK == 3 && O::DIMS[0] == 1 && O::DIMS[1] == 1)),
        "GlobalMaxPooling2D: the output shape O must be `[f32; C]` or, with keepdims, `[[[f32; C]; 1]; 1]`"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        GlobalMaxPooling2D { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<const H: usize, const W: usize, const C: usize, O: Shape> Params
    for GlobalMaxPooling2D<H, W, C, O>
{
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<const H: usize, const W: usize, const C: usize, O: Shape> Layer for GlobalMaxPooling2D<H, W, C, O> {
    type Input = [[[f32; C]; W]; H];
    type Output = O;
    const KIND: &'static str = "GlobalMaxPooling2D";
    const CACHE: usize = C;

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        pooling::global_max_forward(H * W, C, x, y, None, batch);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        pooling::global_max_forward(H * W, C, x, y, Some(cache), batch);
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
            pooling::global_max_backward(H * W, C, x, y, cache, dy, dx, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_gradient() {
        // ops.max's gradient with JAX: [[0, 0.5], [0.5, 0]] for [[1, 3], [3, 2]].
        let pool = GlobalMaxPooling2D::<2, 2, 1, [[[f32; 1]; 1]; 1]>::new();
        let x = [1.0, 3.0, 3.0, 2.0];
        let (mut y, mut cache, mut dy, mut dx) = ([0.0; 1], [0.0; 1], [1.0; 1], [0.0; 4]);
        pool.forward_train(&x, &mut y, &mut cache, 1, &mut Rng::new(0));
        assert_eq!((y, cache), ([3.0], [2.0]));
        let mut grads = pool;
        pool.backward(&x, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [0.0, 0.5, 0.5, 0.0]);
    }
}
