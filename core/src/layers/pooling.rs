//! Window geometry and loops shared by the pooling layers.
//!
//! Samples are channels-last and row-major: the value of channel `c` at row `i`, column `j`
//! of a `H`×`W`×`C` sample is at `(i * W + j) * C + c`. Every loop runs over
//! batch × output rows × output columns × window cells with the `C` channels innermost, over
//! contiguous rows of `C` values, so the channel loops vectorise. The 1D layers are the 2D
//! case with a height of one ([`Axis::UNIT`]). Nothing here allocates.
//!
//! Keras's semantics, checked against Keras 3.15 (JAX backend, which agrees with TF here):
//! - output sizes: `valid` gives `floor((n - pool) / stride) + 1`, `same` gives
//!   `ceil(n / stride)`;
//! - `same` pads `max((out - 1) * stride + pool - n, 0)` cells in all, half of them
//!   (rounded down) before the first cell and the rest, including the odd one, after the
//!   last (bottom / right);
//! - max pooling pads with `-inf`, so a padded cell never wins; average pooling divides by
//!   the number of *input* cells in the window, so padded cells are not counted;
//! - max pooling's gradient goes to the first maximum of a window in row-major order, and a
//!   NaN in a window makes its maximum NaN.

use crate::kernels::elementwise::{replaces_max, LANES};

/// One spatial axis of a pooling window: Keras's geometry, as numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Axis {
    /// Input length.
    pub n: usize,
    /// Window length.
    pub pool: usize,
    /// Step between windows.
    pub stride: usize,
    /// Padding cells before the first input cell (`same` only).
    pub pad: usize,
    /// Output length.
    pub out: usize,
}

/// Cells of one max-pooling window are numbered in `f32`, which holds integers exactly up
/// to 2^24; `model!` rejects larger windows.
pub(crate) const MAX_WINDOW_CELLS: usize = 1 << 24;

impl Axis {
    /// The axis of a 1D layer's missing height: one cell, one window.
    pub(crate) const UNIT: Axis = Axis {
        n: 1,
        pool: 1,
        stride: 1,
        pad: 0,
        out: 1,
    };

    /// Whether these are the numbers Keras computes for `padding = "valid"` or `"same"`.
    pub(crate) const fn is_keras(self) -> bool {
        let Axis {
            n,
            pool,
            stride,
            pad,
            out,
        } = self;
        if n == 0 || pool == 0 || stride == 0 || out == 0 {
            return false;
        }
        let valid = n >= pool && pad == 0 && out == (n - pool) / stride + 1;
        let same = out == n.div_ceil(stride)
            && match (out - 1).checked_mul(stride) {
                Some(s) => match s.checked_add(pool) {
                    Some(end) => pad == end.saturating_sub(n) / 2,
                    None => false,
                },
                None => false,
            };
        valid || same
    }

    /// The input cells `lo..hi` under output cell `o`, padding excluded. Never empty for a
    /// Keras geometry: `pad < pool` and the last window starts before the last cell.
    #[inline]
    fn cells(self, o: usize) -> (usize, usize) {
        let start = o * self.stride;
        let lo = start.saturating_sub(self.pad);
        let hi = (start + self.pool).saturating_sub(self.pad).min(self.n);
        (lo, hi)
    }

    /// Whether every window lies inside the input with all its cells (no padding) and
    /// windows do not overlap: `valid` pooling with strides at least the window (Keras's
    /// default strides are the window).
    pub(crate) const fn tiles(self) -> bool {
        self.pad == 0 && self.stride >= self.pool && (self.out - 1) * self.stride + self.pool <= self.n
    }

    /// Whether windows do not overlap (each input cell is in at most one).
    pub(crate) const fn disjoint(self) -> bool {
        self.stride >= self.pool
    }

    /// Whether a window covers input cell `i`, for [`Axis::disjoint`] windows: only window
    /// `(i + pad) / stride` can.
    fn covers(self, i: usize) -> bool {
        let p = i + self.pad;
        p / self.stride < self.out && p % self.stride < self.pool
    }

    /// The most input cells a window can cover.
    pub(crate) const fn max_cells(self) -> usize {
        if self.pool < self.n {
            self.pool
        } else {
            self.n
        }
    }
}

/// Inference max pooling where [`Axis::tiles`] holds on both axes and channels come in
/// whole groups of [`LANES`]: the windows' maxima, each cell compared in the order of
/// [`max_forward_body`]'s general loop (so the same bits), with no per-window bounds.
#[inline(always)]
fn max_tiles(h: Axis, w: Axis, c: usize, x: &[f32], y: &mut [f32], batch: usize) {
    let (in_len, out_len) = (h.n * w.n * c, h.out * w.out * c);
    let (down, right) = (h.stride * w.n * c, w.stride * c);
    for (xs, ys) in x
        .chunks_exact(in_len)
        .zip(y.chunks_exact_mut(out_len))
        .take(batch)
    {
        for (oh, ys) in ys.chunks_exact_mut(w.out * c).enumerate() {
            for (ow, ys) in ys.chunks_exact_mut(c).enumerate() {
                // The window, from its first cell to its last.
                let win = &xs[oh * down + ow * right..][..((h.pool - 1) * w.n + w.pool - 1) * c + c];
                for (g, out) in ys.chunks_exact_mut(LANES).enumerate() {
                    let lanes = |i: usize, j: usize| -> [f32; LANES] {
                        win[(i * w.n + j) * c + g * LANES..][..LANES]
                            .try_into()
                            .expect("a whole group of channels")
                    };
                    // `replaces_max` without its NaN test: a larger value replaces the maximum
                    // (one `max` instruction where `v > m ? v : m` is one); whether any
                    // cell is NaN is tracked apart, and only then is the window redone
                    // with `replaces_max`, for the first NaN's bits.
                    let mut m = lanes(0, 0);
                    let mut nan = [false; LANES];
                    for i in 0..h.pool {
                        for j in 0..w.pool {
                            let v = lanes(i, j);
                            for ((m, nan), v) in m.iter_mut().zip(&mut nan).zip(v) {
                                *nan |= v.is_nan();
                                *m = if v > *m { v } else { *m };
                            }
                        }
                    }
                    if nan.contains(&true) {
                        m = lanes(0, 0);
                        for i in 0..h.pool {
                            for j in 0..w.pool {
                                for (m, v) in m.iter_mut().zip(lanes(i, j)) {
                                    *m = if replaces_max(v, *m) { v } else { *m };
                                }
                            }
                        }
                    }
                    out.copy_from_slice(&m);
                }
            }
        }
    }
}

/// The `c` values at row `i`, column `j` of a sample `w` columns wide.
#[inline(always)]
fn at(sample: &[f32], w: usize, c: usize, i: usize, j: usize) -> &[f32] {
    &sample[(i * w + j) * c..][..c]
}

/// Max pooling. With `argmax`, also writes for each output value the number of the
/// winning cell within its window (padding excluded, row-major), as an exact `f32`.
///
/// Compiled a second time for AVX-512 where `std` can detect it: the selects then run on
/// 16 lanes with mask registers, and give the same bits.
pub(crate) fn max_forward(
    h: Axis,
    w: Axis,
    c: usize,
    x: &[f32],
    y: &mut [f32],
    argmax: Option<&mut [f32]>,
    batch: usize,
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { max_forward_avx512(h, w, c, x, y, argmax, batch) };
    }
    max_forward_body(h, w, c, x, y, argmax, batch, window_max);
}

/// [`max_forward`] for CPUs with AVX-512F.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn max_forward_avx512(
    h: Axis,
    w: Axis,
    c: usize,
    x: &[f32],
    y: &mut [f32],
    argmax: Option<&mut [f32]>,
    batch: usize,
) {
    max_forward_body(h, w, c, x, y, argmax, batch, |xs, win| {
        // SAFETY: this function's caller vouches for AVX-512F.
        unsafe { window_max_avx512(xs, win) }
    });
}

/// Where [`window_max`] looks: a sample's `c` channels per cell, `w` cells per row, the
/// group of [`LANES`] channels from `ch`, rows `h0..h1` and columns `w0..w1` of the window.
#[derive(Clone, Copy)]
struct Window {
    w: usize,
    c: usize,
    ch: usize,
    rows: (usize, usize),
    cols: (usize, usize),
}

impl Window {
    /// The group's values at cell `(i, j)`.
    #[inline(always)]
    fn lanes(self, xs: &[f32], i: usize, j: usize) -> &[f32; LANES] {
        at(xs, self.w, self.c, i, j)[self.ch..][..LANES]
            .try_into()
            .expect("LANES values")
    }
}

/// A window's maximum over a group of [`LANES`] channels and the number of the cell that
/// holds it (row-major within the window, [`replaces_max`] deciding ties and NaN).
#[inline(always)]
fn window_max(xs: &[f32], win: Window) -> ([f32; LANES], [f32; LANES]) {
    let (h0, h1) = win.rows;
    let (w0, w1) = win.cols;
    let mut m = *win.lanes(xs, h0, w0);
    let mut id = [0.0f32; LANES];
    let mut k = 0.0f32;
    for i in h0..h1 {
        for j in w0..w1 {
            let row = win.lanes(xs, i, j);
            for l in 0..LANES {
                let t = replaces_max(row[l], m[l]);
                m[l] = if t { row[l] } else { m[l] };
                id[l] = if t { k } else { id[l] };
            }
            k += 1.0;
        }
    }
    (m, id)
}

/// [`window_max`] in AVX-512 registers, with the same comparisons. (Written out: the
/// compiler kept the portable version's running maximum on the stack, where each masked
/// store stalled the next load.)
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn window_max_avx512(xs: &[f32], win: Window) -> ([f32; LANES], [f32; LANES]) {
    use core::arch::x86_64::*;
    let (h0, h1) = win.rows;
    let (w0, w1) = win.cols;
    // SAFETY: each load reads the `LANES` floats of a checked `&[f32; LANES]`.
    let load = |i, j| unsafe { _mm512_loadu_ps(win.lanes(xs, i, j).as_ptr()) };
    let mut m = load(h0, w0);
    let mut id = _mm512_setzero_ps();
    let mut k = 0.0f32;
    for i in h0..h1 {
        for j in w0..w1 {
            let v = load(i, j);
            // `replaces_max`: larger (ordered), or NaN over a number.
            let t = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, m)
                | (_mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v) & _mm512_cmp_ps_mask::<_CMP_ORD_Q>(m, m));
            m = _mm512_mask_mov_ps(m, t, v);
            id = _mm512_mask_mov_ps(id, t, _mm512_set1_ps(k));
            k += 1.0;
        }
    }
    let (mut ma, mut ida) = ([0.0f32; LANES], [0.0f32; LANES]);
    // SAFETY: each store writes `LANES` floats into an array of `LANES`.
    unsafe {
        _mm512_storeu_ps(ma.as_mut_ptr(), m);
        _mm512_storeu_ps(ida.as_mut_ptr(), id);
    }
    (ma, ida)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn max_forward_body(
    h: Axis,
    w: Axis,
    c: usize,
    x: &[f32],
    y: &mut [f32],
    mut argmax: Option<&mut [f32]>,
    batch: usize,
    group_max: impl Fn(&[f32], Window) -> ([f32; LANES], [f32; LANES]),
) {
    let (in_len, out_len) = (h.n * w.n * c, h.out * w.out * c);
    if argmax.is_none() && h.tiles() && w.tiles() && c.is_multiple_of(LANES) {
        return max_tiles(h, w, c, x, y, batch);
    }
    for b in 0..batch {
        let xs = &x[b * in_len..][..in_len];
        for oh in 0..h.out {
            let (h0, h1) = h.cells(oh);
            for ow in 0..w.out {
                let (w0, w1) = w.cells(ow);
                let o = b * out_len + (oh * w.out + ow) * c;
                let best = &mut y[o..o + c];
                match argmax.as_deref_mut() {
                    // Channels in groups of 16 kept in locals over the whole window (no store
                    // and reload of the running maximum per cell).
                    None => {
                        for (g, out) in best.chunks_mut(LANES).enumerate() {
                            let ch = g * LANES;
                            let lanes = |i, j| -> &[f32; LANES] {
                                at(xs, w.n, c, i, j)[ch..ch + LANES]
                                    .try_into()
                                    .expect("a whole group of channels")
                            };
                            // Whole arrays (register moves, not calls to `memcpy`).
                            if let Ok(out) = <&mut [f32; LANES]>::try_from(&mut *out) {
                                let mut m = *lanes(h0, w0);
                                for i in h0..h1 {
                                    for j in w0..w1 {
                                        let v = lanes(i, j);
                                        for (m, &v) in m.iter_mut().zip(v) {
                                            // A select, not a branch: the loop vectorises.
                                            *m = if replaces_max(v, *m) { v } else { *m };
                                        }
                                    }
                                }
                                *out = m;
                            } else {
                                let first = &at(xs, w.n, c, h0, w0)[ch..ch + out.len()];
                                let mut m = [0.0f32; LANES];
                                let m = &mut m[..out.len()];
                                m.copy_from_slice(first);
                                for i in h0..h1 {
                                    for j in w0..w1 {
                                        let v = &at(xs, w.n, c, i, j)[ch..ch + m.len()];
                                        for (m, &v) in m.iter_mut().zip(v) {
                                            *m = if replaces_max(v, *m) { v } else { *m };
                                        }
                                    }
                                }
                                out.copy_from_slice(m);
                            }
                        }
                    }
                    Some(argmax) => {
                        let idx = &mut argmax[o..o + c];
                        for (g, (out, out_idx)) in
                            best.chunks_mut(LANES).zip(idx.chunks_mut(LANES)).enumerate()
                        {
                            let cells = (h0..h1).flat_map(|i| (w0..w1).map(move |j| (i, j)));
                            let cell = |(i, j)| &at(xs, w.n, c, i, j)[g * LANES..];
                            if let (Ok(out), Ok(out_idx)) = (
                                <&mut [f32; LANES]>::try_from(&mut *out),
                                <&mut [f32; LANES]>::try_from(&mut *out_idx),
                            ) {
                                let win = Window {
                                    w: w.n,
                                    c,
                                    ch: g * LANES,
                                    rows: (h0, h1),
                                    cols: (w0, w1),
                                };
                                (*out, *out_idx) = group_max(xs, win);
                            } else {
                                let len = out.len();
                                out.copy_from_slice(&cell((h0, w0))[..len]);
                                out_idx.fill(0.0);
                                for (k, ij) in cells.enumerate() {
                                    let k = k as f32;
                                    for ((m, id), &v) in
                                        out.iter_mut().zip(out_idx.iter_mut()).zip(&cell(ij)[..len])
                                    {
                                        let t = replaces_max(v, *m);
                                        *m = if t { v } else { *m };
                                        *id = if t { k } else { *id };
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Max pooling's input gradient: each output's gradient goes to the cell `argmax` names
/// (windows may overlap, so contributions add up).
///
/// With `relu_y`, the pooling's outputs, and disjoint windows ([`Axis::disjoint`]), the
/// gradient of a ReLU that produced the input is applied too, with the bits of `Relu`'s
/// backward run afterwards: `dx · [x > 0]`, where a window's winning cell holds its output
/// and every other cell's gradient is `+0` anyway.
#[allow(clippy::too_many_arguments)]
pub(crate) fn max_backward(
    h: Axis,
    w: Axis,
    c: usize,
    argmax: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    batch: usize,
    relu_y: Option<&[f32]>,
) {
    assert!(
        relu_y.is_none() || (h.disjoint() && w.disjoint()),
        "a ReLU mask needs disjoint windows"
    );
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { max_backward_avx512(h, w, c, argmax, dy, dx, batch, relu_y) };
    }
    max_backward_body(h, w, c, argmax, dy, dx, batch, relu_y);
}

/// [`max_backward`] followed by the gradient of a ReLU that produced the pooling's input
/// `x`: fused where windows are disjoint, a separate pass over `dx` otherwise. (`y` holds
/// the pooling's outputs; nothing to do without `dx`.)
#[allow(clippy::too_many_arguments)]
pub(crate) fn max_backward_after_relu(
    h: Axis,
    w: Axis,
    c: usize,
    x: &[f32],
    y: &[f32],
    argmax: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    batch: usize,
) {
    let Some(dx) = dx else { return };
    if h.disjoint() && w.disjoint() {
        max_backward(h, w, c, argmax, dy, dx, batch, Some(y));
    } else {
        max_backward(h, w, c, argmax, dy, dx, batch, None);
        crate::layer::relu_gradient(&x[..batch * h.n * w.n * c], dx);
    }
}

/// [`max_backward`] for CPUs with AVX-512F.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn max_backward_avx512(
    h: Axis,
    w: Axis,
    c: usize,
    argmax: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    batch: usize,
    relu_y: Option<&[f32]>,
) {
    max_backward_body(h, w, c, argmax, dy, dx, batch, relu_y);
}

/// Each cell of each window gets its output's gradient where it is the recorded winner and
/// `+0` elsewhere: a select per channel, which vectorises (rather than a scattered store
/// per channel at a computed address). `dx` starts at `+0` and a sum of gradients is never
/// `-0` then, so the added zeros change no bits.
///
/// Where windows do not overlap (stride at least the window, the usual case), each cell is
/// written once, `g + 0` or `+0` (the same bits as the sum), and only the cells no window
/// covers are zeroed first, rather than the whole gradient.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn max_backward_body(
    h: Axis,
    w: Axis,
    c: usize,
    argmax: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    batch: usize,
    relu_y: Option<&[f32]>,
) {
    let (in_len, out_len) = (h.n * w.n * c, h.out * w.out * c);
    let disjoint = h.disjoint() && w.disjoint();
    if !disjoint {
        dx[..batch * in_len].fill(0.0);
    }
    for b in 0..batch {
        let dxs = &mut dx[b * in_len..][..in_len];
        if disjoint {
            zero_uncovered(h, w, c, dxs);
        }
        for oh in 0..h.out {
            let (h0, h1) = h.cells(oh);
            for ow in 0..w.out {
                let (w0, w1) = w.cells(ow);
                let o = b * out_len + (oh * w.out + ow) * c;
                let (win, g) = (&argmax[o..o + c], &dy[o..o + c]);
                let mut k = 0.0f32;
                for i in h0..h1 {
                    for j in w0..w1 {
                        let d = &mut dxs[(i * w.n + j) * c..][..c];
                        if let Some(y) = relu_y {
                            // Disjoint windows, as asserted: `Relu`'s `dx · 1` or `dx · 0`.
                            for (((d, &won), &g), &y) in d.iter_mut().zip(win).zip(g).zip(&y[o..o + c]) {
                                let mine = if won == k { g } else { 0.0 };
                                *d = (mine + 0.0) * if y > 0.0 { 1.0 } else { 0.0 };
                            }
                        } else {
                            for ((d, &won), &g) in d.iter_mut().zip(win).zip(g) {
                                let mine = if won == k { g } else { 0.0 };
                                // Disjoint windows: the cell's one write (`+ 0.0` turns a
                                // `-0` gradient into the sum's `+0`).
                                *d = if disjoint { mine + 0.0 } else { *d + mine };
                            }
                        }
                        k += 1.0;
                    }
                }
            }
        }
    }
}

/// Zeroes the cells of one sample's gradient that no window covers, for windows that do not
/// overlap: rows (or columns) between windows or past the last one.
#[inline(always)]
fn zero_uncovered(h: Axis, w: Axis, c: usize, dxs: &mut [f32]) {
    let every_column = (0..w.n).all(|j| w.covers(j));
    for i in 0..h.n {
        let row = &mut dxs[i * w.n * c..][..w.n * c];
        if !h.covers(i) {
            row.fill(0.0);
        } else if !every_column {
            for j in (0..w.n).filter(|&j| !w.covers(j)) {
                row[j * c..][..c].fill(0.0);
            }
        }
    }
}

/// Average pooling over the input cells of each window (padded cells are not counted).
pub(crate) fn avg_forward(h: Axis, w: Axis, c: usize, x: &[f32], y: &mut [f32], batch: usize) {
    let (in_len, out_len) = (h.n * w.n * c, h.out * w.out * c);
    for b in 0..batch {
        let xs = &x[b * in_len..][..in_len];
        for oh in 0..h.out {
            let (h0, h1) = h.cells(oh);
            for ow in 0..w.out {
                let (w0, w1) = w.cells(ow);
                let o = b * out_len + (oh * w.out + ow) * c;
                let sum = &mut y[o..o + c];
                sum.fill(0.0);
                for i in h0..h1 {
                    for j in w0..w1 {
                        for (s, &v) in sum.iter_mut().zip(at(xs, w.n, c, i, j)) {
                            *s += v;
                        }
                    }
                }
                let count = ((h1 - h0) * (w1 - w0)) as f32;
                sum.iter_mut().for_each(|s| *s /= count);
            }
        }
    }
}

/// Average pooling's input gradient. Divides `dy` in place by each window's cell count.
pub(crate) fn avg_backward(h: Axis, w: Axis, c: usize, dy: &mut [f32], dx: &mut [f32], batch: usize) {
    let (in_len, out_len) = (h.n * w.n * c, h.out * w.out * c);
    dx[..batch * in_len].fill(0.0);
    for b in 0..batch {
        let dxs = &mut dx[b * in_len..][..in_len];
        for oh in 0..h.out {
            let (h0, h1) = h.cells(oh);
            for ow in 0..w.out {
                let (w0, w1) = w.cells(ow);
                let o = b * out_len + (oh * w.out + ow) * c;
                let g = &mut dy[o..o + c];
                let count = ((h1 - h0) * (w1 - w0)) as f32;
                g.iter_mut().for_each(|v| *v /= count);
                for i in h0..h1 {
                    for j in w0..w1 {
                        let d = &mut dxs[(i * w.n + j) * c..][..c];
                        for (d, &v) in d.iter_mut().zip(&*g) {
                            *d += v;
                        }
                    }
                }
            }
        }
    }
}

/// The mean over `cells` rows of `c` channels, per sample.
pub(crate) fn global_avg_forward(cells: usize, c: usize, x: &[f32], y: &mut [f32], batch: usize) {
    for b in 0..batch {
        let xs = &x[b * cells * c..][..cells * c];
        let sum = &mut y[b * c..][..c];
        sum.fill(0.0);
        for row in xs.chunks_exact(c) {
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += v;
            }
        }
        sum.iter_mut().for_each(|s| *s /= cells as f32);
    }
}

/// The global mean's input gradient: `dy / cells` in every cell.
pub(crate) fn global_avg_backward(cells: usize, c: usize, dy: &[f32], dx: &mut [f32], batch: usize) {
    for b in 0..batch {
        let g = &dy[b * c..][..c];
        for row in dx[b * cells * c..][..cells * c].chunks_exact_mut(c) {
            for (d, &v) in row.iter_mut().zip(g) {
                *d = v / cells as f32;
            }
        }
    }
}

/// Whether `v` is the global maximum `m` (NaN counts as equal to a NaN maximum).
#[inline(always)]
fn ties(v: f32, m: f32) -> bool {
    v == m || (v.is_nan() && m.is_nan())
}

/// The maximum over `cells` rows of `c` channels, per sample. With `counts`, also writes
/// how many cells reach each maximum (for the backward pass).
pub(crate) fn global_max_forward(
    cells: usize,
    c: usize,
    x: &[f32],
    y: &mut [f32],
    mut counts: Option<&mut [f32]>,
    batch: usize,
) {
    for b in 0..batch {
        let xs = &x[b * cells * c..][..cells * c];
        let best = &mut y[b * c..][..c];
        best.copy_from_slice(&xs[..c]);
        for row in xs.chunks_exact(c) {
            for (m, &v) in best.iter_mut().zip(row) {
                *m = if replaces_max(v, *m) { v } else { *m };
            }
        }
        if let Some(counts) = counts.as_deref_mut() {
            let n = &mut counts[b * c..][..c];
            n.fill(0.0);
            for row in xs.chunks_exact(c) {
                for ((n, &m), &v) in n.iter_mut().zip(&*best).zip(row) {
                    *n += f32::from(u8::from(ties(v, m)));
                }
            }
        }
    }
}

/// The global maximum's input gradient: each output's gradient is shared equally by the
/// cells that reach the maximum, as Keras's `ops.max` (JAX and TF) differentiates. `counts`
/// is what [`global_max_forward`] wrote.
#[allow(clippy::too_many_arguments)]
pub(crate) fn global_max_backward(
    cells: usize,
    c: usize,
    x: &[f32],
    y: &[f32],
    counts: &[f32],
    dy: &mut [f32],
    dx: &mut [f32],
    batch: usize,
) {
    for b in 0..batch {
        let m = &y[b * c..][..c];
        let g = &mut dy[b * c..][..c];
        for (g, &n) in g.iter_mut().zip(&counts[b * c..][..c]) {
            *g /= n;
        }
        let xs = &x[b * cells * c..][..cells * c];
        let dxs = &mut dx[b * cells * c..][..cells * c];
        for (d, row) in dxs.chunks_exact_mut(c).zip(xs.chunks_exact(c)) {
            for (((d, &v), &m), &g) in d.iter_mut().zip(row).zip(m).zip(&*g) {
                *d = if ties(v, m) { g } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The gradient by definition: a zeroed `dx`, each output's gradient added to the cell
    /// `argmax` names.
    fn reference(h: Axis, w: Axis, c: usize, argmax: &[f32], dy: &[f32], batch: usize) -> Vec<f32> {
        let (in_len, out_len) = (h.n * w.n * c, h.out * w.out * c);
        let mut dx = alloc::vec![0.0f32; batch * in_len];
        for b in 0..batch {
            for oh in 0..h.out {
                for ow in 0..w.out {
                    let (h0, h1) = h.cells(oh);
                    let (w0, w1) = w.cells(ow);
                    let cols = w1 - w0;
                    for ch in 0..c {
                        let o = b * out_len + (oh * w.out + ow) * c + ch;
                        let k = argmax[o] as usize;
                        let (i, j) = (h0 + k / cols, w0 + k % cols);
                        assert!(i < h1);
                        dx[b * in_len + (i * w.n + j) * c + ch] += dy[o];
                    }
                }
            }
        }
        dx
    }

    fn axis(n: usize, pool: usize, stride: usize, same: bool) -> Axis {
        let out = if same {
            n.div_ceil(stride)
        } else {
            (n - pool) / stride + 1
        };
        let pad = if same {
            ((out - 1) * stride + pool).saturating_sub(n) / 2
        } else {
            0
        };
        let a = Axis {
            n,
            pool,
            stride,
            pad,
            out,
        };
        assert!(a.is_keras());
        a
    }

    /// The AVX-512 window maximum gives the portable one's values and cell numbers, bit for
    /// bit, with ties, NaN (first and later in a window) and signed zeros.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[test]
    fn window_max_avx512_matches_the_portable_one() {
        if !std::is_x86_feature_detected!("avx512f") {
            return;
        }
        let mut rng = crate::Rng::new(8);
        let (w, c) = (5, 2 * LANES);
        let pick = [1.0, 2.0, 2.0, -0.0, 0.0, -3.0, f32::NAN];
        for _ in 0..200 {
            let xs: alloc::vec::Vec<f32> = (0..4 * w * c)
                .map(|_| pick[rng.below(pick.len() as u64) as usize])
                .collect();
            for (rows, cols) in [
                ((0, 2), (0, 2)),
                ((1, 4), (2, 5)),
                ((3, 4), (4, 5)),
                ((0, 4), (0, 1)),
            ] {
                for ch in [0, LANES] {
                    let win = Window { w, c, ch, rows, cols };
                    let (m0, i0) = window_max(&xs, win);
                    // SAFETY: AVX-512F was detected.
                    let (m1, i1) = unsafe { window_max_avx512(&xs, win) };
                    let bits = |v: [f32; LANES]| v.map(f32::to_bits);
                    assert_eq!((bits(m0), bits(i0)), (bits(m1), bits(i1)), "{rows:?} {cols:?}");
                }
            }
        }
    }

    /// Inference over whole, disjoint windows (`max_tiles`) gives the values of the general
    /// loop (which training's argmax takes), bit for bit: ties, signed zeros, and the first
    /// of two different NaNs in a window.
    #[test]
    fn whole_disjoint_windows_give_the_general_loops_bits() {
        let mut rng = crate::Rng::new(11);
        let pick = [1.0, 2.0, 2.0, -0.0, 0.0, -3.0, f32::NAN, -f32::NAN];
        let geometries = [(6, 2, 2), (7, 2, 2), (7, 3, 3), (8, 2, 3), (5, 1, 1)];
        let mut fast = 0;
        for &(hn, hp, hs) in &geometries {
            for &(wn, wp, ws) in &geometries {
                let (h, w) = (axis(hn, hp, hs, false), axis(wn, wp, ws, false));
                for c in [LANES, 3 * LANES, LANES + 1] {
                    let batch = 2;
                    let x: Vec<f32> = (0..batch * h.n * w.n * c)
                        .map(|_| pick[rng.below(pick.len() as u64) as usize])
                        .collect();
                    let out = batch * h.out * w.out * c;
                    let (mut y, mut want) = (alloc::vec![f32::NAN; out], alloc::vec![f32::NAN; out]);
                    max_forward(h, w, c, &x, &mut y, None, batch);
                    let mut argmax = alloc::vec![0.0; out];
                    max_forward(h, w, c, &x, &mut want, Some(&mut argmax), batch);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&y), bits(&want), "{h:?} {w:?} c {c}");
                    fast += usize::from(h.tiles() && w.tiles() && c.is_multiple_of(LANES));
                }
            }
        }
        assert_eq!(fast, 2 * geometries.len() * geometries.len());
    }

    /// Windows listed cell by cell (as a convolution computes them in pool order) give
    /// `max_forward`'s bits: ties, signed zeros, two different NaNs; windows that leave
    /// rows and columns uncovered; channel counts off the vector width.
    #[test]
    fn cell_groups_give_max_forwards_bits() {
        let mut rng = crate::Rng::new(12);
        let pick = [1.0, 2.0, 2.0, -0.0, 0.0, -3.0, f32::NAN, -f32::NAN];
        let geometries = [(6, 2, 2), (7, 2, 2), (7, 3, 3), (8, 2, 3), (5, 1, 1)];
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let mut nan_windows = 0;
        for &(hn, hp, hs) in &geometries {
            for &(wn, wp, ws) in &geometries {
                let (h, w) = (axis(hn, hp, hs, false), axis(wn, wp, ws, false));
                for c in [1, LANES, 2 * LANES + 3] {
                    let batch = 2;
                    let x: Vec<f32> = (0..batch * h.n * w.n * c)
                        .map(|_| pick[rng.below(pick.len() as u64) as usize])
                        .collect();
                    let out = batch * h.out * w.out * c;
                    let mut want = alloc::vec![f32::NAN; out];
                    max_forward(h, w, c, &x, &mut want, None, batch);
                    // The windows' cells, listed window by window.
                    let mut z = Vec::new();
                    for xs in x.chunks_exact(h.n * w.n * c) {
                        for oi in 0..h.out {
                            for oj in 0..w.out {
                                for i in 0..h.pool {
                                    for j in 0..w.pool {
                                        let cell = at(xs, w.n, c, oi * h.stride + i, oj * w.stride + j);
                                        nan_windows += usize::from(cell.iter().any(|v| v.is_nan()));
                                        z.extend_from_slice(cell);
                                    }
                                }
                            }
                        }
                    }
                    let mut y = alloc::vec![0.0; out];
                    crate::kernels::elementwise::max_row_groups(h.pool * w.pool, c, &z, &mut y);
                    assert_eq!(bits(&y), bits(&want), "{h:?} {w:?} c {c}");
                    #[cfg(all(feature = "std", target_arch = "x86_64"))]
                    {
                        let mut y = alloc::vec![0.0; out];
                        crate::kernels::elementwise::max_row_groups_body(h.pool * w.pool, c, &z, &mut y);
                        assert_eq!(bits(&y), bits(&want), "portable {h:?} {w:?} c {c}");
                    }
                }
            }
        }
        assert!(nan_windows > 100, "{nan_windows}");
    }

    #[test]
    fn max_backward_writes_every_cell_of_the_gradient() {
        // Disjoint windows that cover the input, leave rows and columns uncovered (valid,
        // stride above the window), padded ones, and overlapping ones; `dx` starts as NaN.
        let mut rng = crate::Rng::new(21);
        let geometries = [
            (axis(26, 2, 2, false), axis(26, 2, 2, false)),
            (axis(11, 2, 2, false), axis(11, 2, 2, false)),
            (axis(9, 2, 3, false), axis(10, 3, 4, false)),
            (axis(7, 2, 2, true), axis(5, 3, 3, true)),
            (axis(6, 3, 2, false), axis(7, 3, 1, true)),
        ];
        for (h, w) in geometries {
            for c in [1, 3, 17] {
                let batch = 2;
                let x: Vec<f32> = (0..batch * h.n * w.n * c)
                    .map(|_| rng.uniform_range(-1.0, 1.0))
                    .collect();
                let mut y = alloc::vec![0.0; batch * h.out * w.out * c];
                let mut argmax = y.clone();
                max_forward(h, w, c, &x, &mut y, Some(&mut argmax), batch);
                // Some gradients are -0: the result must still be the sum's +0.
                let dy: Vec<f32> = (0..y.len())
                    .map(|i| {
                        if i % 5 == 0 {
                            -0.0
                        } else {
                            rng.uniform_range(-1.0, 1.0)
                        }
                    })
                    .collect();
                let mut dx = alloc::vec![f32::NAN; x.len()];
                max_backward(h, w, c, &argmax, &dy, &mut dx, batch, None);
                let want = reference(h, w, c, &argmax, &dy, batch);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&dx), bits(&want), "{h:?} {w:?} c {c}");
            }
        }
    }
}
