//! Options of [`crate::train::Trainer::fit`].

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

/// Options of `fit`, with Keras's defaults.
///
/// ```
/// use kerust::train::FitOptions;
/// let opts = FitOptions { epochs: 5, batch_size: 64, validation_split: 0.1, ..Default::default() };
/// assert!(opts.shuffle);
/// ```
pub struct FitOptions<'a> {
    /// Passes over the training data (Keras default 1).
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
    /// What to print.
    pub verbose: Verbosity,
    /// Hooks called during training.
    pub callbacks: Vec<&'a mut dyn Callback>,
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
            verbose: Verbosity::Auto,
            callbacks: Vec::new(),
        }
    }
}
