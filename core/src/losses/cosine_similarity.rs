//! Cosine similarity loss.

use super::{dense_targets, for_each_row, Loss, TargetKind, Targets, EPSILON};

/// Cosine similarity loss, Keras's `cosine_similarity` (on the last axis): per row
/// `-Σ_j ŷ_j p̂_j`, the negated cosine of the angle between target and prediction, from -1
/// (same direction) to 1 (opposite directions).
///
/// As Keras's `normalize` does, a row `x` is normalised as `x · min(1 / ‖x‖, 1 / 1e-7)`, so a
/// row of norm below 1e-7 (or zero) is scaled by 1e7 instead, and a zero row gives a loss of 0.
///
/// The gradient of a row's loss is `-(ŷ_j + loss · p̂_j) / ‖p‖`, or `-1e7 ŷ_j` for a
/// prediction of norm below 1e-7. For a prediction row of exactly zero, Keras on JAX gives NaN
/// (it differentiates `1 / sqrt(0)`); this gives that finite limit instead.
///
/// ```
/// use kerust_core::losses::{CosineSimilarity, Loss, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 2], [0.0; 4]);
/// let pred = [0.0, 2.0, 0.0, 5.0];
/// let targets = [1.0, 0.0, 0.0, 2.0];
/// CosineSimilarity::new().compute(&pred, Targets::Dense(&targets), 2, &mut losses, Some(&mut grad));
/// assert_eq!(losses, [0.0, -1.0]); // orthogonal, then parallel
/// assert_eq!(grad, [-0.5, 0.0, 0.0, 0.0]); // turns row 0 towards its target
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CosineSimilarity;

impl CosineSimilarity {
    /// The loss (it has no options: it compares the last axis).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for CosineSimilarity {
    fn name(&self) -> &'static str {
        "cosine_similarity"
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
            let (inv_y, _) = inverse_norm(y);
            let (inv_p, d_inv) = inverse_norm(p);
            let loss = -p
                .iter()
                .zip(y)
                .map(|(&p, &y)| (y * inv_y) * (p * inv_p))
                .sum::<f32>();
            if let Some(g) = g {
                for ((g, &p), &y) in g.iter_mut().zip(p).zip(y) {
                    *g = -inv_p * ((y * inv_y) + d_inv * loss * (p * inv_p));
                }
            }
            loss
        });
    }
}

/// `min(1 / ‖x‖, 1 / EPSILON)`, the factor Keras's `normalize` scales `x` by, and the derivative
/// of that `min` in its first argument (1, 0 or, exactly on the bound, 0.5 as JAX splits ties).
fn inverse_norm(x: &[f32]) -> (f32, f32) {
    /// Keras's `1.0 / epsilon`, in float32.
    const MAX: f32 = 1.0 / EPSILON;
    let inv = 1.0 / libm::sqrtf(x.iter().map(|&x| x * x).sum());
    if inv < MAX {
        (inv, 1.0)
    } else if inv == MAX {
        (inv, 0.5)
    } else {
        (MAX, 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    // Row 2 points opposite to its target (loss 1, gradient 0).
    #[rustfmt::skip]
    const Y: [f32; 12] = [
        1.0, 2.0, 2.0,
        3.0, -4.0, 0.0,
        0.5, 0.5, -1.0,
        1.0, 0.0, 0.0,
    ];
    #[rustfmt::skip]
    const P: [f32; 12] = [
        2.0, 1.0, -1.0,
        0.6, -0.8, 0.1,
        -1.0, -1.0, 2.0,
        0.25, 3.0, -2.0,
    ];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.CosineSimilarity(reduction=None)(y, p)
        // and jax.grad of its sum.
        let loss = CosineSimilarity::new();
        assert_eq!(
            (loss.name(), loss.target_kind()),
            ("cosine_similarity", TargetKind::Dense)
        );
        assert_eq!(loss, Default::default());
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&Y), 3);
        assert_close(&losses, &[-0.27216554, -0.99503726, 1.0, -0.06917144]);
        #[rustfmt::skip]
        assert_close(&grad, &[
            -0.045360923, -0.22680461, -0.31752646,
            -0.005911112, 0.007881463, 0.098518535,
            0.0, 0.0, 0.0,
            -0.27536193, 0.015886264, -0.010590843,
        ]);
    }

    #[test]
    fn tiny_zero_and_huge_rows() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.CosineSimilarity(reduction=None)(y, p)
        // and jax.grad of its sum, y = [[1, 2, 2], [0, 0, 0], [1, 2, 2], [1, 2, 2]],
        // p = [[1e-9, 0, 0], [1, 2, 2], [1e20, 0, 0], [0, 0, 0]]: a prediction of norm below
        // 1e-7 is scaled by 1e7, a zero target gives 0, and a prediction whose squared norm
        // overflows normalises to 0. For the zero prediction (row 3) Keras's gradient is NaN;
        // this gives the limit for tiny predictions, -1e7 ŷ.
        assert_eq!(inverse_norm(&[0.0, 0.0]), (1e7, 0.0)); // Keras's 1.0 / 1e-7 in float32
        let (losses, grad) = eval(
            &CosineSimilarity,
            &[1e-9, 0.0, 0.0, 1.0, 2.0, 2.0, 1e20, 0.0, 0.0, 0.0, 0.0, 0.0],
            Targets::Dense(&[1.0, 2.0, 2.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 1.0, 2.0, 2.0]),
            3,
        );
        assert_close(&losses, &[-0.0033333334, 0.0, 0.0, 0.0]);
        #[rustfmt::skip]
        assert_close(&grad, &[
            -3333333.5, -6666667.0, -6666667.0,
            0.0, 0.0, 0.0,
            0.0, 0.0, 0.0,
            -3333333.5, -6666667.0, -6666667.0,
        ]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(&CosineSimilarity, &P, Targets::Dense(&Y), 3);
        check_gradient(&CosineSimilarity, &P, Targets::Dense(&Y), 4);
        check_gradient(&CosineSimilarity, &P, Targets::Dense(&Y), 2);
    }
}
