//! Learning-rate schedules with Keras 3's formulas and defaults
//! (`keras.optimizers.schedules`): the learning rate as a function of the optimizer's step.
//!
//! Keras evaluates a schedule at `optimizer.iterations`, the number of updates applied before
//! the current one, so the first update uses `lr(0)`. Like Keras, every schedule computes in
//! `f32` (the dtype of `initial_learning_rate`), with the step cast to `f32`.
//!
//! Any `Fn(u64) -> f32` closure is a schedule too, as any callable is in Keras:
//!
//! ```
//! use kerust_core::optim::schedules::{ExponentialDecay, LearningRateSchedule};
//!
//! let exponential = ExponentialDecay::new(0.1, 10, 0.5);
//! assert!((exponential.lr(10) - 0.05).abs() < 1e-9);
//! let halving = |step: u64| 0.1 / (1 << (step / 10)) as f32;
//! assert_eq!(halving.lr(10), 0.05);
//! ```

use core::f32::consts::PI;

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// A learning rate that depends on the step (Keras's `LearningRateSchedule`).
pub trait LearningRateSchedule: Send {
    /// The learning rate of the update at `step`: the number of updates applied before it
    /// (Keras's `schedule(optimizer.iterations)`).
    fn lr(&self, step: u64) -> f32;
}

impl<F: Fn(u64) -> f32 + Send> LearningRateSchedule for F {
    fn lr(&self, step: u64) -> f32 {
        self(step)
    }
}

/// Checks Keras's `decay_steps > 0` (its `ValueError`).
fn check_decay_steps(schedule: &str, name: &str, steps: u64) {
    assert!(steps > 0, "{schedule}: {name} must be > 0");
}

/// Exponential decay, Keras's `ExponentialDecay`:
/// `initial_learning_rate * decay_rate ^ (step / decay_steps)`, with the exponent rounded down
/// to an integer when `staircase`.
///
/// ```
/// use kerust_core::optim::schedules::{ExponentialDecay, LearningRateSchedule};
///
/// let s = ExponentialDecay::new(0.1, 10, 0.5).staircase(true);
/// assert_eq!((s.lr(9), s.lr(10), s.lr(25)), (0.1, 0.05, 0.025));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialDecay {
    /// The learning rate at step 0.
    pub initial_learning_rate: f32,
    /// The number of steps over which the rate is multiplied by `decay_rate` (positive).
    pub decay_steps: u64,
    /// The factor applied every `decay_steps` steps.
    pub decay_rate: f32,
    /// Whether to decay at discrete intervals: the exponent `step / decay_steps` rounded down
    /// (default `false`).
    pub staircase: bool,
}

impl ExponentialDecay {
    /// `initial_learning_rate * decay_rate ^ (step / decay_steps)`, not `staircase`.
    ///
    /// # Panics
    ///
    /// If `decay_steps` is 0 (Keras raises a `ValueError`).
    pub fn new(initial_learning_rate: f32, decay_steps: u64, decay_rate: f32) -> Self {
        check_decay_steps("ExponentialDecay", "decay_steps", decay_steps);
        Self {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
        }
    }

    /// Sets [`ExponentialDecay::staircase`].
    #[must_use]
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

impl LearningRateSchedule for ExponentialDecay {
    fn lr(&self, step: u64) -> f32 {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = libm::floorf(p);
        }
        self.initial_learning_rate * libm::powf(self.decay_rate, p)
    }
}

/// A piecewise constant learning rate, Keras's `PiecewiseConstantDecay`: `values[0]` up to
/// and including step `boundaries[0]`, `values[i]` for steps in
/// `(boundaries[i - 1], boundaries[i]]`, and the last value after the last boundary.
///
/// ```
/// use kerust_core::optim::schedules::{LearningRateSchedule, PiecewiseConstantDecay};
///
/// let s = PiecewiseConstantDecay::new([10, 20], [1.0, 0.5, 0.1]);
/// assert_eq!((s.lr(10), s.lr(11), s.lr(20), s.lr(21)), (1.0, 0.5, 0.5, 0.1));
/// ```
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<u64>,
    values: Vec<f32>,
}

#[cfg(feature = "alloc")]
impl PiecewiseConstantDecay {
    /// The schedule taking `values[i]` up to and including step `boundaries[i]`.
    ///
    /// # Panics
    ///
    /// If `values` is not one longer than `boundaries` (Keras raises a `ValueError`), or if
    /// `boundaries` decrease somewhere (Keras documents them as increasing).
    pub fn new(boundaries: impl Into<Vec<u64>>, values: impl Into<Vec<f32>>) -> Self {
        let (boundaries, values) = (boundaries.into(), values.into());
        assert!(
            values.len() == boundaries.len() + 1,
            "PiecewiseConstantDecay: the length of boundaries ({}) should be 1 less than the \
             length of values ({})",
            boundaries.len(),
            values.len()
        );
        assert!(
            boundaries.is_sorted(),
            "PiecewiseConstantDecay: boundaries must increase, got {boundaries:?}"
        );
        Self { boundaries, values }
    }

    /// The steps at which the value changes (after the step).
    pub fn boundaries(&self) -> &[u64] {
        &self.boundaries
    }

    /// The values: one more than [`PiecewiseConstantDecay::boundaries`].
    pub fn values(&self) -> &[f32] {
        &self.values
    }
}

#[cfg(feature = "alloc")]
impl LearningRateSchedule for PiecewiseConstantDecay {
    fn lr(&self, step: u64) -> f32 {
        // The first interval `step <= boundary` holds the step; past the last boundary, the
        // last value. For increasing boundaries this is Keras's sum of indicator products.
        let i = self.boundaries.partition_point(|&b| b < step);
        self.values[i]
    }
}

/// Polynomial decay, Keras's `PolynomialDecay`: from `initial_learning_rate` to
/// `end_learning_rate` over `decay_steps` steps,
/// `(initial - end) * (1 - step / decay_steps) ^ power + end`, then constant; or with `cycle`,
/// over `decay_steps` times the first multiple of it not below the step, restarting every
/// such multiple.
///
/// ```
/// use kerust_core::optim::schedules::{LearningRateSchedule, PolynomialDecay};
///
/// let s = PolynomialDecay::new(0.1, 10).end_learning_rate(0.0);
/// assert_eq!((s.lr(5), s.lr(10), s.lr(100)), (0.05, 0.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolynomialDecay {
    /// The learning rate at step 0.
    pub initial_learning_rate: f32,
    /// The number of steps to decay over (positive).
    pub decay_steps: u64,
    /// The learning rate reached after `decay_steps` steps (default `0.0001`).
    pub end_learning_rate: f32,
    /// The power of the polynomial (default `1.0`: linear decay).
    pub power: f32,
    /// Whether to restart the decay, over ever longer periods, after `decay_steps`
    /// (default `false`).
    pub cycle: bool,
}

impl PolynomialDecay {
    /// Linear decay from `initial_learning_rate` to `0.0001` over `decay_steps`, other
    /// settings Keras's defaults.
    ///
    /// # Panics
    ///
    /// If `decay_steps` is 0 (Keras raises a `ValueError`).
    pub fn new(initial_learning_rate: f32, decay_steps: u64) -> Self {
        check_decay_steps("PolynomialDecay", "decay_steps", decay_steps);
        Self {
            initial_learning_rate,
            decay_steps,
            end_learning_rate: 0.0001,
            power: 1.0,
            cycle: false,
        }
    }

    /// Sets [`PolynomialDecay::end_learning_rate`].
    #[must_use]
    pub fn end_learning_rate(mut self, end_learning_rate: f32) -> Self {
        self.end_learning_rate = end_learning_rate;
        self
    }

    /// Sets [`PolynomialDecay::power`].
    #[must_use]
    pub fn power(mut self, power: f32) -> Self {
        self.power = power;
        self
    }

    /// Sets [`PolynomialDecay::cycle`].
    #[must_use]
    pub fn cycle(mut self, cycle: bool) -> Self {
        self.cycle = cycle;
        self
    }
}

impl LearningRateSchedule for PolynomialDecay {
    fn lr(&self, step: u64) -> f32 {
        let mut step = step as f32;
        let mut decay_steps = self.decay_steps as f32;
        if self.cycle {
            // The first multiple of `decay_steps` not below the step; 1 at step 0.
            let multiplier = if step == 0.0 {
                1.0
            } else {
                libm::ceilf(step / decay_steps)
            };
            decay_steps *= multiplier;
        } else {
            step = step.min(decay_steps);
        }
        let p = step / decay_steps;
        (self.initial_learning_rate - self.end_learning_rate) * libm::powf(1.0 - p, self.power)
            + self.end_learning_rate
    }
}

/// Inverse time decay, Keras's `InverseTimeDecay`:
/// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`, with `step / decay_steps`
/// rounded down to an integer when `staircase`.
///
/// ```
/// use kerust_core::optim::schedules::{InverseTimeDecay, LearningRateSchedule};
///
/// let s = InverseTimeDecay::new(0.1, 10, 1.0);
/// assert_eq!((s.lr(0), s.lr(10), s.lr(30)), (0.1, 0.05, 0.025));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InverseTimeDecay {
    /// The learning rate at step 0.
    pub initial_learning_rate: f32,
    /// The number of steps that make one unit of decay (positive).
    pub decay_steps: u64,
    /// The decay per `decay_steps` steps.
    pub decay_rate: f32,
    /// Whether to decay at discrete intervals: `step / decay_steps` rounded down (default
    /// `false`).
    pub staircase: bool,
}

impl InverseTimeDecay {
    /// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`, not `staircase`.
    ///
    /// # Panics
    ///
    /// If `decay_steps` is 0 (Keras raises a `ValueError`).
    pub fn new(initial_learning_rate: f32, decay_steps: u64, decay_rate: f32) -> Self {
        check_decay_steps("InverseTimeDecay", "decay_steps", decay_steps);
        Self {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
        }
    }

    /// Sets [`InverseTimeDecay::staircase`].
    #[must_use]
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

impl LearningRateSchedule for InverseTimeDecay {
    fn lr(&self, step: u64) -> f32 {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = libm::floorf(p);
        }
        self.initial_learning_rate / (1.0 + self.decay_rate * p)
    }
}

/// Cosine decay with optional linear warmup (Loshchilov & Hutter, 2017), Keras's `CosineDecay`.
///
/// Without `warmup_target`: `initial_learning_rate * decayed(min(step, decay_steps))`, where
/// `decayed(s) = (1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha`. With
/// `warmup_target = Some(target)`, the rate first goes linearly from `initial_learning_rate`
/// to `target` over `warmup_steps` steps, then decays from `target` as above, over the next
/// `decay_steps` steps.
///
/// ```
/// use kerust_core::optim::schedules::{CosineDecay, LearningRateSchedule};
///
/// let s = CosineDecay::new(0.0, 10).warmup_target(1.0).warmup_steps(5);
/// assert_eq!((s.lr(0), s.lr(4), s.lr(5), s.lr(15)), (0.0, 0.8, 1.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineDecay {
    /// The learning rate at step 0 (the start of the warmup, if any).
    pub initial_learning_rate: f32,
    /// The number of steps to decay over (positive).
    pub decay_steps: u64,
    /// The fraction of the starting rate reached at the end of the decay (default `0.0`).
    pub alpha: f32,
    /// The learning rate the warmup ends at, and the decay starts from; `None` skips the
    /// warmup (default `None`).
    pub warmup_target: Option<f32>,
    /// The number of warmup steps (default `0`); used only with a `warmup_target`.
    pub warmup_steps: u64,
}

impl CosineDecay {
    /// Cosine decay from `initial_learning_rate` to 0 over `decay_steps`, other settings
    /// Keras's defaults.
    ///
    /// # Panics
    ///
    /// If `decay_steps` is 0 (Keras raises a `ValueError`).
    pub fn new(initial_learning_rate: f32, decay_steps: u64) -> Self {
        check_decay_steps("CosineDecay", "decay_steps", decay_steps);
        Self {
            initial_learning_rate,
            decay_steps,
            alpha: 0.0,
            warmup_target: None,
            warmup_steps: 0,
        }
    }

    /// Sets [`CosineDecay::alpha`].
    #[must_use]
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets [`CosineDecay::warmup_target`] to `Some(target)`.
    #[must_use]
    pub fn warmup_target(mut self, target: f32) -> Self {
        self.warmup_target = Some(target);
        self
    }

    /// Sets [`CosineDecay::warmup_steps`].
    #[must_use]
    pub fn warmup_steps(mut self, steps: u64) -> Self {
        self.warmup_steps = steps;
        self
    }

    /// Keras's `_decay_function`: `from * decayed(step)`.
    fn decay(&self, step: f32, decay_steps: f32, from: f32) -> f32 {
        let completed_fraction = step / decay_steps;
        let cosine_decayed = 0.5 * (1.0 + libm::cosf(PI * completed_fraction));
        // `(1 - alpha)` with Python floats: in double precision, then rounded to f32.
        let one_minus_alpha = (1.0 - f64::from(self.alpha)) as f32;
        from * (one_minus_alpha * cosine_decayed + self.alpha)
    }
}

impl LearningRateSchedule for CosineDecay {
    fn lr(&self, step: u64) -> f32 {
        let decay_steps = self.decay_steps as f32;
        let step = step as f32;
        let Some(target) = self.warmup_target else {
            return self.decay(step.min(decay_steps), decay_steps, self.initial_learning_rate);
        };
        let warmup_steps = self.warmup_steps as f32;
        let step = step.min(decay_steps + warmup_steps);
        if step < warmup_steps {
            (target - self.initial_learning_rate) * (step / warmup_steps) + self.initial_learning_rate
        } else {
            self.decay(step - warmup_steps, decay_steps, target)
        }
    }
}

/// Cosine decay with warm restarts, SGDR (Loshchilov & Hutter, 2017), Keras's
/// `CosineDecayRestarts`.
///
/// The cosine decay of [`CosineDecay`] over `first_decay_steps` steps, then again from the
/// start over `t_mul` times as many steps, from `m_mul` times the previous starting rate, and
/// so on; each period ends at `alpha` times its starting rate.
///
/// ```
/// use kerust_core::optim::schedules::{CosineDecayRestarts, LearningRateSchedule};
///
/// // Periods of 10, 20, 40 steps: restarts at steps 10 and 30.
/// let s = CosineDecayRestarts::new(0.1, 10);
/// assert_eq!((s.lr(0), s.lr(10), s.lr(30)), (0.1, 0.1, 0.1));
/// assert!((s.lr(20) - 0.05).abs() < 1e-8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineDecayRestarts {
    /// The learning rate at step 0.
    pub initial_learning_rate: f32,
    /// The length of the first period (positive).
    pub first_decay_steps: u64,
    /// The factor by which each period is longer than the previous one (default `2.0`).
    pub t_mul: f32,
    /// The factor by which each period's starting rate is smaller than the previous one's
    /// (default `1.0`).
    pub m_mul: f32,
    /// The fraction of its starting rate each period ends at (default `0.0`).
    pub alpha: f32,
}

impl CosineDecayRestarts {
    /// Cosine decay from `initial_learning_rate` over `first_decay_steps`, restarting with
    /// periods twice as long, other settings Keras's defaults.
    ///
    /// # Panics
    ///
    /// If `first_decay_steps` is 0 (Keras raises a `ValueError`).
    pub fn new(initial_learning_rate: f32, first_decay_steps: u64) -> Self {
        check_decay_steps("CosineDecayRestarts", "first_decay_steps", first_decay_steps);
        Self {
            initial_learning_rate,
            first_decay_steps,
            t_mul: 2.0,
            m_mul: 1.0,
            alpha: 0.0,
        }
    }

    /// Sets [`CosineDecayRestarts::t_mul`].
    #[must_use]
    pub fn t_mul(mut self, t_mul: f32) -> Self {
        self.t_mul = t_mul;
        self
    }

    /// Sets [`CosineDecayRestarts::m_mul`].
    #[must_use]
    pub fn m_mul(mut self, m_mul: f32) -> Self {
        self.m_mul = m_mul;
        self
    }

    /// Sets [`CosineDecayRestarts::alpha`].
    #[must_use]
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }
}

impl LearningRateSchedule for CosineDecayRestarts {
    fn lr(&self, step: u64) -> f32 {
        let t_mul = self.t_mul;
        let completed_fraction = step as f32 / self.first_decay_steps as f32;
        // The index of the current period and the fraction of it completed.
        let (i_restart, completed_fraction) = if t_mul == 1.0 {
            let i_restart = libm::floorf(completed_fraction);
            (i_restart, completed_fraction - i_restart)
        } else {
            // Periods of 1, t, t², … (in units of `first_decay_steps`) end at the partial sums
            // (1 - t^i) / (1 - t) of the geometric series.
            let i_restart =
                libm::floorf(libm::logf(1.0 - completed_fraction * (1.0 - t_mul)) / libm::logf(t_mul));
            let sum_r = (1.0 - libm::powf(t_mul, i_restart)) / (1.0 - t_mul);
            (
                i_restart,
                (completed_fraction - sum_r) / libm::powf(t_mul, i_restart),
            )
        };
        let m_fac = libm::powf(self.m_mul, i_restart);
        let cosine_decayed = 0.5 * m_fac * (1.0 + libm::cosf(PI * completed_fraction));
        let decayed = (1.0 - self.alpha) * cosine_decayed + self.alpha;
        self.initial_learning_rate * decayed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   s = keras.optimizers.schedules.<Schedule>(...)
    //   [float(s(step)) for step in STEPS]

    /// Checks `schedule` at `steps` against Keras's values, to a few `f32` roundings.
    fn assert_schedule(schedule: &impl LearningRateSchedule, steps: &[u64], expected: &[f32]) {
        assert_eq!(steps.len(), expected.len());
        for (&step, &e) in steps.iter().zip(expected) {
            let lr = schedule.lr(step);
            assert!(
                (lr - e).abs() <= 3e-7 * e.abs() + 1e-12,
                "step {step}: {lr} != {e}"
            );
        }
    }

    #[test]
    fn exponential_decay_matches_keras() {
        // ExponentialDecay(0.1, 10, 0.5)
        assert_schedule(
            &ExponentialDecay::new(0.1, 10, 0.5),
            &[0, 1, 5, 10, 15, 25, 100],
            &[
                0.1,
                0.0933033,
                0.07071068,
                0.05,
                0.03535534,
                0.01767767,
                9.765625e-5,
            ],
        );
        // ExponentialDecay(0.1, 10, 0.5, staircase=True)
        assert_schedule(
            &ExponentialDecay::new(0.1, 10, 0.5).staircase(true),
            &[0, 1, 9, 10, 15, 25, 100],
            &[0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 9.765625e-5],
        );
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn piecewise_constant_decay_matches_keras() {
        // PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
        let s = PiecewiseConstantDecay::new([10, 20], [1.0, 0.5, 0.1]);
        assert_schedule(
            &s,
            &[0, 9, 10, 11, 20, 21, 100],
            &[1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1],
        );
        assert_eq!(
            (s.boundaries(), s.values()),
            (&[10, 20][..], &[1.0, 0.5, 0.1][..])
        );
        // PiecewiseConstantDecay([5], [0.3, 0.2])
        let s = PiecewiseConstantDecay::new(alloc::vec![5], alloc::vec![0.3, 0.2]);
        assert_schedule(&s, &[0, 5, 6], &[0.3, 0.3, 0.2]);
    }

    #[cfg(feature = "alloc")]
    #[test]
    #[should_panic(expected = "should be 1 less than")]
    fn piecewise_constant_decay_checks_lengths() {
        let _ = PiecewiseConstantDecay::new([10, 20], [1.0, 0.5]);
    }

    #[cfg(feature = "alloc")]
    #[test]
    #[should_panic(expected = "boundaries must increase")]
    fn piecewise_constant_decay_checks_order() {
        let _ = PiecewiseConstantDecay::new([20, 10], [1.0, 0.5, 0.1]);
    }

    #[test]
    fn polynomial_decay_matches_keras() {
        // PolynomialDecay(0.1, 10)
        assert_schedule(
            &PolynomialDecay::new(0.1, 10),
            &[0, 1, 5, 10, 15, 100],
            &[0.1, 0.09001, 0.05005, 1e-4, 1e-4, 1e-4],
        );
        // PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0, cycle=True)
        let s = PolynomialDecay::new(0.1, 10)
            .end_learning_rate(0.01)
            .power(2.0)
            .cycle(true);
        assert_schedule(
            &s,
            &[0, 1, 5, 10, 11, 15, 20, 25],
            &[0.1, 0.082899995, 0.0325, 0.01, 0.028225, 0.015625, 0.01, 0.0125],
        );
        // PolynomialDecay(0.1, 10, power=0.5)
        assert_schedule(
            &PolynomialDecay::new(0.1, 10).power(0.5),
            &[0, 3, 7, 10, 12],
            &[0.1, 0.083682336, 0.054817487, 1e-4, 1e-4],
        );
    }

    #[test]
    fn inverse_time_decay_matches_keras() {
        // InverseTimeDecay(0.1, 10, 0.5)
        assert_schedule(
            &InverseTimeDecay::new(0.1, 10, 0.5),
            &[0, 1, 5, 10, 15, 100],
            &[0.1, 0.095238104, 0.08, 0.06666667, 0.057142857, 0.016666668],
        );
        // InverseTimeDecay(0.1, 10, 0.5, staircase=True)
        assert_schedule(
            &InverseTimeDecay::new(0.1, 10, 0.5).staircase(true),
            &[0, 9, 10, 15, 25],
            &[0.1, 0.1, 0.06666667, 0.06666667, 0.05],
        );
    }

    #[test]
    fn cosine_decay_matches_keras() {
        // CosineDecay(0.1, 10)
        assert_schedule(
            &CosineDecay::new(0.1, 10),
            &[0, 1, 3, 5, 9, 10, 20],
            &[0.1, 0.09755283, 0.07938927, 0.049999997, 0.002447176, 0.0, 0.0],
        );
        // CosineDecay(0.1, 10, alpha=0.1)
        assert_schedule(
            &CosineDecay::new(0.1, 10).alpha(0.1),
            &[0, 2, 5, 10, 11],
            &[0.1, 0.091405764, 0.054999996, 0.010000001, 0.010000001],
        );
    }

    #[test]
    fn cosine_decay_with_warmup_matches_keras() {
        // CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=5)
        assert_schedule(
            &CosineDecay::new(0.0, 10).warmup_target(1.0).warmup_steps(5),
            &[0, 1, 4, 5, 6, 10, 15, 30],
            &[0.0, 0.2, 0.8, 1.0, 0.97552824, 0.49999997, 0.0, 0.0],
        );
        // CosineDecay(0.1, 10, alpha=0.2, warmup_target=0.5, warmup_steps=4)
        let s = CosineDecay::new(0.1, 10)
            .alpha(0.2)
            .warmup_target(0.5)
            .warmup_steps(4);
        assert_schedule(&s, &[0, 2, 4, 9, 14, 20], &[0.1, 0.3, 0.5, 0.29999998, 0.1, 0.1]);
    }

    #[test]
    fn cosine_decay_restarts_matches_keras() {
        // CosineDecayRestarts(0.1, 10): periods of 10, 20, 40 steps.
        assert_schedule(
            &CosineDecayRestarts::new(0.1, 10),
            &[0, 1, 5, 9, 10, 11, 20, 29, 30, 45, 69, 70, 71],
            &[
                0.1,
                0.09755283,
                0.049999997,
                0.002447176,
                0.1,
                0.09938442,
                0.049999997,
                0.00061558187,
                0.1,
                0.06913417,
                0.00015413166,
                0.1,
                0.09996145,
            ],
        );
        // CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5, alpha=0.1)
        let s = CosineDecayRestarts::new(0.1, 10).t_mul(1.0).m_mul(0.5).alpha(0.1);
        assert_schedule(
            &s,
            &[0, 5, 9, 10, 15, 20, 25, 35],
            &[
                0.1,
                0.054999996,
                0.012202458,
                0.055000003,
                0.0325,
                0.0325,
                0.02125,
                0.015625,
            ],
        );
        // CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8, alpha=0.05)
        let s = CosineDecayRestarts::new(0.1, 10)
            .t_mul(1.5)
            .m_mul(0.8)
            .alpha(0.05);
        assert_schedule(
            &s,
            &[0, 5, 10, 17, 25, 30, 47],
            &[0.1, 0.0525, 0.081, 0.046972077, 0.0658, 0.058687754, 0.005074052],
        );
    }

    #[test]
    fn defaults_are_keras() {
        let p = PolynomialDecay::new(0.1, 10);
        assert_eq!((p.end_learning_rate, p.power, p.cycle), (1e-4, 1.0, false));
        let c = CosineDecay::new(0.1, 10);
        assert_eq!((c.alpha, c.warmup_target, c.warmup_steps), (0.0, None, 0));
        let r = CosineDecayRestarts::new(0.1, 10);
        assert_eq!((r.t_mul, r.m_mul, r.alpha), (2.0, 1.0, 0.0));
        assert!(!ExponentialDecay::new(0.1, 10, 0.5).staircase);
        assert!(!InverseTimeDecay::new(0.1, 10, 0.5).staircase);
    }

    #[test]
    #[should_panic(expected = "decay_steps must be > 0")]
    fn rejects_zero_decay_steps() {
        let _ = CosineDecay::new(0.1, 0);
    }

    #[test]
    fn boxes_as_a_trait_object() {
        let schedules: [&dyn LearningRateSchedule; 2] =
            [&ExponentialDecay::new(0.1, 10, 0.5), &|step: u64| step as f32];
        assert_eq!(schedules.map(|s| s.lr(10)), [0.05, 10.0]);
    }
}
