//! Shared by the tests of the metric families: the batches of the Keras reference calls,
//! and the merge check.

use alloc::vec::Vec;

use super::Metric;
use crate::losses::Targets;

/// A batch as the reference Keras calls see it: predictions, dense targets, weights.
pub(super) type Data<'a> = (&'a [f32], &'a [f32], &'a [f32]);

/// Width 3. In Keras: `yt1 = [[1,0,1],[0,1,0]]`, `yp1 = [[0.9,0.6,0.3],[0.5,0.8,0.1]]`,
/// `w1 = [2.0, 0.5]`.
pub(super) const BATCH1: Data<'static> = (
    &[0.9, 0.6, 0.3, 0.5, 0.8, 0.1],
    &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
    &[2.0, 0.5],
);
/// Width 3. In Keras: `yt2 = [[0,0,1],[1,1,0],[0,0,0]]`,
/// `yp2 = [[0.2,0.7,0.55],[0.51,0.4,0.9],[0.0,1.0,0.5]]`, `w2 = [1.0, 3.0, 0.25]`.
pub(super) const BATCH2: Data<'static> = (
    &[0.2, 0.7, 0.55, 0.51, 0.4, 0.9, 0.0, 1.0, 0.5],
    &[0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
    &[1.0, 3.0, 0.25],
);

/// The result after one `update` per batch (`width` 3), with or without the weights.
pub(super) fn two_updates(m: Metric, weighted: bool) -> f64 {
    let mut state = alloc::vec![0.0; m.state_len(3)];
    for (pred, t, w) in [BATCH1, BATCH2] {
        m.update(pred, Targets::Dense(t), 3, weighted.then_some(w), &mut state);
    }
    m.result(&state)
}

/// The result of one `update` over `pred` rows of `width`.
pub(super) fn eval(m: Metric, pred: &[f32], t: Targets<'_>, width: usize, w: Option<&[f32]>) -> f64 {
    let mut state = alloc::vec![0.0; m.state_len(width)];
    m.update(pred, t, width, w, &mut state);
    m.result(&state)
}

/// Keras computes in float32: literals from it match to about 1e-7.
pub(super) fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-6,
        "expected {expected}, got {actual}"
    );
}

/// The state of `BATCH1` then `BATCH2` (weighted) in one update, and the sum of the
/// states of every split of the concatenated batch into two updates: equal, as sharding
/// requires.
pub(super) fn assert_splits_merge(m: Metric) {
    let width = 3;
    let pred: Vec<f32> = BATCH1.0.iter().chain(BATCH2.0).copied().collect();
    let t: Vec<f32> = BATCH1.1.iter().chain(BATCH2.1).copied().collect();
    let w: Vec<f32> = BATCH1.2.iter().chain(BATCH2.2).copied().collect();
    let rows = w.len();
    let mut whole = alloc::vec![0.0; m.state_len(width)];
    m.update(&pred, Targets::Dense(&t), width, Some(&w), &mut whole);
    for split in 0..=rows {
        let (mut a, mut b) = (
            alloc::vec![0.0; m.state_len(width)],
            alloc::vec![0.0; m.state_len(width)],
        );
        let (v, n) = (split * width, split);
        m.update(&pred[..v], Targets::Dense(&t[..v]), width, Some(&w[..n]), &mut a);
        m.update(&pred[v..], Targets::Dense(&t[v..]), width, Some(&w[n..]), &mut b);
        let merged: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        for (i, (x, y)) in merged.iter().zip(&whole).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12,
                "{m:?}, split {split}: state[{i}] {x} != {y}"
            );
        }
        assert_close(m.result(&merged), m.result(&whole));
    }
}
