//! Mean absolute error.

use super::{dense_targets, mean_elementwise, Loss, TargetKind, Targets};

/// Mean absolute error, Keras's `mean_absolute_error`: per row, `mean_j |y_j - p_j|`.
///
/// The gradient of a row's loss is `sign(p_j - y_j) / width`. Where `p_j == y_j` it is
/// `-1 / width`, as with Keras on JAX, whose `abs` has derivative 1 at 0.
///
/// ```
/// use kerust_core::losses::{Loss, MeanAbsoluteError, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// MeanAbsoluteError::new().compute(&[1.0, -3.0], Targets::Dense(&[0.0, 1.0]), 2, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [2.5]); // (1 + 4) / 2
/// assert_eq!(grad, [0.5, -0.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanAbsoluteError;

impl MeanAbsoluteError {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for MeanAbsoluteError {
    fn name(&self) -> &'static str {
        "mean_absolute_error"
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
            // d|e|/de is 1 for e >= 0 in JAX, and de/dp = -1.
            (libm::fabsf(e), if e >= 0.0 { -1.0 } else { 1.0 })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.MeanAbsoluteError(reduction=None)(y, p)
        // and jax.grad of its sum. The last element has p == y: JAX's subgradient there is -1/3.
        let y = [0.0, 1.0, 2.0, 1.0, -1.0, 0.5];
        let p = [0.5, 1.5, 1.0, 2.0, -0.25, 0.5];
        let loss = MeanAbsoluteError::new();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("mean_absolute_error", TargetKind::Dense)
        );
        let (losses, grad) = eval(&loss, &p, Targets::Dense(&y), 3);
        assert_close(&losses, &[0.6666667, 0.5833334]);
        assert_close(
            &grad,
            &[
                0.33333334,
                0.33333334,
                -0.33333334,
                0.33333334,
                0.33333334,
                -0.33333334,
            ],
        );
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Away from the kink at p == y.
        let y = [0.0, 1.0, 2.0, 1.0, -1.0, 0.5];
        let p = [0.5, 1.5, 1.0, 2.0, -0.25, 0.2];
        check_gradient(&MeanAbsoluteError, &p, Targets::Dense(&y), 3);
    }
}
