//! [`Scheduled`]: any optimizer with a learning-rate schedule, as Keras's
//! `Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(...))`.

use core::ops::Range;

use super::schedules::LearningRateSchedule;
use super::Optimizer;
#[cfg(feature = "alloc")]
use super::{Clipped, OneClippingOption, OptimizerState};

/// An optimizer whose learning rate follows a [`LearningRateSchedule`], built with
/// [`OptimizerExt::with_schedule`](super::OptimizerExt::with_schedule).
///
/// Before each update the inner optimizer's learning rate is set to
/// `schedule.lr(iterations) * multiplier`: as Keras, which evaluates the schedule at
/// `optimizer.iterations` (the updates applied before this one), so the first update uses
/// `lr(0)`, and that rate serves both the weight decay and the update. The multiplier is 1
/// until [`Optimizer::set_learning_rate`] changes it. Name, iteration count and state are the
/// inner optimizer's; [`Optimizer::learning_rate`] is the rate of the next update.
///
/// # Setting the learning rate
///
/// Keras raises a `TypeError` when a callback sets the learning rate of an optimizer built
/// with a schedule. Here [`Optimizer::set_learning_rate`] scales the schedule instead: it sets
/// the multiplier to `lr / schedule.lr(iterations)`, so that the next update uses `lr` and
/// later ones the schedule times the same factor. A callback that reads the rate and sets a
/// fraction of it (`ReduceLROnPlateau`) then reduces a scheduled rate as it reduces a constant
/// one, and no training run stops on a panic. Ignoring the call would leave such a callback
/// believing it had acted. When the schedule's current rate is 0 no factor reaches `lr`, and
/// the call changes nothing. The multiplier is not part of [`Optimizer::state`]: like every
/// kerust optimizer's learning rate, it is configuration ([`Scheduled::set_multiplier`]
/// restores it).
///
/// ```
/// use kerust::prelude::*;
/// use kerust::optim::schedules::ExponentialDecay;
///
/// // Adam(learning_rate=ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5))
/// let mut adam = Adam::default().with_schedule(ExponentialDecay::new(0.1, 2, 0.5));
/// let mut p = [0.0_f32];
/// adam.step(&mut p, &[1.0]); // uses lr(0) = 0.1
/// adam.step(&mut p, &[1.0]); // uses lr(1) = 0.1 * 0.5^0.5
/// assert_eq!(adam.learning_rate(), 0.05); // lr(2), for the next update
///
/// adam.set_learning_rate(0.025); // halves this and every later rate
/// assert_eq!(adam.multiplier(), 0.5);
/// ```
///
/// A schedule and clipping combine in either order, with one clipping option as in Keras:
///
/// ```compile_fail,E0277
/// use kerust::prelude::*;
///
/// let sgd = Sgd::new(0.1).clipnorm(1.0).with_schedule(|_: u64| 0.1).clipvalue(0.5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Scheduled<O, S> {
    inner: O,
    schedule: S,
    multiplier: f32,
}

impl<O: Optimizer, S: LearningRateSchedule> Scheduled<O, S> {
    /// `inner` with its learning rate taken from `schedule`; sets `inner`'s learning rate to
    /// the schedule's at `inner`'s iteration count.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let sgd = Scheduled::new(Sgd::default(), |step: u64| 0.1 / (step + 1) as f32);
    /// assert_eq!(sgd.inner().learning_rate, 0.1);
    /// ```
    pub fn new(mut inner: O, schedule: S) -> Self {
        inner.set_learning_rate(schedule.lr(inner.iterations()));
        Self {
            inner,
            schedule,
            multiplier: 1.0,
        }
    }

    /// The schedule.
    ///
    /// ```
    /// use kerust::prelude::*;
    /// use kerust::optim::schedules::{ExponentialDecay, LearningRateSchedule};
    ///
    /// let sgd = Sgd::default().with_schedule(ExponentialDecay::new(0.1, 10, 0.5));
    /// assert_eq!(sgd.schedule().lr(10), 0.05);
    /// ```
    pub fn schedule(&self) -> &S {
        &self.schedule
    }

    /// The factor applied to the schedule (1 unless [`Optimizer::set_learning_rate`] or
    /// [`Scheduled::set_multiplier`] changed it).
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// assert_eq!(Sgd::default().with_schedule(|_: u64| 0.1).multiplier(), 1.0);
    /// ```
    pub fn multiplier(&self) -> f32 {
        self.multiplier
    }

    /// Sets the factor applied to the schedule, e.g. to restore it with a checkpoint.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let mut sgd = Sgd::default().with_schedule(|_: u64| 0.5);
    /// sgd.set_multiplier(0.1);
    /// assert_eq!(sgd.learning_rate(), 0.05);
    /// ```
    pub fn set_multiplier(&mut self, multiplier: f32) {
        self.multiplier = multiplier;
        self.inner.set_learning_rate(self.current());
    }

    /// The wrapped optimizer.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// assert_eq!(Sgd::default().with_schedule(|_: u64| 0.5).inner().learning_rate, 0.5);
    /// ```
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The wrapped optimizer, mutable. Its learning rate is overwritten before each update.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let mut sgd = Sgd::default().with_schedule(|_: u64| 0.5);
    /// sgd.inner_mut().momentum = 0.9;
    /// ```
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.inner
    }

    /// The wrapped optimizer, with the learning rate it has now (the schedule's at its
    /// iteration count, times the multiplier).
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// assert_eq!(Sgd::default().with_schedule(|_: u64| 0.5).into_inner(), Sgd::new(0.5));
    /// ```
    pub fn into_inner(self) -> O {
        self.inner
    }

    /// The learning rate of the next update.
    fn current(&self) -> f32 {
        self.schedule.lr(self.inner.iterations()) * self.multiplier
    }
}

impl<O: Optimizer, S: LearningRateSchedule> Optimizer for Scheduled<O, S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    /// Sets the inner learning rate from the schedule, then steps the inner optimizer.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        self.inner.set_learning_rate(self.current());
        self.inner.step(params, grads);
    }

    /// [`Optimizer::step`], passing `tensors` on.
    fn step_tensors(&mut self, params: &mut [f32], grads: &[f32], tensors: &[Range<usize>]) {
        self.inner.set_learning_rate(self.current());
        self.inner.step_tensors(params, grads, tensors);
    }

    /// [`Optimizer::step_sum`], passing it on.
    fn step_sum(&mut self, params: &mut [f32], grads: &mut [f32], rest: &[&[f32]], tensors: &[Range<usize>]) {
        self.inner.set_learning_rate(self.current());
        self.inner.step_sum(params, grads, rest, tensors);
    }

    fn iterations(&self) -> u64 {
        self.inner.iterations()
    }

    /// The schedule's rate at [`Optimizer::iterations`] times the multiplier: the rate of the
    /// next update (Keras's `optimizer.learning_rate`).
    fn learning_rate(&self) -> f32 {
        self.current()
    }

    /// Scales the schedule so that the next update uses `lr` (see [`Scheduled`]); changes
    /// nothing when the schedule's current rate is 0.
    fn set_learning_rate(&mut self, lr: f32) {
        let multiplier = lr / self.schedule.lr(self.inner.iterations());
        if multiplier.is_finite() {
            self.set_multiplier(multiplier);
        }
    }

    /// The inner optimizer's state: the schedule keeps none beyond the iteration count.
    #[cfg(feature = "alloc")]
    fn state(&self) -> OptimizerState {
        self.inner.state()
    }

    /// Restores the inner optimizer's state; the schedule continues from the restored
    /// iteration count.
    #[cfg(feature = "alloc")]
    fn load_state(&mut self, state: OptimizerState) -> crate::Result<()> {
        self.inner.load_state(state)?;
        self.inner.set_learning_rate(self.current());
        Ok(())
    }
}

/// A scheduled optimizer that already clips accepts no second clipping option, as
/// [`Clipped`] itself (Keras allows one).
#[cfg(feature = "alloc")]
impl<O: Optimizer, S: LearningRateSchedule> Scheduled<Clipped<O>, S> {
    /// Does not compile: the inner optimizer already clips.
    pub fn clipnorm(self, clipnorm: f32) -> Self
    where
        Self: OneClippingOption,
    {
        let _ = clipnorm;
        self
    }

    /// Does not compile: the inner optimizer already clips.
    pub fn clipvalue(self, clipvalue: f32) -> Self
    where
        Self: OneClippingOption,
    {
        let _ = clipvalue;
        self
    }

    /// Does not compile: the inner optimizer already clips.
    pub fn global_clipnorm(self, global_clipnorm: f32) -> Self
    where
        Self: OneClippingOption,
    {
        let _ = global_clipnorm;
        self
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::optim::schedules::ExponentialDecay;
    use crate::optim::{Adam, OptimizerExt, Sgd};

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   ed = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    //   a = keras.Variable(A0); b = keras.Variable(B0)  # shapes (3,) and (2, 2)
    //   for ga, gb in G: opt.apply([ga, gb], [a, b])
    // with the values of `a` then `b` (flattened) afterwards, and `opt.learning_rate`.
    const P0: [f32; 7] = [1.0, -2.0, 0.5, 0.3, -0.7, 1.5, 2.0];
    const TENSORS: [Range<usize>; 2] = [0..3, 3..7];
    const G: [[f32; 7]; 3] = [
        [3.0, -4.0, 0.0, 0.1, 0.2, -0.3, 0.4],
        [0.3, 0.1, -0.2, 2.0, -1.0, 2.0, 4.0],
        [-1.0, 0.5, 2.5, 0.05, -0.05, 0.6, 0.0],
    ];
    /// `ed(3)`: Keras's `opt.learning_rate` after the 3 updates.
    const LR_AFTER: f32 = 0.035_355_34;

    fn ed() -> ExponentialDecay {
        ExponentialDecay::new(0.1, 2, 0.5)
    }

    fn run<O: Optimizer>(opt: &mut O) -> [f32; 7] {
        let mut p = P0;
        for g in &G {
            opt.step_tensors(&mut p, g, &TENSORS);
        }
        p
    }

    fn assert_close(actual: [f32; 7], expected: [f32; 7]) {
        for (a, e) in actual.iter().zip(&expected) {
            assert!(
                (a - e).abs() <= 2.4e-7 * e.abs().max(1.0),
                "{actual:?} != {expected:?}"
            );
        }
    }

    #[test]
    fn adam_with_exponential_decay_matches_keras() {
        // Adam(learning_rate=ed), 3 steps.
        let mut adam = Adam::default().with_schedule(ed());
        assert_eq!(adam.learning_rate(), 0.1);
        let keras = [
            0.8305087, -1.8329401, 0.5230706, 0.11428082, -0.7330248, 1.5223118, 1.8117384,
        ];
        assert_close(run(&mut adam), keras);
        assert_eq!((adam.iterations(), adam.name()), (3, "adam"));
        assert_eq!(adam.learning_rate(), LR_AFTER);
    }

    #[test]
    fn weight_decay_uses_the_scheduled_rate() {
        // Adam(learning_rate=ed, weight_decay=0.5), 3 steps.
        let mut adam = Adam::default().weight_decay(0.5).with_schedule(ed());
        assert_close(
            run(&mut adam),
            [
                0.73126745, -1.6270425, 0.46850616, 0.08965131, -0.653587, 1.3577431, 1.6061164,
            ],
        );
    }

    #[test]
    fn schedule_and_clipping_compose_in_either_order() {
        // Adam(learning_rate=ed, clipnorm=1.0), 3 steps.
        let keras = [
            0.81773037, -1.8449976, 0.52756816, 0.09969085, -0.788709, 1.5569849, 1.7944494,
        ];
        assert_close(run(&mut Adam::default().clipnorm(1.0).with_schedule(ed())), keras);
        let mut adam = Adam::default().with_schedule(ed()).clipnorm(1.0);
        assert_close(run(&mut adam), keras);
        assert_eq!(adam.learning_rate(), LR_AFTER);
        // Adam(learning_rate=ed, global_clipnorm=2.0), 3 steps.
        assert_close(
            run(&mut Adam::default().global_clipnorm(2.0).with_schedule(ed())),
            [
                0.8393366,
                -1.8363901,
                0.5219922,
                0.113689795,
                -0.7318041,
                1.5182421,
                1.8117601,
            ],
        );
    }

    #[test]
    fn set_learning_rate_scales_the_schedule() {
        let mut sgd = Sgd::default().with_schedule(ed());
        let mut p = [0.0_f32];
        sgd.step(&mut p, &[1.0]);
        // The next update would use ed(1) = 0.0707; ask for half of it.
        sgd.set_learning_rate(sgd.learning_rate() * 0.5);
        assert_eq!(sgd.multiplier(), 0.5);
        assert_eq!(sgd.inner().learning_rate, sgd.learning_rate());
        sgd.step(&mut p, &[1.0]);
        assert_eq!(p, [-0.1 - 0.5 * ed().lr(1)]);
        assert_eq!(sgd.learning_rate(), 0.025);
        // A rate of 0 cannot be scaled: nothing changes.
        let mut zero = Sgd::default().with_schedule(|step: u64| step as f32 * 0.01);
        zero.set_learning_rate(0.5);
        assert_eq!((zero.multiplier(), zero.learning_rate()), (1.0, 0.0));
    }

    #[test]
    fn restored_state_resumes_the_schedule() {
        let mut a = Adam::default().with_schedule(ed());
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        a.step(&mut pa, &G[1]);
        let mut b = Adam::default().with_schedule(ed());
        b.load_state(a.state()).unwrap();
        assert_eq!((b.iterations(), b.learning_rate()), (2, 0.05));
        assert_eq!(b.inner().learning_rate, 0.05);
        let mut pb = pa;
        a.step(&mut pa, &G[2]);
        b.step(&mut pb, &G[2]);
        assert_eq!((pa, a.state()), (pb, b.state()));
    }
}
