//! Binary crossentropy.

use super::{clip_probability, dense_targets, mean_elementwise, Loss, TargetKind, Targets};

/// Binary crossentropy, Keras's `binary_crossentropy`: each prediction is an independent
/// Bernoulli probability (or logit) of its target, and a row's loss is the mean over its
/// elements.
///
/// With label smoothing `ls`, targets become `t (1 - ls) + 0.5 ls` first. Then per element:
///
/// - probabilities: `p` is clipped to `[1e-7, 1 - 1e-7]` and the loss is
///   `-(t ln p + (1 - t) ln(1 - p))`. Clipped elements get no gradient (half of it exactly on
///   a bound, as `jnp.clip` does).
/// - logits (`from_logits`): `max(x, 0) - x t + ln(1 + e^(-|x|))`, which does not overflow for
///   large `|x|`, with gradient `sigmoid(x) - t`.
///
/// ```
/// use kerust_core::losses::{BinaryCrossentropy, Loss, Targets};
///
/// let mut losses = [0.0; 1];
/// let logits = [100.0, -100.0];
/// BinaryCrossentropy::from_logits().compute(&logits, Targets::Dense(&[0.0, 1.0]), 2, &mut losses, None);
/// assert_eq!(losses, [100.0]); // both confidently wrong: (100 + 100) / 2
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryCrossentropy {
    /// Whether predictions are logits rather than probabilities (Keras's default: `false`).
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]` (Keras's default: 0).
    pub label_smoothing: f32,
}

impl BinaryCrossentropy {
    /// The loss on probabilities, without label smoothing (Keras's defaults).
    pub const fn new() -> Self {
        Self {
            from_logits: false,
            label_smoothing: 0.0,
        }
    }

    /// The loss on logits, without label smoothing.
    pub const fn from_logits() -> Self {
        Self {
            from_logits: true,
            label_smoothing: 0.0,
        }
    }

    /// This loss with the given label smoothing.
    pub const fn with_label_smoothing(self, label_smoothing: f32) -> Self {
        Self {
            label_smoothing,
            ..self
        }
    }
}

impl Loss for BinaryCrossentropy {
    fn name(&self) -> &'static str {
        "binary_crossentropy"
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
        let ls = self.label_smoothing;
        let smooth = |t: f32| t * (1.0 - ls) + 0.5 * ls;
        if self.from_logits {
            mean_elementwise(pred, targets, width, losses, grad, |x, t| {
                let t = smooth(t);
                let value = x.max(0.0) - x * t + libm::log1pf(libm::expf(-libm::fabsf(x)));
                (value, sigmoid(x) - t)
            });
        } else {
            mean_elementwise(pred, targets, width, losses, grad, |p, t| {
                let t = smooth(t);
                let (p, dp) = clip_probability(p);
                let value = -(t * libm::logf(p) + (1.0 - t) * libm::logf(1.0 - p));
                (value, dp * ((1.0 - t) / (1.0 - p) - t / p))
            });
        }
    }
}

/// `1 / (1 + e^(-x))`, without overflow for large `|x|`.
fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + libm::expf(-x))
    } else {
        let e = libm::expf(x);
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    const T: [f32; 8] = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.3, 1.0];
    // Row 0 clips p = 0 (target 1) and p = 1 (target 0).
    const P: [f32; 8] = [0.1, 0.8, 0.0, 1.0, 0.6, 0.25, 0.5, 0.999];
    const LOGITS: [f32; 8] = [100.0, -100.0, 0.5, -2.0, 3.0, -3.0, 0.0, 1.0];

    #[test]
    fn matches_keras_on_probabilities() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.BinaryCrossentropy(reduction=None)(t, p)
        // and the same with label_smoothing=0.1, and jax.grad of their sums.
        let loss = BinaryCrossentropy::default();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("binary_crossentropy", TargetKind::Dense)
        );
        assert_eq!(loss, BinaryCrossentropy::new());
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&T), 4);
        assert_close(&losses, &[8.097246, 0.37316385]);
        assert_close(
            &grad,
            &[
                0.2777778,
                -0.3125,
                0.0,
                0.0,
                -0.41666666,
                0.33333334,
                0.19999999,
                -0.25025025,
            ],
        );

        let (losses, grad) = eval(&loss.with_label_smoothing(0.1), &P, Targets::Dense(&T), 4);
        assert_close(&losses, &[7.741284, 0.47829944]);
        assert_close(
            &grad,
            &[
                0.1388889,
                -0.23437497,
                0.0,
                0.0,
                -0.3645833,
                0.26666665,
                0.17999996,
                12.262426,
            ],
        );
    }

    #[test]
    fn matches_keras_on_large_logits() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.BinaryCrossentropy(from_logits=True,
        // reduction=None)(t, x) and the same with label_smoothing=0.2, and jax.grad of their sums.
        let loss = BinaryCrossentropy::from_logits();
        let (losses, grad) = eval(&loss, &LOGITS, Targets::Dense(&T), 4);
        assert_close(&losses, &[50.15025, 0.2758959]);
        assert_close(
            &grad,
            &[
                0.25,
                -0.25,
                -0.09438517,
                0.029800728,
                -0.011856468,
                0.011856468,
                0.049999997,
                -0.06723535,
            ],
        );

        let (losses, grad) = eval(&loss.with_label_smoothing(0.2), &LOGITS, Targets::Dense(&T), 4);
        assert_close(&losses, &[45.212753, 0.45089585]);
        assert_close(
            &grad,
            &[
                0.225,
                -0.22500001,
                -0.06938518,
                0.0048007276,
                0.013143523,
                -0.013143533,
                0.039999995,
                -0.04223536,
            ],
        );
    }

    #[test]
    fn clipped_probabilities_get_no_gradient() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.BinaryCrossentropy(reduction=None)(t, p)
        // and jax.grad of its sum. Keras differentiates through jnp.clip: zero gradient outside
        // [1e-7, 1 - 1e-7] and half of it exactly on a bound.
        let loss = BinaryCrossentropy::new();
        let (losses, grad) = eval(
            &loss,
            &[0.0, 1.0, -0.5, 1.5],
            Targets::Dense(&[1.0, 0.0, 0.0, 1.0]),
            4,
        );
        assert_eq!(grad, [0.0; 4]);
        assert_close(&losses, &[8.01512]);
        let (losses, grad) = eval(&loss, &[1e-7], Targets::Dense(&[1.0]), 1);
        assert_close(&losses, &[16.118095]);
        assert_close(&grad, &[-5e6]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let p = [0.1, 0.8, 0.35, 0.97, 0.6, 0.25, 0.5, 0.9];
        check_gradient(&BinaryCrossentropy::new(), &p, Targets::Dense(&T), 4);
        check_gradient(
            &BinaryCrossentropy::new().with_label_smoothing(0.1),
            &p,
            Targets::Dense(&T),
            4,
        );
        let x = [4.0, -5.0, 0.5, -2.0, 3.0, -3.0, 0.0, 1.0];
        check_gradient(&BinaryCrossentropy::from_logits(), &x, Targets::Dense(&T), 4);
        check_gradient(
            &BinaryCrossentropy::from_logits().with_label_smoothing(0.2),
            &x,
            Targets::Dense(&T),
            2,
        );
    }
}
