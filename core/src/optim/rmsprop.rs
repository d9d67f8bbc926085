//! `RmsProp`: root-mean-square propagation, Keras's `keras.optimizers.RMSprop`.

use alloc::vec::Vec;

use super::state::{fit_slot, take_slots};
use super::{sqrt, Optimizer, OptimizerState};

/// RMSprop (Hinton, 2012), with optional momentum and the centered variant (Keras's `RMSprop`).
///
/// With the velocity `v` (zeros at first): `v = rho * v + (1 - rho) * g²` and
/// `increment = learning_rate * g / sqrt(v + epsilon)`. With `centered`, the average gradient
/// `a = rho * a + (1 - rho) * g` (zeros at first) is kept too, and the denominator becomes
/// `sqrt(v - a² + epsilon)`. With `momentum > 0`: `m = momentum * m + increment`, `p -= m`;
/// otherwise `p -= increment`. With `weight_decay = Some(wd)`, `p -= p * wd * learning_rate`
/// comes first.
///
/// ```
/// use kerust_core::optim::{Optimizer, RmsProp};
///
/// let mut rmsprop = RmsProp::new(0.1);
/// let mut p = [1.0_f32];
/// rmsprop.step(&mut p, &[4.0]);
/// // The first step moves every parameter by about `learning_rate / sqrt(1 - rho)`, whatever
/// // the gradient.
/// assert!((p[0] - (1.0 - 0.1 / 0.1_f32.sqrt())).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Discounting factor of the squared-gradient average (default `0.9`).
    ///
    /// `f64` like Keras's Python float: Keras rounds `1 - rho` to `f32` from double precision,
    /// and `1.0 - 0.9_f32` would differ from it (by 2 parts in 10⁷).
    pub rho: f64,
    /// Momentum of the increments; `0` keeps no momentum (default `0.0`).
    pub momentum: f32,
    /// Added to the mean square under the square root for numerical stability (default `1e-7`).
    pub epsilon: f32,
    /// Whether to normalise by the estimated variance of the gradient rather than its
    /// uncentered second moment (default `false`).
    pub centered: bool,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    velocities: Vec<f32>,
    momentums: Vec<f32>,
    average_gradients: Vec<f32>,
    iterations: u64,
}

impl Default for RmsProp {
    fn default() -> Self {
        Self::new(0.001)
    }
}

/// The per-step scalars of the update, computed once outside the loop.
#[derive(Clone, Copy)]
struct Coefficients {
    lr: f32,
    wd: f32,
    rho: f32,
    one_minus_rho: f32,
    momentum: f32,
    epsilon: f32,
}

impl Coefficients {
    /// `p` after weight decay (Keras's `variable - variable * wd * lr`).
    #[inline(always)]
    fn decay<const DECAY: bool>(self, p: f32) -> f32 {
        if DECAY {
            p - p * self.wd * self.lr
        } else {
            p
        }
    }

    /// `rho * x + (1 - rho) * y`: Keras's moving average, for `v` (with `y = g²`) and `a`.
    #[inline(always)]
    fn average(self, x: f32, y: f32) -> f32 {
        self.rho * x + self.one_minus_rho * y
    }

    /// The increment `lr * g / sqrt(denominator)`.
    #[inline(always)]
    fn increment(self, g: f32, denominator: f32) -> f32 {
        self.lr * g / sqrt(denominator)
    }
}

impl RmsProp {
    /// RMSprop with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            weight_decay: None,
            velocities: Vec::new(),
            momentums: Vec::new(),
            average_gradients: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`RmsProp::rho`].
    #[must_use]
    pub fn rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }

    /// Sets [`RmsProp::momentum`].
    #[must_use]
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets [`RmsProp::epsilon`].
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets [`RmsProp::centered`].
    #[must_use]
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }

    /// Sets [`RmsProp::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
        self
    }

    /// The slot names Keras gives this configuration's variables, in Keras's order.
    fn slot_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["velocity"],
            (true, false) => &["velocity", "momentum"],
            (false, true) => &["velocity", "average_gradient"],
            (true, true) => &["velocity", "momentum", "average_gradient"],
        }
    }

    /// The slot named `name` (one of [`RmsProp::slot_names`]).
    fn slot(&self, name: &str) -> &Vec<f32> {
        match name {
            "velocity" => &self.velocities,
            "momentum" => &self.momentums,
            _ => &self.average_gradients,
        }
    }

    /// The slot named `name` (one of [`RmsProp::slot_names`]), mutably.
    fn slot_mut(&mut self, name: &str) -> &mut Vec<f32> {
        match name {
            "velocity" => &mut self.velocities,
            "momentum" => &mut self.momentums,
            _ => &mut self.average_gradients,
        }
    }

    /// One update. `DECAY` selects the weight-decay variant at compile time and each
    /// momentum/centered combination has its own loop, so that the loops carry no per-element
    /// branch.
    fn update<const DECAY: bool>(&mut self, params: &mut [f32], grads: &[f32], c: Coefficients) {
        let n = params.len();
        let eps = c.epsilon;
        fit_slot(&mut self.velocities, n);
        let state = params.iter_mut().zip(grads).zip(&mut self.velocities);
        match (self.momentum > 0.0, self.centered) {
            (false, false) => {
                for ((p, &g), v) in state {
                    *v = c.average(*v, g * g);
                    *p = c.decay::<DECAY>(*p) - c.increment(g, *v + eps);
                }
            }
            (true, false) => {
                fit_slot(&mut self.momentums, n);
                for (((p, &g), v), m) in state.zip(&mut self.momentums) {
                    *v = c.average(*v, g * g);
                    *m = c.momentum * *m + c.increment(g, *v + eps);
                    *p = c.decay::<DECAY>(*p) - *m;
                }
            }
            (false, true) => {
                fit_slot(&mut self.average_gradients, n);
                for (((p, &g), v), a) in state.zip(&mut self.average_gradients) {
                    *v = c.average(*v, g * g);
                    *a = c.average(*a, g);
                    *p = c.decay::<DECAY>(*p) - c.increment(g, *v - *a * *a + eps);
                }
            }
            (true, true) => {
                fit_slot(&mut self.momentums, n);
                fit_slot(&mut self.average_gradients, n);
                let state = state.zip(&mut self.momentums).zip(&mut self.average_gradients);
                for ((((p, &g), v), m), a) in state {
                    *v = c.average(*v, g * g);
                    *a = c.average(*a, g);
                    *m = c.momentum * *m + c.increment(g, *v - *a * *a + eps);
                    *p = c.decay::<DECAY>(*p) - *m;
                }
            }
        }
    }
}

impl Optimizer for RmsProp {
    /// `"rmsprop"`, Keras's identifier (`compile(optimizer="rmsprop")`).
    fn name(&self) -> &'static str {
        "rmsprop"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "rmsprop: params and grads differ in length"
        );
        // As Keras: `rho * v` multiplies by `rho` rounded to f32; `1 - rho` is computed in
        // double precision (Python floats), then rounded to f32.
        let c = Coefficients {
            lr: self.learning_rate,
            wd: self.weight_decay.unwrap_or(0.0),
            rho: self.rho as f32,
            one_minus_rho: (1.0 - self.rho) as f32,
            momentum: self.momentum,
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

    /// The iteration count plus, once the optimizer has stepped, the slot `"velocity"`, then
    /// `"momentum"` with `momentum > 0` and `"average_gradient"` with `centered`.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if !self.velocities.is_empty() {
            for &name in self.slot_names() {
                let mut values = self.slot(name).clone();
                // Still empty if the option was switched on since the last step; report the
                // zeros the next step would start from.
                fit_slot(&mut values, self.velocities.len());
                state.slots.push((name.into(), values));
            }
        }
        state
    }

    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let built = (!self.velocities.is_empty()).then_some(self.velocities.len());
        let names = self.slot_names();
        let slots = take_slots("rmsprop", &mut state, names, built)?;
        self.velocities.clear();
        self.momentums.clear();
        self.average_gradients.clear();
        for (name, values) in names.iter().zip(slots) {
            *self.slot_mut(name) = values;
        }
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.RMSprop(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 2e-7 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut RmsProp) -> [f32; 3] {
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
        let r = RmsProp::default();
        assert_eq!(
            (
                r.learning_rate,
                r.rho,
                r.momentum,
                r.epsilon,
                r.centered,
                r.weight_decay
            ),
            (0.001, 0.9, 0.0, 1e-7, false, None)
        );
    }

    #[test]
    fn default_matches_keras() {
        // RMSprop()
        let mut r = RmsProp::default();
        assert_close(&run(&mut r), &[0.9954, -2.0010543, 0.49734175]);
        assert_eq!(r.iterations(), 3);
        assert_eq!(r.state().slots.len(), 1, "only `velocity` without options");
    }

    #[test]
    fn larger_learning_rate_matches_keras() {
        // RMSprop(learning_rate=0.1)
        assert_close(
            &run(&mut RmsProp::new(0.1)),
            &[0.54000217, -2.1054463, 0.23417717],
        );
    }

    #[test]
    fn momentum_matches_keras() {
        // RMSprop(learning_rate=0.1, momentum=0.9)
        assert_close(
            &run(&mut RmsProp::new(0.1).momentum(0.9)),
            &[-0.28033614, -1.8218458, -0.21222412],
        );
    }

    #[test]
    fn centered_matches_keras() {
        // RMSprop(learning_rate=0.1, centered=True)
        assert_close(
            &run(&mut RmsProp::new(0.1).centered(true)),
            &[0.5010448, -2.0972028, 0.21739781],
        );
    }

    #[test]
    fn centered_momentum_matches_keras_with_its_variables() {
        // RMSprop(learning_rate=0.1, rho=0.5, momentum=0.9, centered=True)
        let mut r = RmsProp::new(0.1).rho(0.5).momentum(0.9).centered(true);
        assert_close(&run(&mut r), &[0.13194415, -1.8583984, 0.031015575]);
        // Keras's `opt.variables` after the 3 steps, in Keras's order.
        let state = r.state();
        let names: Vec<&str> = state.slots.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["velocity", "momentum", "average_gradient"]);
        assert_close(
            state.slot("velocity").unwrap(),
            &[0.10875, 0.065000005, 0.015000001],
        );
        assert_close(
            state.slot("momentum").unwrap(),
            &[0.2685351, 0.08443659, 0.14998458],
        );
        assert_close(
            state.slot("average_gradient").unwrap(),
            &[-0.012500003, 0.17500001, 0.0375],
        );
    }

    #[test]
    fn weight_decay_matches_keras() {
        // RMSprop(learning_rate=0.1, momentum=0.9, weight_decay=0.5)
        let mut r = RmsProp::new(0.1).momentum(0.9).weight_decay(0.5);
        assert_close(&run(&mut r), &[-0.3623668, -1.567372, -0.24371582]);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = RmsProp::new(0.1).momentum(0.9).centered(true);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = RmsProp::new(0.1).momentum(0.9).centered(true);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!((pa, a.state()), (pb, b.state()));
        assert_eq!(a, b);
    }

    #[test]
    fn load_state_checks_slots_against_the_configuration_and_size() {
        let mut a = RmsProp::new(0.1).centered(true);
        a.step(&mut [1.0, 2.0], &[1.0, 1.0]);
        let err = RmsProp::new(0.1).load_state(a.state()).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = RmsProp::new(0.1);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = RmsProp::new(0.1);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(matches!(err, crate::Error::ShapeMismatch { .. }), "{err}");
    }
}
