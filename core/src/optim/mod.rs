//! Optimizers with Keras 3's update rules and defaults, working on the flat parameter slice.

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
}
