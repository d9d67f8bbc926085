// Shared by tests/lib.rs and tests/alloc_free.rs (included, not a module of its own).

/// Declares `$name`, a model that runs `$base` but lists its inputs and outputs as
/// `$inputs` and `$outputs` (`&[TensorInfo]`): a model with several inputs or outputs
/// written by hand, delegating every method to the declared model it wraps.
macro_rules! split_model {
    ($name:ident($base:ty), inputs = $inputs:expr, outputs = $outputs:expr) => {
        #[repr(transparent)]
        struct $name($base);

        // SAFETY: `#[repr(transparent)]` over a `Params` type: the same block of `f32`s.
        unsafe impl kerust::Params for $name {
            const COUNT: usize = <$base as kerust::Params>::COUNT;
            const ZERO: Self = $name(<$base as kerust::Params>::ZERO);
        }

        impl kerust::Model for $name {
            type Input = <$base as kerust::Model>::Input;
            type Output = <$base as kerust::Model>::Output;
            const NAME: &'static str = stringify!($name);
            const LAYERS: &'static [kerust::LayerInfo] = <$base as kerust::Model>::LAYERS;
            const INPUTS: &'static [kerust::TensorInfo] = $inputs;
            const OUTPUTS: &'static [kerust::TensorInfo] = $outputs;
            const WORKSPACE: usize = <$base as kerust::Model>::WORKSPACE;
            const SCRATCH: usize = <$base as kerust::Model>::SCRATCH;
            const WHOLE_BATCH: bool = <$base as kerust::Model>::WHOLE_BATCH;
            const NON_TRAINABLE: &'static [(usize, usize)] = <$base as kerust::Model>::NON_TRAINABLE;

            fn init_with(&mut self, rng: &mut kerust::Rng) {
                self.0.init_with(rng)
            }
            fn forward_batch(&self, x: &[f32], y: &mut [f32], batch: usize, scratch: &mut [f32]) {
                self.0.forward_batch(x, y, batch, scratch)
            }
            fn forward_train(&self, x: &[f32], batch: usize, ws: &mut [f32], rng: &mut kerust::Rng) {
                self.0.forward_train(x, batch, ws, rng)
            }
            fn train_output(ws: &[f32], batch: usize) -> &[f32] {
                <$base as kerust::Model>::train_output(ws, batch)
            }
            fn backward_input(
                &self,
                x: &[f32],
                batch: usize,
                ws: &mut [f32],
                dy: &mut [f32],
                dx: ::core::option::Option<&mut [f32]>,
                grads: &mut Self,
            ) {
                self.0.backward_input(x, batch, ws, dy, dx, &mut grads.0)
            }
            fn update_state(&mut self, ws: &[f32], batch: usize) {
                self.0.update_state(ws, batch)
            }
            fn visit_params(&self, f: &mut kerust::model::ModelParamVisitor<'_>) {
                self.0.visit_params(f)
            }
        }
    };
}
