//! `Adadelta`: step sizes from running averages of squared gradients and squared updates,
//! Keras's `keras.optimizers.Adadelta`.

use alloc::vec::Vec;

use super::state::{fit_slot, take_slots};
use super::{sqrt, Optimizer, OptimizerState};

/// Adadelta (Zeiler, 2012), Keras's `Adadelta`.
///
/// With the accumulators `a_g` and `a_d` (zeros at first) and `rms(x) = sqrt(x + epsilon)`:
/// `a_g = rho * a_g + (1 - rho) * g²`, `d = -rms(a_d) * g / rms(a_g)`,
/// `a_d = rho * a_d + (1 - rho) * d²`, then `p += learning_rate * d`. With
/// `weight_decay = Some(wd)`, `p -= p * wd * learning_rate` comes first.
///
/// Keras keeps the learning rate (default `0.001`) that the original paper does without; the
/// paper's method is `learning_rate = 1.0`.
///
/// ```
/// use kerust_core::optim::{Adadelta, Optimizer};
///
/// let mut adadelta = Adadelta::new(1.0);
/// let mut p = [1.0_f32];
/// adadelta.step(&mut p, &[0.5]);
/// // a_g = 0.05 * 0.25; d = -sqrt(1e-7) * 0.5 / sqrt(a_g + 1e-7)
/// let d = -1e-7_f64.sqrt() * 0.5 / (0.0125_f64 + 1e-7).sqrt();
/// assert!((f64::from(p[0]) - (1.0 + d)).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adadelta {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Decay rate of both running averages (default `0.95`).
    ///
    /// `f64` like Keras's Python float: Keras rounds `1 - rho` to `f32` from double precision,
    /// and `1.0 - 0.95_f32` would differ from it.
    pub rho: f64,
    /// Added inside both square roots for numerical stability (default `1e-7`).
    pub epsilon: f32,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    accumulated_grads: Vec<f32>,
    accumulated_delta_vars: Vec<f32>,
    iterations: u64,
}

impl Default for Adadelta {
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl Adadelta {
    /// Adadelta with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            rho: 0.95,
            epsilon: 1e-7,
            weight_decay: None,
            accumulated_grads: Vec::new(),
            accumulated_delta_vars: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`Adadelta::rho`].
    #[must_use]
    pub fn rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }

    /// Sets [`Adadelta::epsilon`].
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets [`Adadelta::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
        self
    }

    /// One update. `DECAY` selects the weight-decay variant at compile time, so that the loop
    /// carries no per-element branch.
    fn update<const DECAY: bool>(&mut self, params: &mut [f32], grads: &[f32], wd: f32) {
        let (lr, eps) = (self.learning_rate, self.epsilon);
        // As Keras: `rho * x` multiplies by `rho` rounded to f32; `1 - rho` is computed in
        // double precision (Python floats), then rounded to f32.
        let rho = self.rho as f32;
        let one_minus_rho = (1.0 - self.rho) as f32;
        let n = params.len();
        fit_slot(&mut self.accumulated_grads, n);
        fit_slot(&mut self.accumulated_delta_vars, n);
        // Keras: `variable - variable * wd * lr`, then `update_step`.
        let decay = |p: f32| if DECAY { p - p * wd * lr } else { p };
        let state = params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.accumulated_grads)
            .zip(&mut self.accumulated_delta_vars);
        for (((p, &g), a_g), a_d) in state {
            *a_g = rho * *a_g + one_minus_rho * (g * g);
            let d = -(sqrt(*a_d + eps) * g / sqrt(*a_g + eps));
            *a_d = rho * *a_d + one_minus_rho * (d * d);
            *p = decay(*p) + lr * d;
        }
    }
}

impl Optimizer for Adadelta {
    fn name(&self) -> &'static str {
        "adadelta"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "adadelta: params and grads differ in length"
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

    /// The iteration count plus, once the optimizer has stepped, the slots
    /// `"accumulated_grad"` and `"accumulated_delta_var"`.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if !self.accumulated_grads.is_empty() {
            state
                .slots
                .push(("accumulated_grad".into(), self.accumulated_grads.clone()));
            state.slots.push((
                "accumulated_delta_var".into(),
                self.accumulated_delta_vars.clone(),
            ));
        }
        state
    }

    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let built = (!self.accumulated_grads.is_empty()).then_some(self.accumulated_grads.len());
        let names = &["accumulated_grad", "accumulated_delta_var"];
        let mut slots = take_slots("adadelta", &mut state, names, built)?.into_iter();
        self.accumulated_grads = slots.next().unwrap_or_default();
        self.accumulated_delta_vars = slots.next().unwrap_or_default();
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.Adadelta(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 2e-7 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut Adadelta) -> [f32; 3] {
        let mut p = P0;
        for g in &G {
            opt.step(&mut p, g);
        }
        p
    }

    fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() <= tolerance, "{actual:?} != {expected:?}");
        }
    }

    #[test]
    fn defaults_are_keras() {
        let a = Adadelta::default();
        assert_eq!(
            (a.learning_rate, a.rho, a.epsilon, a.weight_decay),
            (0.001, 0.95, 1e-7, None)
        );
    }

    #[test]
    fn default_matches_keras() {
        // Adadelta()
        let mut a = Adadelta::default();
        assert_close(&run(&mut a), &[0.99999803, -2.0000017, 0.49999893], 4e-7);
        assert_eq!(a.iterations(), 3);
    }

    #[test]
    fn unit_learning_rate_matches_keras_with_its_variables() {
        // Adadelta(learning_rate=1.0)
        let mut a = Adadelta::new(1.0);
        assert_close(&run(&mut a), &[0.9980629, -2.001502, 0.49889266], 4e-7);
        // Keras's `opt.variables` after the 3 steps.
        let state = a.state();
        assert_close(
            state.slot("accumulated_grad").unwrap(),
            &[0.01682625, 0.011405, 0.00466125],
            1e-9,
        );
        assert_close(
            state.slot("accumulated_delta_var").unwrap(),
            &[3.7692573e-7, 3.0630991e-7, 1.1593334e-7],
            1e-12,
        );
    }

    #[test]
    fn rho_and_epsilon_match_keras() {
        // Adadelta(learning_rate=1.0, rho=0.5, epsilon=1e-3)
        let mut a = Adadelta::new(1.0).rho(0.5).epsilon(1e-3);
        assert_close(&run(&mut a), &[0.9506794, -2.0589335, 0.46517545], 4e-7);
    }

    #[test]
    fn weight_decay_matches_keras() {
        // Adadelta(learning_rate=1.0, weight_decay=0.5)
        let mut a = Adadelta::new(1.0).weight_decay(0.5);
        assert_close(&run(&mut a), &[0.12510493, -0.2516637, 0.062129725], 4e-7);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = Adadelta::new(1.0);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = Adadelta::new(1.0);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!((pa, a.state()), (pb, b.state()));
        assert_close(&pb, &[0.9980629, -2.001502, 0.49889266], 4e-7);
    }

    #[test]
    fn load_state_checks_slot_names_and_size() {
        let mut state = OptimizerState::new(1);
        state.slots.push(("accumulated_grad".into(), alloc::vec![0.0]));
        let err = Adadelta::new(1.0).load_state(state).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = Adadelta::new(1.0);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = Adadelta::new(1.0);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(matches!(err, crate::Error::ShapeMismatch { .. }), "{err}");
    }
}
