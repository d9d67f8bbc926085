//! `Add`: `y = x0 + x1 + … + x(k-1)`, summed in input order as Keras does.
//!
//! # Shapes
//! Every input and `y`: `batch * per_sample_len` values.

use super::debug_check;

/// Sums the inputs element-wise into `y`.
pub fn forward(xs: &[&[f32]], y: &mut [f32]) {
    let n = y.len();
    debug_check(xs, n);
    y.copy_from_slice(&xs[0][..n]);
    for x in &xs[1..] {
        for (o, &a) in y.iter_mut().zip(&x[..n]) {
            *o += a;
        }
    }
}

/// Writes dL/d`xs[i]` (which is `dy`) to `dx`.
pub fn backward(xs: &[&[f32]], y: &[f32], dy: &[f32], i: usize, dx: &mut [f32]) {
    debug_check(xs, y.len());
    debug_assert!(i < xs.len(), "input index {i} out of range");
    debug_assert!(dy.len() == y.len(), "dy must have y's length");
    dx.copy_from_slice(dy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_three_inputs_and_passes_the_gradient_through() {
        let (a, b, c) = ([1.0, -2.0], [0.5, 4.0], [3.0, 0.25]);
        let mut y = [0.0; 2];
        forward(&[&a, &b, &c], &mut y);
        assert_eq!(y, [4.5, 2.25]);
        let mut dx = [f32::NAN; 2];
        backward(&[&a, &b, &c], &y, &[0.5, -3.0], 2, &mut dx);
        assert_eq!(dx, [0.5, -3.0]);
    }
}
