//! Precision and recall at one threshold (Keras's `Precision` and `Recall`), and the
//! confusion matrix of class predictions.
//!
//! As Keras's `update_confusion_matrix_variables` (`multi_label=False`): every value is one
//! binary prediction, positive when `prediction > threshold`; its target is positive when
//! non-zero (Keras casts it to `bool`); the row's weight is added to one of the counts.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::{divide_no_nan, Batch};
use crate::{Error, Result};

/// `[tp, fp, fn]`, weighted.
pub(super) const STATE_LEN: usize = 3;

pub(super) fn update(batch: Batch<'_>, threshold: f32, state: &mut [f64]) {
    for (p, t, w) in batch.rows() {
        for (i, &x) in p.iter().enumerate() {
            let slot = match (t.at(i) != 0.0, x > threshold) {
                (true, true) => 0,
                (false, true) => 1,
                (true, false) => 2,
                (false, false) => continue,
            };
            state[slot] += w;
        }
    }
}

/// `tp / (tp + fp)`, 0 when nothing was predicted positive.
pub(super) fn precision(state: &[f64]) -> f64 {
    divide_no_nan(state[0], state[0] + state[1])
}

/// `tp / (tp + fn)`, 0 when no target was positive.
pub(super) fn recall(state: &[f64]) -> f64 {
    divide_no_nan(state[0], state[0] + state[2])
}

/// The confusion matrix of class predictions: `m[label][prediction]` counts the samples of
/// true class `label` predicted as `prediction` (rows are true classes, columns predicted
/// ones, as Keras's `metrics_utils.confusion_matrix`, `tf.math.confusion_matrix` and
/// scikit-learn's `confusion_matrix`).
///
/// # Errors
///
/// [`Error::InvalidArgument`] when `labels` and `predictions` differ in length, or when a
/// class is not in `0..num_classes`.
///
/// ```
/// use kerust::train::confusion_matrix;
/// let m = confusion_matrix(&[0, 1, 1, 2], &[0, 1, 2, 2], 3)?;
/// assert_eq!(m, [[1, 0, 0], [0, 1, 1], [0, 0, 1]]);
/// assert!(confusion_matrix(&[0, 3], &[0, 1], 3).is_err());
/// # Ok::<(), kerust::Error>(())
/// ```
pub fn confusion_matrix(labels: &[u32], predictions: &[u32], num_classes: usize) -> Result<Vec<Vec<u64>>> {
    if labels.len() != predictions.len() {
        return Err(Error::invalid_argument(
            "predictions",
            format!(
                "{} predictions for {} labels (one prediction per label)",
                predictions.len(),
                labels.len()
            ),
        ));
    }
    let check =
        |name: &'static str, classes: &[u32]| match classes.iter().position(|&c| c as usize >= num_classes) {
            Some(i) => Err(Error::invalid_argument(
                name,
                format!(
                    "class {} at index {i} is out of range: classes must be in 0..{num_classes}",
                    classes[i]
                ),
            )),
            None => Ok(()),
        };
    check("labels", labels)?;
    check("predictions", predictions)?;
    let mut m = vec![vec![0; num_classes]; num_classes];
    for (&l, &p) in labels.iter().zip(predictions) {
        m[l as usize][p as usize] += 1;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, assert_splits_merge, eval, two_updates};
    use super::super::Metric;
    use super::*;
    use crate::losses::Targets;
    use alloc::string::ToString;

    #[test]
    fn precision_and_recall_match_keras() {
        // m = keras.metrics.Precision(); m.update_state(yt1, yp1[, sample_weight=w1]);
        // m.update_state(yt2, yp2[, sample_weight=w2]); m.result()  (data in `testing`)
        let cases = [
            (Metric::Precision { threshold: 0.5 }, 0.5, 0.5098039507865906),
            (
                Metric::Recall { threshold: 0.5 },
                0.6666666865348816,
                0.5652173757553101,
            ),
            // keras.metrics.Precision(thresholds=0.3) / Recall(thresholds=0.7)
            (
                Metric::Precision { threshold: 0.3 },
                0.4545454680919647,
                0.5757575631141663,
            ),
            (
                Metric::Recall { threshold: 0.7 },
                0.3333333432674408,
                0.21739129722118378,
            ),
        ];
        for (m, plain, weighted) in cases {
            assert_close(two_updates(m, false), plain);
            assert_close(two_updates(m, true), weighted);
        }
    }

    #[test]
    fn no_positives_give_zero() {
        // keras.metrics.Precision()([[1., 0.]], [[0.2, 0.4]]) = 0.0 (nothing predicted positive)
        let m = Metric::Precision { threshold: 0.5 };
        assert_eq!(eval(m, &[0.2, 0.4], Targets::Dense(&[1.0, 0.0]), 2, None), 0.0);
        // keras.metrics.Recall()([[0., 0.]], [[0.9, 0.4]]) = 0.0 (no positive target)
        let m = Metric::Recall { threshold: 0.5 };
        assert_eq!(eval(m, &[0.9, 0.4], Targets::Dense(&[0.0, 0.0]), 2, None), 0.0);
        // Keras's fresh Precision().result() = 0.0
        assert_eq!(m.result(&[0.0; STATE_LEN]), 0.0);
    }

    #[test]
    fn non_zero_targets_are_positive() {
        // yt = [[0, 1, 0.3, 0, 1, 0]], yp = [[-0.5, 1.5, 0.5, 0.25, 0.0, 1.0]]:
        // keras.metrics.Precision()(yt, yp) = 0.5, keras.metrics.Recall()(yt, yp) = 0.33333334
        let pred = [-0.5, 1.5, 0.5, 0.25, 0.0, 1.0];
        let t = [0.0, 1.0, 0.3, 0.0, 1.0, 0.0];
        let m = Metric::Precision { threshold: 0.5 };
        assert_close(eval(m, &pred, Targets::Dense(&t), 6, None), 0.5);
        let m = Metric::Recall { threshold: 0.5 };
        assert_close(eval(m, &pred, Targets::Dense(&t), 6, None), 0.3333333432674408);
    }

    #[test]
    fn class_labels_count_as_one_hot() {
        // labels [0, 1, 1] as np.eye(3)[labels], yp = [[0.6,0.3,0.1],[0.2,0.3,0.5],[0.1,0.8,0.1]]:
        // Precision() = 1.0, Recall() = 0.6666667
        let pred = [0.6, 0.3, 0.1, 0.2, 0.3, 0.5, 0.1, 0.8, 0.1];
        let labels = Targets::Sparse(&[0, 1, 1]);
        assert_close(
            eval(Metric::Precision { threshold: 0.5 }, &pred, labels, 3, None),
            1.0,
        );
        assert_close(
            eval(Metric::Recall { threshold: 0.5 }, &pred, labels, 3, None),
            0.6666666865348816,
        );
    }

    #[test]
    fn splits_merge() {
        assert_splits_merge(Metric::Precision { threshold: 0.5 });
        assert_splits_merge(Metric::Recall { threshold: 0.5 });
    }

    #[test]
    fn confusion_matrix_rows_are_true_classes() {
        // keras.src.metrics.metrics_utils.confusion_matrix([1, 2, 4], [2, 2, 4], 5)
        let m = confusion_matrix(&[1, 2, 4], &[2, 2, 4], 5).unwrap();
        let expected = [
            [0, 0, 0, 0, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 1],
        ];
        assert_eq!(m, expected);
        assert_eq!(confusion_matrix(&[], &[], 0).unwrap(), Vec::<Vec<u64>>::new());
    }

    #[test]
    fn confusion_matrix_errors() {
        let err = confusion_matrix(&[0, 1], &[0], 2).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid argument `predictions`: 1 predictions for 2 labels (one prediction per label)"
        );
        let err = confusion_matrix(&[0, 2], &[0, 1], 2).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid argument `labels`: class 2 at index 1 is out of range: classes must be in 0..2"
        );
        let err = confusion_matrix(&[0, 1], &[5, 1], 2).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid argument `predictions`: class 5 at index 0"),
            "{err}"
        );
    }
}
