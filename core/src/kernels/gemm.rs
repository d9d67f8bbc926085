//! General matrix multiply on row-major slices.

#[cfg(feature = "alloc")]
mod blocked;
mod gemv;
#[cfg(feature = "alloc")]
mod shallow;
#[cfg(feature = "alloc")]
mod simd;

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as stored.
    N,
    /// Use its transpose.
    T,
}

/// `c = alpha * op(a) * op(b) + beta * c` for row-major matrices.
///
/// `op(a)` is `m × k`, `op(b)` is `k × n`, `c` is `m × n`. `a` is stored `m × k` when
/// `ta == Op::N` and `k × m` when `ta == Op::T`; likewise `b`. When `beta == 0`, `c` is
/// only written.
///
/// ```
/// use kerust::kernels::gemm::{gemm, Op};
/// let a = [1.0, 2.0, 3.0, 4.0]; // 2x2
/// let b = [1.0, 0.0, 0.0, 1.0]; // identity
/// let mut c = [0.0; 4];
/// gemm(2, 2, 2, 1.0, &a, Op::N, &b, Op::T, 0.0, &mut c);
/// assert_eq!(c, a);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    ta: Op,
    b: &[f32],
    tb: Op,
    beta: f32,
    c: &mut [f32],
) {
    run(m, n, k, alpha, a, ta, b, tb, beta, c, &[], false);
}

/// `c = op(a) · op(b) + bias`, `bias` (length `n`, or empty for none) added to every row,
/// then ReLU (`x` where `x > 0`, else `0`) when `relu`: a dense or convolution layer's
/// forward pass. The bias and the ReLU are applied as each tile of `c` is finished, so `c`
/// is written once; the result has the same bits as [`gemm`] (`alpha = 1`, `beta = 0`)
/// followed by the two passes.
///
/// ```
/// use kerust::kernels::gemm::{gemm_bias_relu, Op};
/// let a = [1.0, 2.0, 3.0, 4.0]; // 2x2
/// let b = [1.0, 0.0, 0.0, 1.0]; // identity
/// let mut c = [0.0; 4];
/// gemm_bias_relu(2, 2, 2, &a, Op::N, &b, Op::N, &[-2.0, 0.5], true, &mut c);
/// assert_eq!(c, [0.0, 2.5, 1.0, 4.5]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm_bias_relu(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    ta: Op,
    b: &[f32],
    tb: Op,
    bias: &[f32],
    relu: bool,
    c: &mut [f32],
) {
    assert!(
        bias.is_empty() || bias.len() == n,
        "gemm_bias_relu: bias is not n long"
    );
    run(m, n, k, 1.0, a, ta, b, tb, 0.0, c, bias, relu);
}

#[cfg(feature = "alloc")]
pub use blocked::Gather;
pub(crate) use gemv::gemv_chain;

/// [`gemm_bias_relu`] with `A` (`m × k`, its [`Gather::shape`]) read through a [`Gather`]
/// rather than stored:
/// `c = alpha · A · op(b) + beta · c + bias`, then ReLU when `relu`. Element `(i, j)` of
/// `c` gets the same operations, in the same order, as from [`gemm`] on `A` stored, so the
/// bits are the same. A convolution's patch matrix is read this way from its input.
#[cfg(feature = "alloc")]
#[allow(clippy::too_many_arguments)]
pub fn gemm_gather(
    n: usize,
    alpha: f32,
    a: &dyn Gather,
    b: &[f32],
    tb: Op,
    beta: f32,
    c: &mut [f32],
    bias: &[f32],
    relu: bool,
) {
    let (m, k) = a.shape();
    assert!(
        holds(b.len(), k, n) && holds(c.len(), m, n) && (bias.is_empty() || bias.len() == n),
        "gemm_gather: buffers too small"
    );
    if degenerate(m, n, k, beta, c, bias, relu) {
        return;
    }
    let sb = match tb {
        Op::N => (n, 1),
        Op::T => (1, k),
    };
    let epi = blocked::Epilogue::new(bias, relu);
    blocked::run(m, n, k, alpha, blocked::AOperand::Gather(a), b, sb, beta, c, epi);
}

/// [`gemm_gather`] with `alpha = 1` and `beta = 0`, keeping only the maximum of each run of
/// `pool` consecutive rows of the result ([`max_row_groups`]): `y` gets `m / pool` rows.
/// A convolution's output max-pooled as it is computed, its positions listed window by
/// window ([`Patches::pooled`](crate::kernels::im2col::Patches::pooled)): each window's
/// maximum is kept in registers and only it is stored. Only products shallow and narrow
/// enough to be computed a row at a time are taken (a first convolution over one channel);
/// for any other, or when `pool` does not divide `m` or exceeds 16, returns false and
/// writes nothing. Also returns false, with `y` written, when a run may hold a NaN (its
/// values sum to NaN, as infinities in the input can also make them): the registers'
/// maximum does not follow the first-NaN rule, so `y` must then be computed another way.
///
/// [`max_row_groups`]: crate::kernels::elementwise::max_row_groups
#[cfg(feature = "alloc")]
pub fn gemm_gather_max_rows(
    n: usize,
    a: &dyn Gather,
    b: &[f32],
    bias: &[f32],
    relu: bool,
    pool: usize,
    y: &mut [f32],
) -> bool {
    let (m, k) = a.shape();
    if m == 0 || n == 0 || k == 0 || pool == 0 || !m.is_multiple_of(pool) {
        return false;
    }
    assert!(
        holds(b.len(), k, n) && holds(y.len(), m / pool, n) && (bias.is_empty() || bias.len() == n),
        "gemm_gather_max_rows: buffers too small"
    );
    let epi = blocked::Epilogue::new(bias, relu);
    blocked::run_max_rows(m, n, k, blocked::AOperand::Gather(a), b, (n, 1), y, epi, pool)
}

/// Whether a buffer of `len` values holds a `rows × cols` matrix (false where the size
/// overflows `usize`, rather than wrapping to a small one).
fn holds(len: usize, rows: usize, cols: usize) -> bool {
    rows.checked_mul(cols).is_some_and(|need| len >= need)
}

/// Finishes a product with no rows, columns or depth (`c = beta · c + bias`, then ReLU) and
/// returns true; returns false for any other.
fn degenerate(m: usize, n: usize, k: usize, beta: f32, c: &mut [f32], bias: &[f32], relu: bool) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    if k != 0 {
        return false;
    }
    if beta == 0.0 {
        c[..m * n].fill(0.0);
    } else {
        c[..m * n].iter_mut().for_each(|v| *v *= beta);
    }
    bias_relu_pass(&mut c[..m * n], bias, relu);
    true
}

/// [`gemm_bias_relu`]'s epilogue as separate passes (where the product has no tiles).
fn bias_relu_pass(c: &mut [f32], bias: &[f32], relu: bool) {
    if !bias.is_empty() {
        for row in c.chunks_exact_mut(bias.len()) {
            for (v, b) in row.iter_mut().zip(bias) {
                *v += b;
            }
        }
    }
    if relu {
        c.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 });
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    ta: Op,
    b: &[f32],
    tb: Op,
    beta: f32,
    c: &mut [f32],
    bias: &[f32],
    relu: bool,
) {
    assert!(
        holds(a.len(), m, k) && holds(b.len(), k, n) && holds(c.len(), m, n),
        "gemm: buffers too small"
    );
    if degenerate(m, n, k, beta, c, bias, relu) {
        return;
    }
    if m == 1 {
        // One row (single-sample inference and its backward): a matrix-vector product that
        // streams `b` once, without the packing a blocked GEMM does.
        gemv::gemv_row(n, k, alpha, a, b, tb, beta, c);
        bias_relu_pass(&mut c[..n], bias, relu);
        return;
    }
    // Row-major storage viewed through strides: (row stride, column stride).
    let (ars, acs) = match ta {
        Op::N => (k, 1),
        Op::T => (1, m),
    };
    let (brs, bcs) = match tb {
        Op::N => (n, 1),
        Op::T => (1, k),
    };
    #[cfg(feature = "alloc")]
    {
        let epi = blocked::Epilogue::new(bias, relu);
        let a = blocked::AOperand::Strided(a.as_ptr(), (ars, acs));
        blocked::run(m, n, k, alpha, a, b, (brs, bcs), beta, c, epi);
    }
    // Without an allocator there is no packing buffer: plain loops.
    #[cfg(not(feature = "alloc"))]
    {
        portable(m, n, k, alpha, a, (ars, acs), b, (brs, bcs), beta, c);
        bias_relu_pass(&mut c[..m * n], bias, relu);
    }
}

/// `c = alpha * a * b + beta * c` through (row, column) strides, with plain loops and no
/// heap: the kernel of [`gemm`] without the `alloc` feature. Row-major `c` is `m × n`.
#[cfg_attr(feature = "alloc", allow(dead_code))]
#[allow(clippy::too_many_arguments)]
fn portable(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    (ars, acs): (usize, usize),
    b: &[f32],
    (brs, bcs): (usize, usize),
    beta: f32,
    c: &mut [f32],
) {
    for (i, row) in c[..m * n].chunks_exact_mut(n).enumerate() {
        if beta == 0.0 {
            row.fill(0.0);
        } else if beta != 1.0 {
            row.iter_mut().for_each(|v| *v *= beta);
        }
        for p in 0..k {
            let av = alpha * a[i * ars + p * acs];
            if bcs == 1 {
                let b_row = &b[p * brs..p * brs + n];
                for (cv, &bv) in row.iter_mut().zip(b_row) {
                    *cv += av * bv;
                }
            } else {
                for (j, cv) in row.iter_mut().enumerate() {
                    *cv += av * b[p * brs + j * bcs];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shapes whose sizes overflow `usize` fail the buffer check instead of wrapping to a
    /// small size that the slices would pass.
    #[test]
    #[should_panic(expected = "buffers too small")]
    fn overflowing_shapes_are_refused() {
        let huge = usize::MAX / 2 + 1;
        let mut c = [0.0; 4];
        gemm(huge, 2, 2, 1.0, &[0.0; 4], Op::N, &[0.0; 4], Op::N, 0.0, &mut c);
    }

    fn naive(m: usize, n: usize, k: usize, a: &[f32], ta: Op, b: &[f32], tb: Op) -> alloc::vec::Vec<f32> {
        let mut c = alloc::vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for p in 0..k {
                    let av = if ta == Op::N { a[i * k + p] } else { a[p * m + i] };
                    let bv = if tb == Op::N { b[p * n + j] } else { b[j * k + p] };
                    s += av * bv;
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    #[test]
    fn portable_kernel_matches_naive() {
        let mut rng = crate::Rng::new(6);
        for &(m, n, k) in &[(1, 1, 1), (3, 4, 2), (7, 9, 11), (2, 64, 8)] {
            let a: alloc::vec::Vec<f32> = (0..m * k).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            let b: alloc::vec::Vec<f32> = (0..k * n).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            for ta in [Op::N, Op::T] {
                for tb in [Op::N, Op::T] {
                    let want = naive(m, n, k, &a, ta, &b, tb);
                    let sa = if ta == Op::N { (k, 1) } else { (1, m) };
                    let sb = if tb == Op::N { (n, 1) } else { (1, k) };
                    let mut c = alloc::vec![f32::NAN; m * n];
                    portable(m, n, k, 1.0, &a, sa, &b, sb, 0.0, &mut c);
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - y).abs() < 1e-5, "{m}x{n}x{k} {ta:?}{tb:?}: {x} vs {y}");
                    }
                    portable(m, n, k, 2.0, &a, sa, &b, sb, 0.5, &mut c);
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - 2.5 * y).abs() < 1e-4);
                    }
                }
            }
        }
    }

    #[test]
    fn matches_naive_for_all_transpositions_and_sizes() {
        let mut rng = crate::Rng::new(5);
        for &(m, n, k) in &[
            (1, 1, 1),
            (1, 37, 19),
            (1, 5, 64),
            (3, 4, 2),
            (7, 9, 11),
            (16, 10, 33),
            (2, 64, 8),
        ] {
            let a: alloc::vec::Vec<f32> = (0..m * k).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            let b: alloc::vec::Vec<f32> = (0..k * n).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
            for ta in [Op::N, Op::T] {
                for tb in [Op::N, Op::T] {
                    let want = naive(m, n, k, &a, ta, &b, tb);
                    let mut c = alloc::vec![1.0; m * n];
                    gemm(m, n, k, 1.0, &a, ta, &b, tb, 0.0, &mut c);
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - y).abs() < 1e-5, "{m}x{n}x{k} {ta:?}{tb:?}: {x} vs {y}");
                    }
                    // beta = 1 accumulates.
                    gemm(m, n, k, 2.0, &a, ta, &b, tb, 1.0, &mut c);
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - 3.0 * y).abs() < 1e-4);
                    }
                }
            }
        }
    }

    fn random(n: usize, rng: &mut crate::Rng) -> alloc::vec::Vec<f32> {
        (0..n).map(|_| rng.uniform_range(-1.0, 1.0)).collect()
    }

    /// `alpha · op(a) · op(b) + beta · c` in f64, and a bound on each element's rounding
    /// error in f32 (a multiple of the sum of the magnitudes of its terms).
    #[allow(clippy::too_many_arguments)]
    fn reference(
        (m, n, k): (usize, usize, usize),
        alpha: f32,
        a: &[f32],
        ta: Op,
        b: &[f32],
        tb: Op,
        beta: f32,
        c: &[f32],
    ) -> alloc::vec::Vec<(f64, f64)> {
        let mut out = alloc::vec::Vec::with_capacity(m * n);
        for i in 0..m {
            for j in 0..n {
                let (mut s, mut mag) = (0.0f64, 0.0f64);
                for p in 0..k {
                    let av = if ta == Op::N { a[i * k + p] } else { a[p * m + i] } as f64;
                    let bv = if tb == Op::N { b[p * n + j] } else { b[j * k + p] } as f64;
                    s += av * bv;
                    mag += (av * bv).abs();
                }
                let c0 = if beta == 0.0 {
                    0.0
                } else {
                    beta as f64 * c[i * n + j] as f64
                };
                let mag = (alpha as f64).abs() * mag + c0.abs();
                out.push((
                    alpha as f64 * s + c0,
                    4.0 * (k as f64 + 2.0) * f32::EPSILON as f64 * mag,
                ));
            }
        }
        out
    }

    /// Shapes around every block and tile boundary: tile rows (6, 4), vector widths (16, 8),
    /// slivers (64, 16), depth blocks (512: `k` = 513, 600, 1100), column blocks (`n` = 450
    /// at depth 300, over the 384 or 432 columns that fit) and the largest `m` reading
    /// `op(B)` in place (384).
    const SHAPES: &[(usize, usize, usize)] = &[
        (1, 1, 1),
        (1, 37, 19),
        (1, 5, 64),
        (2, 1, 1),
        (2, 3, 1),
        (3, 4, 2),
        (7, 9, 11),
        (5, 17, 16),
        (8, 48, 16),
        (9, 49, 33),
        (16, 10, 33),
        (2, 64, 8),
        (13, 16, 17),
        (24, 96, 32),
        (17, 47, 300),
        (31, 33, 257),
        (12, 100, 513),
        (33, 520, 20),
        (6, 1030, 18),
        (389, 50, 20),
        (5, 70, 1100),
        (7, 450, 600),
    ];

    #[test]
    fn matches_reference_for_all_transpositions_sizes_and_scalars() {
        let mut rng = crate::Rng::new(7);
        for &(m, n, k) in SHAPES {
            let a = random(m * k, &mut rng);
            let b = random(k * n, &mut rng);
            let c0 = random(m * n, &mut rng);
            for ta in [Op::N, Op::T] {
                for tb in [Op::N, Op::T] {
                    for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (-0.5, 0.25), (2.0, 0.0)] {
                        let want = reference((m, n, k), alpha, &a, ta, &b, tb, beta, &c0);
                        // With beta = 0, `c` must not be read: NaN there must not survive.
                        let mut c = if beta == 0.0 {
                            alloc::vec![f32::NAN; m * n]
                        } else {
                            c0.clone()
                        };
                        gemm(m, n, k, alpha, &a, ta, &b, tb, beta, &mut c);
                        for (idx, (&x, &(y, tol))) in c.iter().zip(&want).enumerate() {
                            assert!(
                                (x as f64 - y).abs() <= tol,
                                "{m}x{n}x{k} {ta:?}{tb:?} alpha {alpha} beta {beta} at {idx}: {x} vs {y}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_kernel_matches_reference() {
        let mut rng = crate::Rng::new(8);
        for &(m, n, k) in SHAPES {
            let a = random(m * k, &mut rng);
            let b = random(k * n, &mut rng);
            let c0 = random(m * n, &mut rng);
            for ta in [Op::N, Op::T] {
                for tb in [Op::N, Op::T] {
                    let sa = if ta == Op::N { (k, 1) } else { (1, m) };
                    let sb = if tb == Op::N { (n, 1) } else { (1, k) };
                    for (alpha, beta) in [(1.0, 0.0), (-0.5, 0.25)] {
                        let want = reference((m, n, k), alpha, &a, ta, &b, tb, beta, &c0);
                        let c = if beta == 0.0 {
                            alloc::vec![f32::NAN; m * n]
                        } else {
                            c0.clone()
                        };
                        let runs = blocked::each_kernel(m, n, k, alpha, &a, sa, &b, sb, beta, &c);
                        for (kernel, c) in runs {
                            for (idx, (&x, &(y, tol))) in c.iter().zip(&want).enumerate() {
                                assert!(
                                    (x as f64 - y).abs() <= tol,
                                    "{kernel}: {m}x{n}x{k} {ta:?}{tb:?} alpha {alpha} beta {beta} at {idx}: {x} vs {y}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_row_does_not_depend_on_the_other_rows() {
        // Shards of a batch must get bit for bit the rows the whole batch gets.
        let mut rng = crate::Rng::new(9);
        let (m, n, k) = (37, 70, 300);
        let a = random(m * k, &mut rng);
        for tb in [Op::N, Op::T] {
            let b = random(k * n, &mut rng);
            let mut whole = alloc::vec![0.0; m * n];
            gemm(m, n, k, 1.0, &a, Op::N, &b, tb, 0.0, &mut whole);
            for (start, rows) in [(0, 2), (3, 8), (11, 9), (20, 17)] {
                let mut part = alloc::vec![0.0; rows * n];
                gemm(rows, n, k, 1.0, &a[start * k..], Op::N, &b, tb, 0.0, &mut part);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<alloc::vec::Vec<_>>();
                assert_eq!(
                    bits(&part),
                    bits(&whole[start * n..(start + rows) * n]),
                    "{tb:?} rows {start}+{rows}"
                );
            }
        }
    }

    #[test]
    fn the_fused_bias_and_relu_give_the_bits_of_separate_passes() {
        let mut rng = crate::Rng::new(13);
        for &(m, n, k) in SHAPES {
            let a = random(m * k, &mut rng);
            let b = random(k * n, &mut rng);
            let bias = random(n, &mut rng);
            for tb in [Op::N, Op::T] {
                let mut want = alloc::vec![0.0; m * n];
                gemm(m, n, k, 1.0, &a, Op::N, &b, tb, 0.0, &mut want);
                for (bias, relu) in [(&bias[..], false), (&bias[..], true), (&[][..], true)] {
                    let mut want = want.clone();
                    bias_relu_pass(&mut want, bias, relu);
                    let mut c = alloc::vec![f32::NAN; m * n];
                    gemm_bias_relu(m, n, k, &a, Op::N, &b, tb, bias, relu, &mut c);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<alloc::vec::Vec<_>>();
                    assert_eq!(bits(&c), bits(&want), "{m}x{n}x{k} {tb:?} relu {relu}");
                    if relu {
                        assert!(c.iter().all(|&v| v >= 0.0));
                    }
                }
            }
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn results_are_the_same_on_every_thread() {
        let mut rng = crate::Rng::new(10);
        let (m, n, k) = (64, 256, 784);
        let a = random(m * k, &mut rng);
        let b = random(k * n, &mut rng);
        let run = || {
            let mut c = alloc::vec![0.0; m * n];
            gemm(m, n, k, 1.0, &a, Op::N, &b, Op::N, 0.0, &mut c);
            c.iter().map(|x| x.to_bits()).collect::<alloc::vec::Vec<_>>()
        };
        let here = run();
        std::thread::scope(|s| {
            for _ in 0..2 {
                assert_eq!(s.spawn(run).join().unwrap(), here);
            }
        });
    }
}
