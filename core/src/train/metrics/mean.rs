//! Metrics that are means over rows or values (accuracies, regression errors): state
//! `[weighted sum, weighted count]`.

use super::{argmax, Batch, Metric, RowTargets};
use crate::losses::Targets;

pub(super) fn update(metric: Metric, batch: Batch<'_>, state: &mut [f64]) {
    for (r, (p, _, w)) in batch.rows().enumerate() {
        let (value, count) = row(metric, p, batch.targets, r, batch.width);
        state[0] += w * value;
        state[1] += w * count;
    }
}

/// The mean (its square root for the RMSE), NaN before any update.
pub(super) fn result(metric: Metric, state: &[f64]) -> f64 {
    let mean = if state[1] > 0.0 {
        state[0] / state[1]
    } else {
        f64::NAN
    };
    match metric {
        Metric::RootMeanSquaredError => mean.sqrt(),
        _ => mean,
    }
}

/// One row's contribution: (sum of values, number of values).
fn row(metric: Metric, p: &[f32], targets: Targets<'_>, r: usize, width: usize) -> (f64, f64) {
    match (metric, targets) {
        (Metric::Accuracy | Metric::SparseCategoricalAccuracy, Targets::Sparse(labels)) => {
            (f64::from(argmax(p) == labels[r] as usize), 1.0)
        }
        (Metric::Accuracy, Targets::Dense(t)) if width == 1 => (binary_hits(p, &t[r..r + 1], 0.5), 1.0),
        (Metric::BinaryAccuracy { threshold }, Targets::Dense(t)) => (
            binary_hits(p, &t[r * width..(r + 1) * width], threshold),
            width as f64,
        ),
        (Metric::BinaryAccuracy { threshold }, Targets::Sparse(labels)) => {
            let hit = (p[0] > threshold) == (labels[r] > 0);
            (f64::from(hit), 1.0)
        }
        (Metric::Accuracy | Metric::CategoricalAccuracy, Targets::Dense(t)) => (
            f64::from(argmax(p) == argmax(&t[r * width..(r + 1) * width])),
            1.0,
        ),
        (Metric::CategoricalAccuracy, Targets::Sparse(labels)) => {
            (f64::from(argmax(p) == labels[r] as usize), 1.0)
        }
        (Metric::TopKCategoricalAccuracy { k } | Metric::SparseTopKCategoricalAccuracy { k }, targets) => {
            let class = match targets {
                Targets::Sparse(labels) => labels[r] as usize,
                Targets::Dense(t) => argmax(&t[r * width..(r + 1) * width]),
            };
            (f64::from(in_top_k(p, class, k)), 1.0)
        }
        (Metric::SparseCategoricalAccuracy, Targets::Dense(t)) => {
            // Keras compares the arg-max with the target value itself.
            (f64::from(argmax(p) as f32 == t[r]), 1.0)
        }
        (Metric::MeanSquaredError | Metric::RootMeanSquaredError | Metric::MeanAbsoluteError, _) => {
            let t = RowTargets::of(targets, r, width);
            let sum: f64 = p
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    let d = f64::from(a) - f64::from(t.at(i));
                    if matches!(metric, Metric::MeanAbsoluteError) {
                        d.abs()
                    } else {
                        d * d
                    }
                })
                .sum();
            (sum, width as f64)
        }
        (
            Metric::Precision { .. } | Metric::Recall { .. } | Metric::Auc { .. } | Metric::F1Score { .. },
            _,
        ) => {
            unreachable!("counting metrics are updated by their own modules")
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

#[cfg(test)]
mod tests {
    use super::super::testing::eval;
    use super::*;

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
        // Class labels count as one-hot rows: errors (0.5, 0.5) and (0, 1).
        assert_eq!(
            eval(
                Metric::MeanSquaredError,
                &[0.5, 0.5, 0.0, 0.0],
                Targets::Sparse(&[0, 1]),
                2,
                None
            ),
            0.375
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
