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
    fn matches_naive_for_all_transpositions_and_sizes() {
        let mut rng = crate::Rng::new(5);
        for &(m, n, k) in &[(1, 1, 1), (3, 4, 2), (7, 9, 11), (16, 10, 33), (2, 64, 8)] {
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
