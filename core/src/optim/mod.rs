//! Optimizers with Keras 3's update rules and defaults, working on the flat parameter slice.
//!
//! Each [`Optimizer::step`] follows Keras's `BaseOptimizer.apply`: weight decay first
//! (`p -= p * weight_decay * learning_rate`, with the current learning rate), then the
//! optimizer's own `update_step` with the same gradients, then `iterations += 1`. Keras clips
//! gradients (`clipnorm`, `clipvalue`, `global_clipnorm`) before the weight decay; kerust's
//! optimizers take the gradients as given, so clip them before calling `step`.
//!
//! [`OptimizerExt`] adds those options to every optimizer by wrapping it: `.clipnorm(x)`,
//! `.clipvalue(x)` and `.global_clipnorm(x)` return a [`Clipped`] optimizer, and
//! `.with_schedule(schedule)` a [`Scheduled`] one, whose learning rate follows a
//! [`schedules::LearningRateSchedule`] as Keras's `learning_rate=schedule` does.

#[cfg(feature = "alloc")]
mod adadelta;
#[cfg(feature = "alloc")]
mod adagrad;
#[cfg(feature = "alloc")]
mod adam;
#[cfg(feature = "alloc")]
mod adamax;
#[cfg(feature = "alloc")]
mod adamw;
#[cfg(feature = "alloc")]
mod clip;
mod ext;
#[cfg(feature = "alloc")]
mod lion;
#[cfg(feature = "alloc")]
mod nadam;
#[cfg(feature = "alloc")]
mod rmsprop;
mod scheduled;
pub mod schedules;
#[cfg(feature = "alloc")]
mod sgd;
#[cfg(feature = "alloc")]
mod state;

#[cfg(feature = "alloc")]
pub use adadelta::Adadelta;
#[cfg(feature = "alloc")]
pub use adagrad::Adagrad;
#[cfg(feature = "alloc")]
pub use adam::Adam;
#[cfg(feature = "alloc")]
pub use adamax::Adamax;
#[cfg(feature = "alloc")]
pub use adamw::AdamW;
#[cfg(feature = "alloc")]
pub use clip::{Clip, Clipped, OneClippingOption};
pub use ext::OptimizerExt;
#[cfg(feature = "alloc")]
pub use lion::Lion;
#[cfg(feature = "alloc")]
pub use nadam::Nadam;
#[cfg(feature = "alloc")]
pub use rmsprop::RmsProp;
pub use scheduled::Scheduled;
#[cfg(feature = "alloc")]
pub use sgd::Sgd;
#[cfg(feature = "alloc")]
pub use state::OptimizerState;

/// An optimizer: updates the flat parameter slice from the flat gradient slice.
pub trait Optimizer: Send {
    /// Keras's name (`"adam"`).
    fn name(&self) -> &'static str;

    /// Applies one update (Keras's `apply`): `params` and `grads` have equal length; state is
    /// created on the first call. Increments [`Optimizer::iterations`].
    fn step(&mut self, params: &mut [f32], grads: &[f32]);

    /// The number of updates applied so far (Keras's `optimizer.iterations`).
    fn iterations(&self) -> u64;

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate (callbacks such as ReduceLROnPlateau use it).
    fn set_learning_rate(&mut self, lr: f32);

    /// [`Optimizer::step`] knowing where each parameter tensor lies in the flat slices
    /// (`tensors`, in storage order): options that act per tensor, such as Keras's
    /// `clipnorm`, need it. The training loop calls this; the default ignores `tensors`.
    fn step_tensors(&mut self, params: &mut [f32], grads: &[f32], tensors: &[core::ops::Range<usize>]) {
        let _ = tensors;
        self.step(params, grads);
    }

    /// [`Optimizer::step_tensors`] with the gradient given as the sum `grads + rest[0] + …`
    /// (the shards of a batch, added in that order). `grads` may be overwritten. The default
    /// sums into `grads` and steps; optimizers that read the gradient once per element take
    /// the sum in their own pass instead, saving a pass over memory.
    ///
    /// # Panics
    ///
    /// If the slices differ in length.
    fn step_sum(
        &mut self,
        params: &mut [f32],
        grads: &mut [f32],
        rest: &[&[f32]],
        tensors: &[core::ops::Range<usize>],
    ) {
        for r in rest {
            assert_eq!(r.len(), grads.len(), "step_sum: gradients differ in length");
            for (t, g) in grads.iter_mut().zip(*r) {
                *t += g;
            }
        }
        self.step_tensors(params, grads, tensors);
    }

    /// A copy of the optimizer's variables (iteration count and per-parameter slots such as
    /// Adam's `"momentum"` and `"velocity"`), for checkpoints.
    ///
    /// The default reports only [`Optimizer::iterations`]: right for optimizers without
    /// per-parameter state. Optimizers with state override it together with
    /// [`Optimizer::load_state`].
    #[cfg(feature = "alloc")]
    fn state(&self) -> OptimizerState {
        OptimizerState::new(self.iterations())
    }

    /// Restores variables saved by [`Optimizer::state`] (Keras's `load_own_variables`).
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidArgument`] when the slots are not the ones this optimizer,
    /// as configured, keeps; [`crate::Error::ShapeMismatch`] when their lengths differ from
    /// each other or from the state the optimizer already has. The default implementation
    /// always fails, because the trait offers no way to restore the iteration count.
    #[cfg(feature = "alloc")]
    fn load_state(&mut self, state: OptimizerState) -> crate::Result<()> {
        let _ = state;
        Err(crate::Error::InvalidArgument {
            name: "state",
            reason: alloc::format!("optimizer `{}` cannot restore its state", self.name()),
        })
    }
}

/// `sqrt` that lowers to the vectorisable `llvm.sqrt` with `std`; `libm`'s scalar `sqrtss`
/// (inline assembly, which blocks auto-vectorisation) without it.
#[cfg(feature = "alloc")]
#[inline(always)]
fn sqrt(x: f32) -> f32 {
    #[cfg(feature = "std")]
    {
        x.sqrt()
    }
    #[cfg(not(feature = "std"))]
    {
        libm::sqrtf(x)
    }
}
