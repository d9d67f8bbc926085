//! Categorical crossentropy.

use super::{clip_probability, dense_targets, for_each_row, log_softmax_parts, Loss, TargetKind, Targets};

/// Categorical crossentropy, Keras's `categorical_crossentropy`: each row is a distribution
/// over `width` classes, and its loss is `-Σ_j t_j ln p_j` against the target distribution `t`
/// (usually one-hot).
///
/// With label smoothing `ls`, targets become `t (1 - ls) + ls / width` first. Then:
///
/// - probabilities: as Keras does, each row is first divided by its sum, and the normalised
///   values are clipped to `[1e-7, 1 - 1e-7]`. The gradient goes through the normalisation;
///   a clipped value contributes no gradient of its own (half of it exactly on a bound, as
///   `jnp.clip` does), though its input still shares in the normalisation's.
/// - logits (`from_logits`): `ln p = log_softmax(x)`, computed as `x_j - max - ln Σ e^(x_k - max)`
///   so large logits do not overflow. The gradient is `softmax(x) Σ_k t_k - t`.
///
/// ```
/// use kerust_core::losses::{CategoricalCrossentropy, Loss, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 3]);
/// let logits = [100.0, 0.0, -100.0];
/// let target = [0.0, 1.0, 0.0];
/// CategoricalCrossentropy::from_logits().compute(&logits, Targets::Dense(&target), 3, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [100.0]);
/// assert_eq!(grad, [1.0, -1.0, 0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CategoricalCrossentropy {
    /// Whether predictions are logits rather than probabilities (Keras's default: `false`).
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]` (Keras's default: 0).
    pub label_smoothing: f32,
}

impl CategoricalCrossentropy {
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

impl Loss for CategoricalCrossentropy {
    fn name(&self) -> &'static str {
        "categorical_crossentropy"
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
        debug_assert_eq!(targets.len(), pred.len(), "one target per prediction");
        let ls = self.label_smoothing;
        let (keep, add) = (1.0 - ls, ls / width as f32);
        let from_logits = self.from_logits;
        for_each_row(pred, width, losses, grad, |r, row, grad| {
            let target = targets[r * width..(r + 1) * width]
                .iter()
                .map(|&t| t * keep + add);
            if from_logits {
                from_logits_row(row, target, grad)
            } else {
                from_probabilities_row(row, target, grad)
            }
        });
    }
}

/// `-Σ t_j log_softmax(x)_j`, and `softmax(x) Σ t - t` into `grad`.
fn from_logits_row(x: &[f32], target: impl Iterator<Item = f32> + Clone, grad: Option<&mut [f32]>) -> f32 {
    let (max, lse) = log_softmax_parts(x);
    let mut loss = 0.0;
    let mut total = 0.0;
    for (&x, t) in x.iter().zip(target.clone()) {
        loss += t * ((x - max) - lse);
        total += t;
    }
    if let Some(grad) = grad {
        for ((g, &x), t) in grad.iter_mut().zip(x).zip(target) {
            *g = libm::expf((x - max) - lse) * total - t;
        }
    }
    -loss
}

/// `-Σ t_j ln clip(p_j / Σ p)`, and its gradient into `grad`.
fn from_probabilities_row(p: &[f32], target: impl Iterator<Item = f32>, grad: Option<&mut [f32]>) -> f32 {
    let sum: f32 = p.iter().sum();
    let mut loss = 0.0;
    match grad {
        Some(grad) => {
            // With q = p / sum and g_j = d loss / d q_j, d loss / d p_i = (g_i - Σ_j g_j q_j) / sum.
            let mut g_dot_q = 0.0;
            for ((g, &p), t) in grad.iter_mut().zip(p).zip(target) {
                let q = p / sum;
                let (c, dc) = clip_probability(q);
                loss += t * libm::logf(c);
                *g = -dc * t / c;
                g_dot_q += *g * q;
            }
            for g in grad {
                *g = (*g - g_dot_q) / sum;
            }
        }
        None => {
            for (&p, t) in p.iter().zip(target) {
                loss += t * libm::logf(clip_probability(p / sum).0);
            }
        }
    }
    -loss
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;
    use core::f32::consts::LN_2; // Keras gives 0.6931472 (ln 2 in float32) for these rows.

    const T: [f32; 12] = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.2, 0.5, 0.3, 0.0, 0.0, 1.0];
    // Row 0 sums to 4 (normalised first); rows 1 and 3 clip (0 and 1).
    const P: [f32; 12] = [1.0, 2.0, 1.0, 0.0, 0.7, 0.3, 0.2, 0.2, 0.6, 0.0, 0.0, 1.0];
    const LOGIT_T: [f32; 9] = [0.0, 1.0, 0.0, 0.1, 0.2, 0.7, 1.0, 0.0, 0.0];
    const LOGITS: [f32; 9] = [100.0, 0.0, -100.0, 1.0, 2.0, 3.0, 1000.0, -1000.0, 0.0];

    #[test]
    fn matches_keras_on_probabilities() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.CategoricalCrossentropy(reduction=None)(t, p)
        // and the same with label_smoothing=0.1, and jax.grad of their sums.
        let loss = CategoricalCrossentropy::default();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("categorical_crossentropy", TargetKind::Dense)
        );
        assert_eq!(loss, CategoricalCrossentropy::new());
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&T), 3);
        assert_close(&losses, &[LN_2, 16.118095, 1.2798543, 1.1920929e-07]);
        assert_close(
            &grad,
            &[0.25, -0.25, 0.25, 0.0, 0.0, 0.0, 0.0, -1.5, 0.5, 0.0, 0.0, 0.0],
        );

        let (losses, grad) = eval(&loss.with_label_smoothing(0.1), &P, Targets::Dense(&T), 3);
        assert_close(&losses, &[0.739357, 15.095578, 1.2761921, 1.0745399]);
        #[rustfmt::skip]
        assert_close(&grad, &[
            0.21666667, -0.21666667, 0.21666667,
            0.06666667, 0.019047618, -0.04444444,
            -0.0666666, -1.4166665, 0.49444443,
            0.0, 0.0, 0.0,
        ]);
    }

    #[test]
    fn matches_keras_on_large_logits() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.CategoricalCrossentropy(from_logits=True,
        // reduction=None)(t, x) and the same with label_smoothing=0.3, and jax.grad of their sums.
        let loss = CategoricalCrossentropy::from_logits();
        let (losses, grad) = eval(&loss, &LOGITS, Targets::Dense(&LOGIT_T), 3);
        assert_close(&losses, &[100.0, 0.8076059, 0.0]);
        assert_close(
            &grad,
            &[
                1.0,
                -1.0,
                0.0,
                -0.009969431,
                0.04472847,
                -0.034759045,
                0.0,
                0.0,
                0.0,
            ],
        );

        let (losses, grad) = eval(
            &loss.with_label_smoothing(0.3),
            &LOGITS,
            Targets::Dense(&LOGIT_T),
            3,
        );
        assert_close(&losses, &[100.0, 0.9876059, 300.0]);
        assert_close(
            &grad,
            &[
                0.9,
                -0.8,
                -0.1,
                -0.07996943,
                0.004728463,
                0.07524097,
                0.19999999,
                -0.1,
                -0.1,
            ],
        );
    }

    #[test]
    fn clipped_components_get_no_gradient_of_their_own() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.CategoricalCrossentropy(reduction=None)(t, p)
        // and jax.grad of its sum. Every component of each row is clipped: the gradient is 0.
        let loss = CategoricalCrossentropy::new();
        let (losses, grad) = eval(
            &loss,
            &[0.0, 0.7, 0.3, 0.0, 0.0, 2.0],
            Targets::Dense(&[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]),
            3,
        );
        assert_eq!(grad, [0.0; 6]);
        assert_close(&losses, &[16.118095, 1.1920929e-07]);
        // Here p_0 is clipped: its own term is dropped, but it still shares in the
        // normalisation's gradient Σ_j t_j / sum = 1 (Keras: loss 0.6931472, gradient [1, -1, 1]).
        let (losses, grad) = eval(&loss, &[0.0, 0.5, 0.5], Targets::Dense(&[0.0, 1.0, 0.0]), 3);
        assert_close(&losses, &[LN_2]);
        assert_close(&grad, &[1.0, -1.0, 1.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let p = [1.0, 2.0, 1.0, 0.1, 0.7, 0.3, 0.2, 0.2, 0.6, 0.05, 0.15, 0.8];
        check_gradient(&CategoricalCrossentropy::new(), &p, Targets::Dense(&T), 3);
        check_gradient(
            &CategoricalCrossentropy::new().with_label_smoothing(0.1),
            &p,
            Targets::Dense(&T),
            3,
        );
        let x = [3.0, 0.0, -2.0, 1.0, 2.0, 3.0, 0.5, -1.5, 0.0, -1.0, 0.25, 2.0];
        check_gradient(&CategoricalCrossentropy::from_logits(), &x, Targets::Dense(&T), 3);
        check_gradient(
            &CategoricalCrossentropy::from_logits().with_label_smoothing(0.3),
            &x,
            Targets::Dense(&T),
            3,
        );
    }
}
