//! `AdamW`: Adam with decoupled weight decay on by default, Keras's `keras.optimizers.AdamW`.

use alloc::vec::Vec;

use super::state::{fit_slot, take_slots};
use super::{sqrt, Optimizer, OptimizerState};

/// AdamW (Loshchilov & Hutter, 2019): [`super::Adam`] with decoupled weight decay, on by
/// default (Keras's `AdamW`, a subclass of `Adam` that requires a `weight_decay`).
///
/// Each step first decays the parameters, `p -= p * weight_decay * learning_rate`, then applies
/// Adam's update: with `t = iterations + 1` and the moments `m`, `v` (zeros at first),
/// `alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)`,
/// `m += (g - m) * (1 - beta_1)`, `v += (g² - v) * (1 - beta_2)`,
/// `p -= m * alpha / (sqrt(v) + epsilon)`. With `amsgrad`, `v_hat = max(v_hat, v)` replaces
/// `v` in the last step.
///
/// The same as `Adam::new(lr).weight_decay(wd)` step for step; it differs in its default
/// decay (`0.004`), its name and a `weight_decay` that cannot be switched off (Keras rejects
/// `None`; `0.0` turns the decay off).
///
/// ```
/// use kerust_core::optim::{AdamW, Optimizer};
///
/// let mut adamw = AdamW::new(0.1).weight_decay(0.5);
/// let mut p = [1.0_f32];
/// adamw.step(&mut p, &[4.0]);
/// // p * (1 - 0.5 * 0.1), then Adam's first step of about `learning_rate`.
/// assert!((p[0] - 0.85).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Decoupled weight decay rate, applied as `p -= p * weight_decay * learning_rate` before
    /// each update (default `0.004`).
    pub weight_decay: f32,
    /// Decay rate of the first-moment estimate (default `0.9`).
    ///
    /// `f64` like Keras's Python float, as [`super::Adam::beta_1`]: Keras rounds `1 - beta_1`
    /// to `f32` from double precision.
    pub beta_1: f64,
    /// Decay rate of the second-moment estimate (default `0.999`); `f64` as
    /// [`AdamW::beta_1`].
    pub beta_2: f64,
    /// Added to `sqrt(v)` for numerical stability: Keras's "epsilon hat" (default `1e-7`).
    pub epsilon: f32,
    /// Whether to use AMSGrad, the running maximum of `v` (default `false`).
    pub amsgrad: bool,
    momentums: Vec<f32>,
    velocities: Vec<f32>,
    velocity_hats: Vec<f32>,
    iterations: u64,
}

impl Default for AdamW {
    fn default() -> Self {
        Self::new(0.001)
    }
}

/// The per-step scalars of the update, computed once outside the loop.
#[derive(Clone, Copy)]
struct Coefficients {
    lr: f32,
    wd: f32,
    alpha: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    epsilon: f32,
}

impl Coefficients {
    /// `p` after weight decay (Keras's `variable - variable * wd * lr`).
    #[inline(always)]
    fn decay(self, p: f32) -> f32 {
        p - p * self.wd * self.lr
    }

    /// Updates the moments in place.
    #[inline(always)]
    fn moments(self, g: f32, m: &mut f32, v: &mut f32) {
        *m += (g - *m) * self.one_minus_beta_1;
        *v += (g * g - *v) * self.one_minus_beta_2;
    }

    /// The parameter step `m * alpha / (sqrt(v) + epsilon)`.
    #[inline(always)]
    fn delta(self, m: f32, v: f32) -> f32 {
        m * self.alpha / (sqrt(v) + self.epsilon)
    }
}

impl AdamW {
    /// AdamW with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            weight_decay: 0.004,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            momentums: Vec::new(),
            velocities: Vec::new(),
            velocity_hats: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`AdamW::weight_decay`].
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = rate;
        self
    }

    /// Sets [`AdamW::beta_1`].
    #[must_use]
    pub fn beta_1(mut self, beta_1: f64) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Sets [`AdamW::beta_2`].
    #[must_use]
    pub fn beta_2(mut self, beta_2: f64) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Sets [`AdamW::epsilon`].
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets [`AdamW::amsgrad`].
    #[must_use]
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    /// The slot names Keras gives this configuration's variables.
    fn slot_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["momentum", "velocity", "velocity_hat"]
        } else {
            &["momentum", "velocity"]
        }
    }

    /// One update; `amsgrad` has its own loop, so that the loops carry no per-element branch.
    fn update(&mut self, params: &mut [f32], grads: &[f32], c: Coefficients) {
        let n = params.len();
        fit_slot(&mut self.momentums, n);
        fit_slot(&mut self.velocities, n);
        let state = params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.momentums)
            .zip(&mut self.velocities);
        if self.amsgrad {
            fit_slot(&mut self.velocity_hats, n);
            for ((((p, &g), m), v), v_hat) in state.zip(&mut self.velocity_hats) {
                c.moments(g, m, v);
                *v_hat = v_hat.max(*v);
                *p = c.decay(*p) - c.delta(*m, *v_hat);
            }
        } else {
            for (((p, &g), m), v) in state {
                c.moments(g, m, v);
                *p = c.decay(*p) - c.delta(*m, *v);
            }
        }
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        "adamw"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "adamw: params and grads differ in length"
        );
        // As Keras (and `Adam`): the powers and `alpha` in the variable's dtype (f32) from the
        // betas cast to f32; `1 - beta` in double precision (Python floats), then rounded to
        // f32.
        let lr = self.learning_rate;
        let t = (self.iterations + 1) as f32;
        let beta_1_power = libm::powf(self.beta_1 as f32, t);
        let beta_2_power = libm::powf(self.beta_2 as f32, t);
        let c = Coefficients {
            lr,
            wd: self.weight_decay,
            alpha: lr * libm::sqrtf(1.0 - beta_2_power) / (1.0 - beta_1_power),
            one_minus_beta_1: (1.0 - self.beta_1) as f32,
            one_minus_beta_2: (1.0 - self.beta_2) as f32,
            epsilon: self.epsilon,
        };
        self.update(params, grads, c);
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
    /// `"velocity"` (and `"velocity_hat"` with `amsgrad`), as [`super::Adam`]'s.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if !self.momentums.is_empty() {
            let slots = [&self.momentums, &self.velocities, &self.velocity_hats];
            for (name, values) in self.slot_names().iter().zip(slots) {
                // `velocity_hat` is still empty if `amsgrad` was switched on since the last
                // step; report the zeros the next step would start from.
                let mut values = values.clone();
                fit_slot(&mut values, self.momentums.len());
                state.slots.push(((*name).into(), values));
            }
        }
        state
    }

    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let built = (!self.momentums.is_empty()).then_some(self.momentums.len());
        let mut slots = take_slots("adamw", &mut state, self.slot_names(), built)?.into_iter();
        self.momentums = slots.next().unwrap_or_default();
        self.velocities = slots.next().unwrap_or_default();
        self.velocity_hats = slots.next().unwrap_or_default();
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Adam;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.AdamW(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 2e-6 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut impl Optimizer) -> [f32; 3] {
        let mut p = P0;
        for g in &G {
            opt.step(&mut p, g);
        }
        p
    }

    fn assert_close(actual: [f32; 3], expected: [f32; 3]) {
        for (a, e) in actual.iter().zip(&expected) {
            assert!((a - e).abs() <= 4e-7, "{actual:?} != {expected:?}");
        }
    }

    #[test]
    fn defaults_are_keras() {
        let a = AdamW::default();
        assert_eq!(
            (
                a.learning_rate,
                a.weight_decay,
                a.beta_1,
                a.beta_2,
                a.epsilon,
                a.amsgrad
            ),
            (0.001, 0.004, 0.9, 0.999, 1e-7, false)
        );
    }

    #[test]
    fn default_matches_keras() {
        // AdamW()
        let mut a = AdamW::default();
        assert_close(run(&mut a), [0.9978775, -1.9998615, 0.49818838]);
        assert_eq!(a.iterations(), 3);
    }

    #[test]
    fn larger_learning_rate_matches_keras() {
        // AdamW(learning_rate=0.1)
        assert_close(run(&mut AdamW::new(0.1)), [0.7878629, -1.9862018, 0.31893492]);
    }

    #[test]
    fn weight_decay_matches_keras_and_adam() {
        // AdamW(learning_rate=0.1, weight_decay=0.5): Keras's Adam(learning_rate=0.1,
        // weight_decay=0.5) gives the same values.
        let expected = [0.6603778, -1.7112048, 0.2598771];
        assert_close(run(&mut AdamW::new(0.1).weight_decay(0.5)), expected);
        let adam = run(&mut Adam::new(0.1).weight_decay(0.5));
        assert_eq!(run(&mut AdamW::new(0.1).weight_decay(0.5)), adam);
    }

    #[test]
    fn amsgrad_matches_keras() {
        // AdamW(learning_rate=0.1, weight_decay=0.5, beta_2=0.5, amsgrad=True)
        let mut a = AdamW::new(0.1).weight_decay(0.5).beta_2(0.5).amsgrad(true);
        assert_close(run(&mut a), [0.673247, -1.702047, 0.27070525]);
        let state = a.state();
        let names: Vec<&str> = state.slots.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["momentum", "velocity", "velocity_hat"]);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = AdamW::new(0.1).amsgrad(true);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = AdamW::new(0.1).amsgrad(true);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!((pa, a.state()), (pb, b.state()));
    }

    #[test]
    fn load_state_checks_slots_against_the_configuration_and_size() {
        let mut a = AdamW::new(0.1).amsgrad(true);
        a.step(&mut [1.0, 2.0], &[1.0, 1.0]);
        let err = AdamW::new(0.1).load_state(a.state()).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = AdamW::new(0.1);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = AdamW::new(0.1);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(
            matches!(&err, crate::Error::ShapeMismatch { name, .. } if name == "adamw/momentum"),
            "{err}"
        );
    }
}
