//! Metrics reported during training and evaluation.

use crate::losses::Targets;

/// A metric, as passed to `compile`. Accumulated over an epoch and reset at its start,
/// as Keras's stateful metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Metric {
    /// Keras's `"accuracy"`: resolved from the targets as Keras's `compile` does —
    /// sparse labels: arg-max equals the label; one value per sample: prediction and target
    /// on the same side of 0.5 (binary accuracy); several values: arg-max of prediction
    /// equals arg-max of target (categorical accuracy).
    Accuracy,
    /// Mean over samples of the mean squared error.
    MeanSquaredError,
    /// Mean over samples of the mean absolute error.
    MeanAbsoluteError,
}

impl Metric {
    /// The name used in logs and history (`"accuracy"`).
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::MeanSquaredError => "mean_squared_error",
            Metric::MeanAbsoluteError => "mean_absolute_error",
        }
    }

    /// Adds the batch's per-row values to `acc = [sum, count]`.
    pub(crate) fn update(&self, pred: &[f32], targets: Targets<'_>, width: usize, acc: &mut [f64; 2]) {
        let rows = pred.len() / width;
        for r in 0..rows {
            let p = &pred[r * width..(r + 1) * width];
            let v = match (self, targets) {
                (Metric::Accuracy, Targets::Sparse(labels)) => f64::from(argmax(p) == labels[r] as usize),
                (Metric::Accuracy, Targets::Dense(t)) => {
                    let t = &t[r * width..(r + 1) * width];
                    if width == 1 {
                        f64::from((p[0] > 0.5) == (t[0] > 0.5))
                    } else {
                        f64::from(argmax(p) == argmax(t))
                    }
                }
                (Metric::MeanSquaredError | Metric::MeanAbsoluteError, Targets::Sparse(labels)) => {
                    // Against the one-hot encoding of the label.
                    let l = labels[r] as usize;
                    err_sum(
                        self,
                        p.iter()
                            .enumerate()
                            .map(|(i, &x)| x - f32::from(u8::from(i == l))),
                    ) / width as f64
                }
                (_, Targets::Dense(t)) => {
                    let t = &t[r * width..(r + 1) * width];
                    err_sum(self, p.iter().zip(t).map(|(a, b)| a - b)) / width as f64
                }
            };
            acc[0] += v;
            acc[1] += 1.0;
        }
    }
}

fn err_sum(m: &Metric, diffs: impl Iterator<Item = f32>) -> f64 {
    match m {
        Metric::MeanSquaredError => diffs.map(|d| f64::from(d) * f64::from(d)).sum(),
        _ => diffs.map(|d| f64::from(d.abs())).sum(),
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
mod tests {
    use super::*;

    #[test]
    fn accuracy_variants() {
        let pred = [0.1, 0.7, 0.2, 0.5, 0.4, 0.1];
        let mut acc = [0.0; 2];
        Metric::Accuracy.update(&pred, Targets::Sparse(&[1, 2]), 3, &mut acc);
        assert_eq!(acc, [1.0, 2.0]);
        let mut acc = [0.0; 2];
        Metric::Accuracy.update(
            &pred,
            Targets::Dense(&[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]),
            3,
            &mut acc,
        );
        assert_eq!(acc, [2.0, 2.0]);
        let mut acc = [0.0; 2];
        Metric::Accuracy.update(&[0.7, 0.2, 0.6], Targets::Dense(&[1.0, 1.0, 0.0]), 1, &mut acc);
        assert_eq!(acc, [1.0, 3.0]);
    }

    #[test]
    fn regression_metrics() {
        let mut acc = [0.0; 2];
        Metric::MeanSquaredError.update(
            &[1.0, 2.0, 0.0, 0.0],
            Targets::Dense(&[0.0, 0.0, 1.0, 1.0]),
            2,
            &mut acc,
        );
        // rows: (1 + 4) / 2 = 2.5 and (1 + 1) / 2 = 1
        assert_eq!(acc, [3.5, 2.0]);
        let mut acc = [0.0; 2];
        Metric::MeanAbsoluteError.update(&[1.0, -2.0], Targets::Dense(&[0.0, 0.0]), 2, &mut acc);
        assert_eq!(acc, [1.5, 1.0]);
    }

    #[test]
    fn argmax_first_on_ties() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
    }
}
