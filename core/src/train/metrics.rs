//! Metrics reported during training and evaluation, with Keras's definitions.
//!
//! Metrics are stateful, as in Keras: each keeps a small vector of sums (or counts) that is
//! reset at the start of every epoch and of every evaluation, accumulated batch after
//! batch (per shard, then merged in a fixed order), and turned into a value at the end.

use alloc::vec::Vec;

use crate::losses::Targets;

/// A metric, as passed to `compile`.
///
/// ```
/// use kerust::train::Metric;
/// let metrics = [Metric::Accuracy, Metric::TopKCategoricalAccuracy { k: 3 }];
/// assert_eq!(metrics[1].name(), "top_k_categorical_accuracy");
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
        }
    }

    /// The length of the metric's state vector for outputs of row width `width`.
    pub fn state_len(&self, width: usize) -> usize {
        let _ = width;
        2
    }

    /// Adds a batch to `state`: `pred` holds rows of `width` values, `weights` one weight
    /// per row (Keras's `sample_weight`), absent meaning 1.
    pub fn update(
        &self,
        pred: &[f32],
        targets: Targets<'_>,
        width: usize,
        weights: Option<&[f32]>,
        state: &mut [f64],
    ) {
        let rows = pred.len() / width;
        for r in 0..rows {
            let w = weights.map_or(1.0, |w| f64::from(w[r]));
            let p = &pred[r * width..(r + 1) * width];
            let (value, count) = self.row(p, targets, r, width);
            state[0] += w * value;
            state[1] += w * count;
        }
    }

    /// One row's contribution: (sum of values, number of values).
    fn row(&self, p: &[f32], targets: Targets<'_>, r: usize, width: usize) -> (f64, f64) {
        let dense = |t: &[f32]| -> Vec<f32> { t[r * width..(r + 1) * width].to_vec() };
        match (self, targets) {
            (Metric::Accuracy | Metric::SparseCategoricalAccuracy, Targets::Sparse(labels)) => {
                (f64::from(argmax(p) == labels[r] as usize), 1.0)
            }
            (Metric::Accuracy, Targets::Dense(t)) if width == 1 => (binary_hits(p, &t[r..r + 1], 0.5), 1.0),
            (Metric::BinaryAccuracy { threshold }, Targets::Dense(t)) => (
                binary_hits(p, &t[r * width..(r + 1) * width], *threshold),
                width as f64,
            ),
            (Metric::BinaryAccuracy { threshold }, Targets::Sparse(labels)) => {
                let hit = (p[0] > *threshold) == (labels[r] > 0);
                (f64::from(hit), 1.0)
            }
            (Metric::Accuracy | Metric::CategoricalAccuracy, Targets::Dense(t)) => (
                f64::from(argmax(p) == argmax(&t[r * width..(r + 1) * width])),
                1.0,
            ),
            (Metric::CategoricalAccuracy, Targets::Sparse(labels)) => {
                (f64::from(argmax(p) == labels[r] as usize), 1.0)
            }
            (
                Metric::TopKCategoricalAccuracy { k } | Metric::SparseTopKCategoricalAccuracy { k },
                targets,
            ) => {
                let class = match targets {
                    Targets::Sparse(labels) => labels[r] as usize,
                    Targets::Dense(t) => argmax(&t[r * width..(r + 1) * width]),
                };
                (f64::from(in_top_k(p, class, *k)), 1.0)
            }
            (Metric::SparseCategoricalAccuracy, Targets::Dense(t)) => {
                // Keras compares the arg-max with the target value itself.
                (f64::from(argmax(p) as f32 == t[r]), 1.0)
            }
            (
                Metric::MeanSquaredError | Metric::RootMeanSquaredError | Metric::MeanAbsoluteError,
                targets,
            ) => {
                let t: Vec<f32> = match targets {
                    Targets::Sparse(labels) => (0..width)
                        .map(|i| f32::from(u8::from(i == labels[r] as usize)))
                        .collect(),
                    Targets::Dense(t) => dense(t),
                };
                let sum: f64 = p
                    .iter()
                    .zip(&t)
                    .map(|(&a, &b)| {
                        let d = f64::from(a) - f64::from(b);
                        if matches!(self, Metric::MeanAbsoluteError) {
                            d.abs()
                        } else {
                            d * d
                        }
                    })
                    .sum();
                (sum, width as f64)
            }
        }
    }

    /// The metric's value from its accumulated state (NaN before any update).
    pub fn result(&self, state: &[f64]) -> f64 {
        let mean = if state[1] > 0.0 {
            state[0] / state[1]
        } else {
            f64::NAN
        };
        match self {
            Metric::RootMeanSquaredError => mean.sqrt(),
            _ => mean,
        }
    }
}

fn binary_hits(p: &[f32], t: &[f32], threshold: f32) -> f64 {
    p.iter()
        .zip(t)
        .filter(|(&a, &b)| (a > threshold) == (b > 0.5))
        .count() as f64
}

/// Whether `class` is among the `k` largest values of `p` (ties resolved in favour of the
/// class, as `in_top_k`).
fn in_top_k(p: &[f32], class: usize, k: usize) -> bool {
    let Some(&v) = p.get(class) else { return false };
    p.iter().filter(|&&x| x > v).count() < k
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
mod tests {
    use super::*;

    fn eval(m: Metric, pred: &[f32], t: Targets<'_>, width: usize, w: Option<&[f32]>) -> f64 {
        let mut state = alloc::vec![0.0; m.state_len(width)];
        m.update(pred, t, width, w, &mut state);
        m.result(&state)
    }

    #[test]
    fn accuracy_variants() {
        let pred = [0.1, 0.7, 0.2, 0.5, 0.4, 0.1];
        assert_eq!(
            eval(Metric::Accuracy, &pred, Targets::Sparse(&[1, 2]), 3, None),
            0.5
        );
        let onehot = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        assert_eq!(
            eval(Metric::Accuracy, &pred, Targets::Dense(&onehot), 3, None),
            1.0
        );
        assert_eq!(
            eval(
                Metric::CategoricalAccuracy,
                &pred,
                Targets::Dense(&onehot),
                3,
                None
            ),
            1.0
        );
        assert_eq!(
            eval(
                Metric::Accuracy,
                &[0.7, 0.2, 0.6],
                Targets::Dense(&[1.0, 1.0, 0.0]),
                1,
                None
            ),
            1.0 / 3.0
        );
    }

    #[test]
    fn binary_accuracy_counts_every_value() {
        // keras.metrics.BinaryAccuracy()([[1, 0], [1, 1]], [[0.9, 0.6], [0.2, 0.7]]) = 0.5
        let m = Metric::BinaryAccuracy { threshold: 0.5 };
        assert_eq!(
            eval(
                m,
                &[0.9, 0.6, 0.2, 0.7],
                Targets::Dense(&[1.0, 0.0, 1.0, 1.0]),
                2,
                None
            ),
            0.5
        );
    }

    #[test]
    fn top_k() {
        // Class 2 has the 2nd largest score in row 0 and the smallest in row 1.
        let pred = [0.1, 0.6, 0.3, 0.5, 0.4, 0.1];
        let m = Metric::SparseTopKCategoricalAccuracy { k: 2 };
        assert_eq!(eval(m, &pred, Targets::Sparse(&[2, 2]), 3, None), 0.5);
        let m = Metric::TopKCategoricalAccuracy { k: 1 };
        assert_eq!(
            eval(m, &pred, Targets::Dense(&[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]), 3, None),
            1.0
        );
    }

    #[test]
    fn regression_metrics_average_over_all_values() {
        let pred = [1.0, 2.0, 0.0, 0.0];
        let t = [0.0, 0.0, 1.0, 1.0];
        // squared errors 1, 4, 1, 1 → mean 1.75
        assert_eq!(
            eval(Metric::MeanSquaredError, &pred, Targets::Dense(&t), 2, None),
            1.75
        );
        assert_eq!(
            eval(Metric::RootMeanSquaredError, &pred, Targets::Dense(&t), 2, None),
            1.75f64.sqrt()
        );
        assert_eq!(
            eval(
                Metric::MeanAbsoluteError,
                &[1.0, -2.0],
                Targets::Dense(&[0.0, 0.0]),
                2,
                None
            ),
            1.5
        );
    }

    #[test]
    fn sample_weights_weigh_rows() {
        let pred = [0.9, 0.1, 0.2, 0.8];
        // Row 0 right, row 1 wrong; weights 3 and 1 → 0.75.
        let acc = eval(
            Metric::Accuracy,
            &pred,
            Targets::Sparse(&[0, 0]),
            2,
            Some(&[3.0, 1.0]),
        );
        assert_eq!(acc, 0.75);
    }

    #[test]
    fn argmax_first_on_ties() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
    }
}
