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

    /// Whether every window lies inside the input (no tap reads padding): then the patch
    /// matrix can be read from the input in place ([`Patches`]).
    pub const fn windows_inside(&self) -> bool {
        self.pt == 0
            && self.pl == 0
            && self.oh > 0
            && self.ow > 0
            && self.kh > 0
            && self.kw > 0
            && fits(self.oh - 1, self.sh, dilated(self.kh, self.dh), self.h)
            && fits(self.ow - 1, self.sw, dilated(self.kw, self.dw), self.w)
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
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { im2col_avx512(g, x, cols, batch) };
    }
    // SAFETY: `Plain` needs nothing of the CPU.
    unsafe { im2col_with::<Plain>(g, x, cols, batch) };
}

/// [`im2col`] compiled for AVX-512: every run of values is one masked move or a few, not a
/// call to `memcpy` (a 1-channel 3×3 patch is three runs of three values).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn im2col_avx512(g: &ConvGeometry, x: &[f32], cols: &mut [f32], batch: usize) {
    // SAFETY: compiled for AVX-512F, which the caller checked.
    unsafe { im2col_with::<Masked>(g, x, cols, batch) };
}

/// # Safety
/// As [`Runs`] for `R`.
#[inline(always)]
unsafe fn im2col_with<R: Runs>(g: &ConvGeometry, x: &[f32], cols: &mut [f32], batch: usize) {
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
                        // SAFETY: by the caller.
                        unsafe { R::zero(seg) };
                        continue;
                    };
                    let line = &sample[r * g.w * c..(r + 1) * g.w * c];
                    let first = (oj * g.sw).checked_sub(g.pl);
                    // Fast path: undilated and the whole window row inside the input.
                    if let (1, Some(q)) = (g.dw, first) {
                        if q + g.kw <= g.w {
                            // SAFETY: by the caller.
                            unsafe { R::copy(seg, &line[q * c..(q + g.kw) * c]) };
                            continue;
                        }
                    }
                    for (kj, v) in seg.chunks_exact_mut(c).enumerate() {
                        let src = ConvGeometry::source(oj, g.sw, kj, g.dw, g.pl, g.w);
                        // SAFETY: by the caller.
                        unsafe {
                            match src {
                                Some(q) => R::copy(v, &line[q * c..(q + 1) * c]),
                                None => R::zero(v),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether `last · step + len <= n`, without overflow.
const fn fits(last: usize, step: usize, len: usize, n: usize) -> bool {
    match last.checked_mul(step) {
        Some(start) => match start.checked_add(len) {
            Some(end) => end <= n,
            None => false,
        },
        None => false,
    }
}

/// The patch matrix of `batch` samples (what [`im2col`] writes), read from the input in
/// place by [`gemm_gather`](super::gemm::gemm_gather): row `i` is output position `i`, its
/// origin the window's first input value, and depth `t` the tap `(ki, kj, channel)` at a
/// fixed offset from it. [`Patches::transposed`] is its transpose (rows are taps), for the
/// kernel gradient `patchesᵀ · dz`. Exists only where every window lies inside the input.
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug)]
pub struct Patches<'a> {
    g: ConvGeometry,
    x: &'a [f32],
    batch: usize,
    transposed: bool,
    pool: Option<PoolOrder>,
}

/// Output positions taken window by window, for a max pooling over the convolution's output
/// whose windows lie whole inside it and do not overlap: `oh × ow` windows of `ph × pw`
/// positions, `sh` rows and `sw` columns apart. Positions are listed sample by sample,
/// window by window (row-major), and within a window row-major; positions no window covers
/// are left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolOrder {
    /// Window height and width, in output positions.
    pub ph: usize,
    /// See [`PoolOrder::ph`].
    pub pw: usize,
    /// Step between windows, down and across.
    pub sh: usize,
    /// See [`PoolOrder::sh`].
    pub sw: usize,
    /// Windows down and across.
    pub oh: usize,
    /// See [`PoolOrder::oh`].
    pub ow: usize,
}

impl PoolOrder {
    /// Positions per window.
    pub const fn cells(&self) -> usize {
        self.ph * self.pw
    }

    /// Positions listed per sample: `oh · ow` windows of [`PoolOrder::cells`].
    pub const fn positions(&self) -> usize {
        self.oh * self.ow * self.cells()
    }

    /// Whether the windows are whole and disjoint inside an output of `oh × ow` positions.
    pub const fn tiles(&self, oh: usize, ow: usize) -> bool {
        self.ph > 0
            && self.pw > 0
            && self.oh > 0
            && self.ow > 0
            && self.sh >= self.ph
            && self.sw >= self.pw
            && fits(self.oh - 1, self.sh, self.ph, oh)
            && fits(self.ow - 1, self.sw, self.pw, ow)
    }
}

#[cfg(feature = "alloc")]
impl<'a> Patches<'a> {
    /// The patches of the `batch` samples of `x`, or `None` when a window reaches into the
    /// padding (or `x` is shorter than `batch` samples).
    pub fn new(g: &ConvGeometry, x: &'a [f32], batch: usize) -> Option<Self> {
        (g.windows_inside() && g.c > 0 && x.len() >= batch * g.input_len()).then_some(Patches {
            g: *g,
            x,
            batch,
            transposed: false,
            pool: None,
        })
    }

    /// The same patches with their rows (output positions) in `order`: the product's rows
    /// then come window by window, for a max pooling over consecutive rows. `None` unless
    /// the windows are whole and disjoint inside the output ([`PoolOrder::tiles`]).
    pub fn pooled(self, order: PoolOrder) -> Option<Self> {
        order.tiles(self.g.oh, self.g.ow).then_some(Patches {
            pool: Some(order),
            ..self
        })
    }

    /// Positions listed per sample.
    fn per_sample(&self) -> usize {
        match self.pool {
            Some(o) => o.positions(),
            None => self.g.positions(),
        }
    }

    /// The transpose: `patch_len × (batch · positions)`.
    pub fn transposed(self) -> Self {
        Patches {
            transposed: !self.transposed,
            ..self
        }
    }

    /// Calls `put(i, offset)` for output positions `first + i`, `i < n`, with the offset of
    /// the position's window from the input's start (one division, then counting).
    #[inline(always)]
    fn positions(&self, first: usize, n: usize, mut put: impl FnMut(usize, usize)) {
        if let Some(o) = self.pool {
            return self.pooled_positions(o, first, n, put);
        }
        let g = &self.g;
        let per = g.positions();
        let (b, r) = (first / per, first % per);
        let (mut oi, mut oj) = (r / g.ow, r % g.ow);
        let (down, right) = (g.sh * g.w * g.c, g.sw * g.c);
        // The offset of the output row's first window, and of this window.
        let mut line = b * g.input_len() + oi * down;
        let mut at = line + oj * right;
        for i in 0..n {
            put(i, at);
            oj += 1;
            at += right;
            if oj == g.ow {
                oj = 0;
                oi += 1;
                line += down;
                if oi == g.oh {
                    oi = 0;
                    // The next sample's first row: `oh` rows of `down` past the last
                    // sample's start is not the next sample's start in general.
                    line = (line - g.oh * down) + g.input_len();
                }
                at = line;
            }
        }
    }

    /// [`Patches::positions`] in `o`'s order (one division, then counting).
    #[inline(always)]
    fn pooled_positions(&self, o: PoolOrder, first: usize, n: usize, mut put: impl FnMut(usize, usize)) {
        let g = &self.g;
        let (cells, per) = (o.cells(), o.positions());
        let (b, r) = (first / per, first % per);
        let (win, cell) = (r / cells, r % cells);
        let (mut pi, mut pj) = (win / o.ow, win % o.ow);
        let (mut i, mut j) = (cell / o.pw, cell % o.pw);
        let (down, right) = (g.sh * g.w * g.c, g.sw * g.c);
        let mut sample = b * g.input_len();
        // The offset of a window's first position's window of input.
        let origin = |sample: usize, pi: usize, pj: usize| sample + pi * o.sh * down + pj * o.sw * right;
        let mut at = origin(sample, pi, pj) + i * down + j * right;
        for k in 0..n {
            put(k, at);
            j += 1;
            at += right;
            if j == o.pw {
                j = 0;
                i += 1;
                at = at - o.pw * right + down;
                if i == o.ph {
                    i = 0;
                    pj += 1;
                    if pj == o.ow {
                        pj = 0;
                        pi += 1;
                        if pi == o.oh {
                            pi = 0;
                            sample += g.input_len();
                        }
                    }
                    at = origin(sample, pi, pj);
                }
            }
        }
    }

    /// Calls `put(i, offset)` for taps `first + i`, `i < n`, with the tap's offset from a
    /// window's first value.
    #[inline(always)]
    fn taps(&self, first: usize, n: usize, mut put: impl FnMut(usize, usize)) {
        let g = &self.g;
        let (cell, mut ch) = (first / g.c, first % g.c);
        let (mut ki, mut kj) = (cell / g.kw, cell % g.kw);
        for i in 0..n {
            put(i, (ki * g.dh * g.w + kj * g.dw) * g.c + ch);
            ch += 1;
            if ch == g.c {
                ch = 0;
                kj += 1;
                if kj == g.kw {
                    kj = 0;
                    ki += 1;
                }
            }
        }
    }
}

// SAFETY: for position `i < batch · positions` and tap `t < patch_len`, the offset is
// `b · input_len + ((oi·sh + ki·dh) · w + oj·sw + kj·dw) · c + ch`, with every window inside
// the input (`new` checked it), so below `batch · input_len <= x.len()`. In a pool order
// (`pooled` checked that its windows lie inside the output), each listed position is one
// of these: `oi = pi · o.sh + i < oh`, `oj = pj · o.sw + j < ow`.
#[cfg(feature = "alloc")]
unsafe impl super::gemm::Gather for Patches<'_> {
    fn shape(&self) -> (usize, usize) {
        let (positions, taps) = (self.batch * self.per_sample(), self.g.patch_len());
        if self.transposed {
            (taps, positions)
        } else {
            (positions, taps)
        }
    }

    fn rows(&self, first: usize, out: &mut [*const f32]) {
        let (x, n) = (self.x.as_ptr(), out.len());
        let put = |i: usize, o: usize| out[i] = x.wrapping_add(o);
        if self.transposed {
            self.taps(first, n, put);
        } else {
            self.positions(first, n, put);
        }
    }

    fn depths(&self, first: usize, out: &mut [usize]) {
        let n = out.len();
        let put = |i: usize, o: usize| out[i] = o;
        if self.transposed {
            self.positions(first, n, put);
        } else {
            self.taps(first, n, put);
        }
    }
}

/// How [`im2col`] moves the runs of values it copies or zeroes.
///
/// # Safety
/// Implementations may use instructions the CPU must have: call them only from code
/// compiled for (and running on) those.
trait Runs {
    /// `dst = src` (equal lengths).
    unsafe fn copy(dst: &mut [f32], src: &[f32]);
    /// `dst = 0`.
    unsafe fn zero(dst: &mut [f32]);
}

/// The slice methods (`memcpy` and `memset` for long runs).
struct Plain;

impl Runs for Plain {
    #[inline(always)]
    unsafe fn copy(dst: &mut [f32], src: &[f32]) {
        dst.copy_from_slice(src);
    }
    #[inline(always)]
    unsafe fn zero(dst: &mut [f32]) {
        dst.fill(0.0);
    }
}

/// AVX-512 moves of 16 lanes, the last one masked; only inlined into AVX-512 code.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
struct Masked;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
impl Runs for Masked {
    #[inline(always)]
    unsafe fn copy(dst: &mut [f32], src: &[f32]) {
        use core::arch::x86_64::*;
        assert_eq!(dst.len(), src.len());
        let (n, d, s) = (dst.len(), dst.as_mut_ptr(), src.as_ptr());
        let mut i = 0;
        // SAFETY: indices below `n` of both slices; masked lanes are neither read nor
        // written; the caller runs AVX-512F code.
        unsafe {
            while i + 16 <= n {
                _mm512_storeu_ps(d.add(i), _mm512_loadu_ps(s.add(i)));
                i += 16;
            }
            if i < n {
                let m = ((1u32 << (n - i)) - 1) as u16;
                _mm512_mask_storeu_ps(d.add(i), m, _mm512_maskz_loadu_ps(m, s.add(i)));
            }
        }
    }
    #[inline(always)]
    unsafe fn zero(dst: &mut [f32]) {
        use core::arch::x86_64::*;
        let (n, d) = (dst.len(), dst.as_mut_ptr());
        let mut i = 0;
        // SAFETY: as in `copy`.
        unsafe {
            while i + 16 <= n {
                _mm512_storeu_ps(d.add(i), _mm512_setzero_ps());
                i += 16;
            }
            if i < n {
                let m = ((1u32 << (n - i)) - 1) as u16;
                _mm512_mask_storeu_ps(d.add(i), m, _mm512_setzero_ps());
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
        // Channel counts below, at and over one vector of 16 (runs of `kw * c` values).
        for (c, (h, w)) in [1, 2, 17]
            .into_iter()
            .flat_map(|c| [(1, 1), (4, 5), (5, 4), (6, 7)].map(|hw| (c, hw)))
        {
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
                            c,
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
    fn gathered_patches_give_the_bits_of_im2col_and_gemm() {
        use crate::kernels::gemm::{gemm, gemm_bias_relu, gemm_gather, Op};
        let mut rng = crate::Rng::new(4);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut checked = 0;
        // Every valid geometry of the grid, plus the shapes of a small convnet (with depths
        // over one depth block: 3·3·64 = 576 taps).
        let mut all = geometries();
        for (h, c) in [(28, 1), (13, 32), (7, 64)] {
            all.push(ConvGeometry {
                h,
                w: h,
                c,
                kh: 3,
                kw: 3,
                sh: 1,
                sw: 1,
                dh: 1,
                dw: 1,
                pt: 0,
                pl: 0,
                oh: h - 2,
                ow: h - 2,
            });
        }
        for g in all {
            let Some(_) = Patches::new(&g, &[0.0; 0], 0) else {
                assert!(!g.windows_inside(), "{g:?}");
                continue;
            };
            let (batch, f) = (3, 20);
            let x: Vec<f32> = (0..batch * g.input_len())
                .map(|_| rng.uniform_range(-1.0, 1.0))
                .collect();
            let mut cols = alloc::vec![0.0; batch * g.cols_len()];
            im2col(&g, &x, &mut cols, batch);
            let (m, k) = (batch * g.positions(), g.patch_len());
            let patches = Patches::new(&g, &x, batch).expect("windows inside");
            // Forward: patches · kernel + bias, ReLU.
            let kernel: Vec<f32> = (0..k * f).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            let bias: Vec<f32> = (0..f).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            let mut want = alloc::vec![0.0; m * f];
            gemm_bias_relu(m, f, k, &cols, Op::N, &kernel, Op::N, &bias, true, &mut want);
            let mut got = alloc::vec![f32::NAN; m * f];
            gemm_gather(f, 1.0, &patches, &kernel, Op::N, 0.0, &mut got, &bias, true);
            assert_eq!(bits(&got), bits(&want), "forward {g:?}");
            // Kernel gradient: += patchesᵀ · dz (one tap: `gemm` takes its one-row path).
            if k == 1 {
                checked += 1;
                continue;
            }
            let dz: Vec<f32> = (0..m * f).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            let start: Vec<f32> = (0..k * f).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            let mut want = start.clone();
            gemm(k, f, m, 1.0, &cols, Op::T, &dz, Op::N, 1.0, &mut want);
            let mut got = start.clone();
            gemm_gather(
                f,
                1.0,
                &patches.transposed(),
                &dz,
                Op::N,
                1.0,
                &mut got,
                &[],
                false,
            );
            assert_eq!(bits(&got), bits(&want), "kernel gradient {g:?}");
            checked += 1;
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn pooled_patches_list_the_plain_rows_window_by_window() {
        use crate::kernels::gemm::Gather;
        let g = ConvGeometry {
            h: 13,
            w: 12,
            c: 3,
            kh: 3,
            kw: 2,
            sh: 1,
            sw: 2,
            dh: 1,
            dw: 1,
            pt: 0,
            pl: 0,
            oh: 11,
            ow: 6,
        };
        let batch = 3;
        let x = alloc::vec![0.0; batch * g.input_len()];
        let plain = Patches::new(&g, &x, batch).expect("windows inside");
        let row = |p: &Patches, i: usize| {
            let mut out = [core::ptr::null(); 1];
            p.rows(i, &mut out);
            out[0]
        };
        // 2×2 windows a step apart (the last output row and column left out), 3×1 windows
        // with gaps between them, and 1×1 windows (every position, in plain order).
        for o in [
            PoolOrder {
                ph: 2,
                pw: 2,
                sh: 2,
                sw: 2,
                oh: 5,
                ow: 3,
            },
            PoolOrder {
                ph: 3,
                pw: 1,
                sh: 4,
                sw: 3,
                oh: 3,
                ow: 2,
            },
            PoolOrder {
                ph: 1,
                pw: 1,
                sh: 1,
                sw: 1,
                oh: 11,
                ow: 6,
            },
        ] {
            let pooled = plain.pooled(o).expect("whole windows");
            let m = batch * o.positions();
            assert_eq!(pooled.shape(), (m, g.patch_len()));
            let mut want = Vec::new();
            for b in 0..batch {
                for pi in 0..o.oh {
                    for pj in 0..o.ow {
                        for i in 0..o.ph {
                            for j in 0..o.pw {
                                let (oi, oj) = (pi * o.sh + i, pj * o.sw + j);
                                want.push(row(&plain, (b * g.oh + oi) * g.ow + oj));
                            }
                        }
                    }
                }
            }
            // Fetched from every start, in runs of every length up to 7.
            for first in 0..m {
                for n in 1..=7.min(m - first) {
                    let mut got = alloc::vec![core::ptr::null(); n];
                    pooled.rows(first, &mut got);
                    assert_eq!(got, want[first..first + n], "{o:?} from {first}");
                }
            }
        }
        // Windows reaching past the output, or overlapping, are refused.
        let past = PoolOrder {
            ph: 2,
            pw: 2,
            sh: 2,
            sw: 2,
            oh: 6,
            ow: 3,
        };
        assert!(plain.pooled(past).is_none());
        let overlapping = PoolOrder {
            ph: 2,
            pw: 2,
            sh: 1,
            sw: 2,
            oh: 5,
            ow: 3,
        };
        assert!(plain.pooled(overlapping).is_none());
        // A step whose product with the windows' count wraps around is refused too.
        let wrapping = PoolOrder {
            ph: 1,
            pw: 1,
            sh: usize::MAX / 2 + 1,
            sw: 1,
            oh: 3,
            ow: 1,
        };
        assert!(plain.pooled(wrapping).is_none());
    }

    /// A shallow product max-pooled row run by row run (`gemm_gather_max_rows`) gives the
    /// bits of the product then `max_row_groups`: ties at zero after the ReLU, ±0, ±inf,
    /// every epilogue. A run holding a NaN (inputs with NaN, no ReLU) is reported, so that
    /// the caller computes it the exact way; products it does not take are refused.
    #[test]
    fn pooled_shallow_products_give_the_bits_of_the_rows_then_their_maximum() {
        use crate::kernels::elementwise::max_row_groups;
        use crate::kernels::gemm::{gemm_gather, gemm_gather_max_rows, Op};
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut rng = crate::Rng::new(6);
        let g = |c: usize, kh: usize| ConvGeometry {
            h: 9,
            w: 8,
            c,
            kh,
            kw: 3,
            sh: 1,
            sw: 1,
            dh: 1,
            dw: 1,
            pt: 0,
            pl: 0,
            oh: 10 - kh,
            ow: 6,
        };
        let order = PoolOrder {
            ph: 2,
            pw: 2,
            sh: 2,
            sw: 2,
            oh: 3,
            ow: 3,
        };
        let (mut taken, mut nan_runs) = (0, 0);
        for (geometry, f) in [(g(1, 3), 32), (g(1, 3), 12), (g(1, 2), 5), (g(2, 2), 16)] {
            let batch = 3;
            let mut x: Vec<f32> = (0..batch * geometry.input_len())
                .map(|_| rng.uniform_range(-1.0, 1.0))
                .collect();
            let (m, k) = (batch * order.positions(), geometry.patch_len());
            let kernel: Vec<f32> = (0..k * f).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            let bias: Vec<f32> = (0..f).map(|_| rng.uniform_range(-0.5, 0.5)).collect();
            // Finite inputs (with signed zeros), then an infinity, then NaN as well.
            x[3] = -0.0;
            x[4] = 0.0;
            for special in [None, Some(f32::INFINITY), Some(f32::NAN)] {
                if let Some(v) = special {
                    x[30] = f32::NEG_INFINITY;
                    x[7 + 23 * usize::from(v.is_nan())] = v;
                }
                let patches = Patches::new(&geometry, &x, batch)
                    .and_then(|p| p.pooled(order))
                    .expect("whole windows");
                for (bias, relu) in [
                    (&bias[..], true),
                    (&bias[..], false),
                    (&[][..], true),
                    (&[][..], false),
                ] {
                    let mut z = alloc::vec![0.0; m * f];
                    gemm_gather(f, 1.0, &patches, &kernel, Op::N, 0.0, &mut z, bias, relu);
                    let mut want = alloc::vec![0.0; m / order.cells() * f];
                    max_row_groups(order.cells(), f, &z, &mut want);
                    let nan = want.iter().any(|v| v.is_nan());
                    assert_eq!(nan, !relu && special.is_some_and(f32::is_nan));
                    let mut got = alloc::vec![f32::NAN; want.len()];
                    if gemm_gather_max_rows(f, &patches, &kernel, bias, relu, order.cells(), &mut got) {
                        assert!(!nan);
                        assert_eq!(bits(&got), bits(&want), "{geometry:?} f {f} relu {relu}");
                        taken += 1;
                    } else {
                        nan_runs += usize::from(nan);
                    }
                }
            }
            // Depth 18 is not shallow; runs that do not divide the rows are refused.
            let mut y = alloc::vec![f32::NAN; 1000];
            let patches = Patches::new(&geometry, &x, batch).and_then(|p| p.pooled(order));
            let patches = patches.expect("whole windows");
            if k > 9 {
                assert!(!gemm_gather_max_rows(
                    f, &patches, &kernel, &bias, true, 4, &mut y
                ));
            }
            assert!(!gemm_gather_max_rows(
                f, &patches, &kernel, &bias, true, 5, &mut y
            ));
            assert!(y.iter().all(|v| v.is_nan()), "nothing written");
        }
        // Every shallow case on AVX-512 (32 columns); those up to 16 columns elsewhere.
        assert!(taken >= 16, "{taken}");
        assert!(nan_runs >= 4, "{nan_runs}");
    }

    #[test]
    fn patches_exist_only_when_every_window_is_inside() {
        let g = ConvGeometry {
            h: 5,
            w: 5,
            c: 2,
            kh: 3,
            kw: 3,
            sh: 1,
            sw: 1,
            dh: 1,
            dw: 1,
            pt: 1,
            pl: 1,
            oh: 5,
            ow: 5,
        };
        assert!(Patches::new(&g, &[0.0; 50], 1).is_none());
        let g = ConvGeometry {
            pt: 0,
            pl: 0,
            oh: 3,
            ow: 3,
            ..g
        };
        assert!(Patches::new(&g, &[0.0; 50], 1).is_some());
        // Too short for the batch.
        assert!(Patches::new(&g, &[0.0; 50], 2).is_none());
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
