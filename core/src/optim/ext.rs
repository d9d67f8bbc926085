//! [`OptimizerExt`]: Keras's common optimizer options (`clipnorm`, `clipvalue`,
//! `global_clipnorm`, a learning-rate schedule) for every optimizer, by wrapping it.

use super::schedules::LearningRateSchedule;
#[cfg(feature = "alloc")]
use super::{Clip, Clipped};
use super::{Optimizer, Scheduled};

/// Keras's options common to all optimizers, for every [`Optimizer`]: each returns the
/// optimizer wrapped in [`Clipped`] or [`Scheduled`], itself an [`Optimizer`].
///
/// Keras allows one of `clipnorm`, `clipvalue` and `global_clipnorm`; a second one on an
/// optimizer that already clips does not compile (see [`Clipped`]). Clipping and a schedule
/// combine in either order.
///
/// ```
/// use kerust::prelude::*;
/// use kerust::optim::schedules::CosineDecay;
///
/// // Keras: Adam(learning_rate=CosineDecay(0.01, 1000), global_clipnorm=1.0)
/// let adam = Adam::default().global_clipnorm(1.0).with_schedule(CosineDecay::new(0.01, 1000));
/// assert_eq!(adam.learning_rate(), 0.01);
/// ```
pub trait OptimizerExt: Optimizer + Sized {
    /// Clips each parameter tensor's gradient to norm `clipnorm` (Keras's `clipnorm`): see
    /// [`Clip::Norm`]. Per tensor in [`Optimizer::step_tensors`]; [`Optimizer::step`] treats
    /// the whole slice as one tensor. A `clipnorm` that is not positive clips nothing.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let mut sgd = Sgd::new(1.0).clipnorm(1.0);
    /// let mut p = [0.0_f32; 2];
    /// sgd.step(&mut p, &[3.0, 4.0]); // norm 5: scaled by 1/5
    /// assert!((p[0] + 0.6).abs() < 1e-7 && (p[1] + 0.8).abs() < 1e-7);
    /// ```
    #[cfg(feature = "alloc")]
    fn clipnorm(self, clipnorm: f32) -> Clipped<Self> {
        Clipped::new(self, Clip::Norm(clipnorm))
    }

    /// Clamps every gradient element to `[-clipvalue, clipvalue]` (Keras's `clipvalue`). A
    /// `clipvalue` that is not positive clips nothing.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let mut sgd = Sgd::new(1.0).clipvalue(0.5);
    /// let mut p = [0.0_f32; 3];
    /// sgd.step(&mut p, &[3.0, -4.0, 0.25]);
    /// assert_eq!(p, [-0.5, 0.5, -0.25]);
    /// ```
    #[cfg(feature = "alloc")]
    fn clipvalue(self, clipvalue: f32) -> Clipped<Self> {
        Clipped::new(self, Clip::Value(clipvalue))
    }

    /// Scales all gradients together so that their global norm is at most
    /// `global_clipnorm` (Keras's `global_clipnorm`): see [`Clip::GlobalNorm`]. A
    /// `global_clipnorm` that is not positive clips nothing.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let mut sgd = Sgd::new(1.0).global_clipnorm(1.0);
    /// let mut p = [0.0_f32; 2];
    /// // Two tensors of norms 3 and 4: the global norm is 5, whatever the ranges.
    /// sgd.step_tensors(&mut p, &[3.0, 4.0], &[0..1, 1..2]);
    /// assert!((p[0] + 0.6).abs() < 1e-7 && (p[1] + 0.8).abs() < 1e-7);
    /// ```
    #[cfg(feature = "alloc")]
    fn global_clipnorm(self, global_clipnorm: f32) -> Clipped<Self> {
        Clipped::new(self, Clip::GlobalNorm(global_clipnorm))
    }

    /// Takes the learning rate from `schedule`, evaluated at [`Optimizer::iterations`]
    /// before each update (Keras's `learning_rate=schedule`): see [`Scheduled`].
    ///
    /// ```
    /// use kerust::prelude::*;
    /// use kerust::optim::schedules::PiecewiseConstantDecay;
    ///
    /// let mut sgd = Sgd::default().with_schedule(PiecewiseConstantDecay::new([1], [1.0, 0.5]));
    /// let mut p = [0.0_f32];
    /// for _ in 0..3 {
    ///     sgd.step(&mut p, &[1.0]); // lr(0) = 1, lr(1) = 1, lr(2) = 0.5
    /// }
    /// assert_eq!(p, [-2.5]);
    /// ```
    fn with_schedule<S: LearningRateSchedule>(self, schedule: S) -> Scheduled<Self, S> {
        Scheduled::new(self, schedule)
    }
}

impl<O: Optimizer> OptimizerExt for O {}
