//! Data parallelism with a deterministic reduction.
//!
//! A batch is cut into a number of shards that depends only on the batch size, never on the
//! number of threads. Each shard runs forward and backward into its own workspace and
//! gradient block; the blocks are then summed in shard order. The same seed and data thus
//! give bit-identical weights on 1 thread or 16.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use crate::params::boxed_zeroed;
use crate::Model;

/// Smallest number of rows worth a shard of its own.
pub(crate) const MIN_SHARD_ROWS: usize = 64;
/// Workspace values per shard below which a shard would be too small to be worth a task:
/// models with large per-sample workspaces (convolutions) get shards of fewer rows.
pub(crate) const MIN_SHARD_WORK: usize = 1 << 16;
/// Most shards per batch.
pub(crate) const MAX_SHARDS: usize = 8;

/// How many shards a batch of `batch` rows is cut into: one per `min_rows` rows (fewer
/// rows for larger per-sample workspaces), but two, not one, from `min_rows` rows up, so
/// that a batch of 64 keeps two cores busy.
pub(crate) fn shard_count(batch: usize, workspace: usize) -> usize {
    let min_rows = (MIN_SHARD_WORK / workspace.max(1)).clamp(8, MIN_SHARD_ROWS);
    match batch / min_rows {
        1 => 2,
        n => n.clamp(1, MAX_SHARDS),
    }
}

/// The rows of shard `s` of `n` in a batch of `batch`.
pub(crate) fn shard_rows(batch: usize, n: usize, s: usize) -> Range<usize> {
    (s * batch / n)..((s + 1) * batch / n)
}

/// Per-shard buffers, reused from step to step.
pub(crate) struct Shard<M: Model> {
    /// The shard's input rows, gathered by its own thread (then in its core's cache).
    pub x: Vec<f32>,
    pub ws: Vec<f32>,
    pub grads: Box<M>,
    /// The gradient of the loss with respect to the output rows (in evaluation: the
    /// outputs).
    pub dy: Vec<f32>,
    /// One output's values and loss gradient, gathered out of the rows of a model with
    /// several outputs.
    pub pred: Vec<f32>,
    pub grad: Vec<f32>,
    /// One output's per-row losses and per-row weights.
    pub losses: Vec<f32>,
    pub row_weights: Vec<f32>,
    /// The weighted total loss summed over samples, and each output's loss.
    pub loss_sum: f64,
    pub head_loss: Vec<f64>,
    pub count: f64,
    pub metrics: Vec<Vec<f64>>,
}

impl<M: Model> Shard<M> {
    /// A shard for `heads` outputs and metric states of `state_lens` values.
    pub(crate) fn new(state_lens: impl Iterator<Item = usize>, heads: usize) -> Self {
        Shard {
            x: Vec::new(),
            ws: Vec::new(),
            grads: boxed_zeroed(),
            dy: Vec::new(),
            pred: Vec::new(),
            grad: Vec::new(),
            losses: Vec::new(),
            row_weights: Vec::new(),
            loss_sum: 0.0,
            head_loss: alloc::vec![0.0; heads],
            count: 0.0,
            metrics: state_lens.map(|n| alloc::vec![0.0; n]).collect(),
        }
    }

    /// Grows the buffers for `rows` samples (only the first time a size is seen): `out`
    /// output values, at most `gathered` values of one output and `loss_rows` loss rows
    /// per sample.
    pub(crate) fn reserve(
        &mut self,
        rows: usize,
        workspace: usize,
        out: usize,
        gathered: usize,
        loss_rows: usize,
    ) {
        grow(&mut self.ws, rows * workspace);
        grow(&mut self.dy, rows * out);
        grow(&mut self.pred, rows * gathered);
        grow(&mut self.grad, rows * gathered);
        grow(&mut self.losses, rows * loss_rows);
        grow(&mut self.row_weights, rows * loss_rows);
    }

    pub(crate) fn reset_sums(&mut self) {
        self.loss_sum = 0.0;
        self.head_loss.fill(0.0);
        self.count = 0.0;
        self.metrics.iter_mut().for_each(|m| m.fill(0.0));
    }
}

fn grow(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// Runs `f(s, shard)` for the first `n` shards, in parallel when the `parallel` feature is on.
pub(crate) fn for_each_shard<M: Model, F>(shards: &mut [Shard<M>], n: usize, f: F)
where
    F: Fn(usize, &mut Shard<M>) + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        if n > 1 {
            shards[..n]
                .par_iter_mut()
                .enumerate()
                .for_each(|(s, sh)| f(s, sh));
            return;
        }
    }
    for (s, sh) in shards[..n].iter_mut().enumerate() {
        f(s, sh);
    }
}

/// Shard 0's gradient block (mutable) and those of shards `1..n`, for
/// [`crate::optim::Optimizer::step_sum`], which adds them in that order.
pub(crate) fn split_grads<M: Model>(
    shards: &mut [Shard<M>],
    n: usize,
) -> (&mut [f32], [&[f32]; MAX_SHARDS - 1]) {
    let (first, rest) = shards.split_at_mut(1);
    let mut others: [&[f32]; MAX_SHARDS - 1] = [&[]; MAX_SHARDS - 1];
    for (o, sh) in others.iter_mut().zip(&rest[..n - 1]) {
        *o = sh.grads.flat();
    }
    (first[0].grads.flat_mut(), others)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_batch() {
        for batch in [1, 63, 64, 128, 129, 1000, 5000] {
            let n = shard_count(batch, 1000);
            assert!((1..=MAX_SHARDS).contains(&n));
            let mut next = 0;
            for s in 0..n {
                let r = shard_rows(batch, n, s);
                assert_eq!(r.start, next);
                assert!(!r.is_empty());
                next = r.end;
            }
            assert_eq!(next, batch);
        }
        // Small per-sample work (an MLP): 64-row shards, and two from 64 rows up.
        assert_eq!(shard_count(32, 1000), 1);
        assert_eq!(shard_count(63, 1000), 1);
        assert_eq!(shard_count(64, 1000), 2);
        assert_eq!(shard_count(127, 1000), 2);
        assert_eq!(shard_count(128, 1000), 2);
        assert_eq!(shard_count(192, 1000), 3);
        assert_eq!(shard_count(5000, 1000), MAX_SHARDS);
        // Large per-sample work (a CNN): shards of a few rows.
        assert_eq!(shard_count(32, 100_000), 4);
        assert_eq!(shard_count(8, 100_000), 2);
        assert_eq!(shard_count(7, 100_000), 1);
    }
}
