//! `MaxPooling2D`: the largest value of each window of an image, per channel.

use super::pooling::{self, Axis, MAX_WINDOW_CELLS};
#[cfg(feature = "alloc")]
use crate::kernels::im2col::PoolOrder;
use crate::{Layer, Params, Rng};

/// Max pooling over height and width (Keras `MaxPooling2D(pool_size, strides, padding)`),
/// channels-last.
///
/// Each output value is the maximum of a `PH`×`PW` window of one channel; windows step by
/// `SH` rows and `SW` columns. With `padding = "same"` the input is padded with `-inf` by
/// `TOP` rows on top and `LEFT` columns on the left, and by the rest, including any odd extra
/// row or column, at the bottom and right (as Keras and TF). A NaN in a window gives NaN.
///
/// Backward: each output's gradient goes to the *first* maximum of its window in row-major
/// order, as Keras does with both the TF and the JAX backend. The training forward keeps,
/// per output value, the number of the winning cell within its window (an exact `f32`
/// integer) in [`Layer::CACHE`], so the backward pass is a single scatter.
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
/// use kerust::{layers::MaxPooling2D, Layer};
/// // MaxPooling2D(pool_size = 2, padding = "same") on a 3x3x1 image: pads a row at the
/// // bottom and a column on the right.
/// let pool = MaxPooling2D::<3, 3, 1, 2, 2, 2, 2, 0, 0, 2, 2>::new();
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
/// let mut y = [0.0; 4];
/// pool.forward(&x, &mut y, &mut [], 1);
/// assert_eq!(y, [5.0, 6.0, 8.0, 9.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct MaxPooling2D<
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
    > MaxPooling2D<H, W, C, PH, PW, SH, SW, TOP, LEFT, OH, OW>
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
            "MaxPooling2D: OH, OW, TOP and LEFT must be Keras's sizes for H, W, the pool, strides and padding"
        );
        assert!(
            Self::ROWS.max_cells().saturating_mul(Self::COLS.max_cells()) <= MAX_WINDOW_CELLS,
            "MaxPooling2D: a window may cover at most 2^24 input cells"
        );
    };

    /// The layer's windows, for [`Layer::forward_max_pooled`] of the layer before it.
    pub const WINDOWS: MaxPoolWindows = {
        let () = Self::CHECK;
        MaxPoolWindows {
            rows: Self::ROWS,
            cols: Self::COLS,
            channels: C,
        }
    };

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        MaxPooling2D { _private: () }
    }
}

/// The windows of a [`MaxPooling2D`] layer ([`MaxPooling2D::WINDOWS`]): what
/// [`Layer::forward_max_pooled`] needs to pool the output of the layer before it.
#[derive(Clone, Copy, Debug)]
pub struct MaxPoolWindows {
    rows: Axis,
    cols: Axis,
    channels: usize,
}

impl MaxPoolWindows {
    /// Max-pools `batch` samples of `x` into `y`, as [`MaxPooling2D`]'s inference forward.
    ///
    /// ```
    /// use kerust::layers::MaxPooling2D;
    /// let windows = MaxPooling2D::<2, 2, 1, 2, 2, 2, 2, 0, 0, 1, 1>::WINDOWS;
    /// let mut y = [0.0];
    /// windows.forward(&[1.0, 4.0, 3.0, 2.0], &mut y, 1);
    /// assert_eq!(y, [4.0]);
    /// ```
    pub fn forward(&self, x: &[f32], y: &mut [f32], batch: usize) {
        pooling::max_forward(self.rows, self.cols, self.channels, x, y, None, batch);
    }

    /// Where the windows lie whole and disjoint inside an `h × w × channels` input: the
    /// order in which to list its positions window by window.
    #[cfg(feature = "alloc")]
    pub(crate) fn pool_order(&self, h: usize, w: usize, channels: usize) -> Option<PoolOrder> {
        let (r, c) = (self.rows, self.cols);
        let fits = r.n == h && c.n == w && self.channels == channels && r.tiles() && c.tiles();
        fits.then_some(PoolOrder {
            ph: r.pool,
            pw: c.pool,
            sh: r.stride,
            sw: c.stride,
            oh: r.out,
            ow: c.out,
        })
    }

    /// Max-pools `z`, listed window by window in [`MaxPoolWindows::pool_order`], into `y`:
    /// the bits of [`MaxPoolWindows::forward`] over the whole input.
    #[cfg(feature = "alloc")]
    pub(crate) fn forward_cells(&self, z: &[f32], y: &mut [f32]) {
        crate::kernels::elementwise::max_row_groups(self.rows.pool * self.cols.pool, self.channels, z, y);
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
    > Params for MaxPooling2D<H, W, C, PH, PW, SH, SW, TOP, LEFT, OH, OW>
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
    > Layer for MaxPooling2D<H, W, C, PH, PW, SH, SW, TOP, LEFT, OH, OW>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; C]; OW]; OH];
    const KIND: &'static str = "MaxPooling2D";
    const CACHE: usize = OH * OW * C;

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        Self::WINDOWS.forward(x, y, batch);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        pooling::max_forward(Self::ROWS, Self::COLS, C, x, y, Some(cache), batch);
    }

    fn backward(
        &self,
        _x: &[f32],
        _y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        _grads: &mut Self,
        batch: usize,
    ) {
        let () = Self::CHECK;
        if let Some(dx) = dx {
            pooling::max_backward(Self::ROWS, Self::COLS, C, cache, dy, dx, batch, None);
        }
    }

    // With disjoint windows (the usual stride = pool size), the mask of a ReLU before the
    // pooling is applied as the gradient is written: no pass of its own.
    const MASKS_RELU_INPUT: bool = Self::ROWS.disjoint() && Self::COLS.disjoint();

    fn backward_fresh_relu_input(
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
        pooling::max_backward_after_relu(Self::ROWS, Self::COLS, C, x, y, cache, dy, dx, batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_row_and_column_last() {
        // 3x3, pool 2, stride 2, same: windows rows 0-1 and 2(+pad), likewise columns.
        let pool = MaxPooling2D::<3, 3, 1, 2, 2, 2, 2, 0, 0, 2, 2>::new();
        let x = [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0];
        let mut y = [0.0; 4];
        let mut idx = [0.0; 4];
        pool.forward_train(&x, &mut y, &mut idx, 1, &mut Rng::new(0));
        // -inf padding: the negative values win over the padded cells.
        assert_eq!(y, [-1.0, -3.0, -7.0, -9.0]);
        assert_eq!(idx, [0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn ties_send_the_gradient_to_the_first_maximum() {
        let pool = MaxPooling2D::<2, 2, 1, 2, 2, 2, 2, 0, 0, 1, 1>::new();
        let x = [1.0, 3.0, 3.0, 2.0];
        let (mut y, mut cache, mut dy, mut dx) = ([0.0; 1], [0.0; 1], [1.0; 1], [9.0; 4]);
        pool.forward_train(&x, &mut y, &mut cache, 1, &mut Rng::new(0));
        let mut grads = pool;
        pool.backward(&x, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [0.0, 1.0, 0.0, 0.0]);
    }
}
