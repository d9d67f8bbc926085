//! Training on the device: one step of plain gradient descent on a batch, without a heap.
//!
//! Shared by the firmware (`src/bin/digits-train.rs`, where every buffer is a `static`
//! sized at compile time) and the desktop example (`examples/embedded_train.rs`, which
//! runs the same steps on the host to give the loss curve the device must reproduce).
//! Everything here works on borrowed slices; nothing allocates.

use core::ops::Range;

use kerust::losses::{Loss, SparseCategoricalCrossentropy, Targets};
use kerust::{Model, Rng, Shape};

/// Samples per training step (the compile-time batch size of the device's buffers).
pub const BATCH: usize = 16;
/// Training steps on the device.
pub const STEPS: usize = 12;
/// The SGD learning rate.
pub const LEARNING_RATE: f32 = 0.1;

/// The buffers of a training step of `batch` samples of a model `M`.
///
/// On the device they are `static`s: `[f32; M::WORKSPACE * BATCH]`, `M::ZERO`,
/// `[f32; <M::Output as Shape>::LEN * BATCH]` and `[f32; BATCH]`.
pub struct Buffers<'a, M> {
    /// The training workspace, `M::WORKSPACE * batch` values.
    pub ws: &'a mut [f32],
    /// The gradient block, of the model's own type.
    pub grads: &'a mut M,
    /// dL/d(output), `Output::LEN * batch` values.
    pub dy: &'a mut [f32],
    /// The per-sample losses, `batch` values.
    pub losses: &'a mut [f32],
}

/// Fine-tuning by plain SGD (`p -= learning_rate * g`) of a range of the flat parameters,
/// with the sparse categorical cross-entropy on logits averaged over the batch (Keras's
/// `sum_over_batch_size`).
#[derive(Clone, Debug, PartialEq)]
pub struct FineTune {
    /// The step size.
    pub learning_rate: f32,
    /// The flat parameters that are updated; the others stay frozen.
    pub trainable: Range<usize>,
}

impl FineTune {
    /// Fine-tuning of the last layer of `M` that has parameters (its last `Dense`).
    pub const fn last_layer<M: Model>(learning_rate: f32) -> Self {
        let layers = M::LAYERS;
        let mut i = layers.len();
        while i > 0 {
            i -= 1;
            if layers[i].params > 0 {
                // Layers lie in declaration order in the flat block, and every later one
                // has no parameters: the last `params` values are this layer's.
                return FineTune {
                    learning_rate,
                    trainable: M::COUNT - layers[i].params..M::COUNT,
                };
            }
        }
        FineTune {
            learning_rate,
            trainable: 0..0,
        }
    }

    /// One step on the batch `x` (`labels.len()` samples): forward in training mode, the
    /// loss and its gradient, backward, the SGD update. Returns the batch's mean loss
    /// *before* the update, as Keras's `train_on_batch` does.
    ///
    /// # Panics
    ///
    /// When a buffer is smaller than the batch needs.
    pub fn step<M: Model>(
        &self,
        model: &mut M,
        buf: &mut Buffers<'_, M>,
        x: &[f32],
        labels: &[u32],
        rng: &mut Rng,
    ) -> f32 {
        let batch = labels.len();
        let classes = <M::Output as Shape>::LEN;
        let (ws, dy, losses) = (
            &mut buf.ws[..M::WORKSPACE * batch],
            &mut buf.dy[..classes * batch],
            &mut buf.losses[..batch],
        );
        let x = &x[..<M::Input as Shape>::LEN * batch];

        model.forward_train(x, batch, ws, rng);
        let loss = SparseCategoricalCrossentropy::from_logits();
        loss.compute(
            M::train_output(ws, batch),
            Targets::Sparse(labels),
            classes,
            losses,
            Some(dy),
        );
        let mean = losses.iter().sum::<f32>() / batch as f32;
        let scale = 1.0 / batch as f32;
        dy.iter_mut().for_each(|g| *g *= scale);

        buf.grads.zero();
        model.backward(x, batch, ws, dy, buf.grads);
        sgd(
            &mut model.flat_mut()[self.trainable.clone()],
            &buf.grads.flat()[self.trainable.clone()],
            self.learning_rate,
        );
        mean
    }
}

/// Plain gradient descent on flat slices: `p -= learning_rate * g`. (kerust's `Sgd`
/// optimizer keeps momentum state in a `Vec`, so it needs `alloc`.)
pub fn sgd(params: &mut [f32], grads: &[f32], learning_rate: f32) {
    for (p, &g) in params.iter_mut().zip(grads) {
        *p -= learning_rate * g;
    }
}
