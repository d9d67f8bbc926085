//! Poisson loss.

use super::{dense_targets, mean_elementwise, Loss, TargetKind, Targets, EPSILON};

/// Poisson loss, Keras's `poisson`: per row `mean_j (p_j - y_j ln(p_j + 1e-7))`, the negative
/// log-likelihood (up to terms in `y` alone) of counts `y` under Poisson rates `p`.
///
/// Predictions are rates: they should be positive (a model usually ends in `exp` or
/// `softplus`). As in Keras, they are not clipped, so `p <= -1e-7` gives NaN or infinity. The
/// gradient of a row's loss is `(1 - y_j / (p_j + 1e-7)) / width`.
///
/// ```
/// use kerust_core::losses::{Loss, Poisson, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// Poisson::new().compute(&[1.0, 2.0], Targets::Dense(&[0.0, 2.0]), 2, &mut losses, Some(&mut grad));
/// assert!((losses[0] - (3.0 - 2.0 * 2f32.ln()) / 2.0).abs() < 1e-6); // (1 + 2 - 2 ln 2) / 2
/// assert_eq!(grad[0], 0.5);
/// assert!(grad[1].abs() < 1e-6); // the rate matches the count
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Poisson;

impl Poisson {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for Poisson {
    fn name(&self) -> &'static str {
        "poisson"
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
            let rate = p + EPSILON;
            (p - y * libm::logf(rate), 1.0 - y / rate)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    const Y: [f32; 8] = [0.0, 1.0, 2.0, 3.0, 1.0, 0.0, 4.0, 0.5];
    // Row 1 has rates 0: ln(1e-7) for a count of 1, and a finite loss for a count of 0.
    const P: [f32; 8] = [0.5, 1.0, 3.0, 2.0, 0.0, 0.0, 2.5, 0.7];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.Poisson(reduction=None)(y, p) and
        // jax.grad of its sum.
        let loss = Poisson::new();
        assert_eq!((loss.name(), loss.target_kind()), ("poisson", TargetKind::Dense));
        assert_eq!(loss, Default::default());
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&Y), 4);
        assert_close(&losses, &[0.55583346, 3.9578176]);
        #[rustfmt::skip]
        assert_close(&grad, &[
            0.25, 2.9802322e-08, 0.08333333, -0.125,
            -2499999.8, 0.25, -0.15, 0.0714286,
        ]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let p = [0.5, 1.0, 3.0, 2.0, 0.3, 0.05, 2.5, 0.7];
        check_gradient(&Poisson, &p, Targets::Dense(&Y), 4);
        check_gradient(&Poisson, &p, Targets::Dense(&Y), 2);
    }
}
