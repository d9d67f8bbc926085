//! [`TerminateOnNan`]: stop at the first batch whose loss is NaN or infinite.

use std::println;

use crate::train::{Callback, Context, Control, Logs};

/// Stops training after the first batch whose loss is NaN or infinite (Keras's
/// `TerminateOnNaN`), printing Keras's `Batch <n>: Invalid loss, terminating training`.
///
/// The batch's loss is the epoch's running mean, so one bad batch is enough. As for any
/// stop from a batch hook, the epoch ends after that batch and its validation and
/// `on_epoch_end` hooks still run.
///
/// ```
/// use kerust::train::callbacks::TerminateOnNan;
/// use kerust::train::{Callback, Context, Control, Logs};
/// use kerust::optim::Sgd;
///
/// let mut guard = TerminateOnNan::new();
/// let (mut params, mut sgd) = (vec![0.0f32; 4], Sgd::new(0.1));
/// let mut ctx = Context::new(&mut params, &mut sgd);
/// let mut logs = Logs::default();
/// logs.set("loss", 0.5);
/// assert_eq!(guard.on_train_batch_end(0, &logs, &mut ctx), Control::Continue);
/// logs.set("loss", f64::INFINITY);
/// assert_eq!(guard.on_train_batch_end(1, &logs, &mut ctx), Control::Stop);
/// assert_eq!(guard.stopped_at(), Some((0, 1)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[doc(alias = "TerminateOnNaN")]
pub struct TerminateOnNan {
    epoch: usize,
    stopped_at: Option<(usize, usize)>,
}

impl TerminateOnNan {
    /// A new guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `(epoch, batch)` at which it stopped training, if it did (in the last `fit`).
    pub fn stopped_at(&self) -> Option<(usize, usize)> {
        self.stopped_at
    }
}

impl Callback for TerminateOnNan {
    fn on_train_begin(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
        self.stopped_at = None;
    }

    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_>) {
        let _ = ctx;
        self.epoch = epoch;
    }

    fn on_train_batch_end(&mut self, step: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        let _ = ctx;
        match logs.get("loss") {
            Some(loss) if !loss.is_finite() => {
                println!("Batch {step}: Invalid loss, terminating training");
                self.stopped_at = Some((self.epoch, step));
                Control::Stop
            }
            _ => Control::Continue,
        }
    }
}
