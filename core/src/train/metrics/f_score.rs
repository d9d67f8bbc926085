//! Keras 3's `F1Score` (`keras/src/metrics/f_score_metrics.py`, `FBetaScore` with
//! `beta=1`).
//!
//! Each prediction becomes 0 or 1 (`> threshold`, or, without a threshold, equal to its
//! row's maximum and non-zero); targets are used as they are. Per class (column) the state
//! holds the weighted sums `tp = Σ w·ŷ·y`, `fp = Σ w·ŷ·(1 - y)`, `fn = Σ w·(1 - ŷ)·y` and the
//! support `Σ w·y`: `[tp; width]`, `[fp; width]`, `[fn; width]`, `[support; width]`.

use super::{Batch, F1Average};

/// Keras's `backend.epsilon()`, added to every denominator of the score.
const EPSILON: f64 = 1e-7;

pub(super) fn state_len(width: usize) -> usize {
    4 * width
}

pub(super) fn update(batch: Batch<'_>, threshold: Option<f32>, state: &mut [f64]) {
    let width = batch.width;
    let (tp, rest) = state.split_at_mut(width);
    let (fp, rest) = rest.split_at_mut(width);
    let (fn_, support) = rest.split_at_mut(width);
    for (p, t, w) in batch.rows() {
        let max = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for (i, &x) in p.iter().enumerate() {
            let positive = match threshold {
                Some(threshold) => x > threshold,
                // Keras's "make sure [0, 0, 0] doesn't become [1, 1, 1]".
                None => x >= max && x.abs() > 1e-9,
            };
            let y_pred = f64::from(u8::from(positive));
            let y = f64::from(t.at(i));
            tp[i] += w * (y_pred * y);
            fp[i] += w * (y_pred * (1.0 - y));
            fn_[i] += w * ((1.0 - y_pred) * y);
            support[i] += w * y;
        }
    }
}

/// F1 from the counts, with Keras's epsilons.
fn f1(tp: f64, fp: f64, fn_: f64) -> f64 {
    let precision = tp / (tp + fp + EPSILON);
    let recall = tp / (tp + fn_ + EPSILON);
    precision * recall / (precision + recall + EPSILON) * 2.0
}

pub(super) fn result(average: F1Average, state: &[f64]) -> f64 {
    let width = state.len() / 4;
    let (tp, rest) = state.split_at(width);
    let (fp, rest) = rest.split_at(width);
    let (fn_, support) = rest.split_at(width);
    let per_class = (0..width).map(|i| f1(tp[i], fp[i], fn_[i]));
    match average {
        F1Average::Micro => f1(tp.iter().sum(), fp.iter().sum(), fn_.iter().sum()),
        F1Average::Macro => per_class.sum::<f64>() / width as f64,
        F1Average::Weighted => {
            let total = support.iter().sum::<f64>() + EPSILON;
            per_class.zip(support).map(|(f, s)| f * (s / total)).sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, assert_splits_merge, eval, two_updates};
    use super::super::Metric;
    use super::*;
    use crate::losses::Targets;

    fn f1_score(average: F1Average, threshold: Option<f32>) -> Metric {
        Metric::F1Score { average, threshold }
    }

    #[test]
    fn matches_keras() {
        // m = keras.metrics.F1Score(average=a, threshold=t); m.update_state(yt1, yp1[, sample_weight=w1]);
        // m.update_state(yt2, yp2[, sample_weight=w2]); m.result()  (data in `testing`)
        let cases = [
            (F1Average::Micro, None, 0.363636314868927, 0.2739725410938263),
            (F1Average::Macro, None, 0.3555555045604706, 0.2539682388305664),
            (
                F1Average::Weighted,
                None,
                0.35555553436279297,
                0.30641821026802063,
            ),
            (
                F1Average::Micro,
                Some(0.5),
                0.5714284777641296,
                0.5360824465751648,
            ),
            (
                F1Average::Macro,
                Some(0.5),
                0.6111111044883728,
                0.47454842925071716,
            ),
            (
                F1Average::Weighted,
                Some(0.5),
                0.6111111044883728,
                0.5512957572937012,
            ),
        ];
        for (average, threshold, plain, weighted) in cases {
            let m = f1_score(average, threshold);
            assert_close(two_updates(m, false), plain);
            assert_close(two_updates(m, true), weighted);
        }
    }

    #[test]
    fn arg_max_ties_all_count_and_zero_rows_none() {
        // yt = [[1,0,0],[0,1,0],[0,0,1]], yp = [[0.5,0.5,0.0],[0,0,0],[0.2,0.3,0.3]]:
        // F1Score(average="macro") = 0.6666666, "micro" = 0.5714285, "weighted" = 0.6666666
        // (average=None: [0.9999998, 0, 0.9999998])
        let pred = [0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.2, 0.3, 0.3];
        let t = Targets::Dense(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let cases = [
            (F1Average::Macro, 0.666666567325592),
            (F1Average::Micro, 0.5714284777641296),
            (F1Average::Weighted, 0.666666567325592),
        ];
        for (average, expected) in cases {
            assert_close(eval(f1_score(average, None), &pred, t, 3, None), expected);
        }
    }

    #[test]
    fn soft_targets_count_fractionally() {
        // yt = [[0.7,0.3],[0.2,0.8]], yp = [[0.9,0.1],[0.6,0.4]]:
        // F1Score(average="macro") = 0.3103448, F1Score(average="weighted") = 0.2793103
        let pred = [0.9, 0.1, 0.6, 0.4];
        let t = Targets::Dense(&[0.7, 0.3, 0.2, 0.8]);
        assert_close(
            eval(f1_score(F1Average::Macro, None), &pred, t, 2, None),
            0.31034478545188904,
        );
        assert_close(
            eval(f1_score(F1Average::Weighted, None), &pred, t, 2, None),
            0.27931028604507446,
        );
    }

    #[test]
    fn class_labels_count_as_one_hot() {
        // labels [0, 1, 1] as np.eye(3)[labels], yp = [[0.6,0.3,0.1],[0.2,0.3,0.5],[0.1,0.8,0.1]]:
        // F1Score(average="macro") = 0.5555555, "micro" = 0.6666666, "weighted" = 0.7777777
        let pred = [0.6, 0.3, 0.1, 0.2, 0.3, 0.5, 0.1, 0.8, 0.1];
        let labels = Targets::Sparse(&[0, 1, 1]);
        let cases = [
            (F1Average::Macro, 0.5555554628372192),
            (F1Average::Micro, 0.6666666269302368),
            (F1Average::Weighted, 0.7777776718139648),
        ];
        for (average, expected) in cases {
            assert_close(eval(f1_score(average, None), &pred, labels, 3, None), expected);
        }
    }

    #[test]
    fn empty_state_is_zero() {
        let m = f1_score(F1Average::Macro, Some(0.5));
        assert_eq!(m.result(&[0.0; 12]), 0.0);
    }

    #[test]
    fn splits_merge() {
        assert_splits_merge(f1_score(F1Average::Macro, None));
        assert_splits_merge(f1_score(F1Average::Weighted, Some(0.3)));
    }
}
