//! Sparse categorical crossentropy.

use super::{clip_probability, for_each_row, log_softmax_parts, sparse_targets, Loss, TargetKind, Targets};

/// Sparse categorical crossentropy, Keras's `sparse_categorical_crossentropy`: categorical
/// crossentropy against a one-hot target given by its class index, `-ln p_k`.
///
/// - probabilities: as Keras does on JAX (and PyTorch and NumPy), each row is first divided by
///   its sum, then `p_k` is clipped to `[1e-7, 1 - 1e-7]`. The gradient goes through the
///   normalisation and is zero for the whole row when `p_k` is clipped (half exactly on a bound).
///   (Keras's TensorFlow backend instead clips the unnormalised values and normalises after,
///   which differs slightly for rows that do not sum to 1.)
/// - logits (`from_logits`): `ln p = log_softmax(x)`, computed stably; the gradient is
///   `softmax(x) - onehot(k)`.
///
/// ```
/// use kerust_core::losses::{Loss, SparseCategoricalCrossentropy, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 3]);
/// // Not normalised: divided by its sum 4 first, so p_1 = 0.5.
/// let p = [1.0, 2.0, 1.0];
/// SparseCategoricalCrossentropy::new().compute(&p, Targets::Sparse(&[1]), 3, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [core::f32::consts::LN_2]);
/// assert_eq!(grad, [0.25, -0.25, 0.25]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SparseCategoricalCrossentropy {
    /// Whether predictions are logits rather than probabilities (Keras's default: `false`).
    pub from_logits: bool,
}

impl SparseCategoricalCrossentropy {
    /// The loss on probabilities (Keras's default).
    pub const fn new() -> Self {
        Self { from_logits: false }
    }

    /// The loss on logits.
    pub const fn from_logits() -> Self {
        Self { from_logits: true }
    }
}

impl Loss for SparseCategoricalCrossentropy {
    fn name(&self) -> &'static str {
        "sparse_categorical_crossentropy"
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Sparse
    }

    fn compute(
        &self,
        pred: &[f32],
        targets: Targets<'_>,
        width: usize,
        losses: &mut [f32],
        grad: Option<&mut [f32]>,
    ) {
        let labels = sparse_targets(targets, self.name());
        debug_assert_eq!(labels.len(), pred.len() / width, "one label per row");
        let from_logits = self.from_logits;
        for_each_row(pred, width, losses, grad, |r, row, grad| {
            let k = labels[r] as usize;
            if from_logits {
                let (max, lse) = log_softmax_parts(row);
                if let Some(grad) = grad {
                    for (g, &x) in grad.iter_mut().zip(row) {
                        *g = libm::expf((x - max) - lse);
                    }
                    grad[k] -= 1.0;
                }
                -((row[k] - max) - lse)
            } else {
                let sum: f32 = row.iter().sum();
                let q = row[k] / sum;
                let (c, dc) = clip_probability(q);
                if let Some(grad) = grad {
                    // d loss / d q_k = -dc / c; through q = p / sum, every p_i gets
                    // (-[i = k] dc / c + dc q / c) / sum, and c = q where dc != 0.
                    grad.fill(dc / sum);
                    grad[k] -= dc / c / sum;
                }
                -libm::logf(c)
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;
    use core::f32::consts::LN_2; // Keras gives 0.6931472 (ln 2 in float32) for these rows.

    #[test]
    fn matches_keras_on_probabilities() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.SparseCategoricalCrossentropy(
        // reduction=None)(k, p) and jax.grad of its sum. Row 0 sums to 4 and is normalised
        // first; rows 1 and 3 clip p_k (0 and 1).
        let labels = [1, 0, 2, 2];
        let p = [1.0, 2.0, 1.0, 0.0, 0.7, 0.3, 0.1, 0.3, 0.6, 0.0, 0.0, 1.0];
        let loss = SparseCategoricalCrossentropy::default();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("sparse_categorical_crossentropy", TargetKind::Sparse)
        );
        assert_eq!(loss, SparseCategoricalCrossentropy::new());
        let (losses, grad) = eval(&loss, &p, Targets::Sparse(&labels), 3);
        assert_close(&losses, &[LN_2, 16.118095, 0.5108256, 1.1920929e-07]);
        assert_close(
            &grad,
            &[
                0.25, -0.25, 0.25, 0.0, 0.0, 0.0, 1.0, 1.0, -0.6666666, 0.0, 0.0, 0.0,
            ],
        );
    }

    #[test]
    fn matches_keras_on_large_logits() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.SparseCategoricalCrossentropy(
        // from_logits=True, reduction=None)(k, x) and jax.grad of its sum.
        let labels = [1, 2, 0];
        let x = [100.0, 0.0, -100.0, 1.0, 2.0, 3.0, 1000.0, -1000.0, 0.0];
        let (losses, grad) = eval(
            &SparseCategoricalCrossentropy::from_logits(),
            &x,
            Targets::Sparse(&labels),
            3,
        );
        assert_close(&losses, &[100.0, 0.40760595, 0.0]);
        assert_close(
            &grad,
            &[1.0, -1.0, 0.0, 0.09003057, 0.24472848, -0.33475906, 0.0, 0.0, 0.0],
        );
    }

    #[test]
    fn clipped_target_probability_gets_no_gradient() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.SparseCategoricalCrossentropy(
        // reduction=None)(k, p) and jax.grad of its sum. Once p_k / Σ p is clipped, the row's
        // gradient is zero, even with other classes unclipped.
        let (losses, grad) = eval(
            &SparseCategoricalCrossentropy::new(),
            &[0.0, 0.7, 0.3, 0.0, 0.0, 3.0],
            Targets::Sparse(&[0, 2]),
            3,
        );
        assert_eq!(grad, [0.0; 6]);
        assert_close(&losses, &[16.118095, 1.1920929e-07]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let labels = [1, 0, 2, 2];
        let p = [1.0, 2.0, 1.0, 0.1, 0.7, 0.3, 0.1, 0.3, 0.6, 0.05, 0.15, 0.8];
        check_gradient(
            &SparseCategoricalCrossentropy::new(),
            &p,
            Targets::Sparse(&labels),
            3,
        );
        let x = [3.0, 0.0, -2.0, 1.0, 2.0, 3.0, 0.5, -1.5, 0.0, -1.0, 0.25, 2.0];
        check_gradient(
            &SparseCategoricalCrossentropy::from_logits(),
            &x,
            Targets::Sparse(&labels),
            3,
        );
    }
}
