//! [`LearningRateScheduler`]: set the learning rate before each epoch.

use core::fmt;

use crate::optim::schedules::LearningRateSchedule;
use crate::train::{Callback, Context};

/// Sets the learning rate at the start of every epoch to `schedule(epoch, lr)`, where
/// `epoch` counts from 0 and `lr` is the current rate (Keras's `LearningRateScheduler`).
///
/// ```
/// use kerust::train::callbacks::LearningRateScheduler;
/// use kerust::train::{Callback, Context};
/// use kerust::optim::Sgd;
///
/// // Keep the rate for two epochs, then halve it every epoch.
/// let mut scheduler = LearningRateScheduler::new(|epoch, lr| if epoch < 2 { lr } else { lr * 0.5 });
/// let (mut params, mut sgd) = (vec![0.0f32; 4], Sgd::new(0.1));
/// let mut ctx = Context::new(&mut params, &mut sgd);
/// let lrs: Vec<f32> = (0..4)
///     .map(|epoch| {
///         scheduler.on_epoch_begin(epoch, &mut ctx);
///         ctx.learning_rate()
///     })
///     .collect();
/// assert_eq!(lrs, [0.1, 0.1, 0.05, 0.025]);
/// ```
#[derive(Clone)]
pub struct LearningRateScheduler<F> {
    schedule: F,
}

impl<F: FnMut(usize, f32) -> f32 + Send> LearningRateScheduler<F> {
    /// Sets the learning rate to `schedule(epoch, current_lr)` before each epoch.
    pub fn new(schedule: F) -> Self {
        LearningRateScheduler { schedule }
    }
}

impl LearningRateScheduler<fn(usize, f32) -> f32> {
    /// Sets the learning rate to `schedule.lr(epoch)` before each epoch: a
    /// [`LearningRateSchedule`] evaluated per epoch rather than per step.
    ///
    /// ```
    /// use kerust::train::callbacks::LearningRateScheduler;
    /// use kerust::train::{Callback, Context};
    /// use kerust::optim::{schedules::ExponentialDecay, Sgd};
    ///
    /// let mut scheduler = LearningRateScheduler::from_schedule(ExponentialDecay::new(0.1, 1, 0.5));
    /// let (mut params, mut sgd) = (vec![0.0f32; 4], Sgd::new(1.0));
    /// let mut ctx = Context::new(&mut params, &mut sgd);
    /// scheduler.on_epoch_begin(2, &mut ctx);
    /// assert_eq!(ctx.learning_rate(), 0.025);
    /// ```
    pub fn from_schedule<S: LearningRateSchedule>(
        schedule: S,
    ) -> LearningRateScheduler<impl FnMut(usize, f32) -> f32 + Send> {
        LearningRateScheduler::new(move |epoch: usize, _lr: f32| schedule.lr(epoch as u64))
    }
}

impl<F> fmt::Debug for LearningRateScheduler<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LearningRateScheduler").finish_non_exhaustive()
    }
}

impl<F: FnMut(usize, f32) -> f32 + Send> Callback for LearningRateScheduler<F> {
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_>) {
        let lr = (self.schedule)(epoch, ctx.learning_rate());
        ctx.set_learning_rate(lr);
    }
}
