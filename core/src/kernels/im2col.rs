//! `im2col` and `col2im`: the patches of a 2-D convolution as the rows of a matrix.
//!
//! A convolution over channels-last samples is one GEMM once every receptive field is laid
//! out as a row: patches `[batch * OH * OW, KH * KW * C]` times the kernel
//! `[KH * KW * C, F]` (Keras's kernel layout `[KH, KW, C, F]`, row-major) is the output
//! `[batch * OH * OW, F]`, channels-last. [`col2im`] is the adjoint of [`im2col`]: it adds
//! each patch row back onto the input positions it was read from (the input gradient).
//! 1-D convolutions are the case `H = 1`.

/// How a convolution pads its input (Keras's `padding` argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    /// No padding: every window lies inside the input.
    Valid,
    /// Zero padding so that `out = ceil(n / stride)`; the odd extra value goes after (bottom,
    /// right), as TensorFlow and JAX pad.
    Same,
    /// 1-D only: `dilation * (kernel - 1)` zeros before the sequence, none after, so that
    /// `output[t]` does not depend on `input[t + 1..]`; `out = ceil(n / stride)`.
    Causal,
}

/// The output length of a convolution along one axis of `n` values, as Keras computes it:
/// `valid`: `floor((n - dilation * (kernel - 1) - 1) / stride) + 1` (0 when the dilated
/// kernel does not fit); `same` and `causal`: `ceil(n / stride)`.
///
/// ```
/// use kerust::kernels::im2col::{output_len, PadMode};
/// assert_eq!(output_len(PadMode::Valid, 28, 3, 1, 1), 26);
/// assert_eq!(output_len(PadMode::Valid, 7, 3, 1, 2), 3);
/// assert_eq!(output_len(PadMode::Same, 5, 3, 2, 1), 3);
/// ```
pub const fn output_len(mode: PadMode, n: usize, kernel: usize, stride: usize, dilation: usize) -> usize {
    if stride == 0 {
        return 0;
    }
    match mode {
        PadMode::Valid => {
            let span = dilated(kernel, dilation);
            if n < span {
                0
            } else {
                (n - span) / stride + 1
            }
        }
        PadMode::Same | PadMode::Causal => n.div_ceil(stride),
    }
}

/// The zeros added before the first value along one axis. `same`: half the total padding
/// `max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)`, rounded down (the rest
/// goes after); `causal`: `dilation * (kernel - 1)`; `valid`: 0.
///
/// ```
/// use kerust::kernels::im2col::{pad_before, PadMode};
/// assert_eq!(pad_before(PadMode::Same, 5, 3, 1, 1), 1);
/// assert_eq!(pad_before(PadMode::Same, 6, 3, 2, 1), 0); // total 1: after only
/// assert_eq!(pad_before(PadMode::Same, 4, 4, 1, 1), 1); // total 3: 1 before, 2 after
/// assert_eq!(pad_before(PadMode::Causal, 9, 3, 1, 2), 4);
/// ```
pub const fn pad_before(mode: PadMode, n: usize, kernel: usize, stride: usize, dilation: usize) -> usize {
    match mode {
        PadMode::Valid => 0,
        PadMode::Same => {
            let out = output_len(mode, n, kernel, stride, dilation);
            if out == 0 {
                return 0;
            }
            let needed = (out - 1) * stride + dilated(kernel, dilation);
            needed.saturating_sub(n) / 2
        }
        PadMode::Causal => dilation.saturating_mul(kernel.saturating_sub(1)),
    }
}

/// The extent of a dilated kernel: `dilation * (kernel - 1) + 1`.
const fn dilated(kernel: usize, dilation: usize) -> usize {
    dilation
        .saturating_mul(kernel.saturating_sub(1))
        .saturating_add(1)
}

/// The geometry of a 2-D convolution over channels-last `[h, w, c]` samples: kernel
/// `kh × kw`, strides, dilations, zeros before the first row (`pt`) and column (`pl`), and
/// the output size `oh × ow`. Padding after the last row or column is implied: a window
/// position outside the input reads zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Input channels.
    pub c: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Vertical dilation.
    pub dh: usize,
    /// Horizontal dilation.
    pub dw: usize,
    /// Zero rows before the first input row.
    pub pt: usize,
    /// Zero columns before the first input column.
    pub pl: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

impl ConvGeometry {
    /// Values in one input sample: `h * w * c`.
    pub const fn input_len(&self) -> usize {
        self.h * self.w * self.c
    }

    /// Output positions per sample: `oh * ow`.
    pub const fn positions(&self) -> usize {
        self.oh * self.ow
    }

    /// Values in one patch row: `kh * kw * c`.
    pub const fn patch_len(&self) -> usize {
        self.kh * self.kw * self.c
    }

    /// Values of the patch matrix per sample: `oh * ow * kh * kw * c`.
    pub const fn cols_len(&self) -> usize {
        self.positions() * self.patch_len()
    }

    /// Whether the patch matrix *is* the input (a 1×1 kernel, stride 1, no padding): the
    /// convolution is then a plain GEMM on the input and needs no `im2col`.
    pub const fn is_pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.sh == 1
            && self.sw == 1
            && self.pt == 0
            && self.pl == 0
            && self.oh == self.h
            && self.ow == self.w
    }

    /// The input row (or column) a kernel tap reads for an output index, `None` in the
    /// padding: `out * stride + tap * dilation - pad_before`.
    #[inline]
    fn source(out: usize, stride: usize, tap: usize, dilation: usize, pad: usize, n: usize) -> Option<usize> {
        (out * stride + tap * dilation)
            .checked_sub(pad)
            .filter(|&i| i < n)
    }
}

/// Writes the patch matrix of `batch` samples of `x` (`batch * h * w * c` values) into
/// `cols` (`batch * oh * ow` rows of `kh * kw * c` values, in `(ki, kj, channel)` order,
/// Keras's kernel order). Taps in the padding are zero.
///
/// ```
/// use kerust::kernels::im2col::{im2col, ConvGeometry};
/// // A 2x2 single-channel image, 2x2 kernel, `same` padding: 1 zero row and column after.
/// let g = ConvGeometry { h: 2, w: 2, c: 1, kh: 2, kw: 2, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: 2, ow: 2 };
/// let mut cols = [0.0; 16];
/// im2col(&g, &[1.0, 2.0, 3.0, 4.0], &mut cols, 1);
/// assert_eq!(cols, [1.0, 2.0, 3.0, 4.0, 2.0, 0.0, 4.0, 0.0, 3.0, 4.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0]);
/// ```
pub fn im2col(g: &ConvGeometry, x: &[f32], cols: &mut [f32], batch: usize) {
    let (c, in_len, patch) = (g.c, g.input_len(), g.patch_len());
    let row_len = g.kw * c;
    let x = &x[..batch * in_len];
    let cols = &mut cols[..batch * g.cols_len()];
    if patch == 0 {
        return;
    }
    let mut rows = cols.chunks_exact_mut(patch);
    for sample in x.chunks_exact(in_len.max(1)).take(batch) {
        for oi in 0..g.oh {
            for oj in 0..g.ow {
                let Some(out) = rows.next() else { return };
                for (ki, seg) in out.chunks_exact_mut(row_len).enumerate() {
                    let Some(r) = ConvGeometry::source(oi, g.sh, ki, g.dh, g.pt, g.h) else {
                        seg.fill(0.0);
                        continue;
                    };
                    let line = &sample[r * g.w * c..(r + 1) * g.w * c];
                    let first = (oj * g.sw).checked_sub(g.pl);
                    // Fast path: undilated and the whole window row inside the input.
                    if let (1, Some(q)) = (g.dw, first) {
                        if q + g.kw <= g.w {
                            seg.copy_from_slice(&line[q * c..(q + g.kw) * c]);
                            continue;
                        }
                    }
                    for (kj, v) in seg.chunks_exact_mut(c).enumerate() {
                        match ConvGeometry::source(oj, g.sw, kj, g.dw, g.pl, g.w) {
                            Some(q) => v.copy_from_slice(&line[q * c..(q + 1) * c]),
                            None => v.fill(0.0),
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: *adds* every patch row of `cols` onto the input positions it
/// was read from, in `dx` (`batch * h * w * c` values). Taps in the padding are dropped.
/// Zero `dx` first to get the input gradient from the patch gradients.
///
/// ```
/// use kerust::kernels::im2col::{col2im, ConvGeometry};
/// // 3 values, kernel 2, stride 1, valid: the middle value is in both windows.
/// let g = ConvGeometry { h: 1, w: 3, c: 1, kh: 1, kw: 2, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: 1, ow: 2 };
/// let mut dx = [0.0; 3];
/// col2im(&g, &[1.0, 2.0, 3.0, 4.0], &mut dx, 1);
/// assert_eq!(dx, [1.0, 5.0, 4.0]);
/// ```
pub fn col2im(g: &ConvGeometry, cols: &[f32], dx: &mut [f32], batch: usize) {
    let (c, in_len, patch) = (g.c, g.input_len(), g.patch_len());
    let row_len = g.kw * c;
    let cols = &cols[..batch * g.cols_len()];
    let dx = &mut dx[..batch * in_len];
    if patch == 0 || in_len == 0 {
        return;
    }
    let mut rows = cols.chunks_exact(patch);
    for sample in dx.chunks_exact_mut(in_len).take(batch) {
        for oi in 0..g.oh {
            for oj in 0..g.ow {
                let Some(row) = rows.next() else { return };
                for (ki, seg) in row.chunks_exact(row_len).enumerate() {
                    let Some(r) = ConvGeometry::source(oi, g.sh, ki, g.dh, g.pt, g.h) else {
                        continue;
                    };
                    let line = &mut sample[r * g.w * c..(r + 1) * g.w * c];
                    for (kj, v) in seg.chunks_exact(c).enumerate() {
                        if let Some(q) = ConvGeometry::source(oj, g.sw, kj, g.dw, g.pl, g.w) {
                            for (d, s) in line[q * c..(q + 1) * c].iter_mut().zip(v) {
                                *d += s;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Every geometry of a small grid: sizes, kernels, strides, dilations, both paddings.
    fn geometries() -> Vec<ConvGeometry> {
        let mut out = Vec::new();
        for (h, w) in [(1, 1), (4, 5), (5, 4), (6, 7)] {
            for (kh, kw) in [(1, 1), (2, 3), (3, 3), (4, 1)] {
                for (s, d) in [(1, 1), (2, 1), (3, 1), (1, 2)] {
                    for mode in [PadMode::Valid, PadMode::Same] {
                        let (oh, ow) = (output_len(mode, h, kh, s, d), output_len(mode, w, kw, s, d));
                        if oh == 0 || ow == 0 {
                            continue;
                        }
                        out.push(ConvGeometry {
                            h,
                            w,
                            c: 2,
                            kh,
                            kw,
                            sh: s,
                            sw: s,
                            dh: d,
                            dw: d,
                            pt: pad_before(mode, h, kh, s, d),
                            pl: pad_before(mode, w, kw, s, d),
                            oh,
                            ow,
                        });
                    }
                }
            }
        }
        out
    }

    /// The patch value at (sample, oi, oj, ki, kj, ch) by the definition, with signed
    /// arithmetic.
    fn naive(
        g: &ConvGeometry,
        x: &[f32],
        b: usize,
        (oi, oj, ki, kj, ch): (usize, usize, usize, usize, usize),
    ) -> f32 {
        let r = (oi * g.sh + ki * g.dh) as isize - g.pt as isize;
        let q = (oj * g.sw + kj * g.dw) as isize - g.pl as isize;
        if r < 0 || q < 0 || r >= g.h as isize || q >= g.w as isize {
            0.0
        } else {
            x[b * g.input_len() + (r as usize * g.w + q as usize) * g.c + ch]
        }
    }

    #[test]
    fn im2col_matches_the_definition() {
        let batch = 2;
        for g in geometries() {
            let x: Vec<f32> = (0..batch * g.input_len()).map(|i| i as f32 + 1.0).collect();
            let mut cols = alloc::vec![f32::NAN; batch * g.cols_len()];
            im2col(&g, &x, &mut cols, batch);
            let mut i = 0;
            for b in 0..batch {
                for oi in 0..g.oh {
                    for oj in 0..g.ow {
                        for ki in 0..g.kh {
                            for kj in 0..g.kw {
                                for ch in 0..g.c {
                                    assert_eq!(
                                        cols[i],
                                        naive(&g, &x, b, (oi, oj, ki, kj, ch)),
                                        "{g:?} at {i}"
                                    );
                                    i += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for all x, c.
        let batch = 2;
        let mut rng = crate::Rng::new(3);
        for g in geometries() {
            let x: Vec<f32> = (0..batch * g.input_len())
                .map(|_| rng.uniform_range(-1.0, 1.0))
                .collect();
            let c: Vec<f32> = (0..batch * g.cols_len())
                .map(|_| rng.uniform_range(-1.0, 1.0))
                .collect();
            let mut cols = alloc::vec![0.0; c.len()];
            im2col(&g, &x, &mut cols, batch);
            let mut dx = alloc::vec![0.0; x.len()];
            col2im(&g, &c, &mut dx, batch);
            let lhs: f64 = cols
                .iter()
                .zip(&c)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            let rhs: f64 = x
                .iter()
                .zip(&dx)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            assert!((lhs - rhs).abs() < 1e-4, "{g:?}: {lhs} vs {rhs}");
        }
    }

    #[test]
    fn keras_output_sizes_and_padding() {
        // valid: floor((n - d (k - 1) - 1) / s) + 1
        assert_eq!(output_len(PadMode::Valid, 5, 3, 2, 1), 2);
        assert_eq!(output_len(PadMode::Valid, 6, 3, 2, 1), 2);
        assert_eq!(output_len(PadMode::Valid, 4, 5, 1, 1), 0);
        assert_eq!(output_len(PadMode::Valid, 4, 3, 1, 2), 0);
        // same: ceil(n / s), total = max((out - 1) s + d (k - 1) + 1 - n, 0), half before.
        assert_eq!(output_len(PadMode::Same, 7, 3, 3, 1), 3);
        assert_eq!(pad_before(PadMode::Same, 7, 3, 3, 1), 1); // total 2
        assert_eq!(pad_before(PadMode::Same, 5, 3, 1, 2), 2); // total 4
        assert_eq!(pad_before(PadMode::Same, 5, 2, 1, 1), 0); // total 1, after
        assert_eq!(pad_before(PadMode::Same, 8, 3, 4, 1), 0); // total 1, after
        assert_eq!(pad_before(PadMode::Same, 5, 1, 1, 1), 0);
        assert_eq!(output_len(PadMode::Causal, 7, 3, 2, 1), 4);
        assert_eq!(pad_before(PadMode::Causal, 7, 3, 2, 1), 2);
    }

    #[test]
    fn pointwise_geometry_is_the_identity() {
        let g = ConvGeometry {
            h: 2,
            w: 3,
            c: 2,
            kh: 1,
            kw: 1,
            sh: 1,
            sw: 1,
            dh: 1,
            dw: 1,
            pt: 0,
            pl: 0,
            oh: 2,
            ow: 3,
        };
        assert!(g.is_pointwise());
        let x: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let mut cols = alloc::vec![0.0; 12];
        im2col(&g, &x, &mut cols, 1);
        assert_eq!(cols, x);
    }
}
