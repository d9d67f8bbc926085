//! The Keras-style training surface: `compile`, `fit`, `evaluate`, `predict`, `summary`.
//!
//! ```no_run
//! use kerust::prelude::*;
//! model! {
//!     pub struct Mlp: Input<64> {
//!         hidden: Dense(64, activation = relu),
//!         out: Dense(10),
//!     }
//! }
//! let (train, test) = kerust::datasets::digits()?;
//! let mut trainer = Mlp::new(0).compile(Adam::default(), SparseCategoricalCrossentropy::from_logits(), [Metric::Accuracy]);
//! let history = trainer.fit(&train, FitOptions { epochs: 10, ..Default::default() })?;
//! let scores = trainer.evaluate(&test)?;
//! println!("loss {} accuracy {:?}", scores.loss(), scores.get("accuracy"));
//! # Ok::<(), kerust::Error>(())
//! ```

mod callback;
pub mod callbacks;
mod denormals;
mod history;
mod metrics;
mod model_ext;
mod objective;
mod options;
mod progress;
mod shards;
mod summary;
mod trainer;
mod validate;
mod workspace;

pub use callback::{Callback, Context, Control};
#[cfg(feature = "plot")]
pub use history::PlotOptions;
pub use history::{History, Logs};
pub use metrics::{confusion_matrix, AucCurve, F1Average, Metric};
pub use model_ext::ModelExt;
pub use objective::{Objective, PerOutput};
pub use options::{EvaluateOptions, FitOptions, Verbosity};
pub use summary::{batch_shape, summary_string, thousands};
pub use trainer::Trainer;
pub use workspace::Workspace;
