//! Kullback-Leibler divergence.

use super::{dense_targets, for_each_row, Loss, TargetKind, Targets, EPSILON};

/// Kullback-Leibler divergence, Keras's `kl_divergence`: per row `Σ_j t_j ln(t_j / p_j)`,
/// the divergence of the predicted distribution `p` from the target distribution `t`.
///
/// As Keras does, both `t` and `p` are first clipped to `[1e-7, 1]` (rows are not
/// normalised). The gradient of a row's loss is `-t_j / p_j`; a clipped prediction gets no
/// gradient (half of it exactly on a bound, as `jnp.clip` does).
///
/// ```
/// use kerust_core::losses::{KlDivergence, Loss, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// KlDivergence::new().compute(&[0.25, 0.75], Targets::Dense(&[0.5, 0.5]), 2, &mut losses, Some(&mut grad));
/// // 0.5 ln(0.5 / 0.25) + 0.5 ln(0.5 / 0.75) = 0.5 ln(4 / 3)
/// assert!((losses[0] - 0.5 * (4f32 / 3.0).ln()).abs() < 1e-6);
/// assert_eq!(grad, [-2.0, -0.5 / 0.75]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KlDivergence;

impl KlDivergence {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for KlDivergence {
    fn name(&self) -> &'static str {
        "kl_divergence"
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
        for_each_row(pred, width, losses, grad, |r, p, g| {
            let t = &targets[r * width..(r + 1) * width];
            let mut sum = 0.0;
            match g {
                Some(g) => {
                    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
                        let t = clip_unit(t).0;
                        let (p, dp) = clip_unit(p);
                        sum += t * libm::logf(t / p);
                        *g = -dp * t / p;
                    }
                }
                None => {
                    for (&p, &t) in p.iter().zip(t) {
                        let t = clip_unit(t).0;
                        sum += t * libm::logf(t / clip_unit(p).0);
                    }
                }
            }
            sum
        });
    }
}

/// Clips `x` to `[EPSILON, 1]` as `jnp.clip` does, returning the clipped value and its
/// derivative: 1 inside, 0 outside and, as JAX's `maximum`/`minimum` split ties, 0.5 exactly
/// on a bound.
fn clip_unit(x: f32) -> (f32, f32) {
    if x < EPSILON {
        (EPSILON, 0.0)
    } else if x > 1.0 {
        (1.0, 0.0)
    } else if x == EPSILON || x == 1.0 {
        (x, 0.5)
    } else {
        (x, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    // Targets 0 are clipped to 1e-7; predictions 0 and 1.2 (row 1) are clipped.
    #[rustfmt::skip]
    const T: [f32; 12] = [
        0.2, 0.5, 0.3, 0.0,
        0.0, 1.0, 0.0, 0.0,
        0.25, 0.25, 0.25, 0.25,
    ];
    #[rustfmt::skip]
    const P: [f32; 12] = [
        0.1, 0.6, 0.25, 0.05,
        0.0, 0.9, 1.2, 0.3,
        0.4, 0.1, 0.3, 0.2,
    ];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.KLDivergence(reduction=None)(t, p) and
        // jax.grad of its sum.
        let loss = KlDivergence::new();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("kl_divergence", TargetKind::Dense)
        );
        assert_eq!(loss, Default::default());
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&T), 4);
        assert_close(&losses, &[0.10216382, 0.10535747, 0.12177727]);
        #[rustfmt::skip]
        assert_close(&grad, &[
            -1.9999999, -0.8333333, -1.2, -1.9999998e-06,
            0.0, -1.1111112, 0.0, -3.3333333e-07,
            -0.62499994, -2.4999998, -0.8333333, -1.2499999,
        ]);
    }

    #[test]
    fn predictions_on_a_clip_bound_get_half_the_gradient() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.KLDivergence(reduction=None)(t, p) and
        // jax.grad of its sum, t = [[0.5, 0.5, 0, 2]], p = [[1e-7, 1, 0.3, 0.5]]: p_0 and p_1 lie
        // on the bounds, and t_3 = 2 is clipped to 1.
        let (losses, grad) = eval(
            &KlDivergence,
            &[1e-7, 1.0, 0.3, 0.5],
            Targets::Dense(&[0.5, 0.5, 0.0, 2.0]),
            4,
        );
        assert_close(&losses, &[8.059047]);
        assert_close(&grad, &[-2500000.0, -0.25, -3.3333333e-07, -2.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Predictions inside (1e-7, 1), at least 1e-3 from the bounds.
        let p = [0.1, 0.6, 0.25, 0.05, 0.02, 0.9, 0.7, 0.3, 0.4, 0.1, 0.3, 0.2];
        check_gradient(&KlDivergence, &p, Targets::Dense(&T), 4);
        check_gradient(&KlDivergence, &p, Targets::Dense(&T), 3);
    }
}
