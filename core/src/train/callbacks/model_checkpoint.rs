//! [`ModelCheckpoint`]: hand the weights to a closure at each epoch, or at each improvement.

use core::fmt;
use std::format;
use std::string::String;

use super::monitor::{is_improvement, warn_missing, Mode};
use crate::train::{Callback, Context, Control, Logs};

/// When [`ModelCheckpoint`] saves (Keras's `save_freq`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SaveFreq {
    /// At the end of every epoch (Keras's `"epoch"`).
    #[default]
    Epoch,
    /// After every this many training batches, counted across epochs (Keras's integer
    /// `save_freq`), with the epoch's running logs; 0 acts as 1.
    Batches(usize),
}

/// Saves the weights during training (Keras's `ModelCheckpoint`): calls `save(epoch,
/// params, logs)` with the model's flat parameters at every save point, or with
/// `save_best_only`, only when the monitored value improves.
///
/// Until kerust has a weights file format, saving is the closure's business (copy the
/// weights, write them out); a file-writing constructor with Keras's `filepath` arrives with
/// the persistence work. `epoch` counts from 0, as in every hook (Keras's `{epoch}` in file
/// names is `epoch + 1`).
///
/// With `save_best_only`, Keras's rules apply at each save point: a value that beats the
/// best so far (lower for [`Mode::Min`], higher for [`Mode::Max`]; the first value always
/// does, unless an `initial_value_threshold` is set and it does not beat that) is saved and
/// becomes the best; a missing value saves anyway. The best value carries over from one
/// `fit` to the next, as in Keras.
///
/// ```
/// use kerust::train::callbacks::ModelCheckpoint;
/// use kerust::train::{Callback, Context, Logs};
/// use kerust::optim::Sgd;
///
/// let mut saved = Vec::new();
/// let mut checkpoint = ModelCheckpoint::new(|epoch, params: &[f32], _logs: &Logs| {
///     saved.push((epoch, params.to_vec()))
/// })
/// .monitor("val_loss")
/// .save_best_only(true);
/// let (mut params, mut sgd) = (vec![0.0f32; 2], Sgd::new(0.1));
/// let mut ctx = Context::new(&mut params, &mut sgd);
/// checkpoint.on_train_begin(&mut ctx);
/// for (epoch, val_loss) in [0.5, 0.4, 0.45, 0.3].into_iter().enumerate() {
///     ctx.params_mut().fill(epoch as f32);
///     let mut logs = Logs::default();
///     logs.set("val_loss", val_loss);
///     checkpoint.on_epoch_end(epoch, &logs, &mut ctx);
/// }
/// let epochs: Vec<usize> = saved.iter().map(|s| s.0).collect();
/// assert_eq!(epochs, [0, 1, 3]);
/// assert_eq!(saved[2].1, [3.0, 3.0]);
/// ```
#[derive(Clone)]
pub struct ModelCheckpoint<F> {
    save: F,
    monitor: String,
    mode: Mode,
    save_best_only: bool,
    save_freq: SaveFreq,
    resolved: Option<Mode>,
    best: Option<f64>,
    epoch: usize,
    batches_since_save: usize,
    last_batch_seen: usize,
    warned: bool,
}

impl<F: FnMut(usize, &[f32], &Logs)> ModelCheckpoint<F> {
    /// Calls `save` at the end of every epoch; monitors `"val_loss"` for
    /// [`ModelCheckpoint::save_best_only`]. Other settings are Keras's defaults.
    pub fn new(save: F) -> Self {
        ModelCheckpoint {
            save,
            monitor: "val_loss".into(),
            mode: Mode::Auto,
            save_best_only: false,
            save_freq: SaveFreq::Epoch,
            resolved: None,
            best: None,
            epoch: 0,
            batches_since_save: 0,
            last_batch_seen: 0,
            warned: false,
        }
    }

    /// The logs entry to watch (default `"val_loss"`).
    #[must_use]
    pub fn monitor(mut self, monitor: impl Into<String>) -> Self {
        self.monitor = monitor.into();
        self
    }

    /// Whether the monitored value should go down or up (default [`Mode::Auto`]).
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Save only when the monitored value improves (default `false`).
    #[must_use]
    pub fn save_best_only(mut self, save_best_only: bool) -> Self {
        self.save_best_only = save_best_only;
        self
    }

    /// When to save (default [`SaveFreq::Epoch`]).
    #[must_use]
    pub fn save_freq(mut self, save_freq: SaveFreq) -> Self {
        self.save_freq = save_freq;
        self
    }

    /// The value the first save must beat with `save_best_only` (default none: the first
    /// value is saved).
    #[must_use]
    pub fn initial_value_threshold(mut self, threshold: f64) -> Self {
        self.best = Some(threshold);
        self
    }

    /// The best monitored value so far (or the initial threshold), if any.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    fn resolved(&mut self) -> Mode {
        *self
            .resolved
            .get_or_insert_with(|| self.mode.resolve_or_panic(&self.monitor, "ModelCheckpoint"))
    }

    /// Keras's `_should_save_on_batch`: counts the batches since the last save.
    fn should_save_on_batch(&mut self, step: usize, every: usize) -> bool {
        let added = if step <= self.last_batch_seen {
            // A new epoch.
            step + 1
        } else {
            step - self.last_batch_seen
        };
        self.batches_since_save += added;
        self.last_batch_seen = step;
        if self.batches_since_save >= every {
            self.batches_since_save = 0;
            true
        } else {
            false
        }
    }

    /// Keras's `_should_save_model` then the save.
    fn save_model(&mut self, logs: &Logs, ctx: &Context<'_>) {
        if self.save_best_only {
            let resolved = self.resolved();
            match logs.get(&self.monitor) {
                None => {
                    let message = format!("Can save best model only with {} available.", self.monitor);
                    warn_missing(&mut self.warned, &message, logs);
                }
                Some(current) if is_improvement(resolved, 0.0, current, self.best) => {
                    self.best = Some(current);
                }
                Some(_) => return,
            }
        }
        (self.save)(self.epoch, ctx.params(), logs);
    }
}

impl<F> fmt::Debug for ModelCheckpoint<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelCheckpoint")
            .field("monitor", &self.monitor)
            .field("mode", &self.mode)
            .field("save_best_only", &self.save_best_only)
            .field("save_freq", &self.save_freq)
            .field("best", &self.best)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(usize, &[f32], &Logs)> Callback for ModelCheckpoint<F> {
    /// Checks the mode.
    ///
    /// # Panics
    ///
    /// If the mode is [`Mode::Auto`] and the monitor's name says nothing of its direction
    /// (as Keras, even without `save_best_only`).
    fn on_train_begin(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
        self.resolved = None;
        self.resolved();
        self.warned = false;
    }

    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_>) {
        let _ = ctx;
        self.epoch = epoch;
    }

    fn on_train_batch_end(&mut self, step: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        if let SaveFreq::Batches(every) = self.save_freq {
            if self.should_save_on_batch(step, every) {
                self.save_model(logs, ctx);
            }
        }
        Control::Continue
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        self.resolved();
        if self.save_freq == SaveFreq::Epoch {
            self.epoch = epoch;
            self.save_model(logs, ctx);
        }
        Control::Continue
    }
}
