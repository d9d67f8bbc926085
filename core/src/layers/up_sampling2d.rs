//! `UpSampling2D`: enlarges an image by whole factors, repeating or interpolating pixels.

use core::fmt::Debug;
use core::marker::PhantomData;

use crate::{Layer, Params};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Nearest {}
    impl Sealed for super::Bilinear {}
}

/// How [`UpSampling2D`] fills the new pixels: [`Nearest`] or [`Bilinear`].
pub trait Interpolation: sealed::Sealed + Copy + Default + Debug + Send + Sync + 'static {
    /// Keras's name of the method (`"nearest"`).
    const NAME: &'static str;
    #[doc(hidden)]
    const BILINEAR: bool;
}

/// Repeats each pixel `SH`×`SW` times (Keras's `interpolation = "nearest"`, the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Nearest;

/// Bilinear interpolation with half-pixel centres, edges clamped (Keras's
/// `interpolation = "bilinear"`, which resizes with `ops.image.resize`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bilinear;

impl Interpolation for Nearest {
    const NAME: &'static str = "nearest";
    const BILINEAR: bool = false;
}

impl Interpolation for Bilinear {
    const NAME: &'static str = "bilinear";
    const BILINEAR: bool = true;
}

/// Scales an image by `SH` rows and `SW` columns per input pixel (Keras
/// `UpSampling2D(size, interpolation)`), channels-last.
///
/// With [`Nearest`] each output pixel copies the input pixel it lies in; its gradient sums
/// the `SH`×`SW` output gradients of each block. With [`Bilinear`] output pixel `o` samples
/// the input at `(o + 0.5) / S - 0.5`, between the two nearest pixels, clamped at the edges,
/// which is what Keras's `bilinear` resize gives for whole factors.
///
/// `model!` computes every parameter; a hand-written type with `OH != H * SH` or
/// `OW != W * SW` fails to compile when the layer is used.
///
/// # Shapes
/// - input: `[[[f32; C]; W]; H]`
/// - output: `[[[f32; C]; OW]; OH]` with `OH = H * SH`, `OW = W * SW`
///
/// ```
/// use kerust::{layers::UpSampling2D, Layer};
/// // UpSampling2D(size = (1, 2)) on a 1x2x1 image.
/// let up = UpSampling2D::<1, 2, 1, 1, 2, 1, 4>::new();
/// let mut y = [0.0; 4];
/// up.forward(&[1.0, 2.0], &mut y, &mut [], 1);
/// assert_eq!(y, [1.0, 1.0, 2.0, 2.0]);
/// ```
// align(4): `Params::flat` views the layer as an (empty) `&[f32]`, whose pointer must be
// f32-aligned even for zero values; with the default alignment 1 that is undefined behaviour.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, Default)]
pub struct UpSampling2D<
    const H: usize,
    const W: usize,
    const C: usize,
    const SH: usize,
    const SW: usize,
    const OH: usize,
    const OW: usize,
    I: Interpolation = Nearest,
> {
    marker: PhantomData<I>,
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const SH: usize,
        const SW: usize,
        const OH: usize,
        const OW: usize,
        I: Interpolation,
    > UpSampling2D<H, W, C, SH, SW, OH, OW, I>
{
    const CHECK: () = assert!(
        H > 0
            && W > 0
            && C > 0
            && SH > 0
            && SW > 0
            && matches!(H.checked_mul(SH), Some(v) if v == OH)
            && matches!(W.checked_mul(SW), Some(v) if v == OW),
        "UpSampling2D: OH must be H * SH and OW must be W * SW, with sizes of at least 1"
    );

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::CHECK;
        UpSampling2D { marker: PhantomData }
    }
}

// SAFETY: zero-sized.
unsafe impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const SH: usize,
        const SW: usize,
        const OH: usize,
        const OW: usize,
        I: Interpolation,
    > Params for UpSampling2D<H, W, C, SH, SW, OH, OW, I>
{
    const COUNT: usize = 0;
    const ZERO: Self = Self::new();
}

impl<
        const H: usize,
        const W: usize,
        const C: usize,
        const SH: usize,
        const SW: usize,
        const OH: usize,
        const OW: usize,
        I: Interpolation,
    > Layer for UpSampling2D<H, W, C, SH, SW, OH, OW, I>
{
    type Input = [[[f32; C]; W]; H];
    type Output = [[[f32; C]; OW]; OH];
    const KIND: &'static str = "UpSampling2D";

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        let (in_len, out_len) = (H * W * C, OH * OW * C);
        let samples = x[..batch * in_len]
            .chunks_exact(in_len)
            .zip(y[..batch * out_len].chunks_exact_mut(out_len));
        for (xs, ys) in samples {
            if I::BILINEAR {
                bilinear_forward::<H, W, SH, SW, C>(xs, ys);
            } else {
                nearest_forward::<H, W, SH, SW, C>(xs, ys);
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
        let (in_len, out_len) = (H * W * C, OH * OW * C);
        let samples = dx[..batch * in_len]
            .chunks_exact_mut(in_len)
            .zip(dy[..batch * out_len].chunks_exact(out_len));
        for (dxs, dys) in samples {
            if I::BILINEAR {
                bilinear_backward::<H, W, SH, SW, C>(dys, dxs);
            } else {
                nearest_backward::<H, W, SH, SW, C>(dys, dxs);
            }
        }
    }
}

fn nearest_forward<const H: usize, const W: usize, const SH: usize, const SW: usize, const C: usize>(
    x: &[f32],
    y: &mut [f32],
) {
    let out_row = W * SW * C;
    for (x_row, y_rows) in x.chunks_exact(W * C).zip(y.chunks_exact_mut(SH * out_row)) {
        let (first, rest) = y_rows.split_at_mut(out_row);
        for (px, block) in x_row.chunks_exact(C).zip(first.chunks_exact_mut(SW * C)) {
            for out in block.chunks_exact_mut(C) {
                out.copy_from_slice(px);
            }
        }
        for copy in rest.chunks_exact_mut(out_row) {
            copy.copy_from_slice(first);
        }
    }
}

fn nearest_backward<const H: usize, const W: usize, const SH: usize, const SW: usize, const C: usize>(
    dy: &[f32],
    dx: &mut [f32],
) {
    let out_row = W * SW * C;
    for (d_row, g_rows) in dx.chunks_exact_mut(W * C).zip(dy.chunks_exact(SH * out_row)) {
        d_row.fill(0.0);
        for g_row in g_rows.chunks_exact(out_row) {
            for (d, block) in d_row.chunks_exact_mut(C).zip(g_row.chunks_exact(SW * C)) {
                for g in block.chunks_exact(C) {
                    for (d, &g) in d.iter_mut().zip(g) {
                        *d += g;
                    }
                }
            }
        }
    }
}

/// For output cell `o` of an axis scaled `s` times from `n` cells: the two input cells it
/// lies between and the weight of the second, with half-pixel centres and clamped edges.
#[inline]
fn source(o: usize, s: usize, n: usize) -> (usize, usize, f32) {
    let pos = (o as f32 + 0.5) / s as f32 - 0.5;
    if pos <= 0.0 {
        return (0, 0, 0.0);
    }
    // `pos` is positive: truncation is floor.
    let i0 = pos as usize;
    if i0 >= n - 1 {
        return (n - 1, n - 1, 0.0);
    }
    (i0, i0 + 1, pos - i0 as f32)
}

fn bilinear_forward<const H: usize, const W: usize, const SH: usize, const SW: usize, const C: usize>(
    x: &[f32],
    y: &mut [f32],
) {
    let px = |i: usize, j: usize| &x[(i * W + j) * C..][..C];
    for (oh, y_row) in y.chunks_exact_mut(W * SW * C).enumerate() {
        let (a0, a1, fa) = source(oh, SH, H);
        for (ow, out) in y_row.chunks_exact_mut(C).enumerate() {
            let (b0, b1, fb) = source(ow, SW, W);
            let (p00, p01, p10, p11) = (px(a0, b0), px(a0, b1), px(a1, b0), px(a1, b1));
            for (c, o) in out.iter_mut().enumerate() {
                let top = (1.0 - fb) * p00[c] + fb * p01[c];
                let bottom = (1.0 - fb) * p10[c] + fb * p11[c];
                *o = (1.0 - fa) * top + fa * bottom;
            }
        }
    }
}

fn bilinear_backward<const H: usize, const W: usize, const SH: usize, const SW: usize, const C: usize>(
    dy: &[f32],
    dx: &mut [f32],
) {
    dx.fill(0.0);
    for (oh, g_row) in dy.chunks_exact(W * SW * C).enumerate() {
        let (a0, a1, fa) = source(oh, SH, H);
        for (ow, g) in g_row.chunks_exact(C).enumerate() {
            let (b0, b1, fb) = source(ow, SW, W);
            let corners = [
                (a0, b0, (1.0 - fa) * (1.0 - fb)),
                (a0, b1, (1.0 - fa) * fb),
                (a1, b0, fa * (1.0 - fb)),
                (a1, b1, fa * fb),
            ];
            for (i, j, weight) in corners {
                for (d, &g) in dx[(i * W + j) * C..][..C].iter_mut().zip(g) {
                    *d += weight * g;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_repeats_and_sums_gradients() {
        let up = UpSampling2D::<1, 2, 1, 2, 1, 2, 2>::new();
        let mut y = [0.0; 4];
        up.forward(&[1.0, 2.0], &mut y, &mut [], 1);
        assert_eq!(y, [1.0, 2.0, 1.0, 2.0]);
        let (mut dy, mut dx) = ([1.0, 2.0, 3.0, 4.0], [0.0; 2]);
        let mut grads = up;
        up.backward(&[], &y, &mut [], &mut dy, Some(&mut dx), &mut grads, 1);
        assert_eq!(dx, [4.0, 6.0]);
    }

    #[test]
    fn bilinear_sources() {
        // Factor 2 over 3 cells: -0.25 (clamped), 0.25, 0.75, 1.25, 1.75, 2.25 (clamped).
        let s: [(usize, usize, f32); 6] = core::array::from_fn(|o| source(o, 2, 3));
        assert_eq!(
            s,
            [
                (0, 0, 0.0),
                (0, 1, 0.25),
                (0, 1, 0.75),
                (1, 2, 0.25),
                (1, 2, 0.75),
                (2, 2, 0.0)
            ]
        );
    }
}
