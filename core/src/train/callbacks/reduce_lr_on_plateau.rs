//! [`ReduceLrOnPlateau`]: lower the learning rate when a monitored value stops improving.

use std::format;
use std::string::String;

use super::monitor::{is_improvement, warn_missing, Mode};
use crate::train::{Callback, Context, Control, Logs};

/// Multiplies the learning rate by `factor` when a monitored value has not improved for
/// `patience` epochs (Keras's `ReduceLROnPlateau`).
///
/// At the end of each epoch with the monitored value in the logs, Keras's rules apply:
///
/// 1. during a cooldown (`cooldown` epochs after a reduction), the cooldown counter goes
///    down by one and the wait is reset to 0;
/// 2. a value that beats the best so far by more than `min_delta` (lower for [`Mode::Min`],
///    higher for [`Mode::Max`]; the first value of a `fit` always does) becomes the best and
///    resets the wait;
/// 3. otherwise, outside a cooldown, `wait += 1`; once `wait >= patience`, if the learning
///    rate is above `min_lr`, it becomes `max(lr * factor, min_lr)` (computed in `f64`, as
///    Keras computes on Python floats), the cooldown starts and the wait is reset.
///
/// The name `"learning_rate"` monitors the optimizer's learning rate itself, which Keras adds
/// to the logs.
///
/// ```
/// use kerust::train::callbacks::ReduceLrOnPlateau;
/// use kerust::train::{Callback, Context, Logs};
/// use kerust::optim::Sgd;
///
/// let mut plateau = ReduceLrOnPlateau::new("loss").factor(0.5).patience(2);
/// let (mut params, mut sgd) = (vec![0.0f32; 4], Sgd::new(1.0));
/// let mut ctx = Context::new(&mut params, &mut sgd);
/// plateau.on_train_begin(&mut ctx);
/// let mut lrs = Vec::new();
/// for (epoch, loss) in [1.0, 1.0, 1.0, 0.5, 0.5, 0.5].into_iter().enumerate() {
///     let mut logs = Logs::default();
///     logs.set("loss", loss);
///     plateau.on_epoch_end(epoch, &logs, &mut ctx);
///     lrs.push(ctx.learning_rate());
/// }
/// // Two epochs without improvement (1 and 2), then two more (4 and 5).
/// assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.5, 0.25]);
/// ```
#[derive(Clone, Debug)]
#[doc(alias = "ReduceLROnPlateau")]
pub struct ReduceLrOnPlateau {
    /// The logs entry to watch (Keras default `"val_loss"`).
    pub monitor: String,
    /// The factor applied to the learning rate, below 1 (default 0.1).
    pub factor: f64,
    /// Epochs without improvement after which the rate is lowered (default 10).
    pub patience: usize,
    /// Whether the value should go down or up (default [`Mode::Auto`]).
    pub mode: Mode,
    /// The smallest change that counts as an improvement; its sign is ignored (default
    /// `1e-4`).
    pub min_delta: f64,
    /// Epochs after a reduction during which epochs without improvement are not counted
    /// (default 0).
    pub cooldown: usize,
    /// The learning rate is never lowered below this (default 0).
    pub min_lr: f64,
    resolved: Option<Mode>,
    wait: usize,
    cooldown_counter: usize,
    best: Option<f64>,
    warned: bool,
}

impl ReduceLrOnPlateau {
    /// Watches `monitor`, other settings Keras's defaults.
    pub fn new(monitor: impl Into<String>) -> Self {
        ReduceLrOnPlateau {
            monitor: monitor.into(),
            factor: 0.1,
            patience: 10,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            resolved: None,
            wait: 0,
            cooldown_counter: 0,
            best: None,
            warned: false,
        }
    }

    /// Sets [`ReduceLrOnPlateau::factor`].
    ///
    /// # Panics
    ///
    /// If `factor >= 1.0` (Keras raises a `ValueError`).
    #[must_use]
    pub fn factor(mut self, factor: f64) -> Self {
        assert!(
            factor < 1.0,
            "ReduceLrOnPlateau does not support a factor >= 1.0. Received factor={factor}"
        );
        self.factor = factor;
        self
    }

    /// Sets [`ReduceLrOnPlateau::patience`].
    #[must_use]
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Sets [`ReduceLrOnPlateau::mode`].
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets [`ReduceLrOnPlateau::min_delta`].
    #[must_use]
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// Sets [`ReduceLrOnPlateau::cooldown`].
    #[must_use]
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets [`ReduceLrOnPlateau::min_lr`].
    #[must_use]
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// The epochs counted without improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// The cooldown epochs left.
    pub fn cooldown_counter(&self) -> usize {
        self.cooldown_counter
    }

    /// Whether a cooldown is running.
    pub fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }

    /// The best monitored value so far, if any.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    fn resolved(&mut self) -> Mode {
        *self
            .resolved
            .get_or_insert_with(|| self.mode.resolve_or_panic(&self.monitor, "ReduceLrOnPlateau"))
    }
}

impl Default for ReduceLrOnPlateau {
    /// `ReduceLrOnPlateau::new("val_loss")`.
    fn default() -> Self {
        ReduceLrOnPlateau::new("val_loss")
    }
}

impl Callback for ReduceLrOnPlateau {
    /// Resets the wait, the cooldown and the best value; checks the mode.
    ///
    /// # Panics
    ///
    /// If the mode is [`Mode::Auto`] and the monitor's name says nothing of its direction.
    fn on_train_begin(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
        self.resolved = None;
        self.resolved();
        self.wait = 0;
        self.cooldown_counter = 0;
        self.best = None;
        self.warned = false;
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        let _ = epoch;
        let resolved = self.resolved();
        let current = logs
            .get(&self.monitor)
            .or_else(|| (self.monitor == "learning_rate").then(|| f64::from(ctx.learning_rate())));
        let Some(current) = current else {
            let message = format!(
                "Learning rate reduction is conditioned on metric `{}` which is not available.",
                self.monitor
            );
            warn_missing(&mut self.warned, &message, logs);
            return Control::Continue;
        };
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if is_improvement(resolved, self.min_delta, current, self.best) {
            self.best = Some(current);
            self.wait = 0;
        } else if !self.in_cooldown() {
            self.wait += 1;
            if self.wait >= self.patience {
                let old_lr = f64::from(ctx.learning_rate());
                // Keras compares with `np.float32(min_lr)`, then computes in Python floats.
                if old_lr > f64::from(self.min_lr as f32) {
                    let new_lr = (old_lr * self.factor).max(self.min_lr);
                    ctx.set_learning_rate(new_lr as f32);
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Control::Continue
    }
}
