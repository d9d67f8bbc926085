//! General matrix multiply on row-major slices.

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
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "gemm: buffers too small"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == 0.0 {
            c[..m * n].fill(0.0);
        } else {
            c[..m * n].iter_mut().for_each(|v| *v *= beta);
        }
        return;
    }
    if m == 1 {
        // One row (single-sample inference and its backward): a matrix-vector product that
        // streams `b` once, without the packing a blocked GEMM does.
        gemv_row(n, k, alpha, &a[..k], b, tb, beta, &mut c[..n]);
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
    if beta == 0.0 {
        // matrixmultiply never reads `c` when beta is zero, but NaN garbage must not survive
        // through other paths either: make it explicit.
        c[..m * n].fill(0.0);
    }
    // matrixmultiply allocates its packing buffers: without `alloc`, plain loops.
    #[cfg(not(feature = "alloc"))]
    portable(m, n, k, alpha, a, (ars, acs), b, (brs, bcs), beta, c);
    #[cfg(feature = "alloc")]
    // SAFETY: the assert above guarantees every index (i, p) < (m, k), (p, j) < (k, n) and
    // (i, j) < (m, n) reached through these strides lies inside its slice.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            ars as isize,
            acs as isize,
            b.as_ptr(),
            brs as isize,
            bcs as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
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

/// `c = alpha * a · op(b) + beta * c` for one row `a` (length `k`) and `op(b)` of `k × n`.
#[allow(clippy::too_many_arguments)]
fn gemv_row(n: usize, k: usize, alpha: f32, a: &[f32], b: &[f32], tb: Op, beta: f32, c: &mut [f32]) {
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.iter_mut().for_each(|v| *v *= beta);
    }
    match tb {
        // b is k × n: c += Σ_p (alpha a_p) b[p, :], row by row (vectorises over n).
        Op::N => {
            for (p, row) in b[..k * n].chunks_exact(n).enumerate() {
                let s = alpha * a[p];
                if s != 0.0 {
                    for (cv, bv) in c.iter_mut().zip(row) {
                        *cv += s * bv;
                    }
                }
            }
        }
        // b is n × k: c_j += alpha (a · b[j, :]).
        Op::T => {
            for (cv, row) in c.iter_mut().zip(b[..n * k].chunks_exact(k)) {
                *cv += alpha * dot(a, row);
            }
        }
    }
}

/// Dot product with eight independent accumulators (lets the compiler vectorise).
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
