//! `Minimum`: `y = min(min(min(x0, x1), x2), …)`, pairwise in input order as Keras does.
//!
//! NaN propagates (as `jnp.minimum`). Ties share the gradient as for
//! [`Maximum`](super::maximum).
//!
//! # Shapes
//! Every input and `y`: `batch * per_sample_len` values.

use super::{debug_check, extremum_backward};

/// Writes the element-wise minimum of the inputs to `y`.
pub fn forward(xs: &[&[f32]], y: &mut [f32]) {
    let n = y.len();
    debug_check(xs, n);
    y.copy_from_slice(&xs[0][..n]);
    for x in &xs[1..] {
        for (o, &b) in y.iter_mut().zip(&x[..n]) {
            let a = *o;
            // `a != a`: a NaN running result stays NaN; a NaN `b` fails `b >= a` and wins.
            #[allow(clippy::eq_op)]
            let keep = b >= a || a != a;
            *o = if keep { a } else { b };
        }
    }
}

/// Writes dL/d`xs[i]` to `dx`: `dy` where `xs[i]` is the minimum, shared at ties as for
/// [`Maximum`](super::maximum).
pub fn backward(xs: &[&[f32]], y: &[f32], dy: &[f32], i: usize, dx: &mut [f32]) {
    extremum_backward(xs, y, dy, i, dx);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values and `jax.grad` of `sum(keras.layers.Minimum()([x0, x1, x2]))` (JAX backend):
    /// ```python
    /// x0 = jnp.array([[1., 2., 3., 0.5]]); x1 = jnp.array([[1., 2., 1., 0.5]])
    /// x2 = jnp.array([[1., 0., 3., 0.5]])
    /// jax.grad(lambda a, b, c: jnp.sum(keras.layers.Minimum()([a, b, c])),
    ///          argnums=(0, 1, 2))(x0, x1, x2)
    /// ```
    #[test]
    fn ties_split_the_gradient_like_jax() {
        let (a, b, c) = ([1.0, 2.0, 3.0, 0.5], [1.0, 2.0, 1.0, 0.5], [1.0, 0.0, 3.0, 0.5]);
        let xs: [&[f32]; 3] = [&a, &b, &c];
        let mut y = [0.0; 4];
        forward(&xs, &mut y);
        assert_eq!(y, [1.0, 0.0, 1.0, 0.5]);
        let expected = [
            [0.25, 0.0, 0.0, 0.25],
            [0.25, 0.0, 1.0, 0.25],
            [0.5, 1.0, 0.0, 0.5],
        ];
        for (i, e) in expected.iter().enumerate() {
            let mut dx = [f32::NAN; 4];
            backward(&xs, &y, &[1.0; 4], i, &mut dx);
            assert_eq!(&dx, e, "input {i}");
        }
    }
}
