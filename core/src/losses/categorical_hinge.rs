//! Categorical hinge loss.

use super::hinge::step;
use super::{dense_targets, for_each_row, Loss, TargetKind, Targets};

/// Categorical hinge loss, Keras's `categorical_hinge`: per row `max(neg - pos + 1, 0)` with
/// `pos = Σ_j y_j p_j` (the score of the target class, for one-hot `y`) and
/// `neg = max_j (1 - y_j) p_j` (the best score of another class).
///
/// Targets are used as they are (no conversion of binary labels). The gradient of a row's loss
/// is `d_j - y_j` while the loss is positive, where `d_j = 1 - y_j` for the `(1 - y_j) p_j` that
/// is the maximum (shared equally among ties, as JAX's `max` does) and 0 elsewhere; it is 0
/// where the loss is 0, and half of the positive case exactly at `neg - pos + 1 = 0`.
///
/// ```
/// use kerust_core::losses::{CategoricalHinge, Loss, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 3]);
/// let scores = [0.25, 0.5, 0.375];
/// CategoricalHinge::new().compute(&scores, Targets::Dense(&[0.0, 1.0, 0.0]), 3, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [0.875]); // 0.375 - 0.5 + 1
/// assert_eq!(grad, [0.0, -1.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CategoricalHinge;

impl CategoricalHinge {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for CategoricalHinge {
    fn name(&self) -> &'static str {
        "categorical_hinge"
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
            let y = &targets[r * width..(r + 1) * width];
            let mut pos = 0.0;
            let mut neg = f32::NEG_INFINITY;
            for (&p, &y) in p.iter().zip(y) {
                pos += y * p;
                neg = neg.max((1.0 - y) * p);
            }
            let z = neg - pos + 1.0;
            if let Some(g) = g {
                let dz = step(z);
                let ties = p.iter().zip(y).filter(|&(&p, &y)| (1.0 - y) * p == neg).count();
                let dneg = dz / ties.max(1) as f32;
                for ((g, &p), &y) in g.iter_mut().zip(p).zip(y) {
                    let other = 1.0 - y;
                    let at_max = if other * p == neg { other * dneg } else { 0.0 };
                    *g = at_max - dz * y;
                }
            }
            z.max(0.0)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    // One-hot rows (row 1 misclassified), a soft target, and a row with zero loss.
    #[rustfmt::skip]
    const Y: [f32; 16] = [
        0.0, 1.0, 0.0, 0.0,
        1.0, 0.0, 0.0, 0.0,
        0.2, 0.5, 0.3, 0.0,
        0.0, 0.0, 1.0, 0.0,
    ];
    #[rustfmt::skip]
    const P: [f32; 16] = [
        0.1, 0.6, 0.3, -0.2,
        0.2, 0.7, 0.4, 0.1,
        0.5, 1.5, 0.25, 2.0,
        -1.0, -0.5, 3.0, 0.5,
    ];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.CategoricalHinge(reduction=None)(y, p)
        // and jax.grad of its sum.
        let loss = CategoricalHinge::new();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("categorical_hinge", TargetKind::Dense)
        );
        assert_eq!(loss, Default::default());
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&Y), 4);
        assert_close(&losses, &[0.7, 1.5, 2.075, 0.0]);
        #[rustfmt::skip]
        assert_close(&grad, &[
            0.0, -1.0, 1.0, 0.0,
            -1.0, 1.0, 0.0, 0.0,
            -0.2, -0.5, -0.3, 1.0,
            0.0, 0.0, 0.0, 0.0,
        ]);
    }

    #[test]
    fn ties_split_the_gradient() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.CategoricalHinge(reduction=None)(y, p)
        // and jax.grad of its sum, y = [[0, 1, 0, 0], [0, 1, 0, 0]],
        // p = [[0.3, 0.5, 0.3, 0.1], [0.5, 1.5, 0.2, 0.5]]: two maxima in each row, and row 1's
        // loss is exactly at the kink (neg - pos + 1 = 0), where the gradient is halved.
        let (losses, grad) = eval(
            &CategoricalHinge,
            &[0.3, 0.5, 0.3, 0.1, 0.5, 1.5, 0.2, 0.5],
            Targets::Dense(&[0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
            4,
        );
        assert_close(&losses, &[0.8, 0.0]);
        assert_close(&grad, &[0.5, -1.0, 0.5, 0.0, 0.25, -0.5, 0.0, 0.25]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // No ties among the maxima and no loss within 1e-3 of 0.
        check_gradient(&CategoricalHinge, &P, Targets::Dense(&Y), 4);
        check_gradient(&CategoricalHinge, &P, Targets::Dense(&Y), 2);
    }
}
