//! The [`Layer`] trait: a statically shaped transformation with its own backward pass.

use crate::layers::MaxPoolWindows;
use crate::{Params, Rng, Shape};

/// The visitor passed to [`Layer::visit_params`]: `(parameter name, shape, values)`. A
/// model used as a layer names its parameters `layer/param`.
pub type ParamVisitor<'a> = dyn FnMut(&str, &[usize], &[f32]) + 'a;

/// A layer: per-sample input and output shapes as types, parameters as a flat block,
/// forward and backward passes over a run-time batch of row-major samples.
///
/// Buffers are flat slices: `x` holds `batch * Input::LEN` values, `y` holds
/// `batch * Output::LEN`, `cache` holds `batch * CACHE`. Shapes were checked when the model
/// was declared, so these methods do not return `Result`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a kerust layer",
    note = "layers implement `kerust::Layer`; declare models with `kerust::model!`"
)]
pub trait Layer: Params {
    /// The shape of one input sample.
    type Input: Shape;
    /// The shape of one output sample.
    type Output: Shape;
    /// Keras's class name of the layer (`"Dense"`).
    const KIND: &'static str;
    /// Per-sample `f32` values the training forward keeps for the backward pass.
    const CACHE: usize = 0;
    /// Per-sample `f32` scratch values the inference forward needs (e.g. im2col patches).
    const SCRATCH: usize = 0;
    /// Whether training needs statistics over the whole batch (BatchNormalization): the
    /// trainer then runs each batch as one shard.
    const BATCH_STATS: bool = false;
    /// How many of the layer's parameters, counted from the end of its block, are not
    /// trainable (moving statistics): optimizers leave them unchanged.
    const NON_TRAINABLE: usize = 0;
    /// `(start, len)` ranges of the layer's parameters that are not trainable; by default
    /// the last [`Layer::NON_TRAINABLE`]. A model used as a layer lists its own.
    const NON_TRAINABLE_RANGES: &'static [(usize, usize)] =
        &[(Self::COUNT - Self::NON_TRAINABLE, Self::NON_TRAINABLE)];

    /// Initialises the parameters with Keras's defaults, drawing from `rng`.
    fn init(&mut self, rng: &mut Rng) {
        let _ = rng;
    }

    /// Inference forward: writes `y` from `x`; `scratch` holds `batch * SCRATCH` values.
    fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], batch: usize);

    /// Training forward: like [`Layer::forward`], but in training mode (dropout active)
    /// and storing what [`Layer::backward`] needs in `cache`.
    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, rng: &mut Rng) {
        let _ = (cache, rng);
        self.forward(x, y, &mut [], batch);
    }

    /// Backward pass. On entry `dy` holds dL/dy; `dy` and `cache` may be overwritten
    /// (used as scratch); parameter gradients are *added* to `grads`; when `dx` is given,
    /// dL/dx is written to it.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    );

    /// [`Layer::backward`], with the parameter gradients *written* to `grads` rather than
    /// added (its contents on entry are arbitrary). The default zeroes `grads` and calls
    /// `backward`; layers whose products can write their gradients directly override it,
    /// which saves a pass over the gradients per training step.
    #[allow(clippy::too_many_arguments)]
    fn backward_fresh(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        grads.zero();
        self.backward(x, y, cache, dy, dx, grads, batch);
    }

    /// Whether the layer's output is a ReLU's (`activation = relu`) and
    /// [`Layer::backward_fresh_premasked`] then skips applying its gradient: the next
    /// layer has (see [`Layer::MASKS_RELU_INPUT`]).
    const RELU_OUTPUT: bool = false;

    /// Whether [`Layer::backward_fresh_relu_input`] applies the gradient of a ReLU that
    /// produced the layer's input as it writes `dx`, for less than a pass of its own (max
    /// pooling with disjoint windows). Generated models pair it with a preceding
    /// [`Layer::RELU_OUTPUT`] layer.
    const MASKS_RELU_INPUT: bool = false;

    /// [`Layer::backward_fresh`] for a [`Layer::RELU_OUTPUT`] layer whose `dy` already
    /// holds dL/dz, the gradient before its ReLU. The default applies the mask again
    /// (`dy · [y > 0]`, which leaves dL/dz unchanged).
    #[allow(clippy::too_many_arguments)]
    fn backward_fresh_premasked(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        self.backward_fresh(x, y, cache, dy, dx, grads, batch);
    }

    /// [`Layer::backward_fresh`], then the gradient of a ReLU that produced `x` applied to
    /// `dx`: `dx · [x > 0]`, as `Relu`'s own backward computes it. Layers with
    /// [`Layer::MASKS_RELU_INPUT`] do both in one pass, with the same bits.
    #[allow(clippy::too_many_arguments)]
    fn backward_fresh_relu_input(
        &self,
        x: &[f32],
        y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        mut dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        self.backward_fresh(x, y, cache, dy, dx.as_deref_mut(), grads, batch);
        if let Some(dx) = dx {
            relu_gradient(&x[..batch * <Self::Input as Shape>::LEN], dx);
        }
    }

    /// Inference forward followed by a 2-D max pooling over `pool`'s windows, into `y`
    /// (the pooled values): what `model!` runs for a layer followed by a `MaxPooling2D`.
    /// `scratch` holds `batch * (Output::LEN + SCRATCH)` values.
    ///
    /// The default runs [`Layer::forward`] into the scratch, then the pooling. A layer may
    /// compute only the values the windows cover instead, with the same bits (`Conv2D`
    /// does, where its patches are read in place, without padding, and the windows are
    /// whole and disjoint).
    fn forward_max_pooled(
        &self,
        pool: &MaxPoolWindows,
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
        batch: usize,
    ) {
        let (mid, rest) = scratch.split_at_mut(batch * <Self::Output as Shape>::LEN);
        self.forward(x, mid, rest, batch);
        pool.forward(mid, y, batch);
    }

    /// Updates non-trainable state (moving statistics) after a training step, from the
    /// `cache` that [`Layer::forward_train`] filled for the whole batch.
    fn update_state(&mut self, cache: &[f32], batch: usize) {
        let _ = (cache, batch);
    }

    /// Calls `f(name, shape, values)` for each parameter tensor, in storage order.
    fn visit_params(&self, f: &mut ParamVisitor<'_>) {
        let _ = f;
    }
}

/// `dx · [x > 0]` in place over `x.len()` values: the gradient of a ReLU whose output is
/// `x`, computed as `Relu`'s backward does.
pub(crate) fn relu_gradient(x: &[f32], dx: &mut [f32]) {
    let n = x.len();
    crate::kernels::elementwise::activation_backward::<crate::activations::Relu>(
        x,
        x,
        &mut dx[..n],
        n.max(1),
    );
}
