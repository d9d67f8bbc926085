//! Run-time kernels of Keras's merge layers (`Add`, `Subtract`, `Multiply`, `Average`,
//! `Maximum`, `Minimum`, `Concatenate`, `Dot`), called by the code `model!` generates for
//! functional models.
//!
//! Each merge is a module with free `forward` and `backward` functions over flat batches:
//! `batch` row-major, channels-last samples laid one after another in an `&[f32]`. The
//! kernels neither allocate nor return errors: shapes are checked when the model is
//! declared, so lengths are only checked by `debug_assert!`s.
//!
//! `backward` computes the gradient with respect to one input `i` and *writes* it to `dx`
//! (it does not add to it); a caller that needs the gradients of several inputs calls it
//! once per input. Gradients follow Keras 3 with the JAX backend, ties included (see
//! [`maximum`]).
//!
//! ```
//! use kerust::layers::merge::{add, maximum};
//! let (a, b) = ([1.0, 5.0, 2.0], [4.0, 5.0, -1.0]);
//! let mut y = [0.0; 3];
//! add::forward(&[&a, &b], &mut y);
//! assert_eq!(y, [5.0, 10.0, 1.0]);
//! maximum::forward(&[&a, &b], &mut y);
//! assert_eq!(y, [4.0, 5.0, 2.0]);
//! // A tie splits the gradient evenly, as `jax.grad` of `jnp.maximum` does.
//! let mut dx = [0.0; 3];
//! maximum::backward(&[&a, &b], &y, &[1.0, 1.0, 1.0], 0, &mut dx);
//! assert_eq!(dx, [0.0, 0.5, 1.0]);
//! ```

pub mod add;
pub mod average;
pub mod concatenate;
pub mod dot;
pub mod maximum;
pub mod minimum;
pub mod multiply;
pub mod subtract;

/// Debug-checks the lengths of an element-wise merge: at least one input, all inputs as
/// long as `y`.
#[inline]
fn debug_check(xs: &[&[f32]], len: usize) {
    debug_assert!(!xs.is_empty(), "a merge needs at least one input");
    debug_assert!(
        xs.iter().all(|x| x.len() == len),
        "every input of an element-wise merge must have the output's length {len}"
    );
}

/// The backward pass of `Maximum` and `Minimum`, which Keras computes pairwise,
/// `y = op(op(op(x0, x1), x2), …)`, and whose JAX gradient sends half of the gradient to
/// each side of a tie (`jnp.maximum` / `jnp.minimum`).
///
/// Input `i` receives gradient only where it equals `y`. There, every later input that also
/// equals `y` halves its share (each is a tie with the running result, which is `y`), and
/// if any earlier input equals `y` the running result already is `y` when `x_i` arrives,
/// which halves it once more (however many earlier ties there were). This needs no running
/// values, only comparisons with `y`, so it is the same for both merges.
fn extremum_backward(xs: &[&[f32]], y: &[f32], dy: &[f32], i: usize, dx: &mut [f32]) {
    let n = y.len();
    debug_check(xs, n);
    debug_assert!(i < xs.len(), "input index {i} out of range");
    debug_assert!(dy.len() == n && dx.len() == n, "dy and dx must have y's length");
    let (dx, y, dy) = (&mut dx[..n], &y[..n], &dy[..n]);
    // The share of input i: 1, halved once if an earlier input ties with y …
    dx.fill(1.0);
    for x in &xs[..i] {
        let x = &x[..n];
        for ((d, &a), &m) in dx.iter_mut().zip(x).zip(y) {
            *d = if a == m { 0.5 } else { *d };
        }
    }
    // … and once per later input that ties with y.
    for x in &xs[i + 1..] {
        let x = &x[..n];
        for ((d, &a), &m) in dx.iter_mut().zip(x).zip(y) {
            *d *= if a == m { 0.5 } else { 1.0 };
        }
    }
    let x = &xs[i][..n];
    for (((d, &a), &m), &g) in dx.iter_mut().zip(x).zip(y).zip(dy) {
        *d = if a == m { *d * g } else { 0.0 };
    }
}
