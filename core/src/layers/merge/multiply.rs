//! `Multiply`: `y = x0 * x1 * … * x(k-1)`, multiplied in input order as Keras does.
//!
//! # Shapes
//! Every input and `y`: `batch * per_sample_len` values.

use super::debug_check;

/// Multiplies the inputs element-wise into `y`.
pub fn forward(xs: &[&[f32]], y: &mut [f32]) {
    let n = y.len();
    debug_check(xs, n);
    y.copy_from_slice(&xs[0][..n]);
    for x in &xs[1..] {
        for (o, &a) in y.iter_mut().zip(&x[..n]) {
            *o *= a;
        }
    }
}

/// Writes dL/d`xs[i]` = `dy` times the product of the other inputs to `dx` (no division
/// by `xs[i]`, so zeros are handled exactly).
pub fn backward(xs: &[&[f32]], y: &[f32], dy: &[f32], i: usize, dx: &mut [f32]) {
    let n = y.len();
    debug_check(xs, n);
    debug_assert!(i < xs.len(), "input index {i} out of range");
    debug_assert!(dy.len() == n && dx.len() == n, "dy and dx must have y's length");
    let dx = &mut dx[..n];
    dx.copy_from_slice(&dy[..n]);
    for (j, x) in xs.iter().enumerate() {
        if j != i {
            for (d, &a) in dx.iter_mut().zip(&x[..n]) {
                *d *= a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_and_gradient_with_a_zero() {
        let (a, b, c) = ([2.0, 0.0], [3.0, 5.0], [-1.0, 4.0]);
        let xs: [&[f32]; 3] = [&a, &b, &c];
        let mut y = [0.0; 2];
        forward(&xs, &mut y);
        assert_eq!(y, [-6.0, 0.0]);
        let mut dx = [f32::NAN; 2];
        backward(&xs, &y, &[1.0, 0.5], 1, &mut dx);
        assert_eq!(dx, [-2.0, 0.0]);
        backward(&xs, &y, &[1.0, 0.5], 0, &mut dx);
        assert_eq!(dx, [-3.0, 10.0]);
    }
}
