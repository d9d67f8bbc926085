//! `Cropping2D`: removes rows and columns at the borders of an image.

use crate::{Layer, Params};

/// Removes `TOP` rows at the top of the image, `BOTTOM` at the bottom, `LEFT` columns on the
/// left and `RIGHT` on the right (Keras `Cropping2D(cropping)`), channels-last.
/// `cropping = 1` is `((1, 1), (1, 1))`, `(2, 3)` is `((2, 2), (3, 3))`, and
/// `((top, bottom), (left, right))` is itself. At least one row and one column must remain.
///
/// `model!` computes every parameter; a hand-written type with `OH != H - TOP - BOTTOM` or
/// `OW != W - LEFT - RIGHT`, or an empty output, fails to compile when the layer is used.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; C]; OW]; OH]` with `OH = H - TOP - BOTTOM`, `OW = W - LEFT - RIGHT`
///
/// ```
/// use kerust::{layers::Cropping2D, Layer};
/// // Cropping2D(cropping = ((1, 0), (0, 1))) on a 2x3x1 image.
/// let crop = Cropping2D::<2, 3, 1, 1, 0, 0, 1, 1, 2>::new();
/// let mut y = [0.0; 2];
/// crop.forward(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut y, &mut [], 1);
/// assert_eq!(y, [4.0, 5.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct Cropping2D<
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
    > Cropping2D<H, W, C, TOP, BOTTOM, LEFT, RIGHT, OH, OW>
{
    const CHECK: () = assert!(
        OH > 0 && OW > 0 && C > 0 && sums_to(TOP, OH, BOTTOM, H) && sums_to(LEFT, OW, RIGHT, W),
        "Cropping2D: OH must be H - TOP - BOTTOM and OW must be W - LEFT - RIGHT, both at least 1"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        Cropping2D { _private: () }
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
    > Params for Cropping2D<H, W, C, TOP, BOTTOM, LEFT, RIGHT, OH, OW>
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
    > Layer for Cropping2D<H, W, C, TOP, BOTTOM, LEFT, RIGHT, OH, OW>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; C]; OW]; OH];
    const KIND: &'static str = "Cropping2D";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        let (row, out_row) = (W * C, OW * C);
        for (xs, ys) in x[..batch * H * row]
            .chunks_exact(H * row)
            .zip(y[..batch * OH * out_row].chunks_exact_mut(OH * out_row))
        {
            let kept = xs[TOP * row..][..OH * row].chunks_exact(row);
            for (x_row, y_row) in kept.zip(ys.chunks_exact_mut(out_row)) {
                y_row.copy_from_slice(&x_row[LEFT * C..][..out_row]);
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
            let (top, rest) = dxs.split_at_mut(TOP * row);
            let (mid, bottom) = rest.split_at_mut(OH * row);
            top.fill(0.0);
            bottom.fill(0.0);
            for (d, g) in mid.chunks_exact_mut(row).zip(dys.chunks_exact(out_row)) {
                let (left, rest) = d.split_at_mut(LEFT * C);
                let (inner, right) = rest.split_at_mut(out_row);
                left.fill(0.0);
                inner.copy_from_slice(g);
                right.fill(0.0);
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
    fn crops_and_pads_the_gradient_with_zeros() {
        let crop = Cropping2D::<3, 2, 1, 1, 1, 1, 0, 1, 1>::new();
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut y = [0.0; 1];
        crop.forward(&x, &mut y, &mut [], 1);
        assert_eq!(y, [4.0]);
        let (mut dy, mut dx) = ([7.0], [9.0; 6]);
        let mut grads = crop;
        crop.backward(&x, &y, &mut [], &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [0.0, 0.0, 0.0, 7.0, 0.0, 0.0]);
    }
}
