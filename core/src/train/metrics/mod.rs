//! Metrics reported during training and evaluation, with Keras's definitions.
//!
//! Metrics are stateful, as in Keras: each keeps a small vector of sums (or counts) that is
//! reset at the start of every epoch and of every evaluation, accumulated batch after
//! batch (per shard, then merged in a fixed order), and turned into a value at the end.
//! Every state is a sum over the values seen, so the state of a whole epoch is the
//! element-wise sum of the states of its shards.
//!
//! - Accuracies and regression errors (`mean.rs`): `[weighted sum, weighted count]`.
//! - [`Metric::Precision`] and [`Metric::Recall`] (`confusion.rs`): weighted confusion counts
//!   at one threshold; [`confusion_matrix`] counts label/prediction pairs.
//! - [`Metric::Auc`] (`auc.rs`): confusion counts at every threshold of the curve.
//! - [`Metric::F1Score`] (`f_score.rs`): confusion counts per class.

mod auc;
mod confusion;
mod f_score;
mod mean;

pub use confusion::confusion_matrix;

use crate::losses::Targets;

/// A metric, as passed to `compile`.
///
/// ```
/// use kerust::train::{AucCurve, F1Average, Metric};
/// let metrics = [
///     Metric::Accuracy,
///     Metric::TopKCategoricalAccuracy { k: 3 },
///     Metric::Precision { threshold: 0.5 },
///     Metric::Auc { curve: AucCurve::Roc, num_thresholds: 200 },
///     Metric::F1Score { average: F1Average::Macro, threshold: None },
/// ];
/// assert_eq!(metrics[1].name(), "top_k_categorical_accuracy");
/// assert_eq!(metrics[3].name(), "auc");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Metric {
    /// Keras's `"accuracy"`, resolved from the targets as Keras's `compile` does: class
    /// labels → [`Metric::SparseCategoricalAccuracy`]; one value per sample →
    /// [`Metric::BinaryAccuracy`] at 0.5; several values → [`Metric::CategoricalAccuracy`].
    Accuracy,
    /// Fraction of values where `prediction > threshold` equals `target > 0.5` (Keras
    /// default threshold 0.5).
    BinaryAccuracy {
        /// The decision threshold on predictions.
        threshold: f32,
    },
    /// Arg-max of the prediction equals arg-max of the one-hot target.
    CategoricalAccuracy,
    /// Arg-max of the prediction equals the class label.
    SparseCategoricalAccuracy,
    /// The target class (arg-max of the one-hot target) is among the `k` largest predictions.
    TopKCategoricalAccuracy {
        /// How many top predictions count (Keras default 5).
        k: usize,
    },
    /// The class label is among the `k` largest predictions.
    SparseTopKCategoricalAccuracy {
        /// How many top predictions count (Keras default 5).
        k: usize,
    },
    /// Mean squared error over all values.
    MeanSquaredError,
    /// Mean absolute error over all values.
    MeanAbsoluteError,
    /// Square root of the mean squared error over all values of the epoch.
    RootMeanSquaredError,
    /// Keras's `Precision(thresholds=threshold)`: `tp / (tp + fp)` over every value, a value
    /// being predicted positive when `prediction > threshold` and actually positive when its
    /// target is non-zero (class labels count as their one-hot rows). 0 when nothing is
    /// predicted positive (Keras's `divide_no_nan`).
    Precision {
        /// The decision threshold on predictions, in `[0, 1]` (Keras default 0.5; for a
        /// model that outputs logits, Keras suggests 0).
        threshold: f32,
    },
    /// Keras's `Recall(thresholds=threshold)`: `tp / (tp + fn)` over every value, counted as
    /// for [`Metric::Precision`]. 0 when no target is positive.
    Recall {
        /// The decision threshold on predictions, in `[0, 1]` (Keras default 0.5).
        threshold: f32,
    },
    /// Keras's `AUC(num_thresholds, curve)` with `summation_method="interpolation"` and
    /// `multi_label=False`: the area under the ROC or precision-recall curve, estimated from
    /// confusion counts at `num_thresholds` evenly spaced thresholds (the first at `-1e-7`,
    /// the last at `1 + 1e-7`, as Keras builds them). Every value counts as one binary
    /// prediction (predictions clipped to `[0, 1]`; targets positive when non-zero; class
    /// labels as their one-hot rows); predictions should be probabilities (Keras's
    /// `from_logits=True` has no equivalent). With a single class in the data, ROC AUC is 0,
    /// PR AUC is 1 with only positives and 0 with only negatives, as in Keras.
    Auc {
        /// Which curve (Keras default ROC).
        curve: AucCurve,
        /// How many thresholds, at least 2 (Keras default 200; Keras rejects fewer, and here
        /// the metric is then NaN).
        num_thresholds: usize,
    },
    /// Keras 3's `F1Score(average, threshold)`: the harmonic mean of precision and recall,
    /// per class (the columns of the output), then averaged.
    ///
    /// A prediction counts as 1 where it is `> threshold` or, with `threshold: None`, where
    /// it equals its row's maximum and `|p| > 1e-9` (tied maxima all count; a row of zeros
    /// predicts nothing). Targets are used as values (a target of 0.3 counts 0.3 of a
    /// positive), class labels as one-hot rows. Every row of the output is a sample (Keras
    /// takes only 2-D outputs). Scores use Keras's epsilon (1e-7) in each denominator, so
    /// the metric is 0 before any update.
    ///
    /// **Difference from Keras:** Keras's default `average=None` returns one score per
    /// class, which a scalar log cannot hold; [`F1Average::Macro`], their unweighted mean,
    /// is the default of [`F1Average`] instead.
    F1Score {
        /// How per-class scores are combined (Keras's `average`, here without `None`).
        average: F1Average,
        /// The decision threshold in `(0, 1]`, or `None` for the arg-max of each row
        /// (Keras default `None`).
        threshold: Option<f32>,
    },
}

/// The curve of [`Metric::Auc`] (Keras's `curve` argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AucCurve {
    /// The receiver operating characteristic: recall against false-positive rate, summed
    /// with the trapezoidal rule.
    #[default]
    Roc,
    /// Precision against recall, interpolated as Keras's `interpolate_pr_auc` (Davis &
    /// Goadrich, 2006).
    Pr,
}

/// How [`Metric::F1Score`] combines its per-class scores (Keras's `average` argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum F1Average {
    /// The score of the counts summed over all classes.
    Micro,
    /// The unweighted mean of the per-class scores.
    #[default]
    Macro,
    /// The mean of the per-class scores weighted by each class's support (sum of its
    /// weighted targets).
    Weighted,
}

impl Metric {
    /// The name used in logs and history, as Keras names the metric.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BinaryAccuracy { .. } => "binary_accuracy",
            Metric::CategoricalAccuracy => "categorical_accuracy",
            Metric::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
            Metric::TopKCategoricalAccuracy { .. } => "top_k_categorical_accuracy",
            Metric::SparseTopKCategoricalAccuracy { .. } => "sparse_top_k_categorical_accuracy",
            Metric::MeanSquaredError => "mean_squared_error",
            Metric::MeanAbsoluteError => "mean_absolute_error",
            Metric::RootMeanSquaredError => "root_mean_squared_error",
            Metric::Precision { .. } => "precision",
            Metric::Recall { .. } => "recall",
            Metric::Auc { .. } => "auc",
            Metric::F1Score { .. } => "f1_score",
        }
    }

    /// The length of the metric's state vector for outputs of row width `width`.
    pub fn state_len(&self, width: usize) -> usize {
        match self {
            Metric::Precision { .. } | Metric::Recall { .. } => confusion::STATE_LEN,
            Metric::Auc { num_thresholds, .. } => auc::state_len(*num_thresholds),
            Metric::F1Score { .. } => f_score::state_len(width),
            _ => 2,
        }
    }

    /// Adds a batch to `state`: `pred` holds rows of `width` values, `weights` one weight
    /// per row (Keras's `sample_weight`), absent meaning 1. Counting metrics add the
    /// row's weight where Keras adds 1.
    pub fn update(
        &self,
        pred: &[f32],
        targets: Targets<'_>,
        width: usize,
        weights: Option<&[f32]>,
        state: &mut [f64],
    ) {
        let batch = Batch {
            pred,
            targets,
            width,
            weights,
        };
        match self {
            Metric::Precision { threshold } | Metric::Recall { threshold } => {
                confusion::update(batch, *threshold, state);
            }
            Metric::Auc { num_thresholds, .. } => auc::update(batch, *num_thresholds, state),
            Metric::F1Score { threshold, .. } => f_score::update(batch, *threshold, state),
            _ => mean::update(*self, batch, state),
        }
    }

    /// The metric's value from its accumulated state: NaN before any update for the means
    /// (accuracies, errors), 0 for the counting metrics (precision, recall, AUC, F1), whose
    /// Keras definitions divide with `divide_no_nan` or an epsilon.
    pub fn result(&self, state: &[f64]) -> f64 {
        match self {
            Metric::Precision { .. } => confusion::precision(state),
            Metric::Recall { .. } => confusion::recall(state),
            Metric::Auc {
                curve,
                num_thresholds,
            } => auc::result(*curve, *num_thresholds, state),
            Metric::F1Score { average, .. } => f_score::result(*average, state),
            _ => mean::result(*self, state),
        }
    }
}

/// A batch as `update` receives it.
#[derive(Clone, Copy)]
struct Batch<'a> {
    pred: &'a [f32],
    targets: Targets<'a>,
    width: usize,
    weights: Option<&'a [f32]>,
}

impl<'a> Batch<'a> {
    /// Each row's predictions, targets and weight.
    fn rows(self) -> impl Iterator<Item = (&'a [f32], RowTargets<'a>, f64)> {
        let Batch {
            pred,
            targets,
            width,
            weights,
        } = self;
        pred.chunks_exact(width).enumerate().map(move |(r, p)| {
            let w = weights.map_or(1.0, |w| f64::from(w[r]));
            (p, RowTargets::of(targets, r, width), w)
        })
    }
}

/// One row's targets: a class label (read as its one-hot row) or values.
#[derive(Clone, Copy)]
enum RowTargets<'a> {
    Label(usize),
    Values(&'a [f32]),
}

impl<'a> RowTargets<'a> {
    fn of(targets: Targets<'a>, r: usize, width: usize) -> Self {
        match targets {
            Targets::Sparse(labels) => RowTargets::Label(labels[r] as usize),
            Targets::Dense(t) => RowTargets::Values(&t[r * width..(r + 1) * width]),
        }
    }

    /// The target of column `i`.
    fn at(self, i: usize) -> f32 {
        match self {
            RowTargets::Label(c) => f32::from(u8::from(i == c)),
            RowTargets::Values(t) => t[i],
        }
    }
}

/// `x / y`, or 0 where `y` is 0 (Keras's `ops.divide_no_nan`).
fn divide_no_nan(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        0.0
    } else {
        x / y
    }
}

/// Index of the largest value (the first one on ties, as `argmax` in Keras).
pub(crate) fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in xs.iter().enumerate() {
        if v > xs[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use super::testing::assert_splits_merge;
    use super::*;

    #[test]
    fn names_are_keras_names() {
        let names = [
            Metric::Precision { threshold: 0.5 }.name(),
            Metric::Recall { threshold: 0.5 }.name(),
            Metric::Auc {
                curve: AucCurve::Pr,
                num_thresholds: 200,
            }
            .name(),
            Metric::F1Score {
                average: F1Average::Weighted,
                threshold: Some(0.5),
            }
            .name(),
        ];
        assert_eq!(names, ["precision", "recall", "auc", "f1_score"]);
    }

    #[test]
    fn every_metric_merges_across_splits() {
        let metrics = [
            Metric::BinaryAccuracy { threshold: 0.5 },
            Metric::CategoricalAccuracy,
            Metric::MeanSquaredError,
            Metric::Precision { threshold: 0.5 },
            Metric::Recall { threshold: 0.3 },
            Metric::Auc {
                curve: AucCurve::Roc,
                num_thresholds: 200,
            },
            Metric::Auc {
                curve: AucCurve::Pr,
                num_thresholds: 7,
            },
            Metric::F1Score {
                average: F1Average::Micro,
                threshold: None,
            },
            Metric::F1Score {
                average: F1Average::Weighted,
                threshold: Some(0.5),
            },
        ];
        for m in metrics {
            assert_splits_merge(m);
        }
    }
}
