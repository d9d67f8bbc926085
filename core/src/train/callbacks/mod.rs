//! Keras 3's built-in callbacks (`keras.callbacks`), with Keras's rules and defaults.
//!
//! | kerust | Keras | what it does |
//! |---|---|---|
//! | [`EarlyStopping`] | `EarlyStopping` | stops when a monitored value stops improving; can restore the best weights |
//! | [`ReduceLrOnPlateau`] | `ReduceLROnPlateau` | lowers the learning rate when a monitored value stops improving |
//! | [`LearningRateScheduler`] | `LearningRateScheduler` | sets the learning rate before each epoch |
//! | [`TerminateOnNan`] | `TerminateOnNaN` | stops as soon as a batch's loss is NaN or infinite |
//! | [`CsvLogger`] | `CSVLogger` | writes each epoch's logs to a CSV file |
//! | [`ModelCheckpoint`] | `ModelCheckpoint` | writes a checkpoint or the weights (or calls a closure) at each epoch, or at each improvement |
//!
//! Pass them to `fit` in [`FitOptions::callbacks`](super::FitOptions::callbacks); hooks run
//! in list order.
//!
//! ```
//! use kerust::prelude::*;
//! use kerust::train::callbacks::{EarlyStopping, ReduceLrOnPlateau};
//!
//! model! {
//!     struct Linear: Input<3> {
//!         out: Dense(1),
//!     }
//! }
//! let x: Vec<f32> = (0..96).map(|i| (i % 7) as f32 / 7.0).collect();
//! let y: Vec<f32> = x.chunks(3).map(|s| s[0] - 2.0 * s[1] + 0.5).collect();
//! let data = Dataset::new(x, &[3], Target::Values { data: y, width: 1 })?;
//!
//! let mut early = EarlyStopping::new("val_loss").patience(3).restore_best_weights(true);
//! let mut plateau = ReduceLrOnPlateau::new("val_loss").factor(0.5).patience(2);
//! let mut trainer = Linear::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
//! let history = trainer.fit(
//!     &data,
//!     FitOptions {
//!         epochs: 50,
//!         validation_split: 0.25,
//!         verbose: Verbosity::Silent,
//!         callbacks: vec![&mut early, &mut plateau],
//!         ..Default::default()
//!     },
//! )?;
//! assert!(history.epochs.len() <= 50);
//! # Ok::<(), kerust::Error>(())
//! ```
//!
//! Unlike Keras, the hooks cannot add entries to the epoch's logs: Keras's
//! `ReduceLROnPlateau` and `LearningRateScheduler` add `"learning_rate"` to them, which kerust's
//! history and [`CsvLogger`] therefore do not show.

mod csv_logger;
mod early_stopping;
mod learning_rate_scheduler;
mod model_checkpoint;
mod monitor;
mod reduce_lr_on_plateau;
mod terminate_on_nan;

pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use learning_rate_scheduler::LearningRateScheduler;
pub use model_checkpoint::{CheckpointFiles, CheckpointSaver, ModelCheckpoint, SaveFreq, SavePoint};
pub use monitor::Mode;
pub use reduce_lr_on_plateau::ReduceLrOnPlateau;
pub use terminate_on_nan::TerminateOnNan;
