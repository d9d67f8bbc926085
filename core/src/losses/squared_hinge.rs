//! Squared hinge loss.

use super::hinge::{binary_labels, hinge_label, step};
use super::{dense_targets, mean_elementwise, Loss, TargetKind, Targets};

/// Squared hinge loss, Keras's `squared_hinge`: per row `mean_j max(1 - y_j p_j, 0)²`, for
/// labels `y` of -1 or 1.
///
/// Targets are read as for [`Hinge`](super::Hinge): when every target of the call is 0 or 1,
/// they are binary labels and mapped to `2 y - 1`; otherwise they are used as they are.
///
/// The gradient of a row's loss is `-2 y_j max(1 - y_j p_j, 0) / width`.
///
/// ```
/// use kerust_core::losses::{Loss, SquaredHinge, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// // Binary labels [1, 0] become [1, -1].
/// SquaredHinge::new().compute(&[0.5, -2.0], Targets::Dense(&[1.0, 0.0]), 2, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [0.125]); // (max(1 - 0.5, 0)² + max(1 - 2, 0)²) / 2
/// assert_eq!(grad, [-0.5, 0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SquaredHinge;

impl SquaredHinge {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for SquaredHinge {
    fn name(&self) -> &'static str {
        "squared_hinge"
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
        let binary = binary_labels(targets);
        mean_elementwise(pred, targets, width, losses, grad, |p, y| {
            let y = hinge_label(y, binary);
            let margin = 1.0 - y * p;
            let m = margin.max(0.0);
            (m * m, -2.0 * m * y * step(margin))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    // As in the hinge tests: binary labels, the same as -1/1, 0/1 labels mixed with a -1 (not
    // converted), and real-valued targets.
    const BINARY: [f32; 8] = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    const SIGNED: [f32; 8] = [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0];
    const MIXED: [f32; 8] = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, -1.0, 1.0];
    const REAL: [f32; 8] = [0.5, 2.0, 0.0, -3.0, 1.0, 0.0, 0.0, 1.0];
    const P: [f32; 8] = [0.3, 0.8, -0.5, -2.0, 1.5, 0.25, -1.0, 1.0];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.SquaredHinge(reduction=None)(y, p) and
        // jax.grad of its sum, for each of the four targets.
        let loss = SquaredHinge::new();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("squared_hinge", TargetKind::Dense)
        );
        assert_eq!(loss, Default::default());
        let converted = [0.65, -0.099999994, -0.75, 0.0, 0.0, 0.625, 0.0, 0.0];
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&BINARY), 4);
        assert_close(&losses, &[0.99499995, 0.390625]);
        assert_close(&grad, &converted);

        let (losses, grad) = eval(&loss, &P, Targets::Dense(&SIGNED), 4);
        assert_close(&losses, &[0.99499995, 0.390625]);
        assert_close(&grad, &converted);

        let (losses, grad) = eval(&loss, &P, Targets::Dense(&MIXED), 4);
        assert_close(&losses, &[1.0725, 0.25]);
        assert_close(&grad, &[0.0, -0.099999994, -0.75, 0.0, 0.0, 0.0, 0.0, 0.0]);

        let (losses, grad) = eval(&loss, &P, Targets::Dense(&REAL), 4);
        assert_close(&losses, &[0.43062502, 0.5]);
        assert_close(&grad, &[-0.2125, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let p = [0.3, 0.8, -0.5, -2.0, 1.5, 0.25, -0.7, 1.2];
        for y in [BINARY, SIGNED, MIXED, REAL] {
            check_gradient(&SquaredHinge, &p, Targets::Dense(&y), 4);
            check_gradient(&SquaredHinge, &p, Targets::Dense(&y), 2);
        }
    }
}
