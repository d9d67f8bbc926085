//! `Sgd`: gradient descent with optional (Nesterov) momentum, Keras's `keras.optimizers.SGD`.

use alloc::vec::Vec;

use super::state::{fit_slot, take_slots};
use super::{Optimizer, OptimizerState};

/// Gradient descent with optional momentum (Keras's `SGD`).
///
/// With `momentum == 0`: `p -= learning_rate * g`. Otherwise, with the velocity `m` (zeros at
/// first): `m = momentum * m - learning_rate * g`, then `p += m`, or with `nesterov`
/// `p += momentum * m - learning_rate * g`. With `weight_decay = Some(wd)`,
/// `p -= p * wd * learning_rate` comes first.
///
/// ```
/// use kerust_core::optim::{Optimizer, Sgd};
///
/// let mut sgd = Sgd::new(0.1).momentum(0.9).nesterov(true);
/// let mut p = [1.0_f32, -2.0];
/// sgd.step(&mut p, &[0.5, 0.5]);
/// // m = -0.05; p += 0.9 * m - 0.1 * 0.5 = -0.095
/// assert!((p[0] - 0.905).abs() < 1e-6 && (p[1] + 2.095).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    /// Step size (Keras default `0.01`).
    pub learning_rate: f32,
    /// Velocity decay in `[0, 1]`; `0` is plain gradient descent (default `0.0`).
    pub momentum: f32,
    /// Whether to use Nesterov momentum (default `false`).
    pub nesterov: bool,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    momentums: Vec<f32>,
    iterations: u64,
}

impl Default for Sgd {
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl Sgd {
    /// Plain gradient descent with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            momentum: 0.0,
            nesterov: false,
            weight_decay: None,
            momentums: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`Sgd::momentum`].
    #[must_use]
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets [`Sgd::nesterov`].
    #[must_use]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Sets [`Sgd::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
        self
    }

    /// One update. `DECAY` selects the weight-decay variant at compile time, so that the loops
    /// carry no per-element branch.
    fn update<const DECAY: bool>(&mut self, params: &mut [f32], grads: &[f32], wd: f32) {
        let lr = self.learning_rate;
        // Keras: `variable - variable * wd * lr`, then `update_step`.
        let decay = |p: f32| if DECAY { p - p * wd * lr } else { p };
        if self.momentum == 0.0 {
            for (p, &g) in params.iter_mut().zip(grads) {
                *p = decay(*p) - g * lr;
            }
            return;
        }
        let mu = self.momentum;
        fit_slot(&mut self.momentums, params.len());
        let state = params.iter_mut().zip(grads).zip(&mut self.momentums);
        if self.nesterov {
            for ((p, &g), m) in state {
                *m = *m * mu - g * lr;
                *p = decay(*p) + (*m * mu - g * lr);
            }
        } else {
            for ((p, &g), m) in state {
                *m = *m * mu - g * lr;
                *p = decay(*p) + *m;
            }
        }
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "SGD"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "SGD: params and grads differ in length"
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

    /// The iteration count, plus the `"momentum"` slot (the velocity) when `momentum != 0` and
    /// the optimizer has stepped.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::new(self.iterations);
        if self.momentum != 0.0 && !self.momentums.is_empty() {
            state.slots.push(("momentum".into(), self.momentums.clone()));
        }
        state
    }

    fn load_state(&mut self, mut state: OptimizerState) -> crate::Result<()> {
        let names: &[&'static str] = if self.momentum != 0.0 { &["momentum"] } else { &[] };
        let built = (!self.momentums.is_empty()).then_some(self.momentums.len());
        let mut slots = take_slots("SGD", &mut state, names, built)?;
        self.momentums = slots.pop().unwrap_or_default();
        self.iterations = state.iterations;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.SGD(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 1e-7 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut Sgd) -> [f32; 3] {
        let mut p = P0;
        for g in &G {
            opt.step(&mut p, g);
        }
        p
    }

    fn assert_close(actual: [f32; 3], expected: [f32; 3]) {
        for (a, e) in actual.iter().zip(&expected) {
            assert!((a - e).abs() <= 2.5e-7, "{actual:?} != {expected:?}");
        }
    }

    #[test]
    fn defaults_are_keras() {
        let sgd = Sgd::default();
        assert_eq!(
            (sgd.learning_rate, sgd.momentum, sgd.nesterov, sgd.weight_decay),
            (0.01, 0.0, false, None)
        );
    }

    #[test]
    fn plain_matches_keras() {
        // SGD(learning_rate=0.1): p - 0.1 * sum(G).
        let mut sgd = Sgd::new(0.1);
        assert_close(run(&mut sgd), [0.97, -2.04, 0.475]);
        assert_eq!(sgd.iterations(), 3);
        assert_eq!(
            sgd.state(),
            OptimizerState::new(3),
            "no momentum slot without momentum"
        );
    }

    #[test]
    fn momentum_matches_keras() {
        // SGD(learning_rate=0.1, momentum=0.9)
        assert_close(run(&mut Sgd::new(0.1).momentum(0.9)), [0.9079, -2.0418, 0.4327]);
    }

    #[test]
    fn nesterov_matches_keras() {
        // SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        let mut sgd = Sgd::new(0.1).momentum(0.9).nesterov(true);
        assert_close(run(&mut sgd), [0.88711, -2.07762, 0.41443]);
    }

    #[test]
    fn weight_decay_matches_keras() {
        // SGD(learning_rate=0.1, weight_decay=0.5)
        assert_close(
            run(&mut Sgd::new(0.1).weight_decay(0.5)),
            [0.83085, -1.7547, 0.4061125],
        );
        // SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.5)
        let mut sgd = Sgd::new(0.1).momentum(0.9).weight_decay(0.5);
        assert_close(run(&mut sgd), [0.76919997, -1.7574, 0.3651625]);
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = Sgd::new(0.1).momentum(0.9);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = Sgd::new(0.1).momentum(0.9);
        b.load_state(a.state()).unwrap();
        assert_eq!(b.iterations(), 1);
        let mut pb = pa;
        for g in &G[1..] {
            a.step(&mut pa, g);
            b.step(&mut pb, g);
        }
        assert_eq!((pa, a.state()), (pb, b.state()));
        assert_close(pb, [0.9079, -2.0418, 0.4327]);
    }

    #[test]
    fn load_state_rejects_a_momentum_slot_without_momentum() {
        let mut a = Sgd::new(0.1).momentum(0.9);
        a.step(&mut [1.0], &[1.0]);
        let err = Sgd::new(0.1).load_state(a.state()).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");
    }
}
