//! `Lion`: sign-based updates from interpolated momentum, Keras's `keras.optimizers.Lion`.

use alloc::vec::Vec;

use super::state::{fit_slot, take_slots};
use super::{Optimizer, OptimizerState};

/// Lion, "evolved sign momentum" (Chen et al., 2023), Keras's `Lion`.
///
/// With the momentum `m` (zeros at first):
/// `p -= learning_rate * sign(beta_1 * m + (1 - beta_1) * g)`, then
/// `m = beta_2 * m + (1 - beta_2) * g`. Every parameter moves by exactly `learning_rate` (or
/// not at all where the interpolation is zero), so Lion usually wants a learning rate 3–10
/// times smaller than Adam's. With `weight_decay = Some(wd)`, `p -= p * wd * learning_rate`
/// comes first.
///
/// ```
/// use kerust_core::optim::{Lion, Optimizer};
///
/// let mut lion = Lion::new(0.1);
/// let mut p = [1.0_f32, 1.0, 1.0];
/// lion.step(&mut p, &[4.0, -0.01, 0.0]);
/// assert_eq!(p, [0.9, 1.1, 1.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Lion {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Interpolation factor between momentum and gradient for the update direction, in
    /// `(0, 1]` (default `0.9`). Keras casts it to `f32` before any arithmetic; `f64` for the
    /// same builder as [`super::Adam::beta_1`].
    pub beta_1: f64,
    /// Decay rate of the momentum (default `0.99`); `f64` as [`Lion::beta_1`].
    pub beta_2: f64,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    momentums: Vec<f32>,
    iterations: u64,
}

impl Default for Lion {
    fn default() -> Self {
        Self::new(0.001)
    }
}

/// `jnp.sign`: `-1`, `0` or `1` (`0.0` and `-0.0` and NaN are returned as they are), unlike
/// [`f32::signum`], which gives `±1` for zeros. Two selects, so that the loop vectorises.
#[inline(always)]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

impl Lion {
    /// Lion with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta_1: 0.9,
            beta_2: 0.99,
            weight_decay: None,
            momentums: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`Lion::beta_1`].
    ///
    /// # Panics
    ///
    /// If `beta_1` is not in `(0, 1]` (Keras raises a `ValueError`: Lion would degenerate to
    /// SignSGD).
    #[must_use]
    pub fn beta_1(mut self, beta_1: f64) -> Self {
        assert!(
            beta_1 > 0.0 && beta_1 <= 1.0,
            "lion: beta_1 must be in (0, 1], got {beta_1}"
        );
        self.beta_1 = beta_1;
        self
    }

    /// Sets [`Lion::beta_2`].
    #[must_use]
    pub fn beta_2(mut self, beta_2: f64) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Sets [`Lion::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
        self
    }

    /// One update. `DECAY` selects the weight-decay variant at compile time, so that the loop
    /// carries no per-element branch.
    fn update<const DECAY: bool>(&mut self, params: &mut [f32], grads: &[f32], wd: f32) {
        let lr = self.learning_rate;
        // As Keras: everything in the variable's dtype (f32), from the betas cast to f32.
        let beta_1 = self.beta_1 as f32;
        let beta_2 = self.beta_2 as f32;
        let (one_minus_beta_1, one_minus_beta_2) = (1.0 - beta_1, 1.0 - beta_2);
        fit_slot(&mut self.momentums, params.len());
        // Keras: `variable - variable * wd * lr`, then `update_step`.
        let decay = |p: f32| if DECAY { p - p * wd * lr } else { p };
        for ((p, &g), m) in params.iter_mut().zip(grads).zip(&mut self.momentums) {
            *p = decay(*p) - lr * sign(*m * beta_1 + g * one_minus_beta_1);
            *m = *m * beta_2 + g * one_minus_beta_2;
        }
    }
}

impl Optimizer for Lion {
    fn name(&self) -> &'static str {
        "lion"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "lion: params and grads differ in length"
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

    /// The iteration count plus, once the optimizer has stepped, the slot `"momentum"`.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if !self.momentums.is_empty() {
            state.slots.push(("momentum".into(), self.momentums.clone()));
        }
        state
    }

    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let built = (!self.momentums.is_empty()).then_some(self.momentums.len());
        let mut slots = take_slots("lion", &mut state, &["momentum"], built)?;
        self.momentums = slots.pop().unwrap_or_default();
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.Lion(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 1e-7 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut Lion) -> [f32; 3] {
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
        let a = Lion::default();
        assert_eq!(
            (a.learning_rate, a.beta_1, a.beta_2, a.weight_decay),
            (0.001, 0.9, 0.99, None)
        );
    }

    #[test]
    fn default_matches_keras() {
        // Lion()
        let mut a = Lion::default();
        assert_close(&run(&mut a), &[0.999, -2.001, 0.499]);
        assert_eq!(a.iterations(), 3);
    }

    #[test]
    fn larger_learning_rate_matches_keras_with_its_variables() {
        // Lion(learning_rate=0.1)
        let mut a = Lion::new(0.1);
        assert_close(&run(&mut a), &[0.9, -2.1, 0.4]);
        // Keras's `opt.variables` after the 3 steps.
        let momentum = a.state();
        let momentum = momentum.slot("momentum").unwrap();
        for (m, e) in momentum.iter().zip([0.0029300973, 0.0039997967, 0.0024502978]) {
            assert!((m - e).abs() <= 1e-9, "{momentum:?}");
        }
    }

    #[test]
    fn betas_match_keras() {
        // Lion(learning_rate=0.1, beta_1=0.5, beta_2=0.5)
        let mut a = Lion::new(0.1).beta_1(0.5).beta_2(0.5);
        assert_close(&run(&mut a), &[0.9, -2.1, 0.20000002]);
    }

    #[test]
    fn zero_direction_leaves_the_parameter() {
        // Lion(learning_rate=0.1), one step with G = [0, 1, -1]: jnp.sign(0) = 0.
        let mut p = P0;
        Lion::new(0.1).step(&mut p, &[0.0, 1.0, -1.0]);
        assert_close(&p, &[1.0, -2.1, 0.6]);
    }

    #[test]
    fn weight_decay_matches_keras() {
        // Lion(learning_rate=0.1, weight_decay=0.5)
        let mut a = Lion::new(0.1).weight_decay(0.5);
        assert_close(&run(&mut a), &[0.77212495, -1.8195, 0.3334375]);
    }

    #[test]
    #[should_panic(expected = "beta_1 must be in (0, 1]")]
    fn rejects_beta_1_zero() {
        let _ = Lion::new(0.1).beta_1(0.0);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = Lion::new(0.1).beta_1(0.5).beta_2(0.5);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = Lion::new(0.1).beta_1(0.5).beta_2(0.5);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!((pa, a.state()), (pb, b.state()));
        assert_close(&pb, &[0.9, -2.1, 0.20000002]);
    }

    #[test]
    fn load_state_checks_slot_names_and_size() {
        let mut state = OptimizerState::new(1);
        state.slots.push(("velocity".into(), alloc::vec![0.0]));
        let err = Lion::new(0.1).load_state(state).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = Lion::new(0.1);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = Lion::new(0.1);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(matches!(err, crate::Error::ShapeMismatch { .. }), "{err}");
    }
}
