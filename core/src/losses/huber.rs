//! Huber loss.

use super::{dense_targets, mean_elementwise, Loss, TargetKind, Targets};

/// Huber loss, Keras's `huber`: with `e = p - y`, per element `0.5 e²` where `|e| <= delta`
/// and `delta |e| - 0.5 delta²` elsewhere, averaged over the row.
///
/// The gradient of a row's loss is `e / width` inside the quadratic zone and
/// `delta sign(e) / width` outside it. (Keras's `Huber` class names itself `"huber_loss"`;
/// [`name`](Loss::name) gives the function's name, `"huber"`.)
///
/// ```
/// use kerust_core::losses::{Huber, Loss, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// Huber::new().compute(&[0.5, 3.0], Targets::Dense(&[0.0, 0.0]), 2, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [1.3125]); // (0.5 · 0.5² + (3 - 0.5)) / 2
/// assert_eq!(grad, [0.25, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear (Keras's default: 1.0).
    pub delta: f32,
}

impl Huber {
    /// The loss with Keras's default `delta = 1.0`.
    pub const fn new() -> Self {
        Self { delta: 1.0 }
    }

    /// The loss with the given `delta`.
    pub const fn with_delta(delta: f32) -> Self {
        Self { delta }
    }
}

impl Default for Huber {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for Huber {
    fn name(&self) -> &'static str {
        "huber"
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
        let delta = self.delta;
        mean_elementwise(pred, targets, width, losses, grad, |p, y| {
            let e = p - y;
            let abs = libm::fabsf(e);
            if abs <= delta {
                (0.5 * (e * e), e)
            } else {
                (
                    delta * abs - 0.5 * (delta * delta),
                    if e >= 0.0 { delta } else { -delta },
                )
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    // Errors p - y: [0.5, 2, -3, 0.25] and [1.5, 0.75, 0, -7].
    const Y: [f32; 8] = [0.0, 1.0, 2.0, 0.0, 1.0, -1.0, 0.5, 3.0];
    const P: [f32; 8] = [0.5, 3.0, -1.0, 0.25, 2.5, -0.25, 0.5, -4.0];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.Huber(reduction=None)(y, p) and
        // keras.losses.Huber(delta=2.0, reduction=None)(y, p), and jax.grad of their sums.
        let loss = Huber::default();
        assert_eq!(
            (loss.name(), loss.target_kind(), loss.delta),
            ("huber", TargetKind::Dense, 1.0)
        );
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&Y), 4);
        assert_close(&losses, &[1.0390625, 1.9453125]);
        assert_close(&grad, &[0.125, 0.25, -0.25, 0.0625, 0.25, 0.1875, 0.0, -0.25]);

        let (losses, grad) = eval(&Huber::with_delta(2.0), &P, Targets::Dense(&Y), 4);
        assert_close(&losses, &[1.5390625, 3.3515625]);
        assert_close(&grad, &[0.125, 0.5, -0.5, 0.0625, 0.375, 0.1875, 0.0, -0.5]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // No error within 1e-3 of ±delta.
        check_gradient(&Huber::new(), &P, Targets::Dense(&Y), 4);
        check_gradient(&Huber::with_delta(2.0), &P, Targets::Dense(&Y), 4);
        check_gradient(&Huber::with_delta(0.3), &P, Targets::Dense(&Y), 2);
    }
}
