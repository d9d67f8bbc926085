//! [`ModelCheckpoint`]: write a checkpoint or the weights at each epoch, or at each
//! improvement; or hand the weights to a closure.

use core::fmt;
use std::format;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::Arc;

use super::monitor::{is_improvement, warn_missing, Mode};
use crate::io::checkpoint::{save_checkpoint_to, CheckpointInfo};
use crate::io::safetensors::{save_weights_to, TensorLayout};
use crate::train::{Callback, Context, Control, Logs};
use crate::{Error, Model, Result};

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

/// Saves during training (Keras's `ModelCheckpoint`) at every save point, or with
/// `save_best_only`, only when the monitored value improves.
///
/// - [`ModelCheckpoint::to_path`] writes files named after a Keras `filepath` template
///   (`"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"`): full training checkpoints (weights,
///   optimizer state, epoch, step count and seed, as `Trainer::save_checkpoint`, to resume
///   with `Trainer::load_checkpoint`), or with [`ModelCheckpoint::save_weights_only`] the
///   weights alone (as `save_weights`, to load with `load_weights`). Each file is written
///   atomically; a failed save stops training and is kept in [`ModelCheckpoint::error`].
/// - [`ModelCheckpoint::new`] calls `save(epoch, params, logs)` with the model's flat
///   parameters instead, leaving the saving to the closure. `epoch` counts from 0, as in
///   every hook (Keras's `{epoch}` in file names is `epoch + 1`).
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
    error: Option<Arc<Error>>,
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

/// Where training is when [`ModelCheckpoint`] saves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavePoint {
    /// The epoch, counted from 0.
    pub epoch: usize,
    /// With [`SaveFreq::Batches`], the batch of the epoch just trained, counted from 0;
    /// `None` at the end of an epoch.
    pub batch: Option<usize>,
}

/// What [`ModelCheckpoint`] does at a save point: implemented by closures
/// `FnMut(epoch, params, logs)` and by [`CheckpointFiles`].
pub trait CheckpointSaver {
    /// Saves the state `ctx` shows at `at`, with the epoch's `logs`.
    fn save(&mut self, at: SavePoint, ctx: &Context<'_>, logs: &Logs) -> Result<()>;
}

impl<F: FnMut(usize, &[f32], &Logs)> CheckpointSaver for F {
    fn save(&mut self, at: SavePoint, ctx: &Context<'_>, logs: &Logs) -> Result<()> {
        self(at.epoch, ctx.params(), logs);
        Ok(())
    }
}

/// The files [`ModelCheckpoint::to_path`] writes: a path template and the model's tensor
/// layout, captured when the callback is made (the callback sees only flat parameters).
#[derive(Clone, Debug)]
pub struct CheckpointFiles {
    template: String,
    layout: TensorLayout,
    weights_only: bool,
    last: Option<PathBuf>,
}

impl CheckpointSaver for CheckpointFiles {
    fn save(&mut self, at: SavePoint, ctx: &Context<'_>, logs: &Logs) -> Result<()> {
        let path = PathBuf::from(format_path(&self.template, at, logs)?);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.into(),
                source,
            })?;
        }
        if self.weights_only {
            save_weights_to(&path, &self.layout, ctx.params())?;
        } else {
            let info = CheckpointInfo {
                // Epochs completed: a save after a batch is inside its epoch.
                epoch: if at.batch.is_some() {
                    at.epoch
                } else {
                    at.epoch + 1
                },
                steps: ctx.steps_done(),
                seed: ctx.seed(),
                optimizer: ctx.optimizer_name().to_string(),
                iterations: ctx.iterations(),
                learning_rate: ctx.learning_rate(),
                model: self.layout.model_name().to_string(),
            };
            let state = ctx.optimizer_state();
            save_checkpoint_to(&path, &self.layout, ctx.params(), &state, &info)?;
        }
        self.last = Some(path);
        Ok(())
    }
}

/// A value for a `filepath` template field.
enum Field {
    Int(usize),
    Float(f64),
}

/// Fills Keras's `filepath` template: `{epoch}` (from 1), `{batch}` (from 1, batch saves
/// only) and any logs entry (`{val_loss}`), each with an optional format spec
/// `[0][width][.precision][d|f]`; `{{` and `}}` are braces.
fn format_path(template: &str, at: SavePoint, logs: &Logs) -> Result<String> {
    let err = |reason: String| Error::invalid_argument("filepath", reason);
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let (brace, after) = (rest.as_bytes()[i], &rest[i + 1..]);
        if after.as_bytes().first() == Some(&brace) {
            out.push(brace as char);
            rest = &after[1..];
            continue;
        }
        if brace == b'}' {
            return Err(err(format!("a single '}}' in {template:?} (write '}}}}')")));
        }
        let end = after
            .find('}')
            .ok_or_else(|| err(format!("a '{{' is not closed in {template:?}")))?;
        let (name, spec) = after[..end].split_once(':').unwrap_or((&after[..end], ""));
        let value = match (name, at.batch) {
            ("epoch", _) => Field::Int(at.epoch + 1),
            ("batch", Some(b)) => Field::Int(b + 1),
            _ => Field::Float(logs.get(name).ok_or_else(|| {
                err(format!(
                    "{{{name}}} in {template:?} is neither epoch, batch nor in the logs"
                ))
            })?),
        };
        out.push_str(
            &format_field(value, spec)
                .ok_or_else(|| err(format!("bad format spec {spec:?} in {template:?}")))?,
        );
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Formats one field after a `[0][width][.precision][d|f]` spec.
fn format_field(value: Field, spec: &str) -> Option<String> {
    let (spec, kind) = match spec.as_bytes().last() {
        Some(b'd') => (&spec[..spec.len() - 1], Some('d')),
        Some(b'f') => (&spec[..spec.len() - 1], Some('f')),
        _ => (spec, None),
    };
    let (width, precision) = match spec.split_once('.') {
        Some((w, p)) => (w, Some(p.parse::<usize>().ok().filter(|&p| p <= 32)?)),
        None => (spec, None),
    };
    let zero = width.starts_with('0');
    let width = if width.is_empty() {
        0
    } else {
        width.parse::<usize>().ok().filter(|&w| w <= 64)?
    };
    let text = match (value, kind, precision) {
        (Field::Int(v), None | Some('d'), None) => v.to_string(),
        (Field::Int(v), _, p) => format!("{:.*}", p.unwrap_or(6), v as f64),
        (Field::Float(_), Some('d'), _) => return None,
        (Field::Float(v), Some('f'), p) => format!("{:.*}", p.unwrap_or(6), v),
        (Field::Float(v), _, Some(p)) => format!("{v:.p$}"),
        (Field::Float(v), _, None) => format!("{v}"),
    };
    Some(if zero {
        format!("{text:0>width$}")
    } else {
        format!("{text:>width$}")
    })
}

impl ModelCheckpoint<CheckpointFiles> {
    /// Writes a training checkpoint of model type `M` to `filepath` at each save point
    /// (Keras's `ModelCheckpoint(filepath)`), atomically. The template's `{epoch}` is the
    /// epoch counted from 1, `{batch}` the batch (with [`SaveFreq::Batches`]), and any other
    /// field a logs entry, with Python's format specs `[0][width][.precision][d|f]`:
    /// `"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"`. Missing directories are created.
    ///
    /// A checkpoint written at the end of epoch `e` (from 0) records `e + 1` epochs done;
    /// `Trainer::load_checkpoint` then resumes exactly. A checkpoint written after a batch
    /// records the epoch it is inside as not done: resuming repeats that epoch (with the
    /// step count of the save), so it is not bit-identical to an unbroken run.
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<2> { out: Dense(1) } }
    /// let data = Dataset::new(vec![0.0, 1.0, 1.0, 0.0], &[2], Target::Values { data: vec![1.0, 0.0], width: 1 })?;
    /// let dir = std::env::temp_dir().join(format!("kerust-doc-mc-{}", std::process::id()));
    ///
    /// let mut checkpoint = ModelCheckpoint::to_path::<Net>(dir.join("ckpt-{epoch:02d}.safetensors").to_str().unwrap())
    ///     .monitor("loss")
    ///     .save_best_only(true);
    /// let mut trainer = Net::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
    /// trainer.fit(&data, FitOptions { epochs: 3, verbose: Verbosity::Silent, callbacks: vec![&mut checkpoint], ..Default::default() })?;
    /// assert_eq!(checkpoint.last_path(), Some(dir.join("ckpt-03.safetensors").as_path()));
    ///
    /// let mut resumed = Net::new(1).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
    /// assert_eq!(resumed.load_checkpoint(dir.join("ckpt-03.safetensors"))?.epoch, 3);
    /// assert_eq!(resumed.model().params(), trainer.model().params());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), kerust::Error>(())
    /// ```
    pub fn to_path<M: Model>(filepath: impl Into<String>) -> Self {
        Self::with_saver(CheckpointFiles {
            template: filepath.into(),
            layout: TensorLayout::of::<M>(),
            weights_only: false,
            last: None,
        })
    }

    /// Write only the weights, as `save_weights` does (default `false`: full checkpoints).
    #[must_use]
    pub fn save_weights_only(mut self, weights_only: bool) -> Self {
        self.save.weights_only = weights_only;
        self
    }

    /// The file written last, if any.
    pub fn last_path(&self) -> Option<&Path> {
        self.save.last.as_deref()
    }
}

impl<F: FnMut(usize, &[f32], &Logs) + Send> ModelCheckpoint<F> {
    /// Calls `save` at the end of every epoch; monitors `"val_loss"` for
    /// [`ModelCheckpoint::save_best_only`]. Other settings are Keras's defaults.
    pub fn new(save: F) -> Self {
        Self::with_saver(save)
    }
}

impl<F> ModelCheckpoint<F> {
    fn with_saver(save: F) -> Self {
        ModelCheckpoint {
            save,
            error: None,
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

    /// The error of the last failed save, if any (a failed save stops training).
    pub fn error(&self) -> Option<&Error> {
        self.error.as_deref()
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
}

impl<F: CheckpointSaver> ModelCheckpoint<F> {
    /// Keras's `_should_save_model` then the save; a failed save stops training.
    fn save_model(&mut self, batch: Option<usize>, logs: &Logs, ctx: &Context<'_>) -> Control {
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
                Some(_) => return Control::Continue,
            }
        }
        let at = SavePoint {
            epoch: self.epoch,
            batch,
        };
        match self.save.save(at, ctx, logs) {
            Ok(()) => Control::Continue,
            Err(e) => {
                std::eprintln!("ModelCheckpoint: {e}; training stops");
                self.error = Some(Arc::new(e));
                Control::Stop
            }
        }
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

impl<F: CheckpointSaver + Send> Callback for ModelCheckpoint<F> {
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
                return self.save_model(Some(step), logs, ctx);
            }
        }
        Control::Continue
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut Context<'_>) -> Control {
        self.resolved();
        if self.save_freq == SaveFreq::Epoch {
            self.epoch = epoch;
            return self.save_model(None, logs, ctx);
        }
        Control::Continue
    }
}
