//! `Adamax`: Adam with the infinity norm, Keras's `keras.optimizers.Adamax`.

use alloc::vec::Vec;

use super::state::{fit_slot, take_slots};
use super::{Optimizer, OptimizerState};

/// Adamax (Kingma & Ba, 2014, section 7): Adam with the second moment replaced by an
/// exponentially weighted infinity norm (Keras's `Adamax`).
///
/// With `t = iterations + 1`, the first moment `m` and the norm `u` (zeros at first):
/// `m += (g - m) * (1 - beta_1)`, `u = max(beta_2 * u, |g|)`, then
/// `p -= learning_rate * m / ((1 - beta_1^t) * (u + epsilon))`. With `weight_decay = Some(wd)`,
/// `p -= p * wd * learning_rate` comes first.
///
/// ```
/// use kerust_core::optim::{Adamax, Optimizer};
///
/// let mut adamax = Adamax::new(0.1);
/// let mut p = [1.0_f32];
/// adamax.step(&mut p, &[4.0]);
/// // The first step moves every parameter by about `learning_rate`, whatever the gradient.
/// assert!((p[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adamax {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Decay rate of the first-moment estimate (default `0.9`).
    ///
    /// `f64` like Keras's Python float: Keras rounds `1 - beta_1` to `f32` from double
    /// precision, and `1.0 - 0.9_f32` would differ from it.
    pub beta_1: f64,
    /// Decay rate of the infinity norm (default `0.999`); `f64` as [`Adamax::beta_1`].
    pub beta_2: f64,
    /// Added to the norm for numerical stability (default `1e-7`).
    pub epsilon: f32,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    momentums: Vec<f32>,
    norms: Vec<f32>,
    iterations: u64,
}

impl Default for Adamax {
    fn default() -> Self {
        Self::new(0.001)
    }
}

/// The per-step scalars of the update, computed once outside the loop.
#[derive(Clone, Copy)]
struct Coefficients {
    lr: f32,
    wd: f32,
    one_minus_beta_1: f32,
    beta_2: f32,
    one_minus_beta_1_power: f32,
    epsilon: f32,
}

impl Adamax {
    /// Adamax with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            weight_decay: None,
            momentums: Vec::new(),
            norms: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`Adamax::beta_1`].
    #[must_use]
    pub fn beta_1(mut self, beta_1: f64) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Sets [`Adamax::beta_2`].
    #[must_use]
    pub fn beta_2(mut self, beta_2: f64) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Sets [`Adamax::epsilon`].
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets [`Adamax::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
        self
    }

    /// One update. `DECAY` selects the weight-decay variant at compile time, so that the loop
    /// carries no per-element branch.
    fn update<const DECAY: bool>(&mut self, params: &mut [f32], grads: &[f32], c: Coefficients) {
        let n = params.len();
        fit_slot(&mut self.momentums, n);
        fit_slot(&mut self.norms, n);
        let state = params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.momentums)
            .zip(&mut self.norms);
        for (((p, &g), m), u) in state {
            // Keras: `variable - variable * wd * lr`, then `update_step`.
            let decayed = if DECAY { *p - *p * c.wd * c.lr } else { *p };
            *m += (g - *m) * c.one_minus_beta_1;
            *u = (c.beta_2 * *u).max(g.abs());
            *p = decayed - c.lr * *m / (c.one_minus_beta_1_power * (*u + c.epsilon));
        }
    }
}

impl Optimizer for Adamax {
    fn name(&self) -> &'static str {
        "adamax"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "adamax: params and grads differ in length"
        );
        // As Keras: `beta_1^t` in the variable's dtype (f32) from `beta_1` cast to f32,
        // `beta_2 * u` with `beta_2` rounded to f32, `1 - beta_1` in double precision (Python
        // floats), then rounded to f32.
        let t = (self.iterations + 1) as f32;
        let c = Coefficients {
            lr: self.learning_rate,
            wd: self.weight_decay.unwrap_or(0.0),
            one_minus_beta_1: (1.0 - self.beta_1) as f32,
            beta_2: self.beta_2 as f32,
            one_minus_beta_1_power: 1.0 - libm::powf(self.beta_1 as f32, t),
            epsilon: self.epsilon,
        };
        if self.weight_decay.is_some() {
            self.update::<true>(params, grads, c);
        } else {
            self.update::<false>(params, grads, c);
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

    /// The iteration count plus, once the optimizer has stepped, the slots `"momentum"` and
    /// `"norm"`.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if !self.momentums.is_empty() {
            state.slots.push(("momentum".into(), self.momentums.clone()));
            state.slots.push(("norm".into(), self.norms.clone()));
        }
        state
    }

    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let built = (!self.momentums.is_empty()).then_some(self.momentums.len());
        let names = &["momentum", "norm"];
        let mut slots = take_slots("adamax", &mut state, names, built)?.into_iter();
        self.momentums = slots.next().unwrap_or_default();
        self.norms = slots.next().unwrap_or_default();
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.Adamax(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 1e-7 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut Adamax) -> [f32; 3] {
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
        let a = Adamax::default();
        assert_eq!(
            (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.weight_decay),
            (0.001, 0.9, 0.999, 1e-7, None)
        );
    }

    #[test]
    fn default_matches_keras() {
        // Adamax()
        let mut a = Adamax::default();
        assert_close(&run(&mut a), &[0.9982083, -1.9996569, 0.4984513]);
        assert_eq!(a.iterations(), 3);
    }

    #[test]
    fn larger_learning_rate_matches_keras_with_its_variables() {
        // Adamax(learning_rate=0.1)
        let mut a = Adamax::new(0.1);
        assert_close(&run(&mut a), &[0.8208298, -1.9657, 0.3451264]);
        // Keras's `opt.variables` after the 3 steps.
        let state = a.state();
        assert_close(state.slot("momentum").unwrap(), &[0.0231, 0.039800003, 0.0203]);
        assert_close(state.slot("norm").unwrap(), &[0.4995, 0.3996, 0.29940033]);
    }

    #[test]
    fn betas_match_keras() {
        // Adamax(learning_rate=0.1, beta_1=0.5, beta_2=0.5)
        let mut a = Adamax::new(0.1).beta_1(0.5).beta_2(0.5);
        assert_close(&run(&mut a), &[0.8314287, -2.05, 0.32063502]);
    }

    #[test]
    fn weight_decay_matches_keras() {
        // Adamax(learning_rate=0.1, weight_decay=0.5)
        let mut a = Adamax::new(0.1).weight_decay(0.5);
        assert_close(&run(&mut a), &[0.69106007, -1.6887527, 0.28505662]);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = Adamax::new(0.1);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = Adamax::new(0.1);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!((pa, a.state()), (pb, b.state()));
        assert_close(&pb, &[0.8208298, -1.9657, 0.3451264]);
    }

    #[test]
    fn load_state_checks_slot_names_and_size() {
        let mut state = OptimizerState::new(1);
        state.slots.push(("momentum".into(), alloc::vec![0.0]));
        state.slots.push(("velocity".into(), alloc::vec![0.0]));
        let err = Adamax::new(0.1).load_state(state).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = Adamax::new(0.1);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = Adamax::new(0.1);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(matches!(err, crate::Error::ShapeMismatch { .. }), "{err}");
    }
}
