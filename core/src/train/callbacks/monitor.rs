//! What [`super::EarlyStopping`], [`super::ReduceLrOnPlateau`] and [`super::ModelCheckpoint`]
//! share: a monitored value, the direction it should go, and what counts as an improvement
//! (Keras's `MonitorCallback`).

use std::eprintln;
use std::string::String;
use std::vec::Vec;

use crate::train::Logs;

/// Which way a monitored value should go (Keras's `mode`).
///
/// ```
/// use kerust::train::callbacks::Mode;
/// assert_eq!(Mode::Auto.resolve("val_loss"), Some(Mode::Min));
/// assert_eq!(Mode::Auto.resolve("val_accuracy"), Some(Mode::Max));
/// assert_eq!(Mode::Auto.resolve("mean_squared_error"), Some(Mode::Min));
/// assert_eq!(Mode::Auto.resolve("my_score"), None);
/// assert_eq!(Mode::Max.resolve("loss"), Some(Mode::Max));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Inferred from the name, without its `val_` prefix, as Keras infers it from the
    /// compiled metric's direction: `loss` and error metrics (`mean_squared_error`,
    /// `hinge`, the crossentropies, ...) go down; accuracies, `auc`, `precision`, `recall`,
    /// `f1_score`, `r2_score`, ... go up. For a name it cannot place, the callbacks panic
    /// when training begins, where Keras raises a `ValueError`: pass `Min` or `Max`.
    #[default]
    Auto,
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// Keras's metrics whose `_direction` is `"up"`, by their default names and the string
/// aliases `compile` accepts.
const UP: &[&str] = &[
    "accuracy",
    "acc",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "auc",
    "precision",
    "recall",
    "precision_at_recall",
    "recall_at_precision",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
    "f1_score",
    "fbeta_score",
    "r2_score",
    "cosine_similarity",
    "iou",
    "binary_iou",
    "mean_iou",
    "one_hot_iou",
    "one_hot_mean_iou",
    "pearson_correlation",
    "concordance_correlation",
];

/// Keras's metrics whose `_direction` is `"down"` (errors, and losses used as metrics).
const DOWN: &[&str] = &[
    "loss",
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "root_mean_squared_error",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "kl_divergence",
    "poisson",
    "logcosh",
];

impl Mode {
    /// The direction this mode gives `monitor`: `Min` or `Max` as set, or for `Auto` the
    /// direction inferred from the name (see [`Mode::Auto`]); `None` when `Auto` cannot
    /// place the name.
    pub fn resolve(self, monitor: &str) -> Option<Mode> {
        match self {
            Mode::Min | Mode::Max => Some(self),
            Mode::Auto => {
                let name = monitor.strip_prefix("val_").unwrap_or(monitor);
                if DOWN.contains(&name) {
                    Some(Mode::Min)
                } else if UP.contains(&name) {
                    Some(Mode::Max)
                } else {
                    None
                }
            }
        }
    }

    /// [`Mode::resolve`], panicking with Keras's message where Keras raises.
    pub(crate) fn resolve_or_panic(self, monitor: &str, callback: &str) -> Mode {
        match self.resolve(monitor) {
            Some(mode) => mode,
            None => panic!(
                "{callback} callback received monitor={monitor}, but kerust isn't able to \
                 automatically determine whether that metric should be maximized or minimized. \
                 Pass `mode(Mode::Max)` in order to monitor based on the highest metric value, \
                 or `mode(Mode::Min)` in order to use the lowest value."
            ),
        }
    }
}

/// Keras's `_is_improvement`: whether `current` beats `reference` by more than `min_delta`
/// (its absolute value) in the direction `resolved` (`Min` or `Max`). Anything beats no
/// reference, even NaN; NaN beats nothing else.
pub(crate) fn is_improvement(resolved: Mode, min_delta: f64, current: f64, reference: Option<f64>) -> bool {
    let Some(reference) = reference else {
        return true;
    };
    match resolved {
        Mode::Max => current - min_delta.abs() > reference,
        Mode::Min | Mode::Auto => current + min_delta.abs() < reference,
    }
}

/// Prints Keras's warning for a monitored value missing from the logs, once per `fit`
/// (Python shows a repeated warning once).
pub(crate) fn warn_missing(warned: &mut bool, message: &str, logs: &Logs) {
    if !*warned {
        *warned = true;
        let names: Vec<&str> = logs.iter().map(|(n, _)| n).collect();
        let available: String = names.join(",");
        eprintln!("warning: {message} Available metrics are: {available}");
    }
}
