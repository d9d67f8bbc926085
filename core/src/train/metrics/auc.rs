//! Area under the ROC or precision-recall curve (Keras's `AUC`, `multi_label=False`,
//! `summation_method="interpolation"`).
//!
//! Keras builds `num_thresholds` thresholds: `-1e-7`, then `i / (num_thresholds - 1)` for
//! `i` in `1..num_thresholds - 1`, then `1 + 1e-7`. They are evenly spaced, so Keras counts
//! with `_update_confusion_matrix_variables_optimized`, which this file follows: each
//! prediction, clipped to `[0, 1]`, falls in bucket `max(ceil(p * (n - 1)) - 1, 0)`
//! (computed in `f32`), i.e. the last threshold it exceeds; the counts at threshold `i` are
//! the sums over buckets `>= i`. Every value of the batch counts as one binary prediction
//! (targets positive when non-zero), weighted by its row's weight.
//!
//! State: `[tp; n]`, `[fp; n]`, `[tn; n]`, `[fn; n]`, weighted counts per threshold.

use super::{divide_no_nan, AucCurve, Batch};

/// Thresholds handled per pass: the bucket sums of a pass live on the stack, so updates
/// never allocate.
const BLOCK: usize = 256;

pub(super) fn state_len(num_thresholds: usize) -> usize {
    4 * num_thresholds
}

/// The bucket of prediction `p`: the index of the last threshold it exceeds.
fn bucket(p: f32, n: usize) -> usize {
    let b = (p.clamp(0.0, 1.0) * (n - 1) as f32).ceil() - 1.0;
    // NaN and -1 (p = 0, which exceeds only the -1e-7 threshold) land in bucket 0.
    b.max(0.0) as usize
}

pub(super) fn update(batch: Batch<'_>, n: usize, state: &mut [f64]) {
    if n < 2 {
        return;
    }
    let (tp, rest) = state.split_at_mut(n);
    let (fp, rest) = rest.split_at_mut(n);
    let (tn, fn_) = rest.split_at_mut(n);
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        // Per class (0 negative, 1 positive): bucket sums within the block, the sum above it,
        // and the total.
        let mut hist = [[0.0f64; BLOCK]; 2];
        let mut above = [0.0f64; 2];
        let mut total = [0.0f64; 2];
        for (p, t, w) in batch.rows() {
            for (i, &x) in p.iter().enumerate() {
                let class = usize::from(t.at(i) != 0.0);
                let b = bucket(x, n);
                total[class] += w;
                if b >= end {
                    above[class] += w;
                } else if b >= start {
                    hist[class][b - start] += w;
                }
            }
        }
        let [mut neg, mut pos] = above;
        for i in (start..end).rev() {
            neg += hist[0][i - start];
            pos += hist[1][i - start];
            tp[i] += pos;
            fp[i] += neg;
            fn_[i] += total[1] - pos;
            tn[i] += total[0] - neg;
        }
    }
}

pub(super) fn result(curve: AucCurve, n: usize, state: &[f64]) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    let (tp, rest) = state.split_at(n);
    let (fp, rest) = rest.split_at(n);
    let (tn, fn_) = rest.split_at(n);
    match curve {
        AucCurve::Roc => {
            let recall = |i: usize| divide_no_nan(tp[i], tp[i] + fn_[i]);
            let fp_rate = |i: usize| divide_no_nan(fp[i], fp[i] + tn[i]);
            (0..n - 1)
                .map(|i| (fp_rate(i) - fp_rate(i + 1)) * ((recall(i) + recall(i + 1)) / 2.0))
                .sum()
        }
        AucCurve::Pr => interpolate_pr_auc(tp, fp, fn_),
    }
}

/// Keras's `interpolate_pr_auc`: within each interval between thresholds, TP and the
/// predicted positives P = TP + FP vary linearly, so precision is integrated in closed form:
/// `slope * (dTP + intercept * ln(P_A / P_B)) / (TP_B + FN_B)`.
fn interpolate_pr_auc(tp: &[f64], fp: &[f64], fn_: &[f64]) -> f64 {
    let p = |i: usize| tp[i] + fp[i];
    (0..tp.len() - 1)
        .map(|i| {
            let dtp = tp[i] - tp[i + 1];
            let (p_a, p_b) = (p(i), p(i + 1));
            let slope = divide_no_nan(dtp, (p_a - p_b).max(0.0));
            let intercept = tp[i + 1] - slope * p_b;
            let ratio = if p_a > 0.0 && p_b > 0.0 {
                divide_no_nan(p_a, p_b.max(0.0))
            } else {
                1.0
            };
            divide_no_nan(
                slope * (dtp + intercept * ratio.ln()),
                (tp[i + 1] + fn_[i + 1]).max(0.0),
            )
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::super::testing::{assert_close, assert_splits_merge, eval, two_updates};
    use super::super::Metric;
    use super::*;
    use crate::losses::Targets;

    fn auc(curve: AucCurve, num_thresholds: usize) -> Metric {
        Metric::Auc {
            curve,
            num_thresholds,
        }
    }

    #[test]
    fn matches_keras() {
        // m = keras.metrics.AUC(num_thresholds=n, curve=c); m.update_state(yt1, yp1[, sample_weight=w1]);
        // m.update_state(yt2, yp2[, sample_weight=w2]); m.result()  (data in `testing`)
        let cases = [
            (auc(AucCurve::Roc, 200), 0.5648148655891418, 0.3527950346469879),
            (auc(AucCurve::Pr, 200), 0.40088745951652527, 0.4629572629928589),
            (auc(AucCurve::Roc, 5), 0.6666666269302368, 0.44161486625671387),
            (auc(AucCurve::Pr, 5), 0.5, 0.5111499428749084),
        ];
        for (m, plain, weighted) in cases {
            assert_close(two_updates(m, false), plain);
            assert_close(two_updates(m, true), weighted);
        }
    }

    /// yt = [0, 1, 0.3, 0, 1, 0], yp = [-0.5, 1.5, 0.5, 0.25, 0.0, 1.0]: out-of-range
    /// predictions, a soft target, predictions on thresholds.
    const PRED: [f32; 6] = [-0.5, 1.5, 0.5, 0.25, 0.0, 1.0];
    const TARGETS: [f32; 6] = [0.0, 1.0, 0.3, 0.0, 1.0, 0.0];

    #[test]
    fn clips_predictions_and_counts_like_keras() {
        // m = keras.metrics.AUC(num_thresholds=5); m.update_state(yt, yp):
        // tp [3, 2, 1, 1, 0], fp [3, 1, 1, 1, 0], tn [0, 2, 2, 2, 3], fn [0, 1, 2, 2, 3]
        let m = auc(AucCurve::Roc, 5);
        let mut state = [0.0; 20];
        m.update(&PRED, Targets::Dense(&TARGETS), 1, None, &mut state);
        let expected = [
            [3.0, 2.0, 1.0, 1.0, 0.0],
            [3.0, 1.0, 1.0, 1.0, 0.0],
            [0.0, 2.0, 2.0, 2.0, 3.0],
            [0.0, 1.0, 2.0, 2.0, 3.0],
        ];
        assert_eq!(state.chunks(5).collect::<Vec<_>>(), expected);
        // keras.metrics.AUC(num_thresholds=n[, curve="PR"])(yt, yp)
        let cases = [
            (3, 0.4999999701976776, 0.5),
            (5, 0.6111111044883728, 0.5529724359512329),
            (200, 0.5555555820465088, 0.531511664390564),
        ];
        for (n, roc, pr) in cases {
            let t = Targets::Dense(&TARGETS);
            assert_close(eval(auc(AucCurve::Roc, n), &PRED, t, 2, None), roc);
            assert_close(eval(auc(AucCurve::Pr, n), &PRED, t, 2, None), pr);
        }
    }

    /// Keras's `AUC._thresholds`.
    fn keras_thresholds(n: usize) -> Vec<f64> {
        let inner = (0..n - 2).map(|i| (i + 1) as f64 / (n - 1) as f64);
        core::iter::once(-1e-7).chain(inner).chain([1.0 + 1e-7]).collect()
    }

    #[test]
    fn buckets_are_the_thresholds_exceeded() {
        for n in [2, 3, 7, 200, 600] {
            let thresholds = keras_thresholds(n);
            for p in [0.0f32, 1e-9, 0.013, 0.25, 0.3, 0.5001, 0.77, 0.999, 1.0] {
                let exceeded = thresholds.iter().filter(|&&t| f64::from(p) > t).count();
                assert_eq!(bucket(p, n) + 1, exceeded, "p = {p}, n = {n}");
            }
        }
    }

    #[test]
    fn thresholds_beyond_one_block() {
        // 600 thresholds take three passes; the counts must equal a direct count.
        let n = 600;
        let mut state = alloc::vec![0.0; state_len(n)];
        let m = auc(AucCurve::Roc, n);
        m.update(&PRED, Targets::Dense(&TARGETS), 3, Some(&[2.0, 0.5]), &mut state);
        for i in 0..n {
            let (mut tp, mut fp) = (0.0, 0.0);
            for (j, (&p, &t)) in PRED.iter().zip(&TARGETS).enumerate() {
                let w = if j < 3 { 2.0 } else { 0.5 };
                if bucket(p, n) >= i {
                    if t != 0.0 {
                        tp += w;
                    } else {
                        fp += w;
                    }
                }
            }
            assert_eq!((state[i], state[n + i]), (tp, fp), "threshold {i}");
            assert_eq!(state[i] + state[3 * n + i], 4.5, "positives at threshold {i}");
        }
    }

    #[test]
    fn single_class() {
        // yp = [[0.1], [0.7], [0.4]]: keras.metrics.AUC()(ones, yp) = 0.0,
        // AUC(curve="PR")(ones, yp) = 1.0; with zeros both are 0.0.
        let pred = [0.1, 0.7, 0.4];
        let (ones, zeros) = ([1.0; 3], [0.0; 3]);
        assert_eq!(
            eval(auc(AucCurve::Roc, 200), &pred, Targets::Dense(&ones), 1, None),
            0.0
        );
        assert_close(
            eval(auc(AucCurve::Pr, 200), &pred, Targets::Dense(&ones), 1, None),
            1.0,
        );
        assert_eq!(
            eval(auc(AucCurve::Roc, 200), &pred, Targets::Dense(&zeros), 1, None),
            0.0
        );
        assert_eq!(
            eval(auc(AucCurve::Pr, 200), &pred, Targets::Dense(&zeros), 1, None),
            0.0
        );
        // A fresh keras.metrics.AUC().result() = 0.0
        assert_eq!(auc(AucCurve::Roc, 200).result(&[0.0; 800]), 0.0);
    }

    #[test]
    fn class_labels_count_as_one_hot() {
        // labels [0, 1, 1] as np.eye(3)[labels], yp = [[0.6,0.3,0.1],[0.2,0.3,0.5],[0.1,0.8,0.1]]:
        // AUC() = 0.9166666, AUC(curve="PR") = 0.8759022
        let pred = [0.6, 0.3, 0.1, 0.2, 0.3, 0.5, 0.1, 0.8, 0.1];
        let labels = Targets::Sparse(&[0, 1, 1]);
        assert_close(
            eval(auc(AucCurve::Roc, 200), &pred, labels, 3, None),
            0.9166666269302368,
        );
        assert_close(
            eval(auc(AucCurve::Pr, 200), &pred, labels, 3, None),
            0.8759021759033203,
        );
    }

    #[test]
    fn too_few_thresholds_is_nan() {
        let m = auc(AucCurve::Roc, 1);
        assert!(eval(m, &PRED, Targets::Dense(&TARGETS), 1, None).is_nan());
    }

    #[test]
    fn splits_merge() {
        assert_splits_merge(auc(AucCurve::Roc, 200));
        assert_splits_merge(auc(AucCurve::Pr, 300));
    }
}
