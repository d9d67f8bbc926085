//! [`EarlyStopping`]: stop when a monitored value has stopped improving.

use core::fmt;
use std::format;
use std::string::String;
use std::vec::Vec;

use super::monitor::{is_improvement, warn_missing, Mode};
use crate::train::{Callback, Context, Control, Logs};

/// Stops training when a monitored value has stopped improving (Keras's `EarlyStopping`).
///
/// At the end of each epoch from `start_from_epoch` on, with the monitored value in the
/// logs (epochs without it are skipped), Keras's rules apply:
///
/// 1. the epoch counts towards the wait: `wait += 1`;
/// 2. the value is an improvement if it beats the best so far by more than `min_delta`
///    (lower for [`Mode::Min`], higher for [`Mode::Max`]; the first value always is). Then it
///    becomes the best, and the wait goes back to 0 unless a `baseline` is set and the value
///    does not beat it by more than `min_delta` as well;
/// 3. otherwise training stops once `wait >= patience`, except at epoch 0.
///
/// So with `patience` 0 or 1, training stops at the first epoch that does not improve.
///
/// With `restore_best_weights`, the weights of the best epoch (or of the first monitored
/// epoch, if none improved) are put back when training ends, whether or not this callback
/// stopped it, as Keras 3 does.
///
/// ```
/// use kerust::train::callbacks::EarlyStopping;
/// use kerust::train::{Callback, Context, Control, Logs};
/// use kerust::optim::Sgd;
///
/// let mut early = EarlyStopping::new("loss").patience(2);
/// let (mut params, mut sgd) = (vec![0.0f32; 4], Sgd::new(0.1));
/// let mut ctx = Context::new(&mut params, &mut sgd);
/// early.on_train_begin(&mut ctx);
/// let mut stopped = None;
/// for (epoch, loss) in [1.0, 0.8, 0.9, 0.85, 0.7].into_iter().enumerate() {
///     let mut logs = Logs::default();
///     logs.set("loss", loss);
///     if early.on_epoch_end(epoch, &logs, &mut ctx) == Control::Stop {
///         stopped = Some(epoch);
///         break;
///     }
/// }
/// // 0.9 and 0.85 do not beat 0.8: the wait reaches 2 at epoch 3.
/// assert_eq!(stopped, Some(3));
/// assert_eq!((early.stopped_epoch(), early.best(), early.best_epoch()), (Some(3), Some(0.8), Some(1)));
/// ```
#[derive(Clone)]
pub struct EarlyStopping {
    /// The logs entry to watch (Keras default `"val_loss"`).
    pub monitor: String,
    /// The smallest change that counts as an improvement; its sign is ignored (default 0).
    pub min_delta: f64,
    /// Epochs without improvement after which training stops (default 0).
    pub patience: usize,
    /// Whether the value should go down or up (default [`Mode::Auto`]).
    pub mode: Mode,
    /// A value to beat: an epoch that improves on the best so far but not on the baseline
    /// does not reset the wait (default none).
    pub baseline: Option<f64>,
    /// Put back the weights of the best epoch when training ends (default `false`).
    pub restore_best_weights: bool,
    /// Epochs to let pass before watching, for a warm-up (default 0).
    pub start_from_epoch: usize,
    resolved: Option<Mode>,
    wait: usize,
    stopped_epoch: Option<usize>,
    best: Option<f64>,
    best_epoch: Option<usize>,
    best_weights: Option<Vec<f32>>,
    warned: bool,
}

impl EarlyStopping {
    /// Watches `monitor`, other settings Keras's defaults.
    pub fn new(monitor: impl Into<String>) -> Self {
        EarlyStopping {
            monitor: monitor.into(),
            min_delta: 0.0,
            patience: 0,
            mode: Mode::Auto,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            resolved: None,
            wait: 0,
            stopped_epoch: None,
            best: None,
            best_epoch: None,
            best_weights: None,
            warned: false,
        }
    }

    /// Sets [`EarlyStopping::min_delta`].
    #[must_use]
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// Sets [`EarlyStopping::patience`].
    #[must_use]
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Sets [`EarlyStopping::mode`].
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets [`EarlyStopping::baseline`].
    #[must_use]
    pub fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Sets [`EarlyStopping::restore_best_weights`].
    #[must_use]
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Sets [`EarlyStopping::start_from_epoch`].
    #[must_use]
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The epochs counted since the last improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// The epoch at which this callback stopped training, if it did (in the last `fit`).
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }

    /// The best monitored value so far, if any.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// The epoch of the best value (with `restore_best_weights`, the epoch whose weights
    /// are restored).
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    fn resolved(&mut self) -> Mode {
        *self
            .resolved
            .get_or_insert_with(|| self.mode.resolve_or_panic(&self.monitor, "EarlyStopping"))
    }

    fn save_weights(&mut self, params: &[f32]) {
        let w = self.best_weights.get_or_insert_with(Vec::new);
        w.clear();
        w.extend_from_slice(params);
    }
}

impl Default for EarlyStopping {
    /// `EarlyStopping::new("val_loss")`.
    fn default() -> Self {
        EarlyStopping::new("val_loss")
    }
}

impl fmt::Debug for EarlyStopping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EarlyStopping")
            .field("monitor", &self.monitor)
            .field("min_delta", &self.min_delta)
            .field("patience", &self.patience)
            .field("mode", &self.mode)
            .field("baseline", &self.baseline)
            .field("restore_best_weights", &self.restore_best_weights)
            .field("start_from_epoch", &self.start_from_epoch)
            .field("wait", &self.wait)
            .field("stopped_epoch", &self.stopped_epoch)
            .field("best", &self.best)
            .field("best_epoch", &self.best_epoch)
            .field(
                "best_weights",
                &self
                    .best_weights
                    .as_ref()
                    .map(|w| format!("[{} values]", w.len())),
            )
            .finish()
    }
}

impl Callback for EarlyStopping {
    /// Resets the state, so that one instance serves several `fit`s; checks the mode.
    ///
    /// # Panics
    ///
    /// If the mode is [`Mode::Auto`] and the monitor's name says nothing of its direction.
    fn on_train_begin(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
        self.resolved = None;
        self.resolved();
        self.wait = 0;
        self.stopped_epoch = None;
        self.best = None;
        self.best_epoch = None;
        self.best_weights = None;
        self.warned = false;
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        let resolved = self.resolved();
        let Some(current) = logs.get(&self.monitor) else {
            let message = format!(
                "Early stopping conditioned on metric `{}` which is not available.",
                self.monitor
            );
            warn_missing(&mut self.warned, &message, logs);
            return Control::Continue;
        };
        if epoch < self.start_from_epoch {
            return Control::Continue;
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            // Until some epoch improves, the first monitored one is the best.
            self.save_weights(ctx.params());
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        if is_improvement(resolved, self.min_delta, current, self.best) {
            self.best = Some(current);
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                self.save_weights(ctx.params());
            }
            // The wait restarts only for a value that beats the baseline too.
            if self.baseline.is_none() || is_improvement(resolved, self.min_delta, current, self.baseline) {
                self.wait = 0;
            }
            return Control::Continue;
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            return Control::Stop;
        }
        Control::Continue
    }

    /// With `restore_best_weights`, puts back the best epoch's weights.
    fn on_train_end(&mut self, logs: &Logs, ctx: &mut Context<'_>) {
        let _ = logs;
        if self.restore_best_weights {
            if let Some(w) = &self.best_weights {
                ctx.params_mut().copy_from_slice(w);
            }
        }
    }
}
