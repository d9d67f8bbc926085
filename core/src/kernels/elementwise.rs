//! Row-wise and element-wise helpers.

use crate::activations::Activation;

/// Adds `bias` (length `n`) to every row of the row-major `y` (`rows × n`).
pub fn add_row_bias(y: &mut [f32], bias: &[f32]) {
    let n = bias.len();
    if n == 0 {
        return;
    }
    for row in y.chunks_exact_mut(n) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Adds the column sums of the row-major `dy` (`rows × n`) to `db` (length `n`).
pub fn accumulate_column_sums(db: &mut [f32], dy: &[f32]) {
    let n = db.len();
    if n == 0 {
        return;
    }
    for row in dy.chunks_exact(n) {
        for (g, d) in db.iter_mut().zip(row) {
            *g += d;
        }
    }
}

/// `y = A(x)` along rows of `row` values ([`Activation::forward`]), compiled a second time
/// for AVX-512 where `std` can detect it: the same scalar operations on wider vectors (Rust
/// never fuses a multiply and an add), so the same bits.
pub fn activation_forward<A: Activation>(x: &[f32], y: &mut [f32], row: usize) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { activation_forward_avx512::<A>(x, y, row) };
    }
    A::forward(x, y, row);
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn activation_forward_avx512<A: Activation>(x: &[f32], y: &mut [f32], row: usize) {
    A::forward(x, y, row);
}

/// `dy = A'(x) · dy` ([`Activation::backward`]), multiversioned as [`activation_forward`].
pub fn activation_backward<A: Activation>(x: &[f32], y: &[f32], dy: &mut [f32], row: usize) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { activation_backward_avx512::<A>(x, y, dy, row) };
    }
    A::backward(x, y, dy, row);
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn activation_backward_avx512<A: Activation>(x: &[f32], y: &[f32], dy: &mut [f32], row: usize) {
    A::backward(x, y, dy, row);
}

/// `y += alpha * x`.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += alpha * xv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_and_column_sums() {
        let mut y = [1.0, 2.0, 3.0, 4.0];
        add_row_bias(&mut y, &[10.0, 20.0]);
        assert_eq!(y, [11.0, 22.0, 13.0, 24.0]);
        let mut db = [1.0, 1.0];
        accumulate_column_sums(&mut db, &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(db, [5.0, 7.0]);
        let mut z = [1.0, 1.0];
        axpy(2.0, &[1.0, 3.0], &mut z);
        assert_eq!(z, [3.0, 7.0]);
    }
}
