//! One row times a matrix: the product [`super::gemm`] runs when `C` has a single row
//! (single-sample inference and its backward), streaming `op(B)` once without packing.
//!
//! With `B` stored `k × n` (a `Dense` kernel), the AVX-512 path keeps up to 256 columns of
//! the result in vector registers and adds one row of `B` per non-zero element of `a`: the
//! indices of those elements are gathered first, without branches, so the zeros of an
//! image or of a ReLU output cost neither a read of their row of `B` nor a mispredicted
//! branch. Every element of the result is the same sequence of operations whatever the
//! thread, so results are deterministic.

use super::Op;

/// `c = alpha * a · op(b) + beta * c` for one row `a` (length `k`) and `op(b)` of `k × n`.
///
/// Rows of `b` (for [`Op::N`]) whose element of `a` is zero are skipped.
#[allow(clippy::too_many_arguments)]
pub(super) fn gemv_row(
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    b: &[f32],
    tb: Op,
    beta: f32,
    c: &mut [f32],
) {
    let (a, c) = (&a[..k], &mut c[..n]);
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.iter_mut().for_each(|v| *v *= beta);
    }
    match tb {
        Op::N => {
            let b = &b[..k * n];
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            if std::is_x86_feature_detected!("avx512f") {
                #[cfg(feature = "parallel")]
                if let Some(half) = pair_split(n, k) {
                    // Two threads, each its own half of the columns (and so, call after
                    // call, of `b` in its core's cache). Each column's sum is the same
                    // sequence of operations whichever thread runs it.
                    let (c0, c1) = c.split_at_mut(half);
                    let (b0, b1) = (b, &b[half..]);
                    // SAFETY: the CPU has AVX-512F; each half's columns of every row of `b`
                    // are in `b0`/`b1` (rows `n` apart), and its part of `c` in `c0`/`c1`.
                    return crate::kernels::pair::join(
                        || unsafe { x86::accumulate_rows(n - half, n, alpha, a, b1, c1) },
                        || unsafe { x86::accumulate_rows(half, n, alpha, a, b0, c0) },
                    );
                }
                // SAFETY: the CPU has AVX-512F; `b` holds `k × n` floats, `c` `n`.
                return unsafe { x86::accumulate_rows(n, n, alpha, a, b, c) };
            }
            accumulate_rows(n, alpha, a, b, c);
        }
        // b is n × k: c_j += alpha (a · b[j, :]).
        Op::T => {
            for (cv, row) in c.iter_mut().zip(b[..n * k].chunks_exact(k)) {
                *cv += alpha * dot(a, row);
            }
        }
    }
}

/// Two products in a row on one row `a` (length `k`), as two `Dense` layers compute them:
/// `h = a · b1 + bias1` (`b1` is `k × n1`; ReLU when `relu1`), then
/// `c = h · b2 + bias2` (`b2` is `n1 × n2`; ReLU when `relu2`). Empty biases are none.
///
/// Each of two threads ([`pair::join`](crate::kernels::pair::join)) computes its own half
/// of `h`'s columns, exactly as [`gemv_row`] split between two threads does, and then that
/// half's share of `c` (`h`'s half times its rows of `b2`): the second product starts with
/// no hand-off between threads, and each half of `b2` stays in its own core's cache. The
/// shares are then added (`part` holds the second; `part.len() >= n2`). `c`'s sum is thus
/// taken in two halves, not row after row, wherever the halves run (both on the calling
/// thread when the helper is off or busy): the same bits whichever thread runs a half,
/// within rounding of the two products run one after the other. (Two halves that overflow
/// to opposite infinities give NaN where the row-after-row sum may stay infinite.)
///
/// Returns false, writing nothing, where that does not pay or cannot run: products too
/// small to split (the thresholds of [`gemv_row`]'s split), `n2` over 256 columns, a CPU
/// without AVX-512F, or a build without the `parallel` feature.
pub(crate) fn gemv_chain(
    (k, n1, n2): (usize, usize, usize),
    a: &[f32],
    (b1, bias1, relu1): (&[f32], &[f32], bool),
    h: &mut [f32],
    (b2, bias2, relu2): (&[f32], &[f32], bool),
    c: &mut [f32],
    part: &mut [f32],
) -> bool {
    #[cfg(all(feature = "std", feature = "parallel", target_arch = "x86_64"))]
    if let Some(half) =
        pair_split(n1, k).filter(|_| n2 <= x86::NV_MAX * 16 && std::is_x86_feature_detected!("avx512f"))
    {
        assert!(
            a.len() >= k
                && super::holds(b1.len(), k, n1)
                && super::holds(b2.len(), n1, n2)
                && h.len() >= n1
                && c.len() >= n2
                && part.len() >= n2
                && (bias1.is_empty() || bias1.len() == n1)
                && (bias2.is_empty() || bias2.len() == n2),
            "gemv_chain: buffers too small"
        );
        let (h0, h1) = h[..n1].split_at_mut(half);
        let (bias_lo, bias_hi) = if bias1.is_empty() {
            (bias1, bias1)
        } else {
            bias1.split_at(half)
        };
        let (c0, c1) = (&mut c[..n2], &mut part[..n2]);
        let a = &a[..k];
        // One half: its columns of `h` (of every row of `b1`, `n1` apart), then its rows of `b2`.
        let run = |cols: usize, b1: &[f32], bias: &[f32], h: &mut [f32], b2: &[f32], c: &mut [f32]| {
            h.fill(0.0);
            c.fill(0.0);
            // SAFETY: the CPU has AVX-512F; `b1` holds the half's `cols` columns of each of
            // the `k` rows, `n1` apart (checked above), `h` `cols` values; `b2` holds `cols`
            // rows of `n2`, and `c` `n2` values.
            unsafe {
                x86::accumulate_rows(cols, n1, 1.0, a, b1, h);
                super::bias_relu_pass(h, bias, relu1);
                x86::accumulate_rows(n2, n2, 1.0, h, b2, c);
            }
        };
        crate::kernels::pair::join(
            || run(n1 - half, &b1[half..], bias_hi, h1, &b2[half * n2..], c1),
            || run(half, b1, bias_lo, h0, b2, c0),
        );
        for (v, p) in c[..n2].iter_mut().zip(&part[..n2]) {
            *v += p;
        }
        super::bias_relu_pass(&mut c[..n2], bias2, relu2);
        return true;
    }
    let _ = (k, n1, n2, a, b1, bias1, relu1, h, b2, bias2, relu2, c, part);
    false
}

/// Where a one-row product with `op(b)` of `k × n` is split between two threads: the
/// calling thread's columns `..half` (a multiple of 16), or `None` where the product is too
/// small for the split to pay. [`gemv_row`] and [`gemv_chain`] split alike.
#[cfg(feature = "parallel")]
fn pair_split(n: usize, k: usize) -> Option<usize> {
    (n >= 2 * PAIR_MIN_COLS && k * n >= PAIR_MIN_LEN).then(|| (n / 2).next_multiple_of(16))
}

/// Fewest columns each thread takes when a product is split between two.
#[cfg(feature = "parallel")]
const PAIR_MIN_COLS: usize = 64;
/// Smallest `b` (in floats) whose product is split between two threads: the first layer of
/// W3's MLP (784 × 256) is, its second (256 × 128), which one core reads in well under a
/// microsecond, is not.
#[cfg(feature = "parallel")]
const PAIR_MIN_LEN: usize = 64 * 1024;

/// `c += Σ_p (alpha a_p) b[p, :]` over the non-zero `a_p`, row by row (vectorises over `n`).
fn accumulate_rows(n: usize, alpha: f32, a: &[f32], b: &[f32], c: &mut [f32]) {
    for (p, row) in b.chunks_exact(n).enumerate() {
        let s = alpha * a[p];
        if s != 0.0 {
            for (cv, bv) in c.iter_mut().zip(row) {
                *cv += s * bv;
            }
        }
    }
}

/// Dot product with eight independent accumulators (lets the compiler vectorise).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ac, ar) = a.split_at(a.len() / 8 * 8);
    let (bc, br) = b.split_at(ac.len());
    for (x, y) in ac.chunks_exact(8).zip(bc.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ar.iter().zip(br) {
        s += x * y;
    }
    s
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86 {
    use core::arch::x86_64::*;

    /// Depth indices gathered per pass (two 2 KiB arrays on the stack).
    const CHUNK: usize = 512;
    /// Vectors of 16 columns kept in registers.
    pub(super) const NV_MAX: usize = 16;
    /// How many listed rows ahead of the one being added the next is prefetched.
    const PREFETCH_ROWS: usize = 4;

    /// `c += Σ_p (alpha a_p) b[p, :n]` over the non-zero `a_p`, with the rows of `b` `ldb`
    /// floats apart (`n` columns of a row-major `k × ldb` matrix).
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `n <= ldb`, `b.len() >= (a.len() - 1) * ldb + n`,
    /// `c.len() >= n`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn accumulate_rows(
        n: usize,
        ldb: usize,
        alpha: f32,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
    ) {
        let mut rows = [0u32; CHUNK];
        let mut scales = [0.0f32; CHUNK];
        for (start, a) in (0..a.len()).step_by(CHUNK).zip(a.chunks(CHUNK)) {
            // SAFETY: AVX-512F; `a.len() <= CHUNK`.
            let nz = unsafe { compact(start, alpha, a, &mut rows, &mut scales) };
            let (rows, scales) = (&rows[..nz], &scales[..nz]);
            let mut j = 0;
            while j < n {
                let cols = (n - j).min(NV_MAX * 16);
                let nv = cols.div_ceil(16);
                let last = cols - (nv - 1) * 16;
                let mask = if last == 16 { u16::MAX } else { (1u16 << last) - 1 };
                // SAFETY: columns `j..j + cols` of every row of `b` and of `c` are in bounds;
                // the CPU has AVX-512F (this function's own feature).
                unsafe {
                    let b = b.as_ptr().add(j);
                    let c = c.as_mut_ptr().add(j);
                    macro_rules! dispatch {
                        ($($v:literal)*) => {
                            match nv {
                                $($v => block::<$v>(rows, scales, b, ldb, c, mask),)*
                                _ => unreachable!(),
                            }
                        };
                    }
                    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
                }
                j += cols;
            }
        }
    }

    /// Writes the indices (`start + p`) and scaled values (`alpha · a_p`) of the non-zero
    /// terms of `a` to the front of `rows` and `scales`; returns how many there are.
    ///
    /// # Safety
    /// AVX-512F; `a.len() <= CHUNK`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn compact(
        start: usize,
        alpha: f32,
        a: &[f32],
        rows: &mut [u32; CHUNK],
        scales: &mut [f32; CHUNK],
    ) -> usize {
        // SAFETY: by the caller; each step stores at most 16 values at `nz <= p`, within
        // the arrays since `p + 16 <= CHUNK` for the masked tail too.
        unsafe {
            let alpha = _mm512_set1_ps(alpha);
            let zero = _mm512_setzero_ps();
            let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            let mut nz = 0;
            for p in (0..a.len()).step_by(16) {
                let left = a.len() - p;
                let m = if left >= 16 { u16::MAX } else { (1u16 << left) - 1 };
                let s = _mm512_mul_ps(alpha, _mm512_maskz_loadu_ps(m, a.as_ptr().add(p)));
                let keep = _mm512_mask_cmp_ps_mask::<_CMP_NEQ_UQ>(m, s, zero);
                let idx = _mm512_add_epi32(lanes, _mm512_set1_epi32((start + p) as i32));
                _mm512_mask_compressstoreu_epi32(rows.as_mut_ptr().add(nz).cast(), keep, idx);
                _mm512_mask_compressstoreu_ps(scales.as_mut_ptr().add(nz).cast(), keep, s);
                nz += keep.count_ones() as usize;
            }
            nz
        }
    }

    /// `NV` vectors of columns (the last one under `mask`) of `c` += `scales[i] · b[rows[i], :]`.
    ///
    /// # Safety
    /// AVX-512F; for every row `r` listed, `b + r · ldb` holds the block's columns, as does `c`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn block<const NV: usize>(
        rows: &[u32],
        scales: &[f32],
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        mask: u16,
    ) {
        // SAFETY: by the caller.
        unsafe {
            let load = |p: *const f32, v: usize| {
                if v + 1 < NV {
                    _mm512_loadu_ps(p.add(16 * v))
                } else {
                    _mm512_maskz_loadu_ps(mask, p.add(16 * v))
                }
            };
            let mut acc: [__m512; NV] = core::array::from_fn(|v| load(c, v));
            for (i, (&r, &s)) in rows.iter().zip(scales).enumerate() {
                let row = b.add(r as usize * ldb);
                // The rows are irregularly spaced: fetch a later one's lines now.
                if let Some(&ahead) = rows.get(i + PREFETCH_ROWS) {
                    let ahead = b.add(ahead as usize * ldb);
                    for v in 0..NV {
                        _mm_prefetch::<_MM_HINT_T0>(ahead.add(16 * v).cast());
                    }
                }
                let s = _mm512_set1_ps(s);
                for (v, acc) in acc.iter_mut().enumerate() {
                    *acc = _mm512_fmadd_ps(s, load(row, v), *acc);
                }
            }
            for (v, &x) in acc.iter().enumerate() {
                if v + 1 < NV {
                    _mm512_storeu_ps(c.add(16 * v), x);
                } else {
                    _mm512_mask_storeu_ps(c.add(16 * v), mask, x);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, rng: &mut crate::Rng) -> alloc::vec::Vec<f32> {
        (0..n).map(|_| rng.uniform_range(-1.0, 1.0)).collect()
    }

    #[test]
    fn matches_the_plain_loop_with_zeros_and_edges() {
        let mut rng = crate::Rng::new(12);
        for (n, k) in [
            (256, 784),
            (128, 256),
            (10, 128),
            (37, 19),
            (300, 1030),
            (16, 3),
            (17, 600),
        ] {
            let mut a = random(k, &mut rng);
            // Zeros, as an image's background or a ReLU's output has.
            for (i, v) in a.iter_mut().enumerate() {
                if i % 3 == 0 {
                    *v = 0.0;
                }
            }
            let b = random(k * n, &mut rng);
            let c0 = random(n, &mut rng);
            for (alpha, beta) in [(1.0, 0.0), (0.5, 0.25), (-2.0, 1.0)] {
                let mut want: alloc::vec::Vec<f64> = c0.iter().map(|&v| beta as f64 * v as f64).collect();
                let mut mag: alloc::vec::Vec<f64> = want.iter().map(|v| v.abs()).collect();
                for p in 0..k {
                    for j in 0..n {
                        let t = alpha as f64 * a[p] as f64 * b[p * n + j] as f64;
                        want[j] += t;
                        mag[j] += t.abs();
                    }
                }
                let mut c = if beta == 0.0 {
                    alloc::vec![f32::NAN; n]
                } else {
                    c0.clone()
                };
                gemv_row(n, k, alpha, &a, &b, Op::N, beta, &mut c);
                for j in 0..n {
                    let tol = 4.0 * (k as f64 + 2.0) * f32::EPSILON as f64 * mag[j];
                    assert!(
                        (c[j] as f64 - want[j]).abs() <= tol,
                        "{n}x{k} alpha {alpha} beta {beta} at {j}: {} vs {}",
                        c[j],
                        want[j]
                    );
                }
            }
        }
    }

    /// Products large enough to be split between two threads give the bits of one thread's.
    #[cfg(all(feature = "parallel", target_arch = "x86_64"))]
    #[test]
    fn split_products_match_one_thread_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx512f") {
            return;
        }
        let mut rng = crate::Rng::new(5);
        for (n, k) in [(256, 784), (300, 1030), (129, 600)] {
            assert!(pair_split(n, k).is_some(), "{n}x{k} is split");
            let a: alloc::vec::Vec<f32> = random(k, &mut rng)
                .into_iter()
                .enumerate()
                .map(|(i, v)| if i % 4 == 1 { 0.0 } else { v })
                .collect();
            let b = random(k * n, &mut rng);
            let mut want = alloc::vec![0.0; n];
            // SAFETY: AVX-512F was detected; `b` is `k × n`, `want` `n`.
            unsafe { x86::accumulate_rows(n, n, 0.75, &a, &b, &mut want) };
            // Many calls, so that some find the helper polling.
            for _ in 0..200 {
                let mut c = alloc::vec![f32::NAN; n];
                gemv_row(n, k, 0.75, &a, &b, Op::N, 0.0, &mut c);
                assert!(
                    c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{n}x{k}"
                );
            }
        }
    }

    /// The chained products: `h` has the bits of the first product alone (with its bias and
    /// ReLU), `c` is the second product of that `h` (sums taken in two halves, so within
    /// rounding), and the same bits come back call after call, whichever thread runs a half.
    #[cfg(all(feature = "parallel", target_arch = "x86_64"))]
    #[test]
    fn chained_products_are_the_two_products_with_the_same_bits_on_any_thread() {
        let avx512 = std::is_x86_feature_detected!("avx512f");
        let mut rng = crate::Rng::new(8);
        for (k, n1, n2, with_bias, relu1, relu2) in [
            (784, 256, 128, true, true, true),
            (784, 256, 10, true, false, false),
            (600, 130, 37, false, true, false),
            (520, 160, 256, true, true, true),
        ] {
            let a: alloc::vec::Vec<f32> = random(k, &mut rng)
                .into_iter()
                .enumerate()
                .map(|(i, v)| if i % 3 == 0 { 0.0 } else { v })
                .collect();
            let (b1, b2) = (random(k * n1, &mut rng), random(n1 * n2, &mut rng));
            let (bias1, bias2) = if with_bias {
                (random(n1, &mut rng), random(n2, &mut rng))
            } else {
                (alloc::vec![], alloc::vec![])
            };
            // One product, then the other.
            let mut h_want = alloc::vec![0.0; n1];
            gemv_row(n1, k, 1.0, &a, &b1, Op::N, 0.0, &mut h_want);
            super::super::bias_relu_pass(&mut h_want, &bias1, relu1);
            assert!(!relu1 || h_want.contains(&0.0), "the ReLU zeroes some of h");
            let (mut want, mut mag) = (alloc::vec![0.0f64; n2], alloc::vec![0.0f64; n2]);
            for (p, &hv) in h_want.iter().enumerate() {
                for j in 0..n2 {
                    let t = f64::from(hv) * f64::from(b2[p * n2 + j]);
                    want[j] += t;
                    mag[j] += t.abs();
                }
            }
            // Buffers with a NaN tail, which no write may reach.
            let run = || {
                let (mut h, mut c) = (alloc::vec![f32::NAN; n1 + 16], alloc::vec![f32::NAN; n2 + 16]);
                let mut part = alloc::vec![f32::NAN; n2 + 16];
                let taken = gemv_chain(
                    (k, n1, n2),
                    &a,
                    (&b1, &bias1, relu1),
                    &mut h,
                    (&b2, &bias2, relu2),
                    &mut c,
                    &mut part,
                );
                let tails = [&h[n1..], &c[n2..], &part[n2..]];
                assert!(
                    tails.iter().all(|t| t.iter().all(|v| v.is_nan())),
                    "written past the end"
                );
                h.truncate(n1);
                c.truncate(n2);
                (taken, h, c)
            };
            let (taken, h, c) = run();
            assert_eq!(
                taken, avx512,
                "{k}x{n1}x{n2} is chained where the CPU has AVX-512F"
            );
            if !taken {
                assert!(c.iter().chain(&h).all(|v| v.is_nan()), "nothing is written");
                continue;
            }
            assert!(h.iter().zip(&h_want).all(|(x, y)| x.to_bits() == y.to_bits()));
            for j in 0..n2 {
                let bias = bias2.get(j).map_or(0.0, |&b| f64::from(b));
                let z = want[j] + bias;
                let z = if relu2 && z <= 0.0 { 0.0 } else { z };
                let tol = 4.0 * (n1 as f64 + 2.0) * f64::from(f32::EPSILON) * (mag[j] + bias.abs());
                assert!(
                    (f64::from(c[j]) - z).abs() <= tol,
                    "{k}x{n1}x{n2} at {j}: {} vs {z}",
                    c[j]
                );
            }
            // Many calls, some finding the helper polling, some not; and from inside a
            // rayon worker, where both halves run on the calling thread.
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<alloc::vec::Vec<_>>();
            for _ in 0..200 {
                assert_eq!(bits(&run().2), bits(&c), "{k}x{n1}x{n2}");
            }
            let (_, _, inside) = rayon::join(run, || ()).0;
            assert_eq!(bits(&inside), bits(&c), "{k}x{n1}x{n2} inside the pool");
        }
        // Too small to split, or a second product too wide for the registers: not taken,
        // nothing written.
        for (k, n1, n2) in [(32, 64, 8), (784, 256, 257)] {
            let (mut h, mut c, mut part) = (
                alloc::vec![f32::NAN; n1],
                alloc::vec![f32::NAN; n2],
                alloc::vec![f32::NAN; n2],
            );
            let taken = gemv_chain(
                (k, n1, n2),
                &alloc::vec![1.0; k],
                (&alloc::vec![1.0; k * n1], &[], true),
                &mut h,
                (&alloc::vec![1.0; n1 * n2], &[], false),
                &mut c,
                &mut part,
            );
            assert!(
                !taken && c.iter().chain(&h).chain(&part).all(|v| v.is_nan()),
                "{k}x{n1}x{n2}"
            );
        }
    }

    #[test]
    fn an_all_zero_row_leaves_beta_c() {
        let (n, k) = (40, 70);
        let b = alloc::vec![f32::NAN; k * n];
        let mut c = alloc::vec![2.0; n];
        gemv_row(n, k, 1.0, &alloc::vec![0.0; k], &b, Op::N, 0.5, &mut c);
        assert!(c.iter().all(|&v| v == 1.0), "{c:?}");
    }
}
