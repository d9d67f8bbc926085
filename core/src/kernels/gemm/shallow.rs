//! Products too shallow and narrow for register tiles: a first convolution over one
//! channel has depth 9 (3 × 3 taps) and 32 filters. A tile of the blocked GEMM spends as
//! much on its setup and its burst of stores as on so few depth steps; here `op(B)`
//! (at most [`MAX_K`] rows of `NV` vectors, packed once per call) stays in registers, and
//! each row of `C` costs `k` broadcasts, `k · NV` fused multiply-adds and `NV` stores.
//!
//! Each element of `C` gets the same operations in the same order as in a tile (products
//! accumulated from zero in depth order, then the tiles' own epilogue, `finished_row`), so
//! the results keep their bits whichever path computes them.
//!
//! A product whose rows are a convolution's positions listed window by window can have
//! only each window's maximum stored (`pool`): the rows never leave the registers.

use super::blocked::{finished_row, pack_b, store_row, AOperand, Epilogue, ROW_BLOCK};
use super::simd::Simd;

/// Deepest product taken here (`k`); wider than `2 · W` columns is never taken.
pub(super) const MAX_K: usize = 9;

/// Most rows in a run whose maximum [`gemm`] writes.
pub(super) const MAX_POOL: usize = 16;

/// Whether [`gemm`] takes this product: shallow, at most two vectors wide, and a plain
/// `C = op(A) · op(B)` (plus the epilogue), as forward passes are.
pub(super) fn takes(n: usize, k: usize, w: usize, alpha: f32, beta: f32) -> bool {
    k <= MAX_K && n <= 2 * w && alpha == 1.0 && beta == 0.0
}

/// Whether [`gemm`] can write the maximum of each run of `pool` rows of a product of `m`
/// rows.
pub(super) fn pools(m: usize, pool: usize) -> bool {
    (1..=MAX_POOL).contains(&pool) && m.is_multiple_of(pool)
}

/// `c = op(a) · op(b)`, then the epilogue, one row of `c` (`m × n`, row-major) at a
/// time, after packing `op(b)` (strides `sb`) into `buf` as one zero-padded sliver. With
/// `pool > 0`, only the maximum of each run of `pool` rows is written, as one row of `c`
/// (`m / pool` rows), kept in registers with the comparisons of
/// [`max_row_groups`](crate::kernels::elementwise::max_row_groups): the same bits, unless
/// a run holds a NaN (whose rule, the first NaN wins, the comparisons alone do not
/// follow). Returns false if a run's values may hold one (they sum to NaN: infinities in
/// `op(A)` can also make them so); true otherwise, and always for `pool == 0`.
///
/// # Safety
/// [`takes`] must hold, and [`pools`] where `pool > 0`; `a` must be readable at every
/// element of `op(A)` (`m × k`), `b` at every element of `op(B)` (`k × n`) through `sb`,
/// `c` writable for `m · n` (`m / pool · n` with `pool > 0`), `buf`
/// for `k · 2W` floats, a non-null bias readable for `n`; `S`'s instructions must be
/// available.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm<S: Rows>(
    m: usize,
    n: usize,
    k: usize,
    a: AOperand<'_>,
    b: *const f32,
    (brs, bcs): (usize, usize),
    c: *mut f32,
    buf: *mut f32,
    epi: Epilogue,
    pool: usize,
) -> bool {
    debug_assert!(takes(n, k, S::W, 1.0, 0.0) && (pool == 0 || pools(m, pool)));
    // SAFETY: by the caller.
    unsafe {
        // One sliver as wide as the product.
        pack_b::<S>(k, n, n, b, brs, bcs, buf);
        if n <= S::W {
            run::<S, 1>(m, n, k, a, buf, c, epi, pool)
        } else {
            run::<S, 2>(m, n, k, a, buf, c, epi, pool)
        }
    }
}

/// [`gemm`] once `op(B)` is packed, `(NV - 1) · W < n <= NV · W`.
///
/// # Safety
/// As [`gemm`], with `b` the packed sliver.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn run<S: Rows, const NV: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: AOperand<'_>,
    b: *const f32,
    c: *mut f32,
    epi: Epilogue,
    pool: usize,
) -> bool {
    // SAFETY: by the caller.
    unsafe {
        // The depth as a constant: the loop is unrolled and `op(B)` stays in registers.
        // Each depth is a function of its own: inlined into one, they tripled the
        // compiler's time on this crate.
        macro_rules! depths {
            ($($k:literal)*) => {
                match k {
                    $($k => S::rows::<NV, $k>(m, n, a, b, c, epi, pool),)*
                    _ => unreachable!(),
                }
            };
        }
        depths!(1 2 3 4 5 6 7 8 9)
    }
}

/// The instruction sets [`gemm`] runs on: [`each`] compiled for the set, out of line.
pub(super) trait Rows: Simd {
    /// [`each`] for this instruction set.
    ///
    /// # Safety
    /// As [`each`].
    unsafe fn rows<const NV: usize, const K: usize>(
        m: usize,
        n: usize,
        a: AOperand<'_>,
        b: *const f32,
        c: *mut f32,
        epi: Epilogue,
        pool: usize,
    ) -> bool;
}

/// Implements [`Rows`] for `$s` through the function `$f`, compiled with `$features`.
macro_rules! rows {
    ($s:ty, $f:ident $(, $features:literal)?) => {
        $(#[target_feature(enable = $features)])?
        #[inline(never)]
        unsafe fn $f<const NV: usize, const K: usize>(
            m: usize,
            n: usize,
            a: AOperand<'_>,
            b: *const f32,
            c: *mut f32,
            epi: Epilogue,
            pool: usize,
        ) -> bool {
            // SAFETY: by the caller.
            unsafe { each::<$s, NV, K>(m, n, a, b, c, epi, pool) }
        }

        impl Rows for $s {
            #[inline(always)]
            unsafe fn rows<const NV: usize, const K: usize>(
                m: usize,
                n: usize,
                a: AOperand<'_>,
                b: *const f32,
                c: *mut f32,
                epi: Epilogue,
                pool: usize,
            ) -> bool {
                // SAFETY: by the caller (who checked the instruction set).
                unsafe { $f::<NV, K>(m, n, a, b, c, epi, pool) }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
rows!(super::simd::Avx512, rows_avx512, "avx512f,avx2,fma");
#[cfg(target_arch = "x86_64")]
rows!(super::simd::Avx2, rows_avx2, "avx2,fma");
rows!(super::simd::Lanes8, rows_portable);

/// [`run`] for depth `K`.
///
/// # Safety
/// As [`run`].
#[inline(always)]
unsafe fn each<S: Simd, const NV: usize, const K: usize>(
    m: usize,
    n: usize,
    a: AOperand<'_>,
    b: *const f32,
    c: *mut f32,
    epi: Epilogue,
    pool: usize,
) -> bool {
    // SAFETY: by the caller.
    unsafe {
        let p = Product::<S, NV, K>::new(n, b, epi.bias);
        // The loop below is instantiated for each epilogue, so that no test is left in it.
        match (epi.bias.is_null(), epi.relu) {
            (true, false) => p.rows::<false, false>(m, a, c, pool),
            (true, true) => p.rows::<false, true>(m, a, c, pool),
            (false, false) => p.rows::<true, false>(m, a, c, pool),
            (false, true) => p.rows::<true, true>(m, a, c, pool),
        }
    }
}

/// `op(B)` in registers, and the epilogue.
struct Product<S: Simd, const NV: usize, const K: usize> {
    b: [[S::V; NV]; K],
    n: usize,
    bias: *const f32,
}

impl<S: Simd, const NV: usize, const K: usize> Product<S, NV, K> {
    /// # Safety
    /// As [`gemm`].
    #[inline(always)]
    unsafe fn new(n: usize, b: *const f32, bias: *const f32) -> Self {
        // SAFETY: by the caller.
        unsafe {
            Product {
                b: core::array::from_fn(|p| core::array::from_fn(|v| S::load(b.add((p * NV + v) * S::W)))),
                n,
                bias,
            }
        }
    }

    /// Every row of `C`: each row's origin in `op(A)` fetched a block at a time, its
    /// depth offsets once. With `pool > 0`, only each run of `pool` rows' maximum is
    /// stored, to the next row of `c`; returns false if a run's values summed to NaN (its
    /// stored maximum may then differ from `max_row_groups`').
    ///
    /// # Safety
    /// As [`gemm`].
    #[inline(always)]
    unsafe fn rows<const BIAS: bool, const RELU: bool>(
        &self,
        m: usize,
        a: AOperand<'_>,
        c: *mut f32,
        pool: usize,
    ) -> bool {
        // SAFETY: by the caller.
        unsafe {
            let mut offs = [0usize; K];
            match a {
                AOperand::Strided(_, (_, cs)) => offs.iter_mut().enumerate().for_each(|(p, o)| *o = p * cs),
                AOperand::Gather(g) => g.depths(0, &mut offs),
            }
            let mut rows = [core::ptr::null::<f32>(); ROW_BLOCK];
            // A run's maximum and sum so far, and whether no run held a NaN.
            let (mut max, mut sum) = ([S::splat(0.0); NV], [S::splat(0.0); NV]);
            let (mut slot, mut pooled, mut clean) = (0, c, true);
            let mut i0 = 0;
            while i0 < m {
                let block = &mut rows[..ROW_BLOCK.min(m - i0)];
                match a {
                    AOperand::Strided(a, (rs, _)) => block
                        .iter_mut()
                        .enumerate()
                        .for_each(|(i, r)| *r = a.wrapping_add((i0 + i) * rs)),
                    AOperand::Gather(g) => g.rows(i0, block),
                }
                for (i, &row) in block.iter().enumerate() {
                    let v = self.finished::<BIAS, RELU>(|p| *row.add(offs[p]));
                    if pool == 0 {
                        store_row::<S, NV>(&v, c.add((i0 + i) * self.n), self.n);
                        continue;
                    }
                    for j in 0..NV {
                        (max[j], sum[j]) = if slot == 0 {
                            (v[j], v[j])
                        } else {
                            (S::max_select(v[j], max[j]), S::add(sum[j], v[j]))
                        };
                    }
                    slot += 1;
                    if slot == pool {
                        // `max_row_groups`' comparisons, in registers; they give its bits
                        // unless a run holds a NaN (the sum then is NaN; infinities of
                        // both signs also make it so).
                        clean &= !sum.iter().any(|&s| S::any_nan(s));
                        store_row::<S, NV>(&max, pooled, self.n);
                        pooled = pooled.add(self.n);
                        slot = 0;
                    }
                }
                i0 += block.len();
            }
            clean
        }
    }

    /// One row of `C`, element `p` of the row of `op(A)` being `a(p)`: the values the
    /// tiles' epilogue (`finish_row`) stores, `alpha = 1`, `beta = 0`.
    ///
    /// # Safety
    /// As [`gemm`].
    #[inline(always)]
    unsafe fn finished<const BIAS: bool, const RELU: bool>(&self, a: impl Fn(usize) -> f32) -> [S::V; NV] {
        // SAFETY: by the caller.
        unsafe {
            let mut acc = [S::splat(0.0); NV];
            for (p, bp) in self.b.iter().enumerate() {
                let x = S::splat(a(p));
                for v in 0..NV {
                    acc[v] = S::mul_add(x, bp[v], acc[v]);
                }
            }
            // The tiles' own epilogue, its tests constant here.
            let bias = if BIAS { self.bias } else { core::ptr::null() };
            finished_row::<S, NV>(&acc, core::ptr::null(), self.n, 1.0, 0.0, bias, RELU)
        }
    }
}
