//! `Adam`: adaptive moment estimation, Keras's `keras.optimizers.Adam`.

use alloc::vec::Vec;
use core::ops::Range;

use super::state::{fit_slot, take_slots};
use super::{sqrt, Optimizer, OptimizerState};

/// Adam (Kingma & Ba, 2014), with the optional AMSGrad variant (Keras's `Adam`).
///
/// With `t = iterations + 1` and the moments `m`, `v` (zeros at first):
/// `alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)`,
/// `m += (g - m) * (1 - beta_1)`, `v += (g² - v) * (1 - beta_2)`,
/// `p -= m * alpha / (sqrt(v) + epsilon)`. With `amsgrad`, `v_hat = max(v_hat, v)` replaces
/// `v` in the last step. With `weight_decay = Some(wd)`, `p -= p * wd * learning_rate` comes
/// first (Keras's `Adam(weight_decay=...)`, decoupled as in AdamW).
///
/// ```
/// use kerust_core::optim::{Adam, Optimizer};
///
/// let mut adam = Adam::new(0.1);
/// let mut p = [1.0_f32];
/// adam.step(&mut p, &[4.0]);
/// // The first step moves every parameter by about `learning_rate`, whatever the gradient.
/// assert!((p[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// Step size (Keras default `0.001`).
    pub learning_rate: f32,
    /// Decay rate of the first-moment estimate (default `0.9`).
    ///
    /// `f64` like Keras's Python float: Keras rounds `1 - beta_1` to `f32` from double
    /// precision, and `1.0 - 0.9_f32` would differ from it (by 2 parts in 10⁷; for `beta_2 =
    /// 0.999`, by 5 parts in 10⁵).
    pub beta_1: f64,
    /// Decay rate of the second-moment estimate (default `0.999`); `f64` as [`Adam::beta_1`].
    pub beta_2: f64,
    /// Added to `sqrt(v)` for numerical stability: Keras's "epsilon hat" (default `1e-7`).
    pub epsilon: f32,
    /// Whether to use AMSGrad, the running maximum of `v` (default `false`).
    pub amsgrad: bool,
    /// Decoupled weight decay rate, applied as `p -= p * wd * learning_rate` before each update
    /// (default `None`).
    pub weight_decay: Option<f32>,
    momentums: Vec<f32>,
    velocities: Vec<f32>,
    velocity_hats: Vec<f32>,
    iterations: u64,
}

impl Default for Adam {
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
    fn decay<const DECAY: bool>(self, p: f32) -> f32 {
        if DECAY {
            p - p * self.wd * self.lr
        } else {
            p
        }
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

impl Adam {
    /// Adam with learning rate `learning_rate`, other settings Keras's defaults.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            weight_decay: None,
            momentums: Vec::new(),
            velocities: Vec::new(),
            velocity_hats: Vec::new(),
            iterations: 0,
        }
    }

    /// Sets [`Adam::beta_1`].
    #[must_use]
    pub fn beta_1(mut self, beta_1: f64) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Sets [`Adam::beta_2`].
    #[must_use]
    pub fn beta_2(mut self, beta_2: f64) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Sets [`Adam::epsilon`].
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets [`Adam::amsgrad`].
    #[must_use]
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    /// Sets [`Adam::weight_decay`] to `Some(rate)`.
    #[must_use]
    pub fn weight_decay(mut self, rate: f32) -> Self {
        self.weight_decay = Some(rate);
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

    /// One update with the gradient `grads + Σ rest` (the sum taken in that order, chunk by
    /// chunk, in a buffer on the stack). `DECAY` selects the weight-decay variant at compile
    /// time, so that the loops carry no per-element branch.
    ///
    /// The slices are updated in chunks, spread over the threads with the `parallel` feature;
    /// every element goes through the same operations whatever the chunking, so the result
    /// does not depend on the number of threads.
    fn update<const DECAY: bool>(
        &mut self,
        params: &mut [f32],
        grads: &[f32],
        rest: &[&[f32]],
        c: Coefficients,
    ) {
        let n = params.len();
        fit_slot(&mut self.momentums, n);
        fit_slot(&mut self.velocities, n);
        if self.amsgrad {
            fit_slot(&mut self.velocity_hats, n);
        }
        let (g, m, v) = (&grads[..n], &mut self.momentums[..n], &mut self.velocities[..n]);
        let v_hat: &mut [f32] = if self.amsgrad {
            &mut self.velocity_hats[..n]
        } else {
            &mut []
        };
        let ams = !v_hat.is_empty();
        let chunk = |i: usize, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], h: &mut [f32]| {
            let at = i * CHUNK;
            if ams {
                update_chunk::<DECAY, true>(c, p, g, rest, at, m, v, h);
            } else {
                update_chunk::<DECAY, false>(c, p, g, rest, at, m, v, h);
            }
        };
        #[cfg(feature = "parallel")]
        if n >= 2 * CHUNK {
            use rayon::prelude::*;
            let chunks = params
                .par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK))
                .zip(m.par_chunks_mut(CHUNK))
                .zip(v.par_chunks_mut(CHUNK))
                .enumerate();
            if ams {
                chunks
                    .zip(v_hat.par_chunks_mut(CHUNK))
                    .for_each(|((i, (((p, g), m), v)), h)| chunk(i, p, g, m, v, h));
            } else {
                chunks.for_each(|(i, (((p, g), m), v))| chunk(i, p, g, m, v, &mut []));
            }
            return;
        }
        let chunks = params
            .chunks_mut(CHUNK)
            .zip(g.chunks(CHUNK))
            .zip(m.chunks_mut(CHUNK))
            .zip(v.chunks_mut(CHUNK))
            .enumerate();
        if ams {
            for ((i, (((p, g), m), v)), h) in chunks.zip(v_hat.chunks_mut(CHUNK)) {
                chunk(i, p, g, m, v, h);
            }
        } else {
            for (i, (((p, g), m), v)) in chunks {
                chunk(i, p, g, m, v, &mut []);
            }
        }
    }

    /// The per-step scalars (Keras's): the powers and `alpha` in the variable's dtype (f32)
    /// from the betas cast to f32; `1 - beta` in double precision (Python floats), then
    /// rounded to f32.
    fn coefficients(&self) -> Coefficients {
        let lr = self.learning_rate;
        let t = (self.iterations + 1) as f32;
        let beta_1_power = libm::powf(self.beta_1 as f32, t);
        let beta_2_power = libm::powf(self.beta_2 as f32, t);
        Coefficients {
            lr,
            wd: self.weight_decay.unwrap_or(0.0),
            alpha: lr * libm::sqrtf(1.0 - beta_2_power) / (1.0 - beta_1_power),
            one_minus_beta_1: (1.0 - self.beta_1) as f32,
            one_minus_beta_2: (1.0 - self.beta_2) as f32,
            epsilon: self.epsilon,
        }
    }

    /// [`Optimizer::step`] with the gradient `grads + Σ rest`.
    fn step_with(&mut self, params: &mut [f32], grads: &[f32], rest: &[&[f32]]) {
        assert!(
            grads.len() == params.len() && rest.iter().all(|r| r.len() == params.len()),
            "adam: params and grads differ in length"
        );
        let c = self.coefficients();
        if self.weight_decay.is_some() {
            self.update::<true>(params, grads, rest, c);
        } else {
            self.update::<false>(params, grads, rest, c);
        }
        self.iterations += 1;
    }
}

/// Elements per chunk of the update: tens of KiB of state, a task's worth of work with the
/// `parallel` feature, and the size of the stack buffer that sums the gradients.
const CHUNK: usize = 1 << 13;

/// The update of one chunk (`v_hat` empty unless `AMSGRAD`), whose gradient is `g` plus
/// `rest[..][at..]`. Compiled a second time for AVX-512 where `std` can detect it: the same
/// operations (IEEE division and square root, no fused multiply-add), 16 lanes at a time, so
/// the same bits.
#[allow(clippy::too_many_arguments)]
fn update_chunk<const DECAY: bool, const AMSGRAD: bool>(
    c: Coefficients,
    p: &mut [f32],
    g: &[f32],
    rest: &[&[f32]],
    at: usize,
    m: &mut [f32],
    v: &mut [f32],
    v_hat: &mut [f32],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F.
        return unsafe { update_chunk_avx512::<DECAY, AMSGRAD>(c, p, g, rest, at, m, v, v_hat) };
    }
    sum_then_update::<DECAY, AMSGRAD>(c, p, g, rest, at, m, v, v_hat);
}

/// [`update_chunk`] for CPUs with AVX-512F.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn update_chunk_avx512<const DECAY: bool, const AMSGRAD: bool>(
    c: Coefficients,
    p: &mut [f32],
    g: &[f32],
    rest: &[&[f32]],
    at: usize,
    m: &mut [f32],
    v: &mut [f32],
    v_hat: &mut [f32],
) {
    sum_then_update::<DECAY, AMSGRAD>(c, p, g, rest, at, m, v, v_hat);
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn sum_then_update<const DECAY: bool, const AMSGRAD: bool>(
    c: Coefficients,
    p: &mut [f32],
    g: &[f32],
    rest: &[&[f32]],
    at: usize,
    m: &mut [f32],
    v: &mut [f32],
    v_hat: &mut [f32],
) {
    match rest {
        [] => return update_body::<DECAY, AMSGRAD>(c, p, g.iter().copied(), m, v, v_hat),
        // Two shards (a batch on two threads): the sum taken as each element is updated.
        [r] => {
            let sum = g.iter().zip(&r[at..at + g.len()]).map(|(g, r)| g + r);
            return update_body::<DECAY, AMSGRAD>(c, p, sum, m, v, v_hat);
        }
        _ => {}
    }
    let mut sum = [0.0f32; CHUNK];
    let sum = &mut sum[..g.len()];
    sum.copy_from_slice(g);
    for r in rest {
        for (s, x) in sum.iter_mut().zip(&r[at..]) {
            *s += x;
        }
    }
    update_body::<DECAY, AMSGRAD>(c, p, sum.iter().copied(), m, v, v_hat);
}

/// The update of `p`, `m`, `v` (and `v_hat`) element by element, with the gradient `g`.
#[inline(always)]
fn update_body<const DECAY: bool, const AMSGRAD: bool>(
    c: Coefficients,
    p: &mut [f32],
    g: impl Iterator<Item = f32>,
    m: &mut [f32],
    v: &mut [f32],
    v_hat: &mut [f32],
) {
    let state = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
    if AMSGRAD {
        for ((((p, g), m), v), v_hat) in state.zip(v_hat) {
            c.moments(g, m, v);
            *v_hat = v_hat.max(*v);
            *p = c.decay::<DECAY>(*p) - c.delta(*m, *v_hat);
        }
    } else {
        for (((p, g), m), v) in state {
            c.moments(g, m, v);
            *p = c.decay::<DECAY>(*p) - c.delta(*m, *v);
        }
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "adam"
    }

    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        self.step_with(params, grads, &[]);
    }

    /// Sums the shards' gradients chunk by chunk inside the update, instead of in a pass of
    /// its own: `grads` is left as it was.
    fn step_sum(
        &mut self,
        params: &mut [f32],
        grads: &mut [f32],
        rest: &[&[f32]],
        _tensors: &[Range<usize>],
    ) {
        self.step_with(params, grads, rest);
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
    /// `"velocity"` (and `"velocity_hat"` with `amsgrad`).
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
        let mut slots = take_slots("adam", &mut state, self.slot_names(), built)?.into_iter();
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

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   opt = keras.optimizers.Adam(...); v = keras.Variable(np.float32(P0))
    //   for g in G: opt.apply([np.float32(g)], [v])
    // and agreeing to 2e-6 with the same formulas evaluated in float64 NumPy.
    const P0: [f32; 3] = [1.0, -2.0, 0.5];
    const G: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.1], [-0.3, 0.2, 0.05]];

    fn run(opt: &mut Adam) -> [f32; 3] {
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
        let a = Adam::default();
        assert_eq!(
            (
                a.learning_rate,
                a.beta_1,
                a.beta_2,
                a.epsilon,
                a.amsgrad,
                a.weight_decay
            ),
            (0.001, 0.9, 0.999, 1e-7, false, None)
        );
    }

    #[test]
    fn default_matches_keras() {
        // Adam()
        let mut adam = Adam::default();
        assert_close(run(&mut adam), [0.99788946, -1.9998854, 0.49819437]);
        assert_eq!(adam.iterations(), 3);
    }

    #[test]
    fn larger_learning_rate_matches_keras() {
        // Adam(learning_rate=0.1)
        assert_close(run(&mut Adam::new(0.1)), [0.78894794, -1.9885355, 0.31943864]);
    }

    #[test]
    fn amsgrad_matches_keras() {
        // beta_2 = 0.5 makes v shrink, so that v_hat = max(v_hat, v) departs from v.
        // Adam(learning_rate=0.1, beta_2=0.5, amsgrad=True)
        let mut adam = Adam::new(0.1).beta_2(0.5).amsgrad(true);
        assert_close(run(&mut adam), [0.80235636, -1.9792184, 0.33044142]);
        // Keras's `opt.variables` after the 3 steps: adam/..._velocity_hat.
        let state = adam.state();
        let v_hat = state.slot("velocity_hat").unwrap();
        for (a, e) in v_hat.iter().zip([0.1275, 0.09000001, 0.045]) {
            assert!((a - e).abs() <= 1e-7, "{v_hat:?}");
        }
        // Adam(learning_rate=0.1, beta_2=0.5): without AMSGrad the result differs.
        assert_close(
            run(&mut Adam::new(0.1).beta_2(0.5)),
            [0.8005079, -1.9873098, 0.29606232],
        );
    }

    #[test]
    fn weight_decay_matches_keras() {
        // Adam(learning_rate=0.1, weight_decay=0.5)
        let mut adam = Adam::new(0.1).weight_decay(0.5);
        assert_close(run(&mut adam), [0.6603778, -1.7112048, 0.2598771]);
    }

    #[test]
    fn minimises_a_quadratic() {
        // f(x) = sum a_i (x_i - c_i)^2, badly conditioned (a from 0.01 to 100).
        let a = [100.0, 1.0, 0.01, 10.0];
        let c = [3.0, -1.0, 0.5, -2.0];
        let loss = |x: &[f32; 4]| -> f32 { (0..4).map(|i| a[i] * (x[i] - c[i]).powi(2)).sum() };
        let mut x = [0.0_f32; 4];
        let initial = loss(&x);
        let mut adam = Adam::new(0.05);
        for _ in 0..2000 {
            let g: [f32; 4] = core::array::from_fn(|i| 2.0 * a[i] * (x[i] - c[i]));
            adam.step(&mut x, &g);
        }
        assert!(loss(&x) < initial * 1e-6, "loss {} from {initial}", loss(&x));
        for (xi, ci) in x.iter().zip(&c) {
            assert!((xi - ci).abs() < 1e-2, "{x:?}");
        }
    }

    #[test]
    fn restored_state_continues_the_same_trajectory() {
        let mut a = Adam::new(0.1).amsgrad(true);
        let mut pa = P0;
        a.step(&mut pa, &G[0]);
        let mut b = Adam::new(0.1).amsgrad(true);
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
        let mut a = Adam::new(0.1).amsgrad(true);
        a.step(&mut [1.0, 2.0], &[1.0, 1.0]);
        let err = Adam::new(0.1).load_state(a.state()).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidArgument { .. }), "{err}");

        let mut b = Adam::new(0.1);
        b.step(&mut [1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
        let mut c = Adam::new(0.1);
        c.step(&mut [1.0], &[1.0]);
        let err = b.load_state(c.state()).unwrap_err();
        assert!(matches!(err, crate::Error::ShapeMismatch { .. }), "{err}");
    }
}
