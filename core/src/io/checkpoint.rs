//! Training checkpoints: weights, optimizer state, epoch, step count and seed in one
//! safetensors file, so that training resumed from a checkpoint is bit-identical to
//! training that never stopped.
//!
//! # Format
//!
//! A safetensors file whose tensors are the model's weights (named as in a weights file,
//! `<layer>/<param>`) and the optimizer's slots, each as long as the flat parameters
//! (`optimizer/momentum`, `optimizer/velocity`, ... shape `[PARAM_COUNT]`, `F32`), with
//! this metadata (all values are strings, as safetensors requires):
//!
//! | key | value |
//! |---|---|
//! | `kerust` | `"checkpoint"` |
//! | `version` | `"1"` |
//! | `model` | the model's name |
//! | `epoch` | epochs completed: `FitOptions::initial_epoch` of the resumed `fit` |
//! | `steps` | training steps taken ([`Trainer::steps_done`]) |
//! | `seed` | the `FitOptions::seed` of the run |
//! | `optimizer` | the optimizer's name (`"adam"`) |
//! | `iterations` | the optimizer's iteration count |
//! | `learning_rate` | its learning rate (shortest decimal that reads back exactly) |
//!
//! # What makes a resume bit-identical
//!
//! `fit` draws no state from a running generator: each epoch's shuffle derives from
//! `(seed, epoch)` and each step's dropout masks from `(seed, steps_done, shard)`. So the
//! weights (with any moving statistics), the optimizer's variables, the step count and the
//! seed are the whole state; resume with `initial_epoch` = the saved `epoch` and the same
//! data, batch size and seed. Callbacks keep their own state (a scheduler's patience, an
//! early stopper's best value), which checkpoints do not hold, as in Keras.

use std::format;
use std::path::Path;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use super::safetensors::{
    bad, in_file, read_limited, safetensors_bytes, save_safetensors, weight_tensors, F32Tensor,
    SafetensorsFile, TensorLayout, KIND_KEY, MAX_HEADER,
};
use crate::optim::{Optimizer, OptimizerState};
use crate::train::Objective;
use crate::train::Trainer;
use crate::{Error, Model, Result};

/// The most optimizer slots a checkpoint may hold (Adam with `amsgrad` keeps 3).
pub const MAX_SLOTS: usize = 8;

/// The longest optimizer name accepted.
const MAX_NAME: usize = 256;

/// What a checkpoint says about the run it was saved from.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointInfo {
    /// Epochs completed: resume with `FitOptions { initial_epoch: epoch, .. }`.
    pub epoch: usize,
    /// Training steps taken (the dropout masks of the next step derive from it).
    pub steps: u64,
    /// The `FitOptions::seed` of the run: resume with the same.
    pub seed: u64,
    /// The optimizer's name (`"adam"`).
    pub optimizer: String,
    /// The optimizer's iteration count.
    pub iterations: u64,
    /// The optimizer's learning rate.
    pub learning_rate: f32,
    /// The name of the model it was saved from.
    pub model: String,
}

/// A checkpoint read and checked against a model's layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The run's position and settings.
    pub info: CheckpointInfo,
    /// The model's flat parameters.
    pub params: Vec<f32>,
    /// The optimizer's variables.
    pub optimizer: OptimizerState,
}

/// The metadata entries of a checkpoint.
type CheckpointMetadata = [(&'static str, String); 9];

/// The tensors and metadata of a checkpoint.
fn checkpoint_parts<'a>(
    layout: &TensorLayout,
    params: &'a [f32],
    state: &'a OptimizerState,
    info: &CheckpointInfo,
) -> Result<(Vec<F32Tensor<'a>>, CheckpointMetadata)> {
    assert_eq!(
        params.len(),
        layout.param_count(),
        "params do not match the layout"
    );
    if state.slots.len() > MAX_SLOTS {
        return Err(Error::invalid_argument(
            "state",
            format!("{} optimizer slots, at most {MAX_SLOTS}", state.slots.len()),
        ));
    }
    let mut tensors = weight_tensors(layout, params);
    for (slot, values) in &state.slots {
        let name = format!("optimizer/{slot}");
        if values.len() != params.len() {
            return Err(Error::invalid_argument(
                "state",
                format!(
                    "slot `{slot}` holds {} values, the model {}",
                    values.len(),
                    params.len()
                ),
            ));
        }
        if tensors.iter().any(|t| t.name == name) {
            return Err(Error::invalid_argument(
                "state",
                format!("the tensor name `{name}` is taken twice"),
            ));
        }
        tensors.push(F32Tensor {
            name,
            shape: vec![values.len()],
            values,
        });
    }
    let metadata = [
        (KIND_KEY, "checkpoint".to_string()),
        ("version", "1".to_string()),
        ("model", layout.model_name().to_string()),
        ("epoch", info.epoch.to_string()),
        ("steps", info.steps.to_string()),
        ("seed", info.seed.to_string()),
        ("optimizer", info.optimizer.clone()),
        ("iterations", state.iterations.to_string()),
        // `{:?}` prints the shortest decimal that reads back as the same f32.
        ("learning_rate", format!("{:?}", info.learning_rate)),
    ];
    Ok((tensors, metadata))
}

/// The checkpoint bytes of `params` (laid out by `layout`), the optimizer's `state` and
/// `info` (whose `iterations` is taken from `state`).
///
/// # Errors
///
/// [`Error::InvalidArgument`] when a slot is not as long as the parameters, when there are
/// more than [`MAX_SLOTS`], or when a slot's tensor name would clash with a weight's.
///
/// # Panics
///
/// If `params` is not `layout.param_count()` long.
pub fn checkpoint_to_bytes(
    layout: &TensorLayout,
    params: &[f32],
    state: &OptimizerState,
    info: &CheckpointInfo,
) -> Result<Vec<u8>> {
    let (tensors, metadata) = checkpoint_parts(layout, params, state, info)?;
    safetensors_bytes(&tensors, &metadata)
}

/// Writes the checkpoint of [`checkpoint_to_bytes`] to `path`, atomically (see
/// [`write_atomic`](crate::io::write_atomic)).
pub fn save_checkpoint_to(
    path: impl AsRef<Path>,
    layout: &TensorLayout,
    params: &[f32],
    state: &OptimizerState,
    info: &CheckpointInfo,
) -> Result<()> {
    let (tensors, metadata) = checkpoint_parts(layout, params, state, info)?;
    save_safetensors(path.as_ref(), &tensors, &metadata)
}

/// Reads checkpoint `bytes` and checks them against `layout`: the metadata, every weight
/// (name, shape, dtype) and every optimizer slot (`[PARAM_COUNT]`, `F32`, at most
/// [`MAX_SLOTS`]).
pub fn read_checkpoint(layout: &TensorLayout, bytes: &[u8]) -> Result<Checkpoint> {
    let file = SafetensorsFile::parse(bytes)?;
    match file.kind() {
        Some("checkpoint") => {}
        Some("weights") => {
            return Err(bad(
                "this is a weights file, not a checkpoint: load it with `load_weights`",
            ))
        }
        _ => {
            return Err(bad(
                "no kerust checkpoint: the metadata lacks `kerust: checkpoint`",
            ))
        }
    }
    let text = |key: &str| {
        file.meta(key)
            .ok_or_else(|| bad(format!("the metadata lacks `{key}`")))
    };
    let number = |key: &str| {
        text(key)?
            .parse::<u64>()
            .map_err(|_| bad(format!("metadata `{key}` is not a whole number")))
    };
    if text("version")? != "1" {
        return Err(bad(format!(
            "checkpoint version {:?} is not supported (only \"1\" is)",
            text("version")?
        )));
    }
    let optimizer = text("optimizer")?;
    if optimizer.is_empty() || optimizer.len() > MAX_NAME {
        return Err(bad("metadata `optimizer` is empty or too long"));
    }
    let epoch = number("epoch")?;
    let info = CheckpointInfo {
        epoch: usize::try_from(epoch).map_err(|_| bad("metadata `epoch` is too large"))?,
        steps: number("steps")?,
        seed: number("seed")?,
        optimizer: optimizer.to_string(),
        iterations: number("iterations")?,
        learning_rate: text("learning_rate")?
            .parse::<f32>()
            .map_err(|_| bad("metadata `learning_rate` is not a number"))?,
        model: file.meta("model").unwrap_or_default().to_string(),
    };

    file.check_unexpected(layout, |name| name.starts_with("optimizer/"))?;
    file.check_weights(layout)?;
    let count = layout.param_count();
    let slot_names: Vec<String> = file
        .names()
        .into_iter()
        .filter(|n| n.starts_with("optimizer/"))
        .collect();
    if slot_names.len() > MAX_SLOTS {
        return Err(bad(format!(
            "{} optimizer slots, at most {MAX_SLOTS}",
            slot_names.len()
        )));
    }
    for name in &slot_names {
        file.check_tensor(name, &[count])?;
    }

    let mut params = vec![0.0; count];
    file.copy_weights(layout, &mut params);
    let mut optimizer = OptimizerState::new(info.iterations);
    for name in slot_names {
        let mut values = vec![0.0; count];
        super::safetensors::decode_f32(file.bytes_of(&name), &mut values);
        let slot = name["optimizer/".len()..].to_string();
        optimizer.slots.push((slot, values));
    }
    Ok(Checkpoint {
        info,
        params,
        optimizer,
    })
}

/// The largest checkpoint file of a model with `count` parameters.
fn max_file_len(count: usize) -> u64 {
    8 + MAX_HEADER as u64 + 4 * count as u64 * (1 + MAX_SLOTS as u64)
}

impl<M: Model, O: Optimizer, L: Objective> Trainer<M, O, L> {
    /// The checkpoint of this trainer after `epoch` completed epochs, as bytes (see the
    /// [module documentation](crate::io::checkpoint) for the format).
    pub fn checkpoint_to_bytes(&self, epoch: usize) -> Result<Vec<u8>> {
        let layout = TensorLayout::from_model(self.model());
        checkpoint_to_bytes(
            &layout,
            self.model().flat(),
            &self.optimizer().state(),
            &self.checkpoint_info(epoch),
        )
    }

    fn checkpoint_info(&self, epoch: usize) -> CheckpointInfo {
        CheckpointInfo {
            epoch,
            steps: self.steps_done(),
            seed: self.seed(),
            optimizer: self.optimizer().name().to_string(),
            iterations: self.optimizer().iterations(),
            learning_rate: self.optimizer().learning_rate(),
            model: M::NAME.to_string(),
        }
    }

    /// Saves a checkpoint after `epoch` completed epochs to `path`, atomically (a failed
    /// save leaves an earlier checkpoint at `path` intact).
    ///
    /// ```
    /// use kerust::prelude::*;
    /// model! { struct Net: Input<2> { out: Dense(1) } }
    /// let data = Dataset::new(vec![0.0, 1.0, 1.0, 0.0], &[2], Target::Values { data: vec![1.0, 0.0], width: 1 })?;
    /// let path = std::env::temp_dir().join(format!("kerust-doc-ckpt-{}.safetensors", std::process::id()));
    ///
    /// let mut trainer = Net::new(0).compile(Adam::default(), MeanSquaredError::new(), []);
    /// let opts = |initial_epoch| FitOptions { epochs: 2, initial_epoch, seed: 7, verbose: Verbosity::Silent, ..Default::default() };
    /// trainer.fit(&data, opts(0))?;
    /// trainer.save_checkpoint(&path, 2)?;
    ///
    /// let mut resumed = Net::new(1).compile(Adam::default(), MeanSquaredError::new(), []);
    /// let info = resumed.load_checkpoint(&path)?;
    /// assert_eq!((info.epoch, info.seed, info.steps), (2, 7, 2));
    /// assert_eq!(resumed.model().params(), trainer.model().params());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), kerust::Error>(())
    /// ```
    pub fn save_checkpoint(&self, path: impl AsRef<Path>, epoch: usize) -> Result<()> {
        let layout = TensorLayout::from_model(self.model());
        let state = self.optimizer().state();
        save_checkpoint_to(
            path,
            &layout,
            self.model().flat(),
            &state,
            &self.checkpoint_info(epoch),
        )
    }

    /// Restores a checkpoint saved by [`Trainer::save_checkpoint`] (or by
    /// `ModelCheckpoint`): weights, optimizer variables and learning rate, step count and
    /// seed. Returns what the checkpoint says about the run; resume with
    /// `FitOptions { initial_epoch: info.epoch, seed: info.seed, .. }`.
    ///
    /// Everything is checked before anything changes: on an error the trainer is as it was.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read; [`Error::Format`] for a file that is not
    /// a kerust checkpoint or is damaged; [`Error::MissingTensor`],
    /// [`Error::UnexpectedTensor`], [`Error::ShapeMismatch`] or [`Error::DtypeMismatch`]
    /// when it does not fit the model; [`Error::InvalidArgument`] when it was saved with
    /// another optimizer or optimizer configuration.
    pub fn load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<CheckpointInfo> {
        let path = path.as_ref();
        let bytes = read_limited(path, max_file_len(M::COUNT), "a checkpoint of this model")?;
        self.load_checkpoint_from_bytes(&bytes)
            .map_err(|e| in_file(path, e))
    }

    /// [`Trainer::load_checkpoint`] from bytes.
    pub fn load_checkpoint_from_bytes(&mut self, bytes: &[u8]) -> Result<CheckpointInfo> {
        let layout = TensorLayout::from_model(self.model());
        let checkpoint = read_checkpoint(&layout, bytes)?;
        let name = self.optimizer().name();
        if checkpoint.info.optimizer != name {
            return Err(Error::invalid_argument(
                "checkpoint",
                format!(
                    "saved with optimizer `{}`, the trainer has `{name}`",
                    checkpoint.info.optimizer
                ),
            ));
        }
        self.optimizer_mut().load_state(checkpoint.optimizer)?;
        let lr = checkpoint.info.learning_rate;
        if self.optimizer().learning_rate().to_bits() != lr.to_bits() {
            self.optimizer_mut().set_learning_rate(lr);
        }
        self.model_mut().flat_mut().copy_from_slice(&checkpoint.params);
        self.restore_progress(checkpoint.info.steps, checkpoint.info.seed);
        Ok(checkpoint.info)
    }
}
