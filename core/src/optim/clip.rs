//! [`Clipped`]: gradient clipping in front of any optimizer, Keras's `clipnorm`, `clipvalue` and
//! `global_clipnorm`.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use super::{sqrt, Optimizer, OptimizerState};

/// How [`Clipped`] clips the gradients: Keras's three optimizer arguments, of which Keras
/// allows one at a time.
///
/// A value that is not positive (`0`, a negative number or NaN) disables clipping, as Keras's
/// `if self.clipnorm and self.clipnorm > 0` does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Keras's `clipnorm`: each parameter tensor's gradient `g` becomes
    /// `g * clipnorm / max(norm(g), clipnorm)`, with `norm(g) = sqrt(sum(g²))` over that tensor,
    /// computed as `(g * clipnorm) * (1 / max(..))` like Keras on XLA. Below the threshold this
    /// may move `g` by an ulp, as in Keras.
    Norm(f32),
    /// Keras's `clipvalue`: every gradient element is clamped to `[-clipvalue, clipvalue]`.
    Value(f32),
    /// Keras's `global_clipnorm` (`clip_by_global_norm`): every gradient is scaled by
    /// `clipnorm * min(1 / norm, 1 / clipnorm)`, with `norm` over all tensors together.
    GlobalNorm(f32),
}

impl Clip {
    /// Whether the setting clips: Keras's `if self.clipnorm and self.clipnorm > 0` (the same
    /// for the other two), false for 0, negative values and NaN.
    fn is_active(self) -> bool {
        match self {
            Clip::Norm(c) | Clip::Value(c) | Clip::GlobalNorm(c) => c > 0.0,
        }
    }
}

/// An optimizer that clips the gradients before handing them on: Keras's `clipnorm`,
/// `clipvalue` and `global_clipnorm` arguments, built with
/// [`OptimizerExt::clipnorm`](super::OptimizerExt::clipnorm),
/// [`clipvalue`](super::OptimizerExt::clipvalue) or
/// [`global_clipnorm`](super::OptimizerExt::global_clipnorm).
///
/// As in Keras's `apply`, the gradients are clipped first; the inner optimizer then applies its
/// weight decay and its update with the clipped gradients. Name, iteration count,
/// learning rate and state are the inner optimizer's. The clipped gradients go to a buffer
/// kept in the wrapper, so that steps after the first allocate nothing.
///
/// `clipnorm` acts per parameter tensor, so it needs the tensors' ranges:
/// [`Optimizer::step_tensors`], which the training loop calls, has them. [`Optimizer::step`]
/// has none and treats the whole slice as one tensor, which then clips like
/// `global_clipnorm`.
///
/// ```
/// use kerust::prelude::*;
///
/// let mut sgd = Sgd::new(0.1).clipnorm(1.0);
/// let mut p = [0.0_f32; 3];
/// // Two tensors: p[0..2] with gradient norm 5 (clipped to norm 1), p[2..3] with norm 0.5.
/// sgd.step_tensors(&mut p, &[3.0, -4.0, 0.5], &[0..2, 2..3]);
/// for (p, expected) in p.iter().zip([-0.06, 0.08, -0.05]) {
///     assert!((p - expected).abs() < 1e-7);
/// }
/// ```
///
/// Keras allows only one of the three options, so that a wrapper holds one [`Clip`] and
/// asking a `Clipped` for a second option does not compile:
///
/// ```compile_fail,E0277
/// use kerust::prelude::*;
///
/// let sgd = Sgd::new(0.1).clipvalue(0.5).global_clipnorm(1.0);
/// ```
///
/// To clip twice on purpose, nest the wrappers by hand; the outer one clips first:
///
/// ```
/// use kerust::prelude::*;
///
/// let twice = Clipped::new(Clipped::new(Sgd::new(0.1), Clip::Value(0.5)), Clip::GlobalNorm(1.0));
/// ```
#[derive(Clone)]
pub struct Clipped<O> {
    inner: O,
    clip: Clip,
    /// The clipped gradients, reused from step to step.
    grads: Vec<f32>,
}

impl<O: fmt::Debug> fmt::Debug for Clipped<O> {
    /// Shows the configuration and the inner optimizer, not the scratch buffer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clipped")
            .field("inner", &self.inner)
            .field("clip", &self.clip)
            .finish_non_exhaustive()
    }
}

impl<O: PartialEq> PartialEq for Clipped<O> {
    /// Compares the configuration and the inner optimizer, not the scratch buffer.
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner && self.clip == other.clip
    }
}

impl<O: Optimizer> Clipped<O> {
    /// `inner` with its gradients clipped as `clip` says.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let adam = Clipped::new(Adam::new(0.01), Clip::GlobalNorm(1.0));
    /// assert_eq!(adam.clipping(), Clip::GlobalNorm(1.0));
    /// ```
    pub fn new(inner: O, clip: Clip) -> Self {
        Self {
            inner,
            clip,
            grads: Vec::new(),
        }
    }

    /// The clipping setting.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// assert_eq!(Sgd::new(0.1).clipvalue(0.5).clipping(), Clip::Value(0.5));
    /// ```
    pub fn clipping(&self) -> Clip {
        self.clip
    }

    /// The wrapped optimizer.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// assert_eq!(Sgd::new(0.1).momentum(0.9).clipnorm(1.0).inner().momentum, 0.9);
    /// ```
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The wrapped optimizer, mutable.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// let mut sgd = Sgd::new(0.1).clipnorm(1.0);
    /// sgd.inner_mut().nesterov = true;
    /// ```
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.inner
    }

    /// The wrapped optimizer, without the clipping.
    ///
    /// ```
    /// use kerust::prelude::*;
    ///
    /// assert_eq!(Sgd::new(0.1).clipnorm(1.0).into_inner(), Sgd::new(0.1));
    /// ```
    pub fn into_inner(self) -> O {
        self.inner
    }

    /// Does not compile: Keras allows one clipping option per optimizer. Nest
    /// [`Clipped::new`] by hand to clip twice.
    pub fn clipnorm(self, clipnorm: f32) -> Self
    where
        Self: OneClippingOption,
    {
        let _ = clipnorm;
        self
    }

    /// Does not compile: Keras allows one clipping option per optimizer. Nest
    /// [`Clipped::new`] by hand to clip twice.
    pub fn clipvalue(self, clipvalue: f32) -> Self
    where
        Self: OneClippingOption,
    {
        let _ = clipvalue;
        self
    }

    /// Does not compile: Keras allows one clipping option per optimizer. Nest
    /// [`Clipped::new`] by hand to clip twice.
    pub fn global_clipnorm(self, global_clipnorm: f32) -> Self
    where
        Self: OneClippingOption,
    {
        let _ = global_clipnorm;
        self
    }

    /// Fills the gradient buffer with `grads` clipped, `tensors` giving the ranges `clipnorm`
    /// acts on.
    fn clip_into_buffer(&mut self, grads: &[f32], tensors: &[Range<usize>]) {
        let out = &mut self.grads;
        // `resize` keeps the allocation once the buffer has the parameters' length.
        out.resize(grads.len(), 0.0);
        match self.clip {
            Clip::Norm(c) => {
                let mut at = 0;
                for r in tensors {
                    assert!(
                        at <= r.start && r.start <= r.end && r.end <= grads.len(),
                        "clipnorm: tensor ranges must be ordered, disjoint and within the {} \
                         gradients, got {r:?} after {at}",
                        grads.len()
                    );
                    out[at..r.start].copy_from_slice(&grads[at..r.start]);
                    clip_by_norm(&mut out[r.clone()], &grads[r.clone()], c);
                    at = r.end;
                }
                out[at..].copy_from_slice(&grads[at..]);
            }
            Clip::Value(v) => {
                // `clamp`, like `jnp.clip`, keeps NaN.
                for (o, &g) in out.iter_mut().zip(grads) {
                    *o = g.clamp(-v, v);
                }
            }
            Clip::GlobalNorm(c) => clip_by_global_norm(out, grads, c),
        }
    }
}

/// Keras allows only one of `clipnorm`, `clipvalue` and `global_clipnorm`: the bound of the
/// methods that would add a second option to a [`Clipped`] optimizer. No type implements it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` already clips its gradients: Keras allows only one of `clipnorm`, \
               `clipvalue` and `global_clipnorm`",
    label = "a second clipping option",
    note = "to clip twice on purpose, nest the wrappers: \
            `Clipped::new(Clipped::new(optimizer, Clip::Value(0.5)), Clip::GlobalNorm(1.0))`"
)]
pub trait OneClippingOption {}

/// `sum(x²)` in `f32`, over eight lanes (which vectorise and round less than one running sum),
/// added pairwise at the end.
fn sum_squares(x: &[f32]) -> f32 {
    let mut lanes = [0.0_f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l += v * v;
        }
    }
    for (l, &v) in lanes.iter_mut().zip(rest) {
        *l += v * v;
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    ((a + e) + (c + g)) + ((b + f) + (d + h))
}

/// Keras's `_clip_by_norm` on one tensor: `values * clipnorm / maximum(l2norm, clipnorm)`.
///
/// XLA compiles the division by the broadcast scalar to a multiplication by its reciprocal,
/// `(g * clipnorm) * (1 / max)`, which is what Keras on JAX computes; so does this, to the
/// bit when the norms agree. `maximum`, like XLA's, keeps a NaN norm.
fn clip_by_norm(out: &mut [f32], grads: &[f32], clipnorm: f32) {
    let norm = sqrt(sum_squares(grads));
    let max = if norm.is_nan() || norm > clipnorm {
        norm
    } else {
        clipnorm
    };
    let reciprocal = 1.0 / max;
    for (o, &g) in out.iter_mut().zip(grads) {
        *o = g * clipnorm * reciprocal;
    }
}

/// Keras's `clip_by_global_norm`: `scale = clip_norm * minimum(1 / norm, 1 / clip_norm) +
/// (norm - norm)`, then `g * scale`. The last term makes the scale NaN when the norm is
/// infinite or NaN. `1 / clip_norm` is a Python float division (double precision), rounded to
/// `f32` by `minimum`.
fn clip_by_global_norm(out: &mut [f32], grads: &[f32], clip_norm: f32) {
    let norm = sqrt(sum_squares(grads));
    let inverse_clip = (1.0 / f64::from(clip_norm)) as f32;
    #[allow(clippy::eq_op)] // Keras's `use_norm - use_norm`: 0, or NaN for a non-finite norm.
    let scale = clip_norm * (1.0 / norm).min(inverse_clip) + (norm - norm);
    for (o, &g) in out.iter_mut().zip(grads) {
        *o = g * scale;
    }
}

impl<O: Optimizer> Optimizer for Clipped<O> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    /// Clips `grads` as one tensor, then steps the inner optimizer.
    ///
    /// # Panics
    ///
    /// If `params` and `grads` differ in length.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        self.step_tensors(params, grads, &[]);
    }

    /// Clips `grads`, `clipnorm` per range of `tensors` (an empty `tensors` is the whole slice
    /// as one tensor; elements outside every range are left unclipped), then steps the inner
    /// optimizer with the same `tensors`.
    ///
    /// # Panics
    ///
    /// If `params` and `grads` differ in length, or with `clipnorm` if the ranges are not in
    /// increasing order, disjoint and within the slice.
    fn step_tensors(&mut self, params: &mut [f32], grads: &[f32], tensors: &[Range<usize>]) {
        assert_eq!(
            params.len(),
            grads.len(),
            "{}: params and grads differ in length",
            self.inner.name()
        );
        if !self.clip.is_active() {
            return self.inner.step_tensors(params, grads, tensors);
        }
        let whole = 0..grads.len();
        let ranges = if tensors.is_empty() {
            core::slice::from_ref(&whole)
        } else {
            tensors
        };
        self.clip_into_buffer(grads, ranges);
        self.inner.step_tensors(params, &self.grads, tensors);
    }

    fn iterations(&self) -> u64 {
        self.inner.iterations()
    }

    fn learning_rate(&self) -> f32 {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.inner.set_learning_rate(lr);
    }

    /// The inner optimizer's state: clipping keeps none.
    fn state(&self) -> OptimizerState {
        self.inner.state()
    }

    fn load_state(&mut self, state: OptimizerState) -> crate::Result<()> {
        self.inner.load_state(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Adam, OptimizerExt, Sgd};

    // Reference values: Keras 3.15.1 (JAX backend, float32), from
    //   a = keras.Variable(A0); b = keras.Variable(B0)  # shapes (3,) and (2, 2)
    //   for ga, gb in G[:steps]: opt.apply([ga, gb], [a, b])
    // with the values of `a` then `b` (flattened) afterwards.
    const P0: [f32; 7] = [1.0, -2.0, 0.5, 0.3, -0.7, 1.5, 2.0];
    const TENSORS: [Range<usize>; 2] = [0..3, 3..7];
    const G: [[f32; 7]; 3] = [
        // `a`'s gradient has norm 5, `b`'s 0.548: clipnorm=1 clips only `a`'s.
        [3.0, -4.0, 0.0, 0.1, 0.2, -0.3, 0.4],
        // `a`'s has norm 0.374, `b`'s 5.
        [0.3, 0.1, -0.2, 2.0, -1.0, 2.0, 4.0],
        [-1.0, 0.5, 2.5, 0.05, -0.05, 0.6, 0.0],
    ];

    /// `SGD(learning_rate=0.1, global_clipnorm=1.0)`, 2 steps: also `clipnorm=1.0` on one
    /// variable holding both.
    const BY_GLOBAL_NORM: [f32; 7] = [
        0.9343735,
        -1.9224701,
        0.50398886,
        0.25812343,
        -0.68403196,
        1.4660758,
        1.9122707,
    ];

    fn run<O: Optimizer>(opt: &mut O, steps: usize, tensors: &[Range<usize>]) -> [f32; 7] {
        let mut p = P0;
        for g in &G[..steps] {
            opt.step_tensors(&mut p, g, tensors);
        }
        p
    }

    /// Within 2 units in the last place of `f32` (about 2.4e-7 relative): the sums of squares
    /// may add in another order than XLA's.
    fn assert_close(actual: [f32; 7], expected: [f32; 7]) {
        for (a, e) in actual.iter().zip(&expected) {
            assert!(
                (a - e).abs() <= 2.4e-7 * e.abs().max(1.0),
                "{actual:?} != {expected:?}"
            );
        }
    }

    #[test]
    fn clipnorm_per_tensor_matches_keras() {
        // SGD(learning_rate=0.1, clipnorm=1.0), 2 steps.
        let mut sgd = Sgd::new(0.1).clipnorm(1.0);
        let keras = [0.90999997, -1.93, 0.52, 0.25000003, -0.7, 1.49, 1.88];
        assert_close(run(&mut sgd, 2, &TENSORS), keras);
        assert_eq!((sgd.iterations(), sgd.name()), (2, "SGD"));
    }

    #[test]
    fn clipnorm_without_ranges_clips_the_slice_as_one_tensor() {
        // `step` has no ranges: one tensor of 7, as Keras with one variable holding both:
        //   v = keras.Variable(concatenate(A0, B0)); SGD(learning_rate=0.1, clipnorm=1.0)
        //   for ga, gb in G[:2]: opt.apply([concatenate(ga, gb)], [v])
        let one_tensor = BY_GLOBAL_NORM;
        let mut sgd = Sgd::new(0.1).clipnorm(1.0);
        let mut p = P0;
        for g in &G[..2] {
            sgd.step(&mut p, g);
        }
        assert_close(p, one_tensor);
        // An empty `tensors` is the same.
        assert_close(run(&mut Sgd::new(0.1).clipnorm(1.0), 2, &[]), one_tensor);
        // Per tensor (above) only `a`'s first and `b`'s second gradient are clipped.
        let per_tensor = run(&mut Sgd::new(0.1).clipnorm(1.0), 2, &TENSORS);
        assert!((per_tensor[0] - one_tensor[0]).abs() > 0.02);
    }

    #[test]
    fn clipnorm_with_momentum_and_weight_decay_matches_keras() {
        // SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.5, clipnorm=1.0), 3 steps.
        let mut sgd = Sgd::new(0.1).momentum(0.9).weight_decay(0.5).clipnorm(1.0);
        assert_close(
            run(&mut sgd, 3, &TENSORS),
            [
                0.6843399,
                -1.5461074,
                0.3744004,
                0.15253752,
                -0.60951245,
                1.2290875,
                1.4640498,
            ],
        );
    }

    #[test]
    fn clipnorm_below_the_norm_rounds_as_keras() {
        // SGD(learning_rate=1.0, clipnorm=3.0), one step from zeros: the norm (0.77) is below
        // 3, yet Keras computes (g * 3) * (1 / 3), which moves 0.1 up by one ulp.
        let mut sgd = Sgd::new(1.0).clipnorm(3.0);
        let mut p = [0.0_f32; 3];
        sgd.step(&mut p, &[0.1, 0.7, 0.3]);
        assert_eq!(p, [-0.10000001, -0.7, -0.3]);
        assert_ne!(p[0], -0.1);
    }

    #[test]
    fn clipvalue_matches_keras() {
        // SGD(learning_rate=0.1, clipvalue=0.5), 2 steps; elementwise, so ranges do not matter.
        let keras = [0.91999996, -1.96, 0.52, 0.24000002, -0.66999996, 1.48, 1.9100001];
        assert_close(run(&mut Sgd::new(0.1).clipvalue(0.5), 2, &TENSORS), keras);
        assert_close(run(&mut Sgd::new(0.1).clipvalue(0.5), 2, &[]), keras);
    }

    #[test]
    fn global_clipnorm_matches_keras() {
        // SGD(learning_rate=0.1, global_clipnorm=1.0), 2 steps: the norm over both variables.
        let keras = BY_GLOBAL_NORM;
        assert_close(run(&mut Sgd::new(0.1).global_clipnorm(1.0), 2, &TENSORS), keras);
        assert_close(run(&mut Sgd::new(0.1).global_clipnorm(1.0), 2, &[]), keras);
    }

    #[test]
    fn non_finite_gradients_propagate_as_in_keras() {
        let step = |clip: Clip, g: [f32; 3]| {
            let mut p = [0.0_f32; 3];
            Clipped::new(Sgd::new(1.0), clip).step(&mut p, &g);
            p.map(|x| {
                if x.is_nan() {
                    "nan"
                } else if x == 0.0 {
                    "0"
                } else {
                    "x"
                }
            })
        };
        let (nan, inf) = (f32::NAN, f32::INFINITY);
        // SGD(learning_rate=1.0, clipnorm=3.0): a NaN norm makes every element NaN; an
        // infinite one zeroes the finite elements (g * 3 / inf) and makes inf * 0 NaN.
        assert_eq!(step(Clip::Norm(3.0), [0.1, nan, 0.2]), ["nan"; 3]);
        assert_eq!(step(Clip::Norm(3.0), [0.1, inf, 0.2]), ["0", "nan", "0"]);
        // SGD(learning_rate=1.0, global_clipnorm=3.0): the scale is NaN.
        assert_eq!(step(Clip::GlobalNorm(3.0), [0.1, inf, 0.2]), ["nan"; 3]);
        // SGD(learning_rate=1.0, clipvalue=0.5): [-0.1, nan, 0.5].
        let mut p = [0.0_f32; 3];
        Sgd::new(1.0).clipvalue(0.5).step(&mut p, &[0.1, nan, -inf]);
        assert!(p[0] == -0.1 && p[1].is_nan() && p[2] == 0.5, "{p:?}");
    }

    #[test]
    fn zero_gradients_and_non_positive_settings() {
        // SGD(learning_rate=0.1, global_clipnorm=1.0) with a zero gradient: p unchanged.
        let mut p = [1.0_f32, 2.0];
        Sgd::new(0.1).global_clipnorm(1.0).step(&mut p, &[0.0, 0.0]);
        assert_eq!(p, [1.0, 2.0]);
        Sgd::new(0.1).clipnorm(1.0).step(&mut p, &[0.0, 0.0]);
        assert_eq!(p, [1.0, 2.0]);
        // SGD(learning_rate=1.0, clipnorm=0.0) and clipnorm=-1.0: no clipping, [-3, -4].
        for c in [0.0, -1.0, f32::NAN] {
            for clip in [Clip::Norm(c), Clip::Value(c), Clip::GlobalNorm(c)] {
                let mut p = [0.0_f32; 2];
                Clipped::new(Sgd::new(1.0), clip).step(&mut p, &[3.0, 4.0]);
                assert_eq!(p, [-3.0, -4.0], "{clip:?}");
            }
        }
    }

    #[test]
    fn elements_outside_the_ranges_are_not_clipped_by_norm() {
        // One tensor of 2 (norm 5) and an empty one; elements 0, 3 and 4 lie in neither.
        let mut p = [0.0_f32; 5];
        Sgd::new(1.0)
            .clipnorm(1.0)
            .step_tensors(&mut p, &[10.0, 3.0, 4.0, 10.0, 10.0], &[1..3, 4..4]);
        assert_close(
            [p[0], p[1], p[2], p[3], p[4], 0.0, 0.0],
            [-10.0, -0.6, -0.8, -10.0, -10.0, 0.0, 0.0],
        );
    }

    #[test]
    #[should_panic(expected = "ordered, disjoint")]
    fn overlapping_ranges_panic() {
        let mut p = [0.0_f32; 4];
        Sgd::new(1.0)
            .clipnorm(1.0)
            .step_tensors(&mut p, &[1.0; 4], &[0..3, 2..4]);
    }

    #[test]
    fn steps_reuse_the_gradient_buffer() {
        let mut sgd = Sgd::new(0.1).clipnorm(1.0);
        let mut p = P0;
        sgd.step_tensors(&mut p, &G[0], &TENSORS);
        let buffer = sgd.grads.as_ptr();
        for g in &G[1..] {
            sgd.step_tensors(&mut p, g, &TENSORS);
            sgd.step(&mut p, g);
        }
        assert_eq!(sgd.grads.as_ptr(), buffer);
    }

    #[test]
    fn delegates_learning_rate_and_state() {
        let mut adam = Adam::new(0.1).amsgrad(true).global_clipnorm(1.0);
        adam.set_learning_rate(0.05);
        assert_eq!((adam.learning_rate(), adam.inner().learning_rate), (0.05, 0.05));
        let mut p = P0;
        adam.step(&mut p, &G[0]);
        assert_eq!(adam.state(), adam.inner().state());
        let mut restored = Adam::new(0.05).amsgrad(true).global_clipnorm(1.0);
        restored.load_state(adam.state()).unwrap();
        let mut q = p;
        for g in &G[1..] {
            adam.step(&mut p, g);
            restored.step(&mut q, g);
        }
        assert_eq!((p, adam.state()), (q, restored.state()));
        assert_eq!(adam, restored);
    }
}
