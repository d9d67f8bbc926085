//! [`Workspace`]: the buffers of one training step, for training loops written by hand.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use super::validate::out_width;
use crate::losses::{Loss, Targets};
use crate::optim::Optimizer;
use crate::params::boxed_zeroed;
use crate::{Model, Rng, Shape};

/// The buffers of a training step for model `M`: the activations of the forward pass,
/// the gradient of the loss, and one gradient block of the model's shape.
///
/// This is what Keras's guide *Writing a training loop from scratch* does with a
/// `GradientTape`: [`Workspace::step`] runs the model in training mode on a batch,
/// computes the mean loss and the gradient of every parameter;
/// [`Workspace::apply_gradients`] then lets an optimizer update the model.
///
/// ```
/// use kerust::prelude::*;
/// use kerust::losses::Targets;
/// use kerust::train::Workspace;
///
/// model! { struct Net: Input<4> { hidden: Dense(8, activation = relu), out: Dense(3) } }
///
/// let mut model = Net::new(0);
/// let mut optimizer = Sgd::new(0.1);
/// let loss_fn = SparseCategoricalCrossentropy::from_logits();
/// let mut ws = Workspace::<Net>::new(2);
/// let mut rng = Rng::new(0);
/// let (x, y) = ([0.5, -1.0, 0.25, 2.0, 1.0, 0.0, -0.5, 0.75], [2, 0]);
///
/// let first = ws.step(&model, &x, Targets::Sparse(&y), &loss_fn, &mut rng);
/// ws.apply_gradients(&mut model, &mut optimizer);
/// for _ in 0..20 {
///     ws.step(&model, &x, Targets::Sparse(&y), &loss_fn, &mut rng);
///     ws.apply_gradients(&mut model, &mut optimizer);
/// }
/// let last = ws.step(&model, &x, Targets::Sparse(&y), &loss_fn, &mut rng);
/// assert!(last < first);
/// assert_eq!(ws.output().len(), 2 * 3); // the logits of the last step
/// ```
///
/// The same step with the [`Model`] methods directly, which `step` wraps:
///
/// ```text
/// model.forward_train(x, batch, ws, rng);          // activations into ws
/// let out = M::train_output(ws, batch);            // the predictions
/// loss.compute(out, targets, width, losses, Some(dy));
/// dy *= 1 / rows;                                  // the mean over the rows
/// grads.zero();
/// model.backward(x, batch, ws, dy, grads);         // parameter gradients into grads
/// optimizer.step(model.flat_mut(), grads.flat());
/// ```
///
/// For a batch below 128 samples, a step gives bit for bit the gradients of
/// [`Trainer::train_on_batch`](super::Trainer::train_on_batch); above, `fit` splits the
/// batch into shards that run in parallel, and the gradient sums round differently.
pub struct Workspace<M: Model> {
    ws: Vec<f32>,
    grads: Box<M>,
    dy: Vec<f32>,
    losses: Vec<f32>,
    /// Samples in the last step (0 before the first).
    batch: usize,
    /// Where each parameter tensor lies in the flat parameters.
    tensors: Vec<Range<usize>>,
    /// Non-trainable parameters saved around the optimizer step.
    frozen: Vec<f32>,
}

impl<M: Model> Workspace<M> {
    /// Buffers for batches of up to `batch` samples; a larger batch grows them on its
    /// first step.
    pub fn new(batch: usize) -> Self {
        let grads = boxed_zeroed::<M>();
        let mut tensors = Vec::new();
        let mut offset = 0;
        grads.visit_params(&mut |_, _, _, values| {
            tensors.push(offset..offset + values.len());
            offset += values.len();
        });
        let mut ws = Workspace {
            ws: Vec::new(),
            grads,
            dy: Vec::new(),
            losses: Vec::new(),
            batch: 0,
            tensors,
            frozen: Vec::new(),
        };
        ws.reserve(batch);
        ws
    }

    fn reserve(&mut self, batch: usize) {
        let out_len = <M::Output as Shape>::LEN;
        let grow = |v: &mut Vec<f32>, n: usize| {
            if v.len() < n {
                v.resize(n, 0.0);
            }
        };
        grow(&mut self.ws, batch * M::WORKSPACE);
        grow(&mut self.dy, batch * out_len);
        grow(&mut self.losses, batch * out_len / out_width::<M>());
    }

    /// One forward and backward pass on `x` (whole samples, flattened one after another):
    /// returns the mean `loss` over the batch, as `fit` reports it, and leaves the
    /// gradient of that mean with respect to every parameter in [`Workspace::grads`]
    /// (replacing the previous step's) and the predictions in [`Workspace::output`].
    /// `rng` drives dropout and other random layers.
    ///
    /// # Panics
    ///
    /// When `x` is empty or not a whole number of samples, or `targets` do not match the
    /// batch (one class below the output width per row, or one value per output value).
    pub fn step<L: Loss>(
        &mut self,
        model: &M,
        x: &[f32],
        targets: Targets<'_>,
        loss: &L,
        rng: &mut Rng,
    ) -> f32 {
        let (in_len, out_len) = (<M::Input as Shape>::LEN, <M::Output as Shape>::LEN);
        let width = out_width::<M>();
        assert!(
            !x.is_empty() && x.len().is_multiple_of(in_len),
            "Workspace::step: {} input values are not a whole number of samples of {in_len} values",
            x.len()
        );
        let batch = x.len() / in_len;
        let rows = batch * out_len / width;
        match targets {
            Targets::Sparse(c) => {
                assert_eq!(
                    c.len(),
                    rows,
                    "Workspace::step: {rows} rows need {rows} class labels"
                );
                assert!(
                    c.iter().all(|&c| (c as usize) < width),
                    "Workspace::step: class labels must be below the output width {width}"
                );
            }
            Targets::Dense(t) => assert_eq!(
                t.len(),
                batch * out_len,
                "Workspace::step: {batch} samples need {} target values",
                batch * out_len
            ),
        }
        self.reserve(batch);
        self.batch = batch;
        let ws = &mut self.ws[..batch * M::WORKSPACE];
        let dy = &mut self.dy[..batch * out_len];
        let losses = &mut self.losses[..rows];

        model.forward_train(x, batch, ws, rng);
        loss.compute(M::train_output(ws, batch), targets, width, losses, Some(dy));
        // The mean over rows, as the training loop scales it (a multiplication, so that
        // both round alike).
        let scale = 1.0 / rows as f32;
        dy.iter_mut().for_each(|g| *g *= scale);
        self.grads.zero();
        model.backward(x, batch, ws, dy, &mut self.grads);
        let total: f64 = losses.iter().map(|&l| f64::from(l)).sum();
        (total / rows as f64) as f32
    }

    /// The predictions of the last [`Workspace::step`] (empty before the first), for
    /// metrics: `batch * Output::LEN` values.
    pub fn output(&self) -> &[f32] {
        if self.batch == 0 {
            return &[];
        }
        M::train_output(&self.ws[..self.batch * M::WORKSPACE], self.batch)
    }

    /// The gradients of the last [`Workspace::step`], as a block of the model's shape:
    /// `grads().flat()` lines up with `model.flat()`.
    pub fn grads(&self) -> &M {
        &self.grads
    }

    /// The gradients, mutable: to clip or scale them before applying them.
    pub fn grads_mut(&mut self) -> &mut M {
        &mut self.grads
    }

    /// Updates `model` with the last step's gradients, as the training loop does (Keras's
    /// `optimizer.apply(grads, model.trainable_weights)`): non-trainable parameters
    /// (moving statistics) are kept out of the update, then updated from the batch.
    pub fn apply_gradients<O: Optimizer + ?Sized>(&mut self, model: &mut M, optimizer: &mut O) {
        self.frozen.clear();
        for &(start, len) in M::NON_TRAINABLE {
            self.frozen.extend_from_slice(&model.flat()[start..start + len]);
        }
        optimizer.step_tensors(model.flat_mut(), self.grads.flat(), &self.tensors);
        let mut at = 0;
        for &(start, len) in M::NON_TRAINABLE {
            model.flat_mut()[start..start + len].copy_from_slice(&self.frozen[at..at + len]);
            at += len;
        }
        if M::WHOLE_BATCH && self.batch > 0 {
            model.update_state(&self.ws[..self.batch * M::WORKSPACE], self.batch);
        }
    }
}
