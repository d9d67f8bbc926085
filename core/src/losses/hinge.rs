//! Hinge loss.

use super::{dense_targets, mean_elementwise, Loss, TargetKind, Targets};

/// Hinge loss, Keras's `hinge`: per row `mean_j max(1 - y_j p_j, 0)`, for labels `y` of -1 or 1.
///
/// As Keras does (`convert_binary_labels_to_hinge`), when every target of the call is 0 or 1,
/// targets are taken as binary labels and mapped to `2 y - 1` (0 to -1, 1 to 1); otherwise they
/// are used as they are. Keras checks the whole batch; the check here covers the targets of one
/// [`compute`](Loss::compute) call, which is the batch unless the trainer splits it into
/// shards, so only batches that mix 0/1 labels with other values can differ.
///
/// The gradient of a row's loss is `-y_j / width` where `y_j p_j < 1` and 0 where
/// `y_j p_j > 1` (half of it where `y_j p_j = 1`, as JAX's `maximum` splits ties).
///
/// ```
/// use kerust_core::losses::{Hinge, Loss, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// // Binary labels [1, 0] become [1, -1].
/// Hinge::new().compute(&[0.5, -2.0], Targets::Dense(&[1.0, 0.0]), 2, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [0.25]); // (max(1 - 0.5, 0) + max(1 - 2, 0)) / 2
/// assert_eq!(grad, [-0.5, 0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hinge;

impl Hinge {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for Hinge {
    fn name(&self) -> &'static str {
        "hinge"
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
            (margin.max(0.0), -y * step(margin))
        });
    }
}

/// Whether Keras's `convert_binary_labels_to_hinge` converts these targets: all are 0 or 1.
pub(super) fn binary_labels(targets: &[f32]) -> bool {
    targets.iter().all(|&y| y == 0.0 || y == 1.0)
}

/// The label the hinge losses use: `2 y - 1` for binary labels, `y` otherwise.
pub(super) fn hinge_label(y: f32, binary: bool) -> f32 {
    if binary {
        2.0 * y - 1.0
    } else {
        y
    }
}

/// The derivative of `max(x, 0)` as JAX takes it: 1 above 0, 0 below and 0.5 at 0.
pub(super) fn step(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x == 0.0 {
        0.5
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    // Binary labels, the same labels as -1/1, 0/1 labels mixed with a -1 (not converted), and
    // real-valued targets. Row 1's last two elements lie on the kink (y p = 1) once converted.
    const BINARY: [f32; 8] = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    const SIGNED: [f32; 8] = [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 1.0];
    const MIXED: [f32; 8] = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, -1.0, 1.0];
    const REAL: [f32; 8] = [0.5, 2.0, 0.0, -3.0, 1.0, 0.0, 0.0, 1.0];
    const P: [f32; 8] = [0.3, 0.8, -0.5, -2.0, 1.5, 0.25, -1.0, 1.0];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.Hinge(reduction=None)(y, p) and
        // jax.grad of its sum, for each of the four targets.
        let loss = Hinge::new();
        assert_eq!((loss.name(), loss.target_kind()), ("hinge", TargetKind::Dense));
        assert_eq!(loss, Default::default());
        let converted = [0.25, -0.25, -0.25, 0.0, 0.0, 0.25, 0.125, -0.125];
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&BINARY), 4);
        assert_close(&losses, &[0.75, 0.3125]);
        assert_close(&grad, &converted);

        let (losses, grad) = eval(&loss, &P, Targets::Dense(&SIGNED), 4);
        assert_close(&losses, &[0.75, 0.3125]);
        assert_close(&grad, &converted);

        // One -1 anywhere in the call and no target is converted.
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&MIXED), 4);
        assert_close(&losses, &[0.925, 0.25]);
        assert_close(&grad, &[0.0, -0.25, -0.25, 0.0, 0.0, 0.0, 0.125, -0.125]);

        let (losses, grad) = eval(&loss, &P, Targets::Dense(&REAL), 4);
        assert_close(&losses, &[0.4625, 0.5]);
        assert_close(&grad, &[-0.125, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.125]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Away from the kinks at y p = 1.
        let p = [0.3, 0.8, -0.5, -2.0, 1.5, 0.25, -0.7, 1.2];
        for y in [BINARY, SIGNED, MIXED, REAL] {
            check_gradient(&Hinge, &p, Targets::Dense(&y), 4);
            check_gradient(&Hinge, &p, Targets::Dense(&y), 2);
        }
    }
}
