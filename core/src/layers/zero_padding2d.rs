//! `ZeroPadding2D`: rows and columns of zeros around an image.

use crate::{Layer, Params};

/// Adds `TOP` rows of zeros above the image, `BOTTOM` below, `LEFT` columns on the left and
/// `RIGHT` on the right (Keras `ZeroPadding2D(padding)`), channels-last. `padding = 1` is
/// `((1, 1), (1, 1))`, `(2, 3)` is `((2, 2), (3, 3))`, and
/// `((top, bottom), (left, right))` is itself.
///
/// `model!` computes every parameter; a hand-written type with `OH != TOP + H + BOTTOM` or
/// `OW != LEFT + W + RIGHT` fails to compile when the layer is used.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; C]; OW]; OH]` with `OH = TOP + H + BOTTOM`, `OW = LEFT + W + RIGHT`
///
/// ```
/// use kerust::{layers::ZeroPadding2D, Layer};
/// // ZeroPadding2D(padding = ((0, 1), (1, 0))) on a 1x2x1 image.
/// let pad = ZeroPadding2D::<1, 2, 1, 0, 1, 1, 0, 2, 3>::new();
/// let mut y = [9.0; 6];
/// pad.forward(&[1.0, 2.0], &mut y, &mut [], 1);
/// assert_eq!(y, [0.0, 1.0, 2.0, 0.0, 0.0, 0.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct ZeroPadding2D<
    const H: usize,
    const W: usize,
    const C: usize,
    const TOP: usize,
    const BOTTOM: usize,
    const LEFT: usize,
    const RIGHT: usize,
    const OH: usize,
    const OW: usize,
> {
    _private: (),
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const TOP: usize,
        const BOTTOM: usize,
        const LEFT: usize,
        const RIGHT: usize,
        const OH: usize,
        const OW: usize,
    > ZeroPadding2D<H, W, C, TOP, BOTTOM, LEFT, RIGHT, OH, OW>
{
    const CHECK: () = assert!(
        H > 0 && W > 0 && C > 0 && sums_to(TOP, H, BOTTOM, OH) && sums_to(LEFT, W, RIGHT, OW),
        "ZeroPadding2D: OH must be TOP + H + BOTTOM and OW must be LEFT + W + RIGHT"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        ZeroPadding2D { _private: () }
    }
}

// SAFETY: zero-sized.
unsafe impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const TOP: usize,
        const BOTTOM: usize,
        const LEFT: usize,
        const RIGHT: usize,
        const OH: usize,
        const OW: usize,
    > Params for ZeroPadding2D<H, W, C, TOP, BOTTOM, LEFT, RIGHT, OH, OW>
{
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const TOP: usize,
        const BOTTOM: usize,
        const LEFT: usize,
        const RIGHT: usize,
        const OH: usize,
        const OW: usize,
    > Layer for ZeroPadding2D<H, W, C, TOP, BOTTOM, LEFT, RIGHT, OH, OW>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; C]; OW]; OH];
    const KIND: &'static str = "ZeroPadding2D";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        let (row, out_row) = (W * C, OW * C);
        for (xs, ys) in x[..batch * H * row]
            .chunks_exact(H * row)
            .zip(y[..batch * OH * out_row].chunks_exact_mut(OH * out_row))
        {
            let (top, rest) = ys.split_at_mut(TOP * out_row);
            let (mid, bottom) = rest.split_at_mut(H * out_row);
            top.fill(0.0);
            bottom.fill(0.0);
            for (x_row, y_row) in xs.chunks_exact(row).zip(mid.chunks_exact_mut(out_row)) {
                let (left, rest) = y_row.split_at_mut(LEFT * C);
                let (inner, right) = rest.split_at_mut(row);
                left.fill(0.0);
                inner.copy_from_slice(x_row);
                right.fill(0.0);
            }
        }
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
        let Some(dx) = dx else { return };
        let (row, out_row) = (W * C, OW * C);
        for (dxs, dys) in dx[..batch * H * row]
            .chunks_exact_mut(H * row)
            .zip(dy[..batch * OH * out_row].chunks_exact(OH * out_row))
        {
            let inner_rows = dys[TOP * out_row..][..H * out_row].chunks_exact(out_row);
            for (d, g) in dxs.chunks_exact_mut(row).zip(inner_rows) {
                d.copy_from_slice(&g[LEFT * C..][..row]);
            }
        }
    }
}

/// Whether `a + b + c == total`, without overflow.
const fn sums_to(a: usize, b: usize, c: usize, total: usize) -> bool {
    match a.checked_add(b) {
        Some(ab) => match ab.checked_add(c) {
            Some(abc) => abc == total,
            None => false,
        },
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_takes_the_gradient_of_the_inside() {
        let pad = ZeroPadding2D::<2, 1, 1, 1, 0, 0, 2, 3, 3>::new();
        let mut y = [9.0; 9];
        pad.forward(&[1.0, 2.0], &mut y, &mut [], 1);
        assert_eq!(y, [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
        let mut dy: [f32; 9] = core::array::from_fn(|i| i as f32);
        let mut dx = [0.0; 2];
        let mut grads = pad;
        pad.backward(&[], &y, &mut [], &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [3.0, 6.0]);
    }
}
