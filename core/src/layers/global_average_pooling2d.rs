//! `GlobalAveragePooling2D`: the mean of each channel over a whole image.

use core::marker::PhantomData;

use super::pooling;
use crate::{Layer, Params, Shape};

/// Global average pooling (Keras `GlobalAveragePooling2D(keepdims)`), channels-last.
///
/// Each output value is the mean of one channel over all height and width.
///
/// `O` is the output shape: `[f32; C]` (the default, Keras's `keepdims = False`) or
/// `[[[f32; C]; 1]; 1]` with `keepdims = True`. Any other `O` fails to compile when the layer is used.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `O`, `[f32; C]` or `[[[f32; C]; 1]; 1]`
///
/// ```
/// use kerust::{layers::GlobalAveragePooling2D, Layer};
/// // GlobalAveragePooling2D(keepdims = True) on a 2x2 image with 2 channels.
/// let pool = GlobalAveragePooling2D::<2, 2, 2, [[[f32; 2]; 1]; 1]>::new();
/// let mut y = [0.0; 2];
/// pool.forward(&[1.0, -1.0, 4.0, -2.0, 3.0, -3.0, 2.0, -4.0], &mut y, &mut [], 1);
/// assert_eq!(y, [2.5, -2.5]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAveragePooling2D<const H: usize, const W: usize, const C: usize, O: Shape = [f32; C]> {
    marker: PhantomData<O>,
}

impl<const H: usize, const W: usize, const C: usize, O: Shape> GlobalAveragePooling2D<H, W, C, O> {
    const CHECK: () = assert!(
        H > 0
            && W > 0
            && C > 0
            && O::LEN == C
            && (O::RANK == 1 || (O::RANK == 3 && O::DIMS[0] == 1 && O::DIMS[1] == 1)),
        "GlobalAveragePooling2D: the output shape O must be `[f32; C]` or, with keepdims, `[[[f32; C]; 1]; 1]`"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        GlobalAveragePooling2D { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<const H: usize, const W: usize, const C: usize, O: Shape> Params
    for GlobalAveragePooling2D<H, W, C, O>
{
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<const H: usize, const W: usize, const C: usize, O: Shape> Layer for GlobalAveragePooling2D<H, W, C, O> {
    type Input = [[[f32; C]; W]; H];
    type Output = O;
    const KIND: &'static str = "GlobalAveragePooling2D";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        pooling::global_avg_forward(H * W, C, x, y, batch);
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
            pooling::global_avg_backward(H * W, C, dy, dx, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_gradient() {
        let pool = GlobalAveragePooling2D::<1, 2, 2>::new();
        let x = [1.0, 2.0, 3.0, 6.0];
        let mut y = [0.0; 2];
        pool.forward(&x, &mut y, &mut [], 1);
        assert_eq!(y, [2.0, 4.0]);
        let (mut dy, mut dx) = ([1.0, -4.0], [0.0; 4]);
        let mut grads = pool;
        pool.backward(&x, &y, &mut [], &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [0.5, -2.0, 0.5, -2.0]);
    }
}
