//! [`Nested`]: a model used as a layer of another model.

use crate::{Layer, Model, Params, Rng};

/// A model used as a layer: `block = Model(ResBlock)(x)` in a functional `model!` makes a
/// field of type `Nested<ResBlock>`. Its parameters are the model's, named
/// `layer/param` under the field's name; its cache is the model's training workspace.
///
/// ```
/// use kerust::prelude::*;
/// use kerust::layers::Nested;
///
/// model! { pub struct Block: Input<4> { a: Dense(4, activation = relu), b: Dense(4) } }
/// model! {
///     struct Net {
///         x = Input<4>;
///         r = Model(Block)(x);
///         s = Add(x, r);
///         outputs(s);
///     }
/// }
/// let net = Net::new(0);
/// let block: &Nested<Block> = &net.r;
/// assert_eq!(Net::PARAM_COUNT, Block::PARAM_COUNT);
/// assert_eq!(block.0.a.kernel.len(), 4);
/// ```
#[repr(transparent)]
pub struct Nested<M>(pub M);

// SAFETY: `repr(transparent)` over a `Params` type.
unsafe impl<M: Model> Params for Nested<M> {
    const COUNT: usize = M::COUNT;
    const ZERO: Self = Nested(M::ZERO);
}

impl<M: Model> Layer for Nested<M> {
    type Input = M::Input;
    type Output = M::Output;
    const KIND: &'static str = "Functional";
    const CACHE: usize = M::WORKSPACE;
    const SCRATCH: usize = M::SCRATCH;
    const BATCH_STATS: bool = M::WHOLE_BATCH;
    const NON_TRAINABLE_RANGES: &'static [(usize, usize)] = M::NON_TRAINABLE;

    fn init(&mut self, rng: &mut Rng) {
        self.0.init_with(rng);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], scratch: &mut [f32], batch: usize) {
        self.0.forward_batch(x, y, batch, scratch);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, rng: &mut Rng) {
        self.0.forward_train(x, batch, cache, rng);
        y.copy_from_slice(M::train_output(cache, batch));
    }

    fn backward(
        &self,
        x: &[f32],
        _y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        self.0.backward_input(x, batch, cache, dy, dx, &mut grads.0);
    }

    fn update_state(&mut self, cache: &[f32], batch: usize) {
        self.0.update_state(cache, batch);
    }

    fn visit_params(&self, f: &mut crate::layer::ParamVisitor<'_>) {
        self.0.visit_params(&mut |layer, param, shape, values| {
            f(
                crate::model::JoinedName::new(layer, param).as_str(),
                shape,
                values,
            );
        });
    }
}
