//! Options of [`crate::train::Trainer::fit`] and [`crate::train::Trainer::evaluate_with`].

use alloc::vec::Vec;

use super::Callback;
use crate::data::Dataset;

/// How much `fit` prints (Keras's `verbose`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing (`verbose=0`).
    Silent,
    /// A live progress bar on a terminal, one line per epoch otherwise (`verbose="auto"`).
    #[default]
    Auto,
    /// A live progress bar (`verbose=1`).
    ProgressBar,
    /// One line per epoch (`verbose=2`).
    OneLinePerEpoch,
}

/// Options of `fit`, with Keras's names and defaults.
///
/// ```
/// use kerust::train::FitOptions;
/// let opts = FitOptions { epochs: 5, batch_size: 64, validation_split: 0.1, ..Default::default() };
/// assert!(opts.shuffle);
/// ```
pub struct FitOptions<'a> {
    /// The epoch to stop at (Keras default 1); training runs `initial_epoch..epochs`.
    pub epochs: usize,
    /// Samples per gradient update (Keras default 32).
    pub batch_size: usize,
    /// Shuffle the training samples before each epoch (default true).
    pub shuffle: bool,
    /// Seed of the shuffling and dropout streams (same seed, same result).
    pub seed: u64,
    /// Fraction of the data, taken from the end before shuffling, held out for validation.
    pub validation_split: f32,
    /// Separate validation data (takes precedence over `validation_split`).
    pub validation_data: Option<&'a Dataset>,
    /// Validate after every `validation_freq`-th epoch (default 1).
    pub validation_freq: usize,
    /// The epoch to start from (for resuming; default 0).
    pub initial_epoch: usize,
    /// At most this many batches per epoch (default: all of them).
    pub steps_per_epoch: Option<usize>,
    /// One weight per sample of the training data (split along with it by
    /// `validation_split`); each sample's loss and metrics are weighted by it.
    pub sample_weight: Option<&'a [f32]>,
    /// One weight per class (index = class id); multiplies each sample's weight by the
    /// weight of its class (the label, or the arg-max of a one-hot target).
    pub class_weight: Option<&'a [f32]>,
    /// What to print.
    pub verbose: Verbosity,
    /// Hooks called during training.
    pub callbacks: Vec<&'a mut dyn Callback>,
    /// Whether training flushes subnormal floats to zero (on x86-64; default `true`), as
    /// Keras's JAX and TensorFlow backends do on CPU: arithmetic on subnormals is slow, and
    /// weights and gradients drift into that range late in training. `false` keeps exact
    /// IEEE arithmetic. Results stay deterministic either way. The setting covers the
    /// threads of the pool: a `false` fit that runs while a `true` one runs on the same
    /// pool is flushed too.
    pub flush_denormals: bool,
}

impl Default for FitOptions<'_> {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            validation_split: 0.0,
            validation_data: None,
            validation_freq: 1,
            initial_epoch: 0,
            steps_per_epoch: None,
            sample_weight: None,
            class_weight: None,
            verbose: Verbosity::Auto,
            callbacks: Vec::new(),
            flush_denormals: true,
        }
    }
}

/// Options of `evaluate_with`.
#[derive(Clone, Copy, Debug)]
pub struct EvaluateOptions<'a> {
    /// Samples per batch (Keras default 32).
    pub batch_size: usize,
    /// One weight per sample.
    pub sample_weight: Option<&'a [f32]>,
}

impl Default for EvaluateOptions<'_> {
    fn default() -> Self {
        EvaluateOptions {
            batch_size: 32,
            sample_weight: None,
        }
    }
}
