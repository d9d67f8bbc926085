//! Loss functions with Keras 3's definitions (values, gradients, epsilons, clipping).
//!
//! A loss sees predictions as rows of `width` values (the last axis of the model's output)
//! and computes one loss per row, as Keras's loss functions do before reduction. The
//! training loop averages them (`sum_over_batch_size`) and scales the gradients.

mod binary_crossentropy;
mod categorical_crossentropy;
mod categorical_hinge;
mod cosine_similarity;
mod hinge;
mod huber;
mod kl_divergence;
mod log_cosh;
mod mean_absolute_error;
mod mean_squared_error;
mod poisson;
mod sparse_categorical_crossentropy;
mod squared_hinge;

pub use binary_crossentropy::BinaryCrossentropy;
pub use categorical_crossentropy::CategoricalCrossentropy;
pub use categorical_hinge::CategoricalHinge;
pub use cosine_similarity::CosineSimilarity;
pub use hinge::Hinge;
pub use huber::Huber;
pub use kl_divergence::KlDivergence;
pub use log_cosh::LogCosh;
pub use mean_absolute_error::MeanAbsoluteError;
pub use mean_squared_error::MeanSquaredError;
pub use poisson::Poisson;
pub use sparse_categorical_crossentropy::SparseCategoricalCrossentropy;
pub use squared_hinge::SquaredHinge;

/// The targets of a batch of rows.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// One class index per row (sparse categorical losses).
    Sparse(&'a [u32]),
    /// One value per prediction value, same layout as the predictions.
    Dense(&'a [f32]),
}

/// What kind of targets a loss takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Class indices in `0..width`.
    Sparse,
    /// Values of the prediction's shape.
    Dense,
}

/// A loss function.
pub trait Loss: Send + Sync {
    /// Keras's name (`"sparse_categorical_crossentropy"`), used in logs and history.
    fn name(&self) -> &'static str;

    /// The kind of targets the loss takes.
    fn target_kind(&self) -> TargetKind;

    /// For `rows = pred.len() / width` rows, writes each row's loss to `losses[r]` and, when
    /// `grad` is given, the gradient of that row's loss with respect to its predictions to
    /// `grad` (same layout as `pred`; unscaled: the caller applies the reduction).
    ///
    /// Targets were validated by the caller: sparse labels are `< width`, dense targets have
    /// `pred.len()` values.
    fn compute(
        &self,
        pred: &[f32],
        targets: Targets<'_>,
        width: usize,
        losses: &mut [f32],
        grad: Option<&mut [f32]>,
    );
}

/// Keras's `backend.epsilon()`: probabilities are clipped to `[EPSILON, 1 - EPSILON]`.
const EPSILON: f32 = 1e-7;

/// Clips a probability to `[EPSILON, 1 - EPSILON]` as `jnp.clip` does, returning the clipped
/// value and its derivative: 1 inside, 0 outside and, as JAX's `maximum`/`minimum` split ties,
/// 0.5 exactly on a bound.
fn clip_probability(x: f32) -> (f32, f32) {
    const HI: f32 = 1.0 - EPSILON;
    if x < EPSILON {
        (EPSILON, 0.0)
    } else if x > HI {
        (HI, 0.0)
    } else if x == EPSILON || x == HI {
        (x, 0.5)
    } else {
        (x, 1.0)
    }
}

/// The dense targets, or a panic naming the loss: the caller checks `target_kind` first.
fn dense_targets<'a>(targets: Targets<'a>, loss: &str) -> &'a [f32] {
    match targets {
        Targets::Dense(t) => t,
        Targets::Sparse(_) => panic!("`{loss}` takes dense targets, got class indices"),
    }
}

/// The class indices, or a panic naming the loss: the caller checks `target_kind` first.
fn sparse_targets<'a>(targets: Targets<'a>, loss: &str) -> &'a [u32] {
    match targets {
        Targets::Sparse(t) => t,
        Targets::Dense(_) => panic!("`{loss}` takes class indices, got dense targets"),
    }
}

/// Calls `f(row_index, pred_row, grad_row)` for each row and stores its result in `losses`.
fn for_each_row(
    pred: &[f32],
    width: usize,
    losses: &mut [f32],
    grad: Option<&mut [f32]>,
    mut f: impl FnMut(usize, &[f32], Option<&mut [f32]>) -> f32,
) {
    assert!(width > 0, "a loss needs rows of at least one value");
    debug_assert_eq!(pred.len() % width, 0, "predictions are not whole rows");
    debug_assert!(losses.len() >= pred.len() / width, "one loss slot per row");
    let rows = pred.chunks_exact(width).zip(losses.iter_mut()).enumerate();
    match grad {
        Some(grad) => {
            debug_assert_eq!(grad.len(), pred.len(), "gradient has the predictions' layout");
            for ((r, (p, loss)), g) in rows.zip(grad.chunks_exact_mut(width)) {
                *loss = f(r, p, Some(g));
            }
        }
        None => {
            for (r, (p, loss)) in rows {
                *loss = f(r, p, None);
            }
        }
    }
}

/// Row losses of the form `mean_j l(p_j, t_j)` (Keras's `ops.mean(..., axis=-1)`), where
/// `l(p, t)` returns the element's loss and its derivative in `p`.
fn mean_elementwise(
    pred: &[f32],
    targets: &[f32],
    width: usize,
    losses: &mut [f32],
    grad: Option<&mut [f32]>,
    l: impl Fn(f32, f32) -> (f32, f32),
) {
    debug_assert_eq!(targets.len(), pred.len(), "one target per prediction");
    let n = width as f32;
    for_each_row(pred, width, losses, grad, |r, p, g| {
        let t = &targets[r * width..(r + 1) * width];
        let mut sum = 0.0;
        match g {
            Some(g) => {
                for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
                    let (value, d) = l(p, t);
                    sum += value;
                    *g = d / n;
                }
            }
            None => {
                for (&p, &t) in p.iter().zip(t) {
                    sum += l(p, t).0;
                }
            }
        }
        sum / n
    });
}

/// The row's maximum `m` and `ln Σ exp(x_j - m)`: `log_softmax(x)_j = (x_j - m) - lse`, as
/// `jax.nn.log_softmax` computes it.
fn log_softmax_parts(row: &[f32]) -> (f32, f32) {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|&x| libm::expf(x - m)).sum();
    (m, libm::logf(sum))
}

#[cfg(test)]
mod testing {
    //! Shared test helpers: evaluation, a tolerance check and a finite-difference check.
    use super::{Loss, Targets};
    use alloc::vec;
    use alloc::vec::Vec;

    /// The row losses and the gradient of `loss` at `pred`.
    pub(super) fn eval(
        loss: &dyn Loss,
        pred: &[f32],
        targets: Targets<'_>,
        width: usize,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut losses = vec![f32::NAN; pred.len() / width];
        let mut grad = vec![f32::NAN; pred.len()];
        loss.compute(pred, targets, width, &mut losses, Some(&mut grad));
        let mut without_grad = vec![f32::NAN; losses.len()];
        loss.compute(pred, targets, width, &mut without_grad, None);
        assert_eq!(
            losses, without_grad,
            "losses must not depend on whether a gradient is asked for"
        );
        (losses, grad)
    }

    /// Asserts `|actual - expected| <= 1e-6 + 1e-5 |expected|` elementwise (float32 reference values).
    #[track_caller]
    pub(super) fn assert_close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            let tol = 1e-6 + 1e-5 * e.abs();
            assert!(
                (a - e).abs() <= tol,
                "element {i}: got {a}, expected {e}\n  actual:   {actual:?}\n  expected: {expected:?}"
            );
        }
    }

    /// Compares the gradient with central differences of the summed row losses (step 1e-3).
    #[track_caller]
    pub(super) fn check_gradient(loss: &dyn Loss, pred: &[f32], targets: Targets<'_>, width: usize) {
        let (_, grad) = eval(loss, pred, targets, width);
        let total = |p: &[f32]| -> f64 {
            let mut losses = vec![0.0; p.len() / width];
            loss.compute(p, targets, width, &mut losses, None);
            losses.iter().map(|&l| f64::from(l)).sum()
        };
        let mut p = pred.to_vec();
        for i in 0..p.len() {
            let x = pred[i];
            p[i] = x + 1e-3;
            let (hi, up) = (f64::from(p[i]), total(&p));
            p[i] = x - 1e-3;
            let (lo, down) = (f64::from(p[i]), total(&p));
            p[i] = x;
            let numeric = (up - down) / (hi - lo);
            let analytic = f64::from(grad[i]);
            let tol = 1e-2 * analytic.abs().max(numeric.abs()) + 2e-3;
            assert!(
                (numeric - analytic).abs() <= tol,
                "{}: d loss / d pred[{i}] is {analytic}, central difference gives {numeric}",
                loss.name()
            );
        }
    }
}
