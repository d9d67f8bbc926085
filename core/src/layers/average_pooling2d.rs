//! `AveragePooling2D`: the mean of each window of an image, per channel.

use super::pooling::{self, Axis};
use crate::{Layer, Params};

/// Average pooling over height and width (Keras
/// `AveragePooling2D(pool_size, strides, padding)`), channels-last.
///
/// Each output value is the mean of a `PH`×`PW` window of one channel; windows step by
/// `SH` rows and `SW` columns. With `padding = "same"` the windows extend `TOP` rows above
/// and `LEFT` columns left of the input, and the rest, including any odd extra row or
/// column, below and right of it (as Keras and TF). **Padded cells are not counted**: a
/// window's mean is over the input cells it covers only, as Keras computes it with both the
/// TF and the JAX backend, so border outputs are not pulled towards zero.
///
/// `model!` computes every parameter; a hand-written type whose numbers are not Keras's
/// (`OH`, `OW`, `TOP` or `LEFT` wrong for the input, pool, strides and padding) fails to
/// compile when the layer is used.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; C]; OW]; OH]`, where with `valid` padding `OH = (H - PH) / SH + 1`
///   (rounded down) and `TOP = 0`, and with `same` padding `OH = ceil(H / SH)` and
///   `TOP = max((OH - 1) * SH + PH - H, 0) / 2`; likewise `OW` and `LEFT`.
///
/// ```
/// use kerust::{layers::AveragePooling2D, Layer};
/// // AveragePooling2D(pool_size = 2, padding = "same") on a 3x3x1 image.
/// let pool = AveragePooling2D::<3, 3, 1, 2, 2, 2, 2, 0, 0, 2, 2>::new();
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
/// let mut y = [0.0; 4];
/// pool.forward(&x, &mut y, &mut [], 1);
/// // The right column of windows averages 2 cells, the corner 1: padding does not count.
/// assert_eq!(y, [3.0, 4.5, 7.5, 9.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct AveragePooling2D<
    const H: usize,
    const W: usize,
    const C: usize,
    const PH: usize,
    const PW: usize,
    const SH: usize,
    const SW: usize,
    const TOP: usize,
    const LEFT: usize,
    const OH: usize,
    const OW: usize,
> {
    _private: (),
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const PH: usize,
        const PW: usize,
        const SH: usize,
        const SW: usize,
        const TOP: usize,
        const LEFT: usize,
        const OH: usize,
        const OW: usize,
    > AveragePooling2D<H, W, C, PH, PW, SH, SW, TOP, LEFT, OH, OW>
{
    const ROWS: Axis = Axis {
        n: H,
        pool: PH,
        stride: SH,
        pad: TOP,
        out: OH,
    };
    const COLS: Axis = Axis {
        n: W,
        pool: PW,
        stride: SW,
        pad: LEFT,
        out: OW,
    };
    const CHECK: () = {
        assert!(
            C > 0 && Self::ROWS.is_keras() && Self::COLS.is_keras(),
            "AveragePooling2D: OH, OW, TOP and LEFT must be Keras's sizes for H, W, the pool, strides and padding"
        );
    };

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        AveragePooling2D { _private: () }
    }
}

// SAFETY: zero-sized.
unsafe impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const PH: usize,
        const PW: usize,
        const SH: usize,
        const SW: usize,
        const TOP: usize,
        const LEFT: usize,
        const OH: usize,
        const OW: usize,
    > Params for AveragePooling2D<H, W, C, PH, PW, SH, SW, TOP, LEFT, OH, OW>
{
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const PH: usize,
        const PW: usize,
        const SH: usize,
        const SW: usize,
        const TOP: usize,
        const LEFT: usize,
        const OH: usize,
        const OW: usize,
    > Layer for AveragePooling2D<H, W, C, PH, PW, SH, SW, TOP, LEFT, OH, OW>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; C]; OW]; OH];
    const KIND: &'static str = "AveragePooling2D";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        pooling::avg_forward(Self::ROWS, Self::COLS, C, x, y, batch);
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
            pooling::avg_backward(Self::ROWS, Self::COLS, C, dy, dx, batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_does_not_count_padded_cells() {
        // 3x3, pool 2, stride 2, same: the last row and column of windows hang over the
        // padding; their averages are over the 2 (or 1) input cells they cover.
        let pool = AveragePooling2D::<3, 3, 1, 2, 2, 2, 2, 0, 0, 2, 2>::new();
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        let mut y = [0.0; 4];
        pool.forward(&x, &mut y, &mut [], 1);
        assert_eq!(y, [3.0, 4.5, 7.5, 9.0]);
        let (mut dy, mut dx) = ([1.0; 4], [0.0; 9]);
        let mut grads = pool;
        pool.backward(&x, &y, &mut [], &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1.0]);
    }
}
