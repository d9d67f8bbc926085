//! `Average`: `y = (x0 + x1 + … + x(k-1)) / k`, summed in input order then divided, as
//! Keras does.
//!
//! # Shapes
//! Every input and `y`: `batch * per_sample_len` values.

use super::debug_check;

/// Averages the inputs element-wise into `y`.
pub fn forward(xs: &[&[f32]], y: &mut [f32]) {
    let n = y.len();
    debug_check(xs, n);
    let k = xs.len() as f32;
    y.copy_from_slice(&xs[0][..n]);
    for x in &xs[1..] {
        for (o, &a) in y.iter_mut().zip(&x[..n]) {
            *o += a;
        }
    }
    for o in y.iter_mut() {
        *o /= k;
    }
}

/// Writes dL/d`xs[i]` = `dy / k` to `dx` (`k` inputs).
pub fn backward(xs: &[&[f32]], y: &[f32], dy: &[f32], i: usize, dx: &mut [f32]) {
    debug_check(xs, y.len());
    debug_assert!(i < xs.len(), "input index {i} out of range");
    debug_assert!(dy.len() == y.len(), "dy must have y's length");
    let k = xs.len() as f32;
    for (d, &g) in dx.iter_mut().zip(dy) {
        *d = g / k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_three_and_gradient() {
        let (a, b, c) = ([1.0, -2.0], [0.5, 4.0], [3.0, 1.0]);
        let xs: [&[f32]; 3] = [&a, &b, &c];
        let mut y = [0.0; 2];
        forward(&xs, &mut y);
        assert_eq!(y, [1.5, 1.0]);
        let mut dx = [f32::NAN; 2];
        backward(&xs, &y, &[3.0, -1.5], 2, &mut dx);
        assert_eq!(dx, [1.0, -0.5]);
    }
}
