//! `Nadam`: Adam with Nesterov momentum, Keras's `keras.optimizers.Nadam`.

use alloc::vec::Vec;

use super::state::{fit_slot, take_slots};
use super::{sqrt, Optimizer, OptimizerState};

/// Nadam (Dozat, 2015): Adam with Nesterov momentum and a momentum schedule (Keras's `Nadam`).
///
/// With `t = iterations + 1`, the momentum schedule `u_t = beta_1 * (1 - 0.5 * 0.96^t)` and
/// the momentum cache `u_product` (the product of `u_1 … u_t`, Keras's `_u_product`, kept
/// across steps), the moments `m`, `v` (zeros at first):
/// `m += (g - m) * (1 - beta_1)`, `v += (g² - v) * (1 - beta_2)`,
/// `m_hat = u_{t+1} * m / (1 - u_product * u_{t+1}) + (1 - u_t) * g / (1 - u_product)`,
/// `v_hat = v / (1 - beta_2^t)`, then `p -= m_hat * learning_rate / (sqrt(v_hat) + epsilon)`.
/// With `weight_decay = Some(wd)`, `p -= p * wd * learning_rate` comes first.
///
/// ```
/// use kerust_core::optim::{Nadam, Optimizer};
///
/// let mut nadam = Nadam::new(0.1);
/// let mut p = [1.0_f32];
/// nadam.step(&mut p, &[4.0]);
/// // The first step moves every parameter by about 1.063 * `learning_rate`, whatever the
/// // gradient: the Nesterov term adds the gradient to the (bias-corrected) momentum.
/// assert!((p[0] - 0.89372).abs() < 1e-5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Nadam {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Decay rate of the first-moment estimate (default `0.9`). Keras casts it to `f32` before
    /// any arithmetic; `f64` for the same builder as [`super::Adam::beta_1`].
    pub beta_1: f64,
    /// Decay rate of the second-moment estimate (default `0.999`); `f64` as [`Nadam::beta_1`].
    pub beta_2: f64,
    /// Added to `sqrt(v_hat)` for numerical stability (default `1e-7`).
    pub epsilon: f32,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    momentums: Vec<f32>,
    velocities: Vec<f32>,
    u_product: f32,
    iterations: u64,
}

impl Default for Nadam {
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
    one_minus_beta_2: f32,
    u_t: f32,
    u_t_1: f32,
    u_product_t: f32,
    u_product_t_1: f32,
    beta_2_power: f32,
    epsilon: f32,
}

/// Keras's momentum schedule `u_t = beta_1 * (1 - 0.5 * 0.96^t)`, in `f32`.
fn momentum_schedule(beta_1: f32, t: f32) -> f32 {
    beta_1 * (1.0 - 0.5 * libm::powf(0.96, t))
}

/// `u_product * u_t`, rounded as Keras's `_backend_update_step` does:
/// `(u_product * beta_1) * (1 - 0.5 * 0.96^t)`.
fn next_u_product(u_product: f32, beta_1: f32, t: f32) -> f32 {
    u_product * beta_1 * (1.0 - 0.5 * libm::powf(0.96, t))
}

impl Nadam {
    /// Nadam with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            weight_decay: None,
            momentums: Vec::new(),
            velocities: Vec::new(),
            u_product: 1.0,
            iterations: 0,
        }
    }

    /// Sets [`Nadam::beta_1`].
    #[must_use]
    pub fn beta_1(mut self, beta_1: f64) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Sets [`Nadam::beta_2`].
    #[must_use]
    pub fn beta_2(mut self, beta_2: f64) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Sets [`Nadam::epsilon`].
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets [`Nadam::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
        self
    }

    /// Keras's `u_product` after `iterations` steps with the current `beta_1`: the product
    /// taken in the same order, with the same `f32` roundings, as [`Optimizer::step`] does.
    fn u_product_after(&self, iterations: u64) -> f32 {
        let beta_1 = self.beta_1 as f32;
        let mut u_product = 1.0_f32;
        for t in 1..=iterations {
            let t = t as f32;
            let next = next_u_product(u_product, beta_1, t);
            // Once `0.96^t` no longer shows in `1 - 0.5 * 0.96^t` (`t` above about 420), every
            // step multiplies by `beta_1` alone: when that leaves the product unchanged (zero,
            // or a subnormal that rounds back to itself), no later step changes it.
            if next == u_product && 1.0 - 0.5 * libm::powf(0.96, t) == 1.0 {
                break;
            }
            u_product = next;
        }
        u_product
    }

    /// One update. `DECAY` selects the weight-decay variant at compile time, so that the loop
    /// carries no per-element branch.
    fn update<const DECAY: bool>(&mut self, params: &mut [f32], grads: &[f32], c: Coefficients) {
        let n = params.len();
        fit_slot(&mut self.momentums, n);
        fit_slot(&mut self.velocities, n);
        let state = params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.momentums)
            .zip(&mut self.velocities);
        for (((p, &g), m), v) in state {
            // Keras: `variable - variable * wd * lr`, then `update_step`.
            let decayed = if DECAY { *p - *p * c.wd * c.lr } else { *p };
            *m += (g - *m) * c.one_minus_beta_1;
            *v += (g * g - *v) * c.one_minus_beta_2;
            let m_hat = c.u_t_1 * *m / (1.0 - c.u_product_t_1) + (1.0 - c.u_t) * g / (1.0 - c.u_product_t);
            let v_hat = *v / (1.0 - c.beta_2_power);
            *p = decayed - m_hat * c.lr / (sqrt(v_hat) + c.epsilon);
        }
    }
}

impl Optimizer for Nadam {
    fn name(&self) -> &'static str {
        "nadam"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "nadam: params and grads differ in length"
        );
        // As Keras: everything in the variable's dtype (f32), from the betas cast to f32.
        // `u_product` advances before the update (Keras's `_backend_update_step`), which then
        // reads the new value.
        let beta_1 = self.beta_1 as f32;
        let beta_2 = self.beta_2 as f32;
        let t = (self.iterations + 1) as f32;
        self.u_product = next_u_product(self.u_product, beta_1, t);
        let u_t_1 = momentum_schedule(beta_1, t + 1.0);
        let c = Coefficients {
            lr: self.learning_rate,
            wd: self.weight_decay.unwrap_or(0.0),
            one_minus_beta_1: 1.0 - beta_1,
            one_minus_beta_2: 1.0 - beta_2,
            u_t: momentum_schedule(beta_1, t),
            u_t_1,
            u_product_t: self.u_product,
            u_product_t_1: self.u_product * u_t_1,
            beta_2_power: libm::powf(beta_2, t),
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
    /// `"velocity"`.
    ///
    /// Keras's scalar `u_product` is no slot (slots are as long as the parameters): it follows
    /// from the iteration count and `beta_1`, and [`Optimizer::load_state`] recomputes it.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if !self.momentums.is_empty() {
            state.slots.push(("momentum".into(), self.momentums.clone()));
            state.slots.push(("velocity".into(), self.velocities.clone()));
        }
        state
    }

    /// Restores the slots and the iteration count, and recomputes `u_product` from them with
    /// the current `beta_1` (exactly Keras's value, unless `beta_1` changed between steps).
    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let built = (!self.momentums.is_empty()).then_some(self.momentums.len());
        let names = &["momentum", "velocity"];
        let mut slots = take_slots("nadam", &mut state, names, built)?.into_iter();
        self.momentums = slots.next().unwrap_or_default();
        self.velocities = slots.next().unwrap_or_default();
        self.u_product = self.u_product_after(state.iterations);
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.Nadam(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 6e-7 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut Nadam) -> [f32; 3] {
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
        let a = Nadam::default();
        assert_eq!(
            (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.weight_decay),
            (0.001, 0.9, 0.999, 1e-7, None)
        );
    }

    #[test]
    fn default_matches_keras() {
        // Nadam()
        let mut a = Nadam::default();
        assert_close(&run(&mut a), &[0.99837774, -2.000294, 0.49897942]);
        assert_eq!(a.iterations(), 3);
    }

    #[test]
    fn larger_learning_rate_matches_keras_with_its_variables() {
        // Nadam(learning_rate=0.1)
        let mut a = Nadam::new(0.1);
        assert_close(&run(&mut a), &[0.8377761, -2.029385, 0.39794266]);
        // Keras's `opt.variables` after the 3 steps, `u_product` included.
        let state = a.state();
        assert_close(
            state.slot("momentum").unwrap(),
            &[0.023100004, 0.03980001, 0.020300005],
        );
        assert_close(
            state.slot("velocity").unwrap(),
            &[0.0003497255, 0.00023975698, 0.00010230878],
        );
        assert!((a.u_product - 0.11397993).abs() <= 1e-8, "{}", a.u_product);
    }

    #[test]
    fn betas_match_keras() {
        // Nadam(learning_rate=0.1, beta_1=0.5, beta_2=0.5)
        let mut a = Nadam::new(0.1).beta_1(0.5).beta_2(0.5);
        assert_close(&run(&mut a), &[0.8349055, -2.0610642, 0.38643512]);
    }

    #[test]
    fn weight_decay_matches_keras() {
        // Nadam(learning_rate=0.1, weight_decay=0.5)
        let mut a = Nadam::new(0.1).weight_decay(0.5);
        assert_close(&run(&mut a), &[0.71059316, -1.7500889, 0.33571824]);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = Nadam::new(0.1);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = Nadam::new(0.1);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        assert_eq!(b.u_product, a.u_product, "recomputed from the iterations");
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!(a, b);
        assert_close(&pb, &[0.8377761, -2.029385, 0.39794266]);
    }

    #[test]
    fn recomputed_u_product_is_the_stepped_one() {
        let mut a = Nadam::new(0.1);
        for _ in 0..1000 {
            a.step(&mut [1.0], &[0.5]);
            assert_eq!(a.u_product_after(a.iterations()), a.u_product);
        }
        // It ends at a fixed point (a subnormal: 4 * 2^-149 * 0.9 rounds back to itself),
        // where the recomputation stops early.
        assert!(a.u_product < 1e-44, "{}", a.u_product);
        assert_eq!(a.u_product_after(1 << 40), a.u_product);
    }

    #[test]
    fn load_state_checks_slot_names_and_size() {
        let mut state = OptimizerState::new(1);
        state.slots.push(("momentum".into(), alloc::vec![0.0]));
        let err = Nadam::new(0.1).load_state(state).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = Nadam::new(0.1);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = Nadam::new(0.1);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(matches!(err, crate::Error::ShapeMismatch { .. }), "{err}");
    }
}
