//! Mean squared error.

use super::{dense_targets, mean_elementwise, Loss, TargetKind, Targets};

/// Mean squared error, Keras's `mean_squared_error`: per row, `mean_j (y_j - p_j)²`.
///
/// The gradient of a row's loss is `2 (p_j - y_j) / width`.
///
/// ```
/// use kerust_core::losses::{Loss, MeanSquaredError, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// MeanSquaredError::new().compute(&[1.0, 3.0], Targets::Dense(&[0.0, 1.0]), 2, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [2.5]); // (1² + 2²) / 2
/// assert_eq!(grad, [1.0, 2.0]); // 2 (p - y) / 2
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanSquaredError;

impl MeanSquaredError {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for MeanSquaredError {
    fn name(&self) -> &'static str {
        "mean_squared_error"
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Dense
    }

    fn compute(
        &self,
        pred: &[f32],
        targets: Targets<'_>,
        width: usize,
        losses: &mut [f32],
        grad: Option<&mut [f32]>,
    ) {
        let targets = dense_targets(targets, self.name());
        mean_elementwise(pred, targets, width, losses, grad, |p, y| {
            let e = y - p;
            (e * e, -2.0 * e)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    const Y: [f32; 6] = [0.0, 1.0, 2.0, 1.0, -1.0, 0.5];
    const P: [f32; 6] = [0.5, 1.5, 1.0, 2.0, -0.25, 0.5];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.MeanSquaredError(reduction=None)(y, p)
        // and jax.grad of its sum, y = [[0, 1, 2], [1, -1, 0.5]], p = [[0.5, 1.5, 1], [2, -0.25, 0.5]].
        let loss = MeanSquaredError::new();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("mean_squared_error", TargetKind::Dense)
        );
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&Y), 3);
        assert_close(&losses, &[0.5, 0.5208334]);
        assert_close(&grad, &[0.33333334, 0.33333334, -0.6666667, 0.6666667, 0.5, 0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(&MeanSquaredError, &P, Targets::Dense(&Y), 3);
        check_gradient(&MeanSquaredError, &P, Targets::Dense(&Y), 2);
    }
}
