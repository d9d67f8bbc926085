//! `Subtract`: `y = x0 - x1`, exactly two inputs.
//!
//! # Shapes
//! Both inputs and `y`: `batch * per_sample_len` values.

use super::debug_check;

/// Writes `xs[0] - xs[1]` to `y`.
pub fn forward(xs: &[&[f32]], y: &mut [f32]) {
    let n = y.len();
    debug_check(xs, n);
    debug_assert!(xs.len() == 2, "Subtract takes exactly 2 inputs");
    for ((o, &a), &b) in y.iter_mut().zip(&xs[0][..n]).zip(&xs[1][..n]) {
        *o = a - b;
    }
}

/// Writes dL/d`xs[i]` to `dx`: `dy` for `i == 0`, `-dy` for `i == 1`.
pub fn backward(xs: &[&[f32]], y: &[f32], dy: &[f32], i: usize, dx: &mut [f32]) {
    debug_check(xs, y.len());
    debug_assert!(xs.len() == 2 && i < 2, "Subtract takes exactly 2 inputs");
    debug_assert!(dy.len() == y.len(), "dy must have y's length");
    if i == 0 {
        dx.copy_from_slice(dy);
    } else {
        for (d, &g) in dx.iter_mut().zip(dy) {
            *d = -g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_and_signed_gradients() {
        let (a, b) = ([1.0, -2.0, 0.0], [0.5, 4.0, -1.0]);
        let mut y = [0.0; 3];
        forward(&[&a, &b], &mut y);
        assert_eq!(y, [0.5, -6.0, 1.0]);
        let dy = [0.5, -3.0, 2.0];
        let mut dx = [f32::NAN; 3];
        backward(&[&a, &b], &y, &dy, 0, &mut dx);
        assert_eq!(dx, dy);
        backward(&[&a, &b], &y, &dy, 1, &mut dx);
        assert_eq!(dx, [-0.5, 3.0, -2.0]);
    }
}
