//! `Adagrad`: per-parameter learning rates from accumulated squared gradients, Keras's
//! `keras.optimizers.Adagrad`.

use alloc::vec::Vec;

use super::state::take_slots;
use super::{sqrt, Optimizer, OptimizerState};

/// Adagrad (Duchi et al., 2011): each parameter's step shrinks with the sum of its squared
/// gradients (Keras's `Adagrad`).
///
/// With the accumulator `a` (`initial_accumulator_value` at first): `a += g²`, then
/// `p -= learning_rate * g / sqrt(a + epsilon)`. With `weight_decay = Some(wd)`,
/// `p -= p * wd * learning_rate` comes first.
///
/// ```
/// use kerust_core::optim::{Adagrad, Optimizer};
///
/// let mut adagrad = Adagrad::new(0.1);
/// let mut p = [1.0_f32];
/// adagrad.step(&mut p, &[0.3]);
/// // a = 0.1 + 0.09; p -= 0.1 * 0.3 / sqrt(0.19)
/// assert!((p[0] - (1.0 - 0.03 / 0.19_f32.sqrt())).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Starting value of the accumulators, non-negative (default `0.1`).
    pub initial_accumulator_value: f32,
    /// Added to the accumulator under the square root for numerical stability (default `1e-7`).
    pub epsilon: f32,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    accumulators: Vec<f32>,
    iterations: u64,
}

impl Default for Adagrad {
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl Adagrad {
    /// Adagrad with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            weight_decay: None,
            accumulators: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`Adagrad::initial_accumulator_value`].
    #[must_use]
    pub fn initial_accumulator_value(mut self, value: f32) -> Self {
        self.initial_accumulator_value = value;
        self
    }

    /// Sets [`Adagrad::epsilon`].
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets [`Adagrad::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
        self
    }

    /// One update. `DECAY` selects the weight-decay variant at compile time, so that the loop
    /// carries no per-element branch.
    fn update<const DECAY: bool>(&mut self, params: &mut [f32], grads: &[f32], wd: f32) {
        let (lr, eps) = (self.learning_rate, self.epsilon);
        // Keras's `initializers.Constant(initial_accumulator_value)`, on the first step or when
        // the parameter count changed.
        if self.accumulators.len() != params.len() {
            self.accumulators.clear();
            self.accumulators
                .resize(params.len(), self.initial_accumulator_value);
        }
        // Keras: `variable - variable * wd * lr`, then `update_step`.
        let decay = |p: f32| if DECAY { p - p * wd * lr } else { p };
        for ((p, &g), a) in params.iter_mut().zip(grads).zip(&mut self.accumulators) {
            *a += g * g;
            *p = decay(*p) - lr * g / sqrt(*a + eps);
        }
    }
}

impl Optimizer for Adagrad {
    fn name(&self) -> &'static str {
        "adagrad"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "adagrad: params and grads differ in length"
        );
        match self.weight_decay {
            Some(wd) => self.update::<true>(params, grads, wd),
            None => self.update::<false>(params, grads, 0.0),
        }
        self.iterations += 1;
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.learning_rate = lr;
    }

    /// The iteration count plus, once the optimizer has stepped, the slot `"accumulator"`.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if !self.accumulators.is_empty() {
            state
                .slots
                .push(("accumulator".into(), self.accumulators.clone()));
        }
        state
    }

    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let built = (!self.accumulators.is_empty()).then_some(self.accumulators.len());
        let mut slots = take_slots("adagrad", &mut state, &["accumulator"], built)?;
        self.accumulators = slots.pop().unwrap_or_default();
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.Adagrad(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 6e-8 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut Adagrad) -> [f32; 3] {
        let mut p = P0;
        for g in &G {
            opt.step(&mut p, g);
        }
        p
    }

    fn assert_close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() <= 4e-7, "{actual:?} != {expected:?}");
        }
    }

    #[test]
    fn defaults_are_keras() {
        let a = Adagrad::default();
        assert_eq!(
            (
                a.learning_rate,
                a.initial_accumulator_value,
                a.epsilon,
                a.weight_decay
            ),
            (0.001, 0.1, 1e-7, None)
        );
    }

    #[test]
    fn default_matches_keras() {
        // Adagrad()
        let mut a = Adagrad::default();
        assert_close(&run(&mut a), &[0.99931234, -2.0005388, 0.49942425]);
        assert_eq!(a.iterations(), 3);
    }

    #[test]
    fn larger_learning_rate_matches_keras_with_its_variables() {
        // Adagrad(learning_rate=0.1)
        let mut a = Adagrad::new(0.1);
        assert_close(&run(&mut a), &[0.9312369, -2.053877, 0.44242486]);
        // Keras's `opt.variables` after the 3 steps: adagrad/..._accumulator.
        assert_close(
            a.state().slot("accumulator").unwrap(),
            &[0.45000002, 0.34, 0.2025],
        );
    }

    #[test]
    fn accumulator_value_and_epsilon_match_keras() {
        // Adagrad(learning_rate=0.1, initial_accumulator_value=0.01, epsilon=1e-3)
        let mut a = Adagrad::new(0.1).initial_accumulator_value(0.01).epsilon(1e-3);
        assert_close(&run(&mut a), &[0.8848768, -2.0384388, 0.4207762]);
    }

    #[test]
    fn weight_decay_matches_keras() {
        // Adagrad(learning_rate=0.1, weight_decay=0.5)
        let mut a = Adagrad::new(0.1).weight_decay(0.5);
        assert_close(&run(&mut a), &[0.7957183, -1.7701873, 0.37670472]);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = Adagrad::new(0.1);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = Adagrad::new(0.1);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!((pa, a.state()), (pb, b.state()));
        assert_close(&pb, &[0.9312369, -2.053877, 0.44242486]);
    }

    #[test]
    fn load_state_checks_slot_names_and_size() {
        let mut state = OptimizerState::new(1);
        state.slots.push(("velocity".into(), alloc::vec![0.0]));
        let err = Adagrad::new(0.1).load_state(state).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = Adagrad::new(0.1);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = Adagrad::new(0.1);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(matches!(err, crate::Error::ShapeMismatch { .. }), "{err}");
    }
}
