//! Callbacks: hooks into the training loop, as Keras's `keras.callbacks.Callback`.

use super::Logs;

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

/// Hooks called by [`crate::train::Trainer::fit`]. Every method has an empty default.
///
/// ```
/// use kerust::train::{Callback, Control, Logs};
/// struct StopAtLoss(f64);
/// impl Callback for StopAtLoss {
///     fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs) -> Control {
///         if logs.loss() < self.0 { Control::Stop } else { Control::Continue }
///     }
/// }
/// ```
pub trait Callback {
    /// Before the first epoch.
    fn on_train_begin(&mut self) {}
    /// After the last epoch, with the last epoch's logs.
    fn on_train_end(&mut self, logs: &Logs) {
        let _ = logs;
    }
    /// Before epoch `epoch` (counted from 0).
    fn on_epoch_begin(&mut self, epoch: usize) {
        let _ = epoch;
    }
    /// After epoch `epoch`, with its training and validation results.
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs) -> Control {
        let _ = (epoch, logs);
        Control::Continue
    }
    /// Before training step `step` of the epoch.
    fn on_train_batch_begin(&mut self, step: usize) {
        let _ = step;
    }
    /// After training step `step`, with the epoch's running results.
    fn on_train_batch_end(&mut self, step: usize, logs: &Logs) -> Control {
        let _ = (step, logs);
        Control::Continue
    }
}
