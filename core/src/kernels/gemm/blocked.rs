//! The packed, cache-blocked GEMM behind [`super::gemm`] (with `alloc`).
//!
//! Loops, outermost first (the GotoBLAS/BLIS nest, with the roles of the cache levels
//! chosen for row-major `C` and the shapes of a training step):
//!
//! 1. columns of `C` in blocks of [`NC`] or more (as many as fit the packing buffer at
//!    this depth);
//! 2. the depth `k` in blocks of at most [`KC`] (evenly split): `op(B)`'s `kc × nc` block is
//!    packed into slivers of `NR` columns, each `kc × NR` contiguous and zero-padded to
//!    whole vectors; it stays in L2 while every strip of rows uses it. The one exception:
//!    a row-major `op(B)` with few rows of `C` to reuse it ([`DIRECT_MAX_M`]) is read in
//!    place, and only its ragged last sliver is packed;
//! 3. rows of `C` in strips of `MR`: the strip of `op(A)` (`MR × kc`) is read in place
//!    through its strides (never packed) and stays in L1 while the loop below sweeps the
//!    slivers;
//! 4. slivers of `NR` columns: the micro-kernel keeps the `MR × NR` tile of `C` in vector
//!    registers; per depth step it loads `NR` values of `B`, broadcasts `MR` of `A` and
//!    issues `MR · NR / W` fused multiply-adds. The tile is written once per depth block
//!    (`alpha · AB + beta · C`, without reading `C` when `beta == 0`).
//!
//! Every element of `C` is a fixed sequence of operations on its own row of `op(A)` and
//! column of `op(B)`: the same whichever tile or strip it falls in, whatever `m` is and
//! whichever thread runs it. Edge tiles run kernels instantiated for their exact number
//! of rows and vectors, so no work is wasted and nothing outside the operands is read.
//!
//! The packing buffer is the calling thread's own (with `std`): allocated on the thread's
//! first call at its largest size, then reused, so GEMM allocates nothing in steady state.

use super::shallow;
use super::simd::Simd;

/// Depth block: at most this many terms of each dot product per pass over `C`.
pub(super) const KC: usize = 512;
/// Column block for the deepest depth blocks: the packed block of `op(B)`, at most
/// `KC × NC` floats (512 KiB, the packing buffer), stays in L2. Shallower depth blocks
/// take proportionally more columns.
pub(super) const NC: usize = 256;
/// How many depth steps ahead the micro-kernel prefetches its sliver of `B` (it streams
/// from L2; in place, rows apart, the hardware prefetchers alone fall behind).
const PREFETCH_B: usize = 8;
/// How many depth steps ahead the micro-kernel prefetches a transposed `op(A)`.
const PREFETCH_A: usize = 8;

/// Largest `m` for which row-major `op(B)` is read in place rather than packed: packing
/// costs a copy of `B` per call, reading in place costs slower, strided reads of `B` for every
/// strip of `C`'s rows.
const DIRECT_MAX_M: usize = 384;

/// Row origins of a gathered `op(A)` fetched at a time (whole strips of every kernel).
pub(super) const ROW_BLOCK: usize = 384;

/// `op(A)` read as a gather rather than through strides: element `(i, p)` is at
/// `row(i) + depth(p)`. A convolution's patch matrix is one, read from the input itself:
/// no `im2col` copy.
///
/// # Safety
/// For `(m, k) = shape()`, every `row(i) + depth(p)` with `i < m`, `p < k` must point to a
/// readable `f32` for as long as the value lives.
pub unsafe trait Gather {
    /// Rows and depth of `op(A)`: `(m, k)`.
    fn shape(&self) -> (usize, usize);
    /// Writes `row(first + i)` to `out[i]`.
    fn rows(&self, first: usize, out: &mut [*const f32]);
    /// Writes `depth(first + p)` to `out[p]`.
    fn depths(&self, first: usize, out: &mut [usize]);
}

/// How the driver reads `op(A)`.
#[derive(Clone, Copy)]
pub(super) enum AOperand<'a> {
    /// In place through (row, depth) strides.
    Strided(*const f32, (usize, usize)),
    /// Through a [`Gather`].
    Gather(&'a dyn Gather),
}

/// Floats of packing buffer a call needs (at most `KC · NC`).
pub(super) fn packed_len(n: usize, k: usize) -> usize {
    (KC * NC).min(k.min(KC) * n.next_multiple_of(16))
}

/// One micro-kernel call: a tile of `C` of the kernel's rows and `nr` columns.
pub(super) struct Tile {
    /// Depth: steps of the kernel's loop.
    pub kc: usize,
    /// `op(A)[row 0 of the tile, first depth]`.
    pub a: *const f32,
    /// Distance between rows of `op(A)`.
    pub a_rs: usize,
    /// Distance between depth steps of `op(A)`.
    pub a_cs: usize,
    /// Gathered `op(A)` only: the tile's row origins (element `(i, p)` is at
    /// `a_rows[i] + a_offs[p]`).
    pub a_rows: *const *const f32,
    /// Gathered `op(A)` only: the depth block's offsets.
    pub a_offs: *const usize,
    /// `op(B)[first depth, column 0]` of the sliver: packed, or in place.
    pub b: *const f32,
    /// Distance between depth steps of the sliver (`NV · W` when packed).
    pub b_rs: usize,
    /// `C[row 0, column 0]` of the tile.
    pub c: *mut f32,
    /// Row stride of `C`.
    pub ldc: usize,
    /// Columns of the tile in `C` (`(NV - 1) · W < nr <= NV · W`).
    pub nr: usize,
    /// Scale of the product.
    pub alpha: f32,
    /// Zero: `C` is only written.
    pub beta: f32,
    /// Added to every row of the finished tile (`bias[0]` at the tile's column 0); null for
    /// none, and before the last depth block.
    pub bias: *const f32,
    /// ReLU on the finished tile (after the bias); false before the last depth block.
    pub relu: bool,
}

/// What the last depth block does to `C` after the product: `+ bias` (null for none) on
/// every row, then ReLU.
#[derive(Clone, Copy)]
pub(super) struct Epilogue {
    /// `n` values, or null.
    pub bias: *const f32,
    /// Whether ReLU follows.
    pub relu: bool,
}

impl Epilogue {
    /// `+ bias` (none when empty), then ReLU when `relu`.
    pub fn new(bias: &[f32], relu: bool) -> Self {
        Epilogue {
            bias: if bias.is_empty() {
                core::ptr::null()
            } else {
                bias.as_ptr()
            },
            relu,
        }
    }
}

#[cfg(test)]
impl Epilogue {
    /// Nothing after the product.
    pub const NONE: Epilogue = Epilogue {
        bias: core::ptr::null(),
        relu: false,
    };
}

/// The micro-kernel for a tile of `R` rows and `NV` vectors of columns.
///
/// # Safety
/// `t` must describe memory valid for the reads and writes above; `S`'s instructions must
/// be available.
#[inline(always)]
pub(super) unsafe fn tile<S: Simd, const R: usize, const NV: usize, const GATHER: bool>(t: &Tile) {
    // SAFETY: by the caller.
    unsafe {
        let mut acc = [[S::splat(0.0); NV]; R];
        let rows: [*const f32; R] = core::array::from_fn(|i| {
            if GATHER {
                *t.a_rows.add(i)
            } else {
                t.a.add(i * t.a_rs)
            }
        });
        // The tile of `C` is read or written at the end: start fetching it now.
        for i in 0..R {
            for x in (0..NV * S::W).step_by(16) {
                S::prefetch(t.c.wrapping_add(i * t.ldc + x));
            }
        }
        // A transposed `op(A)` (a weight gradient's `xᵀ`) is read across its storage: each
        // depth step meets new lines, which a narrow product's tile uses once. Fetch them
        // ahead, at the tile's first and last rows. (Measured: `conv2 dW` of the `gemm`
        // bench 95 → 121 GFLOP/s, no change elsewhere; gathered operands gained nothing.)
        let prefetch_a = !GATHER && t.a_cs != 1;
        let last_row = (R - 1) * t.a_rs;
        let mut b = t.b;
        let mut off = 0;
        for p in 0..t.kc {
            if GATHER {
                off = *t.a_offs.add(p);
            }
            for x in (0..NV * S::W).step_by(16) {
                S::prefetch(b.wrapping_add(PREFETCH_B * t.b_rs + x));
            }
            if prefetch_a {
                // Past the end of `op(A)` near the last steps: only prefetched, never read.
                let ahead = rows[0].wrapping_add(off + PREFETCH_A * t.a_cs);
                S::prefetch(ahead);
                S::prefetch(ahead.wrapping_add(last_row));
            }
            let bv: [S::V; NV] = core::array::from_fn(|v| S::load(b.add(v * S::W)));
            for i in 0..R {
                let ai = S::splat(*rows[i].add(off));
                for v in 0..NV {
                    acc[i][v] = S::mul_add(ai, bv[v], acc[i][v]);
                }
            }
            // Past the last step this may point beyond `B`: it is not read there.
            b = b.wrapping_add(t.b_rs);
            off += t.a_cs;
        }
        for (i, acc) in acc.iter().enumerate() {
            finish_row::<S, NV>(acc, t.c.add(i * t.ldc), t.nr, t.alpha, t.beta, t.bias, t.relu);
        }
    }
}

/// Writes one row of a finished product to the `nr` columns at `c`
/// (`(NV - 1) · W < nr <= NV · W`): [`finished_row`], then [`store_row`].
///
/// # Safety
/// `c` must be valid for `nr` reads and writes, `bias` (unless null) for `nr` reads;
/// `S`'s instructions must be available.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn finish_row<S: Simd, const NV: usize>(
    acc: &[S::V; NV],
    c: *mut f32,
    nr: usize,
    alpha: f32,
    beta: f32,
    bias: *const f32,
    relu: bool,
) {
    // SAFETY: by the caller.
    unsafe { store_row::<S, NV>(&finished_row::<S, NV>(acc, c, nr, alpha, beta, bias, relu), c, nr) }
}

/// The values of one row of a finished product for the `nr` columns at `c`
/// (`(NV - 1) · W < nr <= NV · W`): `alpha · acc + beta · c` (`c` unread when `beta == 0`),
/// then `+ bias` (null for none), then ReLU. Lanes past `nr` are unspecified.
///
/// # Safety
/// `c` must be valid for `nr` reads unless `beta == 0`, `bias` (unless null) for `nr`
/// reads; `S`'s instructions must be available.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn finished_row<S: Simd, const NV: usize>(
    acc: &[S::V; NV],
    c: *const f32,
    nr: usize,
    alpha: f32,
    beta: f32,
    bias: *const f32,
    relu: bool,
) -> [S::V; NV] {
    // SAFETY: by the caller.
    unsafe {
        let last = nr - (NV - 1) * S::W;
        // A loop, not `array::from_fn`: with a closure this large, `from_fn` (not compiled
        // for the caller's instruction set) stayed out of line, each vector went through
        // memory and a call, and W6 ran 3.5× slower.
        let mut out = *acc;
        for (v, x) in out.iter_mut().enumerate() {
            let c = c.wrapping_add(v * S::W);
            if alpha != 1.0 {
                *x = S::mul(S::splat(alpha), *x);
            }
            let full = v + 1 < NV || last == S::W;
            if beta != 0.0 {
                *x = if full {
                    S::mul_add(S::splat(beta), S::load(c), *x)
                } else {
                    S::mul_add(S::splat(beta), S::load_part(c, last), *x)
                };
            }
            if !bias.is_null() {
                *x = if full {
                    S::add(*x, S::load(bias.add(v * S::W)))
                } else {
                    S::add(*x, S::load_part(bias.add(v * S::W), last))
                };
            }
            if relu {
                *x = S::relu(*x);
            }
        }
        out
    }
}

/// Stores the first `nr` lanes of `v` at `c` (`(NV - 1) · W < nr <= NV · W`); the memory
/// past them is not touched.
///
/// # Safety
/// `c` must be valid for `nr` writes; `S`'s instructions must be available.
#[inline(always)]
pub(super) unsafe fn store_row<S: Simd, const NV: usize>(v: &[S::V; NV], c: *mut f32, nr: usize) {
    // SAFETY: by the caller.
    unsafe {
        let last = nr - (NV - 1) * S::W;
        for (j, &x) in v.iter().enumerate() {
            if j + 1 < NV || last == S::W {
                S::store(c.add(j * S::W), x);
            } else {
                S::store_part(c.add(j * S::W), x, last);
            }
        }
    }
}

/// A register blocking: vector type, rows and vectors of the full tile, and the dispatch
/// to the kernel instantiated for an edge tile's exact size.
pub(super) trait Kernel {
    /// The vectors.
    type S: Simd;
    /// Rows of a full tile.
    const MR: usize;
    /// Vectors of columns of a full tile.
    const NV: usize;
    /// Runs the kernel for `mr <= MR` rows and `nv <= NV` vectors, `op(A)` gathered or not.
    ///
    /// # Safety
    /// As [`tile`].
    unsafe fn run<const GATHER: bool>(mr: usize, nv: usize, t: &Tile);
}

/// Implements [`Kernel`] for `$name`: `rows` and `vecs` list `1..=MR` and `1..=NV`.
macro_rules! kernel {
    ($name:ident, $s:ty, rows $rows:tt, vecs [$($v:literal)*]) => {
        impl $crate::kernels::gemm::blocked::Kernel for $name {
            type S = $s;
            const MR: usize = kernel!(@last $rows);
            const NV: usize = kernel!(@last [$($v)*]);
            #[inline(always)]
            unsafe fn run<const GATHER: bool>(mr: usize, nv: usize, t: &$crate::kernels::gemm::blocked::Tile) {
                // SAFETY: by the caller.
                unsafe {
                    match nv {
                        $($v => kernel!(@rows $s, mr, $v, t, $rows),)*
                        _ => unreachable!(),
                    }
                }
            }
        }
    };
    (@rows $s:ty, $mr:ident, $v:literal, $t:ident, [$($r:literal)*]) => {
        match $mr {
            $($r => $crate::kernels::gemm::blocked::tile::<$s, $r, $v, GATHER>($t),)*
            _ => unreachable!(),
        }
    };
    (@last [$($x:literal)*]) => { [$($x),*][[$($x),*].len() - 1] };
}

/// `c = alpha · op(a) · op(b) + beta · c` (row-major `c`, `m × n`) through the strides
/// of `op(a)` and `op(b)`, `buf` holding at least [`packed_len`] floats.
///
/// # Safety
/// Every index of `op(a)` (`m × k`), `op(b)` (`k × n`) and `c` reached through these strides
/// must lie in its slice; `K::S`'s instructions must be available.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm<K: Kernel>(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: AOperand<'_>,
    b: *const f32,
    (brs, bcs): (usize, usize),
    beta: f32,
    c: *mut f32,
    buf: *mut f32,
    epi: Epilogue,
) {
    let w = K::S::W;
    let nr = K::NV * w;
    // Even depth blocks: 600 = 300 + 300, not 512 + 88.
    let kc_max = k.div_ceil(k.div_ceil(KC));
    // Shallow depth blocks leave room for wider column blocks: as many whole slivers as
    // fit the buffer (for a 64-deep product, 2048 columns: `A` is swept once, not 8 times).
    let nc_max = (KC * NC / kc_max / nr * nr).max(nr);
    let (a, (ars, acs), gather) = match a {
        AOperand::Strided(a, strides) => (a, strides, None),
        AOperand::Gather(g) => (core::ptr::null(), (0, 0), Some(g)),
    };
    // A gathered `op(A)`: the depth block's offsets, and the row origins of the strips
    // from `rows_at` on (fetched a block at a time: one call per strip costs as much as a
    // shallow tile).
    let mut offs = [0usize; KC];
    let mut rows = [core::ptr::null::<f32>(); ROW_BLOCK];
    debug_assert!(ROW_BLOCK.is_multiple_of(K::MR));
    // SAFETY: by the caller; the packed slivers fill at most `kc_max · nc` rounded up to
    // whole vectors, within `packed_len`.
    unsafe {
        let mut jc = 0;
        while jc < n {
            let nc = nc_max.min(n - jc);
            let mut pc = 0;
            while pc < k {
                let kc = kc_max.min(k - pc);
                // Row-major `op(B)` is read in place, in whole slivers; the rest is packed.
                let direct = if bcs == 1 && m <= DIRECT_MAX_M {
                    nc / nr * nr
                } else {
                    0
                };
                if direct < nc {
                    let at = b.add(pc * brs + (jc + direct) * bcs);
                    pack_b::<K::S>(kc, nc - direct, nr, at, brs, bcs, buf);
                }
                if let Some(g) = gather {
                    g.depths(pc, &mut offs[..kc]);
                }
                let beta = if pc == 0 { beta } else { 1.0 };
                let finished = pc + kc == k;
                let mut ir = 0;
                while ir < m {
                    let mr = K::MR.min(m - ir);
                    if let Some(g) = gather {
                        if ir % ROW_BLOCK == 0 {
                            g.rows(ir, &mut rows[..ROW_BLOCK.min(m - ir)]);
                        }
                    }
                    let mut t = Tile {
                        kc,
                        a: a.wrapping_add(ir * ars + pc * acs),
                        a_rs: ars,
                        a_cs: acs,
                        a_rows: rows.as_ptr().wrapping_add(ir % ROW_BLOCK),
                        a_offs: offs.as_ptr(),
                        b: buf,
                        b_rs: 0,
                        c: c.add(ir * n + jc),
                        ldc: n,
                        nr,
                        alpha,
                        beta,
                        bias: if finished && !epi.bias.is_null() {
                            epi.bias.add(jc)
                        } else {
                            core::ptr::null()
                        },
                        relu: finished && epi.relu,
                    };
                    let mut packed = buf.cast_const();
                    let mut jr = 0;
                    while jr < nc {
                        t.nr = nr.min(nc - jr);
                        let nv = t.nr.div_ceil(w);
                        if jr < direct {
                            t.b = b.add(pc * brs + jc + jr);
                            t.b_rs = brs;
                        } else {
                            t.b = packed;
                            t.b_rs = nv * w;
                            packed = packed.add(kc * nv * w);
                        }
                        if gather.is_some() {
                            K::run::<true>(mr, nv, &t);
                        } else {
                            K::run::<false>(mr, nv, &t);
                        }
                        t.c = t.c.add(t.nr);
                        if !t.bias.is_null() {
                            t.bias = t.bias.add(t.nr);
                        }
                        jr += nr;
                    }
                    ir += K::MR;
                }
                pc += kc;
            }
            jc += nc;
        }
    }
}

/// Packs the `kc × nc` block of `op(b)` at `b` into slivers of `nr` columns (the last one
/// of whole vectors), each `kc` rows of its width, zero-padded.
///
/// # Safety
/// As [`gemm`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn pack_b<S: Simd>(
    kc: usize,
    nc: usize,
    nr: usize,
    b: *const f32,
    brs: usize,
    bcs: usize,
    mut dst: *mut f32,
) {
    let w = S::W;
    // SAFETY: by the caller.
    unsafe {
        let mut j0 = 0;
        while j0 < nc {
            let cols = nr.min(nc - j0);
            let width = cols.next_multiple_of(w);
            if bcs == 1 {
                // Whole vectors by register moves (a `memcpy` call per 64-float row cost
                // W4 about 3%), then the partial one.
                let whole = cols / w * w;
                for p in 0..kc {
                    let src = b.add(p * brs + j0);
                    let d = dst.add(p * width);
                    for v in (0..whole).step_by(w) {
                        S::store(d.add(v), S::load(src.add(v)));
                    }
                    core::ptr::copy_nonoverlapping(src.add(whole), d.add(whole), cols - whole);
                    for j in cols..width {
                        *d.add(j) = 0.0;
                    }
                }
            } else {
                // Column j of the sliver is row j of the stored (transposed) matrix: whole
                // `w × w` blocks transposed in registers where the depth is contiguous.
                let blocks = if brs == 1 { cols / w * w } else { 0 };
                let depth = kc / w * w;
                for j in (0..blocks).step_by(w) {
                    let src = b.add((j0 + j) * bcs);
                    for p in (0..depth).step_by(w) {
                        S::transpose(src.add(p), bcs, dst.add(p * width + j), width);
                    }
                }
                for j in 0..cols {
                    let src = b.add((j0 + j) * bcs);
                    let from = if j < blocks { depth } else { 0 };
                    for p in from..kc {
                        *dst.add(p * width + j) = *src.add(p * brs);
                    }
                }
                for p in 0..kc {
                    for j in cols..width {
                        *dst.add(p * width + j) = 0.0;
                    }
                }
            }
            dst = dst.add(kc * width);
            j0 += nr;
        }
    }
}

/// AVX-512: tiles of 6 rows × 64 columns (24 of the 32 vector registers accumulate; 8 × 48
/// and 12 × 32 measured the same or slower on the workloads' shapes).
#[cfg(target_arch = "x86_64")]
struct Avx512Kernel;
#[cfg(target_arch = "x86_64")]
kernel!(Avx512Kernel, super::simd::Avx512, rows [1 2 3 4 5 6], vecs [1 2 3 4]);

/// AVX-512 for products at most 32 columns wide (a first convolution's filters, a
/// classifier's outputs): tiles of 12 rows × 32 columns, twice the rows of
/// [`Avx512Kernel`]'s narrow tiles, so that shallow products spend less per tile on setup
/// and stores (24 of the 32 registers accumulate).
#[cfg(target_arch = "x86_64")]
struct Avx512Narrow;
#[cfg(target_arch = "x86_64")]
kernel!(Avx512Narrow, super::simd::Avx512, rows [1 2 3 4 5 6 7 8 9 10 11 12], vecs [1 2]);

/// Widest `n` that [`Avx512Narrow`] takes.
#[cfg(target_arch = "x86_64")]
const NARROW_N: usize = 32;

/// AVX2 + FMA: tiles of 6 rows × 16 columns (12 of the 16 vector registers accumulate).
#[cfg(target_arch = "x86_64")]
struct Avx2Kernel;
#[cfg(target_arch = "x86_64")]
kernel!(Avx2Kernel, super::simd::Avx2, rows [1 2 3 4 5 6], vecs [1 2]);

/// Portable: tiles of 4 rows × 16 columns in plain arrays.
struct PortableKernel;
kernel!(PortableKernel, super::simd::Lanes8, rows [1 2 3 4], vecs [1 2]);

/// [`gemm`] with AVX-512's kernel for the shape, or the shallow path. `pool > 0` asks the
/// shallow path for each run of `pool` rows' maximum only: returns false, writing nothing,
/// where the shallow path does not take the product, and false where a run held a NaN
/// ([`shallow::gemm`]); true otherwise.
///
/// # Safety
/// As [`gemm`] and, with `pool > 0`, [`shallow::pools`]; the CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_avx512(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: AOperand<'_>,
    b: *const f32,
    sb: (usize, usize),
    beta: f32,
    c: *mut f32,
    buf: *mut f32,
    epi: Epilogue,
    pool: usize,
) -> bool {
    // SAFETY: by the caller.
    unsafe {
        if shallow::takes(n, k, 16, alpha, beta) {
            return shallow::gemm::<super::simd::Avx512>(m, n, k, a, b, sb, c, buf, epi, pool);
        } else if pool > 0 {
            return false;
        } else if n <= NARROW_N {
            gemm::<Avx512Narrow>(m, n, k, alpha, a, b, sb, beta, c, buf, epi)
        } else {
            gemm::<Avx512Kernel>(m, n, k, alpha, a, b, sb, beta, c, buf, epi)
        }
    }
    true
}

/// [`gemm_avx512`] for AVX2 and FMA.
///
/// # Safety
/// As [`gemm_avx512`]; the CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_avx2(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: AOperand<'_>,
    b: *const f32,
    sb: (usize, usize),
    beta: f32,
    c: *mut f32,
    buf: *mut f32,
    epi: Epilogue,
    pool: usize,
) -> bool {
    // SAFETY: by the caller.
    unsafe {
        if shallow::takes(n, k, 8, alpha, beta) {
            return shallow::gemm::<super::simd::Avx2>(m, n, k, a, b, sb, c, buf, epi, pool);
        } else if pool > 0 {
            return false;
        } else {
            gemm::<Avx2Kernel>(m, n, k, alpha, a, b, sb, beta, c, buf, epi)
        }
    }
    true
}

/// The portable kernel, shallow products apart (`pool` as for `gemm_avx512`).
///
/// # Safety
/// As [`gemm`] and, with `pool > 0`, [`shallow::pools`].
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_portable(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: AOperand<'_>,
    b: *const f32,
    sb: (usize, usize),
    beta: f32,
    c: *mut f32,
    buf: *mut f32,
    epi: Epilogue,
    pool: usize,
) -> bool {
    use super::simd::Lanes8;
    // SAFETY: by the caller.
    unsafe {
        if shallow::takes(n, k, Lanes8::W, alpha, beta) {
            return shallow::gemm::<Lanes8>(m, n, k, a, b, sb, c, buf, epi, pool);
        } else if pool > 0 {
            return false;
        } else {
            gemm::<PortableKernel>(m, n, k, alpha, a, b, sb, beta, c, buf, epi)
        }
    }
    true
}

/// The instruction sets the running CPU has (detected once by `std`), or, without `std`,
/// those the build targets.
#[cfg(target_arch = "x86_64")]
fn has(avx512: bool) -> bool {
    #[cfg(feature = "std")]
    {
        let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        avx2 && (!avx512 || std::is_x86_feature_detected!("avx512f"))
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(all(target_feature = "avx2", target_feature = "fma"))
            && (!avx512 || cfg!(target_feature = "avx512f"))
    }
}

/// [`gemm`] with the best kernel for this CPU and a packing buffer: the calling thread's
/// own, allocated on its first call and reused (with `std`), or a fresh one (without).
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: AOperand<'_>,
    b: &[f32],
    sb: (usize, usize),
    beta: f32,
    c: &mut [f32],
    epi: Epilogue,
) {
    dispatch(m, n, k, alpha, a, b, sb, beta, c, epi, 0);
}

/// The shallow path's `c = op(a) · op(b)` (`alpha = 1`, `beta = 0`), then the epilogue,
/// writing only the maximum of each run of `pool` rows (`m / pool` rows of `c`), with the
/// best kernel for this CPU. Returns false, writing nothing, where that kernel's shallow
/// path does not take the product or the runs ([`shallow::takes`], [`shallow::pools`]),
/// and false, `c` written, where a run held a NaN ([`shallow::gemm`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn run_max_rows(
    m: usize,
    n: usize,
    k: usize,
    a: AOperand<'_>,
    b: &[f32],
    sb: (usize, usize),
    c: &mut [f32],
    epi: Epilogue,
    pool: usize,
) -> bool {
    shallow::pools(m, pool) && dispatch(m, n, k, 1.0, a, b, sb, 0.0, c, epi, pool)
}

/// [`run`] and [`run_max_rows`]: the instruction set's entry point with a packing buffer.
#[allow(clippy::too_many_arguments)]
fn dispatch(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: AOperand<'_>,
    b: &[f32],
    sb: (usize, usize),
    beta: f32,
    c: &mut [f32],
    epi: Epilogue,
    pool: usize,
) -> bool {
    let (b, c) = (b.as_ptr(), c.as_mut_ptr());
    let mut clean = false;
    with_buffer(packed_len(n, k), |buf| {
        // SAFETY: `super::gemm` checked the slices against the strides (or the gather
        // vouches for its reads); `buf` has room for `packed_len`; the kernel's instruction
        // set was detected; with `pool > 0`, `run_max_rows` checked the runs.
        unsafe {
            #[cfg(target_arch = "x86_64")]
            {
                if has(true) {
                    clean = gemm_avx512(m, n, k, alpha, a, b, sb, beta, c, buf, epi, pool);
                    return;
                }
                if has(false) {
                    clean = gemm_avx2(m, n, k, alpha, a, b, sb, beta, c, buf, epi, pool);
                    return;
                }
            }
            clean = gemm_portable(m, n, k, alpha, a, b, sb, beta, c, buf, epi, pool);
        }
    });
    clean
}

/// Largest packing buffer, in floats (plus a cache line for alignment).
#[cfg(any(feature = "std", test))]
const BUF_LEN: usize = KC * NC + 16;

/// Runs `f` with a 64-byte-aligned buffer of at least `len <= KC · NC` floats (not
/// initialised).
#[cfg(feature = "std")]
fn with_buffer(len: usize, f: impl FnOnce(*mut f32)) {
    use alloc::vec::Vec;
    use core::cell::RefCell;
    debug_assert!(len <= KC * NC);
    std::thread_local! {
        static BUF: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    }
    let f = core::cell::Cell::new(Some(f));
    let call = |buf: &mut Vec<f32>| {
        if buf.capacity() < BUF_LEN {
            *buf = Vec::with_capacity(BUF_LEN);
        }
        let p = buf.spare_capacity_mut().as_mut_ptr().cast::<f32>();
        (f.take().expect("called once"))(p.wrapping_add(p.align_offset(64)));
    };
    // A thread being torn down (or a re-entrant call) gets a buffer of its own.
    let done = BUF
        .try_with(|b| b.try_borrow_mut().map(|mut b| call(&mut b)).is_ok())
        .unwrap_or(false);
    if !done {
        call(&mut Vec::new());
    }
}

#[cfg(not(feature = "std"))]
fn with_buffer(len: usize, f: impl FnOnce(*mut f32)) {
    let mut buf = alloc::vec::Vec::<f32>::with_capacity(len + 16);
    let p = buf.spare_capacity_mut().as_mut_ptr().cast::<f32>();
    f(p.wrapping_add(p.align_offset(64)));
}

/// Runs [`gemm`] with every kernel this CPU can run, on copies of `c`: (kernel, result).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(super) fn each_kernel(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    sa: (usize, usize),
    b: &[f32],
    sb: (usize, usize),
    beta: f32,
    c: &[f32],
) -> alloc::vec::Vec<(&'static str, alloc::vec::Vec<f32>)> {
    use alloc::vec::Vec;
    let mut out = Vec::new();
    let mut buf = Vec::<f32>::with_capacity(BUF_LEN);
    let p = buf.spare_capacity_mut().as_mut_ptr().cast::<f32>();
    let buf = p.wrapping_add(p.align_offset(64));
    let (a, b) = (AOperand::Strided(a.as_ptr(), sa), b.as_ptr());
    let mut run = |name, f: &dyn Fn(*mut f32)| {
        let mut c = c.to_vec();
        f(c.as_mut_ptr());
        out.push((name, c));
    };
    // SAFETY: the caller's shapes match the slices; each kernel runs only where detected.
    unsafe {
        run("portable", &|c| {
            gemm_portable(m, n, k, alpha, a, b, sb, beta, c, buf, Epilogue::NONE, 0);
        });
        run("portable-tiles", &|c| {
            gemm::<PortableKernel>(m, n, k, alpha, a, b, sb, beta, c, buf, Epilogue::NONE)
        });
        #[cfg(target_arch = "x86_64")]
        {
            if has(false) {
                run("avx2", &|c| {
                    gemm_avx2(m, n, k, alpha, a, b, sb, beta, c, buf, Epilogue::NONE, 0);
                });
            }
            if has(true) {
                run("avx512", &|c| {
                    gemm_avx512(m, n, k, alpha, a, b, sb, beta, c, buf, Epilogue::NONE, 0);
                });
                // Both AVX-512 kernels at every width (`gemm_avx512` picks one by `n`).
                run("avx512-wide", &|c| {
                    avx512_with::<Avx512Kernel>(m, n, k, alpha, a, b, sb, beta, c, buf, Epilogue::NONE)
                });
                run("avx512-narrow", &|c| {
                    avx512_with::<Avx512Narrow>(m, n, k, alpha, a, b, sb, beta, c, buf, Epilogue::NONE)
                });
            }
        }
    }
    out
}

/// [`gemm`] with kernel `K`, compiled for AVX-512.
///
/// # Safety
/// As [`gemm`]; the CPU must have AVX-512F.
#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn avx512_with<K: Kernel>(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: AOperand<'_>,
    b: *const f32,
    sb: (usize, usize),
    beta: f32,
    c: *mut f32,
    buf: *mut f32,
    epi: Epilogue,
) {
    // SAFETY: by the caller.
    unsafe { gemm::<K>(m, n, k, alpha, a, b, sb, beta, c, buf, epi) }
}

/// [`gemm`] with the AVX2 kernel (its tiles, whatever the shape).
///
/// # Safety
/// As [`gemm`]; the CPU must have AVX2 and FMA.
#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn avx2_tiles(
    m: usize,
    n: usize,
    k: usize,
    a: AOperand<'_>,
    b: *const f32,
    sb: (usize, usize),
    c: *mut f32,
    buf: *mut f32,
    epi: Epilogue,
) {
    // SAFETY: by the caller.
    unsafe { gemm::<Avx2Kernel>(m, n, k, 1.0, a, b, sb, 0.0, c, buf, epi) }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    /// `op(A)` gathered from `x`: row `i` at `rows[i]`, depth `p` at `offs[p]` from it.
    struct Scattered<'a> {
        x: &'a [f32],
        rows: Vec<usize>,
        offs: Vec<usize>,
    }

    // SAFETY: every `rows[i] + offs[p]` is inside `x` (checked where built).
    unsafe impl Gather for Scattered<'_> {
        fn shape(&self) -> (usize, usize) {
            (self.rows.len(), self.offs.len())
        }
        fn rows(&self, first: usize, out: &mut [*const f32]) {
            for (o, &r) in out.iter_mut().zip(&self.rows[first..]) {
                *o = self.x[r..].as_ptr();
            }
        }
        fn depths(&self, first: usize, out: &mut [usize]) {
            out.copy_from_slice(&self.offs[first..first + out.len()]);
        }
    }

    /// Every kernel's result for a plain product (`alpha = 1`, `beta = 0`) with the
    /// epilogue: the shallow path where it applies, and the same kernel's tiles.
    fn both_paths(
        m: usize,
        n: usize,
        k: usize,
        a: AOperand<'_>,
        b: &[f32],
        sb: (usize, usize),
        epi: Epilogue,
    ) -> Vec<(&'static str, Vec<f32>, Vec<f32>)> {
        let mut buf = Vec::<f32>::with_capacity(BUF_LEN);
        let p = buf.spare_capacity_mut().as_mut_ptr().cast::<f32>();
        let buf = p.wrapping_add(p.align_offset(64));
        let b = b.as_ptr();
        let mut out = Vec::new();
        let mut run = |name, fast: &dyn Fn(*mut f32), tiles: &dyn Fn(*mut f32)| {
            let (mut x, mut y) = (alloc::vec![f32::NAN; m * n], alloc::vec![f32::NAN; m * n]);
            fast(x.as_mut_ptr());
            tiles(y.as_mut_ptr());
            out.push((name, x, y));
        };
        // SAFETY: the caller's shapes match the operands; each kernel runs only where
        // detected.
        unsafe {
            run(
                "portable",
                &|c| {
                    gemm_portable(m, n, k, 1.0, a, b, sb, 0.0, c, buf, epi, 0);
                },
                &|c| gemm::<PortableKernel>(m, n, k, 1.0, a, b, sb, 0.0, c, buf, epi),
            );
            #[cfg(target_arch = "x86_64")]
            {
                if has(false) {
                    run(
                        "avx2",
                        &|c| {
                            gemm_avx2(m, n, k, 1.0, a, b, sb, 0.0, c, buf, epi, 0);
                        },
                        &|c| avx2_tiles(m, n, k, a, b, sb, c, buf, epi),
                    );
                }
                if has(true) {
                    run(
                        "avx512",
                        &|c| {
                            gemm_avx512(m, n, k, 1.0, a, b, sb, 0.0, c, buf, epi, 0);
                        },
                        &|c| avx512_with::<Avx512Narrow>(m, n, k, 1.0, a, b, sb, 0.0, c, buf, epi),
                    );
                }
            }
        }
        out
    }

    #[test]
    fn shallow_products_give_the_bits_of_the_tiles() {
        let mut rng = crate::Rng::new(21);
        // Values of both signs, some exactly zero, some not finite: ReLU, signed zeros and
        // NaN must come out as the tiles make them.
        let mut value = || match rng.below(16) {
            0 => 0.0,
            1 => -0.0,
            2 => f32::NAN,
            3 => f32::INFINITY,
            _ => rng.uniform_range(-1.0, 1.0),
        };
        let x: Vec<f32> = (0..4096).map(|_| value()).collect();
        let b: Vec<f32> = (0..shallow::MAX_K * 40).map(|_| value()).collect();
        let bias: Vec<f32> = (0..40).map(|_| value()).collect();
        // Bits, every NaN as one: which NaN an operation on two of them returns depends on
        // the order the compiler gives their operands (Rust leaves NaN payloads open).
        let bits = |v: &[f32]| {
            v.iter()
                .map(|x| if x.is_nan() { u32::MAX } else { x.to_bits() })
                .collect::<Vec<_>>()
        };
        let mut taken = 0;
        for k in 1..=shallow::MAX_K + 1 {
            for n in [1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33] {
                for m in [1, 3, 13, 40] {
                    let rows: Vec<usize> = (0..m).map(|i| (i * 97 + k * 13) % 2000).collect();
                    let offs: Vec<usize> = (0..k).map(|p| (p * 29 + n) % 2000).collect();
                    let gathered = Scattered { x: &x, rows, offs };
                    let operands = [
                        AOperand::Strided(x.as_ptr(), (k, 1)),
                        AOperand::Strided(x.as_ptr(), (1, m)),
                        AOperand::Gather(&gathered),
                    ];
                    for a in operands {
                        for sb in [(n, 1), (1, k)] {
                            for (with_bias, relu) in
                                [(false, false), (false, true), (true, false), (true, true)]
                            {
                                let epi = Epilogue {
                                    bias: if with_bias {
                                        bias.as_ptr()
                                    } else {
                                        core::ptr::null()
                                    },
                                    relu,
                                };
                                for (kernel, fast, tiles) in both_paths(m, n, k, a, &b, sb, epi) {
                                    let (fast, tiles) = (bits(&fast), bits(&tiles));
                                    let first = fast.iter().zip(&tiles).position(|(x, y)| x != y);
                                    assert_eq!(
                                        first, None,
                                        "{kernel}: {m}x{n}x{k} {sb:?} bias {with_bias} relu {relu}"
                                    );
                                    taken += usize::from(shallow::takes(
                                        n,
                                        k,
                                        if kernel == "avx512" { 16 } else { 8 },
                                        1.0,
                                        0.0,
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(taken > 0);
    }
}
