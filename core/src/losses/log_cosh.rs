//! Logarithm of the hyperbolic cosine of the error.

use super::{dense_targets, mean_elementwise, Loss, TargetKind, Targets};
use core::f32::consts::LN_2;

/// Log-cosh loss, Keras's `log_cosh`: with `e = p - y`, per row `mean_j ln cosh(e_j)`.
///
/// As Keras does, `ln cosh(e)` is computed as `e + softplus(-2 e) - ln 2`, which does not
/// overflow for large `|e|` (where the loss grows like `|e| - ln 2`). The gradient of a row's
/// loss is `tanh(e_j) / width`.
///
/// ```
/// use kerust_core::losses::{Loss, LogCosh, Targets};
///
/// let (mut losses, mut grad) = ([0.0; 1], [0.0; 2]);
/// LogCosh::new().compute(&[1.0, -1.0], Targets::Dense(&[0.0, 0.0]), 2, &mut losses, Some(&mut grad));
/// assert!((losses[0] - 1f32.cosh().ln()).abs() < 1e-6);
/// assert!((grad[0] - 1f32.tanh() / 2.0).abs() < 1e-6);
/// assert!((grad[1] + 1f32.tanh() / 2.0).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogCosh;

impl LogCosh {
    /// The loss (it has no options).
    pub const fn new() -> Self {
        Self
    }
}

impl Loss for LogCosh {
    fn name(&self) -> &'static str {
        "log_cosh"
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
            let e = p - y;
            (e + softplus(-2.0 * e) - LN_2, libm::tanhf(e))
        });
    }
}

/// `ln(1 + e^x)` as `jax.nn.softplus` computes it: `max(x, 0) + ln(1 + e^(-|x|))`.
fn softplus(x: f32) -> f32 {
    x.max(0.0) + libm::log1pf(libm::expf(-libm::fabsf(x)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, check_gradient, eval};
    use super::*;

    // Errors p - y: [0.5, 2, -3, 0.25] and [1.5, 0.75, 0, -43].
    const Y: [f32; 8] = [0.0, 1.0, 2.0, 0.0, 1.0, -1.0, 0.5, 3.0];
    const P: [f32; 8] = [0.5, 3.0, -1.0, 0.25, 2.5, -0.25, 0.5, -40.0];

    #[test]
    fn matches_keras() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.LogCosh(reduction=None)(y, p) and
        // jax.grad of its sum.
        let loss = LogCosh::new();
        assert_eq!((loss.name(), loss.target_kind()), ("log_cosh", TargetKind::Dense));
        assert_eq!(loss, Default::default());
        let (losses, grad) = eval(&loss, &P, Targets::Dense(&Y), 4);
        assert_close(&losses, &[0.9463439, 10.85514]);
        #[rustfmt::skip]
        assert_close(&grad, &[
            0.1155293, 0.2410069, -0.24876365, 0.06122966,
            0.22628707, 0.15878724, 0.0, -0.25,
        ]);
    }

    #[test]
    fn large_errors_do_not_overflow() {
        // keras 3.15.1 (JAX backend 0.10.2): keras.losses.LogCosh(reduction=None)(y, p) and
        // jax.grad of its sum, y = [[0, 0, 0]], p = [[100, -100, 1e-4]].
        let (losses, grad) = eval(&LogCosh, &[100.0, -100.0, 1e-4], Targets::Dense(&[0.0; 3]), 3);
        assert_close(&losses, &[66.204575]);
        assert_close(&grad, &[0.33333334, -0.33333334, 3.3318996e-05]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(&LogCosh, &P, Targets::Dense(&Y), 4);
        check_gradient(&LogCosh, &P, Targets::Dense(&Y), 2);
    }
}
