//! Callbacks: hooks into the training loop, as Keras's `keras.callbacks.Callback`.

use super::Logs;
use crate::optim::{Optimizer, OptimizerState};

/// Whether training goes on after a hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop training (Keras's `model.stop_training = True`): from
    /// [`Callback::on_epoch_end`], after that epoch; from [`Callback::on_train_batch_end`],
    /// after that batch, ending the epoch early (its validation and `on_epoch_end` still run).
    Stop,
}

/// What a callback may see and change during training: the model's flat parameters and
/// the optimizer's learning rate (Keras callbacks reach them as `self.model`).
pub struct Context<'a> {
    params: &'a mut [f32],
    optimizer: &'a mut dyn Optimizer,
    steps_done: u64,
    seed: u64,
}

impl<'a> Context<'a> {
    /// A context over `params` and `optimizer`; [`Context::steps_done`] is the optimizer's
    /// iteration count and [`Context::seed`] 0 until [`Context::with_training_state`] sets them.
    pub fn new(params: &'a mut [f32], optimizer: &'a mut dyn Optimizer) -> Self {
        let steps_done = optimizer.iterations();
        Context {
            params,
            optimizer,
            steps_done,
            seed: 0,
        }
    }

    /// Sets the trainer's step count and the run's seed (what checkpoints record).
    #[must_use]
    pub fn with_training_state(mut self, steps_done: u64, seed: u64) -> Self {
        self.steps_done = steps_done;
        self.seed = seed;
        self
    }

    /// The training steps the trainer has taken (see `Trainer::steps_done`).
    pub fn steps_done(&self) -> u64 {
        self.steps_done
    }

    /// The seed of the running `fit`.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The optimizer's name (`"adam"`).
    pub fn optimizer_name(&self) -> &'static str {
        self.optimizer.name()
    }

    /// A copy of the optimizer's variables (for checkpoints).
    pub fn optimizer_state(&self) -> OptimizerState {
        self.optimizer.state()
    }

    /// The model's parameters, as one flat slice (see `Model::params`).
    pub fn params(&self) -> &[f32] {
        self.params
    }

    /// The model's parameters, mutable (e.g. to restore the best weights).
    pub fn params_mut(&mut self) -> &mut [f32] {
        self.params
    }

    /// The optimizer's current learning rate.
    pub fn learning_rate(&self) -> f32 {
        self.optimizer.learning_rate()
    }

    /// Sets the optimizer's learning rate.
    pub fn set_learning_rate(&mut self, lr: f32) {
        self.optimizer.set_learning_rate(lr);
    }

    /// The number of optimizer steps taken so far.
    pub fn iterations(&self) -> u64 {
        self.optimizer.iterations()
    }
}

/// Hooks called by [`crate::train::Trainer::fit`]. Every method has an empty default.
///
/// Callbacks are [`Send`]: with the `parallel` feature, `fit` runs its loop, hooks
/// included, on one of rayon's threads, so that the calling thread does not sit between
/// the pool and every step (W1 trains ~10% faster; `benches/README.md`). Keep shared
/// state in `Arc`/`Mutex` or channels rather than `Rc`/`RefCell`.
///
/// ```
/// use kerust::train::{Callback, Context, Control, Logs};
/// struct StopAtLoss(f64);
/// impl Callback for StopAtLoss {
///     fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs, _ctx: &mut Context<'_>) -> Control {
///         if logs.loss() < self.0 { Control::Stop } else { Control::Continue }
///     }
/// }
/// ```
pub trait Callback: Send {
    /// Before the first epoch.
    fn on_train_begin(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
    }
    /// After the last epoch, with the last epoch's logs.
    fn on_train_end(&mut self, logs: &Logs, ctx: &mut Context<'_>) {
        let _ = (logs, ctx);
    }
    /// Before epoch `epoch` (counted from 0).
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_>) {
        let _ = (epoch, ctx);
    }
    /// After epoch `epoch`, with its training and validation results.
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        let _ = (epoch, logs, ctx);
        Control::Continue
    }
    /// Before training step `step` of the epoch.
    fn on_train_batch_begin(&mut self, step: usize, ctx: &mut Context<'_>) {
        let _ = (step, ctx);
    }
    /// After training step `step`, with the epoch's running results.
    fn on_train_batch_end(&mut self, step: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        let _ = (step, logs, ctx);
        Control::Continue
    }
}
