//! `BatchNormalization`: normalises each channel (the last axis) over the batch and every
//! other axis, then scales and shifts it; moving statistics stand in at inference.

use core::marker::PhantomData;

use super::BiasVec;
use crate::layer::ParamVisitor;
use crate::{Layer, Params, Rng, Shape};

/// Channels handled per pass over the rows: their `f64` sums live on the stack, so the
/// layer needs no scratch memory whatever its channel count.
const BLOCK: usize = 64;

/// Normalises each channel with the mean and variance of the batch in training, and with
/// moving averages of them at inference (Keras `BatchNormalization`, Keras 3 semantics).
///
/// Training (`forward_train`): for each channel `c`, over the batch and every axis but the
/// last, `mean` and the *biased* variance `var` (divided by the count, as Keras); then
/// `y = gamma * (x - mean) / sqrt(var + epsilon) + beta`. The backward pass differentiates
/// through the batch statistics. After each training step the trainer calls
/// [`Layer::update_state`], which applies Keras's update
/// `moving = moving * momentum + batch_statistic * (1 - momentum)` to both moving statistics
/// (the variance update uses the same biased variance). Inference (`forward`) uses
/// `moving_mean` and `moving_variance` instead.
///
/// Parameters, in Keras's order: `gamma` and `beta` (trainable), then `moving_mean` and
/// `moving_variance` (not trainable: [`Layer::NON_TRAINABLE`] is `2 * C`, so optimizers
/// leave them alone). They initialise to 1, 0, 0 and 1. `G` and `B` are `[f32; C]`, or
/// [`NoBias`](super::NoBias) for Keras's `scale = false` and `center = false` (no `gamma` / no `beta`).
///
/// `MOMENTUM` and `EPSILON` are `f32` bit patterns (see [`crate::activations::bits`]);
/// `model!` writes them from `BatchNormalization(momentum = 0.9)`. Misuse (a `C` that is not
/// the last dimension of `S`, a momentum outside `[0, 1]`, a negative epsilon) fails to
/// compile when the layer is used.
///
/// Since the statistics span the whole batch, [`Layer::BATCH_STATS`] is set: the trainer
/// runs each batch as one shard.
///
/// # Shapes
/// - input: `S`, any rank ≥ 1, channels last (`C` is its last dimension)
/// - output: `S`
///
/// ```
/// use kerust::{Layer, Rng, layers::BatchNormalization, params::boxed_zeroed};
/// let mut bn = boxed_zeroed::<BatchNormalization<[f32; 2], 2>>();
/// bn.init(&mut Rng::new(0));
/// // Training mode: each channel is normalised over the batch of 2.
/// let (x, mut y, mut cache) = ([1.0, 10.0, 3.0, 30.0], [0.0; 4], [0.0; 4]);
/// bn.forward_train(&x, &mut y, &mut cache, 2, &mut Rng::new(0));
/// assert!((y[0] + 0.9995).abs() < 1e-3 && (y[2] - 0.9995).abs() < 1e-3);
/// // After the step, the moving statistics move 1% of the way to the batch's.
/// bn.update_state(&cache, 2);
/// assert!((bn.moving_mean[0] - 0.02).abs() < 1e-6 && (bn.moving_mean[1] - 0.2).abs() < 1e-6);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BatchNormalization<
    S: Shape,
    const C: usize,
    const MOMENTUM: u32 = 0x3F7D_70A4,
    const EPSILON: u32 = 0x3A83_126F,
    G: BiasVec<C> = [f32; C],
    B: BiasVec<C> = [f32; C],
> {
    /// Scale per channel, or [`NoBias`](super::NoBias) (`scale = false`).
    pub gamma: G,
    /// Offset per channel, or [`NoBias`](super::NoBias) (`center = false`).
    pub beta: B,
    /// Moving average of the batch means (not trainable).
    pub moving_mean: [f32; C],
    /// Moving average of the batch variances (not trainable).
    pub moving_variance: [f32; C],
    marker: PhantomData<S>,
}

// SAFETY: repr(C) of f32 arrays and zero-sized markers; `flat` checks the size.
unsafe impl<S: Shape, const C: usize, const M: u32, const E: u32, G: BiasVec<C>, B: BiasVec<C>> Params
    for BatchNormalization<S, C, M, E, G, B>
{
    const COUNT: usize = if G::PRESENT { C } else { 0 } + if B::PRESENT { C } else { 0 } + 2 * C;
    const ZERO: Self = BatchNormalization {
        gamma: G::ZERO,
        beta: B::ZERO,
        moving_mean: [0.0; C],
        moving_variance: [0.0; C],
        marker: PhantomData,
    };
}

impl<S: Shape, const C: usize, const M: u32, const E: u32, G: BiasVec<C>, B: BiasVec<C>>
    BatchNormalization<S, C, M, E, G, B>
{
    const CHECK: () = {
        assert!(
            C >= 1 && S::RANK >= 1 && S::DIMS[S::RANK - 1] == C,
            "BatchNormalization: C must be the last dimension of the sample shape S"
        );
        let m = f32::from_bits(M);
        assert!(
            m >= 0.0 && m <= 1.0,
            "BatchNormalization: momentum must be in [0, 1]"
        );
        let e = f32::from_bits(E);
        assert!(
            e >= 0.0 && e < f32::INFINITY,
            "BatchNormalization: epsilon must be finite and non-negative"
        );
    };

    /// The momentum of the moving averages.
    pub fn momentum() -> f32 {
        let () = Self::CHECK;
        f32::from_bits(M)
    }

    /// The value added to the variance before the square root.
    pub fn epsilon() -> f32 {
        let () = Self::CHECK;
        f32::from_bits(E)
    }

    /// `y = x * inv + shift` per channel, with `inv = gamma / sqrt(var + epsilon)` and
    /// `shift = beta - mean * inv` (Keras's arrangement of the formula).
    fn normalize(&self, x: &[f32], y: &mut [f32], mean: &[f32], var: &[f32]) {
        let eps = Self::epsilon();
        let (gamma, beta) = (self.gamma.values(), self.beta.values());
        for c0 in (0..C).step_by(BLOCK) {
            let w = BLOCK.min(C - c0);
            let (mut inv, mut shift) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
            for j in 0..w {
                let c = c0 + j;
                let i = gamma.get(c).map_or(1.0, |&g| g) / libm::sqrtf(var[c] + eps);
                inv[j] = i;
                shift[j] = beta.get(c).map_or(0.0, |&b| b) - mean[c] * i;
            }
            for (xr, yr) in x.chunks_exact(C).zip(y.chunks_exact_mut(C)) {
                let (xr, yr) = (&xr[c0..c0 + w], &mut yr[c0..c0 + w]);
                for j in 0..w {
                    yr[j] = xr[j] * inv[j] + shift[j];
                }
            }
        }
    }
}

impl<S: Shape, const C: usize, const M: u32, const E: u32, G: BiasVec<C>, B: BiasVec<C>> Layer
    for BatchNormalization<S, C, M, E, G, B>
{
    type Input = S;
    type Output = S;
    const KIND: &'static str = "BatchNormalization";
    /// The batch mean and variance, `2 * C` values in all (per sample, since the cache
    /// grows with the batch; a batch has at least one sample).
    const CACHE: usize = 2 * C;
    const BATCH_STATS: bool = true;
    const NON_TRAINABLE: usize = 2 * C;

    fn init(&mut self, _rng: &mut Rng) {
        let () = Self::CHECK;
        self.gamma.values_mut().fill(1.0);
        self.beta.values_mut().fill(0.0);
        self.moving_mean = [0.0; C];
        self.moving_variance = [1.0; C];
    }

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let () = Self::CHECK;
        let n = batch * S::LEN;
        self.normalize(&x[..n], &mut y[..n], &self.moving_mean, &self.moving_variance);
    }

    fn forward_train(&self, x: &[f32], y: &mut [f32], cache: &mut [f32], batch: usize, _rng: &mut Rng) {
        let () = Self::CHECK;
        let n = batch * S::LEN;
        let x = &x[..n];
        let (mean, var) = cache[..2 * C].split_at_mut(C);
        channel_moments::<C>(x, mean, var);
        self.normalize(x, &mut y[..n], mean, var);
    }

    fn backward(
        &self,
        x: &[f32],
        _y: &[f32],
        cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        let () = Self::CHECK;
        let n = batch * S::LEN;
        let rows = n / C;
        let (x, dy) = (&x[..n], &dy[..n]);
        // The batch statistics stay in the cache for `update_state`: read only.
        let (mean, var) = cache[..2 * C].split_at(C);
        let eps = Self::epsilon();
        let gamma = self.gamma.values();
        let mut dx = dx.map(|d| &mut d[..n]);
        for c0 in (0..C).step_by(BLOCK) {
            let w = BLOCK.min(C - c0);
            let mut rstd = [0.0f32; BLOCK];
            for j in 0..w {
                rstd[j] = 1.0 / libm::sqrtf(var[c0 + j] + eps);
            }
            // Σ dy and Σ dy · x̂ per channel, with x̂ = (x - mean) / sqrt(var + eps).
            let (mut sum_dy, mut sum_dy_xhat) = ([0.0f64; BLOCK], [0.0f64; BLOCK]);
            for (xr, gr) in x.chunks_exact(C).zip(dy.chunks_exact(C)) {
                for j in 0..w {
                    let xhat = (xr[c0 + j] - mean[c0 + j]) * rstd[j];
                    sum_dy[j] += f64::from(gr[c0 + j]);
                    sum_dy_xhat[j] += f64::from(gr[c0 + j] * xhat);
                }
            }
            for (g, s) in grads
                .gamma
                .values_mut()
                .iter_mut()
                .skip(c0)
                .zip(&sum_dy_xhat[..w])
            {
                *g += *s as f32;
            }
            for (b, s) in grads.beta.values_mut().iter_mut().skip(c0).zip(&sum_dy[..w]) {
                *b += *s as f32;
            }
            // dx = gamma · rstd · (dy - mean(dy) - x̂ · mean(dy · x̂)), means over the rows.
            if let Some(dx) = dx.as_deref_mut() {
                let (mut k, mut a, mut b) = ([0.0f32; BLOCK], [0.0f32; BLOCK], [0.0f32; BLOCK]);
                for j in 0..w {
                    k[j] = gamma.get(c0 + j).map_or(1.0, |&g| g) * rstd[j];
                    a[j] = (sum_dy[j] / rows as f64) as f32;
                    b[j] = (sum_dy_xhat[j] / rows as f64) as f32;
                }
                for ((xr, gr), dr) in x
                    .chunks_exact(C)
                    .zip(dy.chunks_exact(C))
                    .zip(dx.chunks_exact_mut(C))
                {
                    for j in 0..w {
                        let c = c0 + j;
                        let xhat = (xr[c] - mean[c]) * rstd[j];
                        dr[c] = k[j] * (gr[c] - a[j] - xhat * b[j]);
                    }
                }
            }
        }
    }

    fn update_state(&mut self, cache: &[f32], batch: usize) {
        let () = Self::CHECK;
        if batch == 0 {
            return;
        }
        let m = Self::momentum();
        let (mean, var) = cache[..2 * C].split_at(C);
        for (mm, &bm) in self.moving_mean.iter_mut().zip(mean) {
            *mm = *mm * m + bm * (1.0 - m);
        }
        for (mv, &bv) in self.moving_variance.iter_mut().zip(var) {
            *mv = *mv * m + bv * (1.0 - m);
        }
    }

    fn visit_params(&self, f: &mut ParamVisitor<'_>) {
        if G::PRESENT {
            f("gamma", &[C], self.gamma.values());
        }
        if B::PRESENT {
            f("beta", &[C], self.beta.values());
        }
        f("moving_mean", &[C], &self.moving_mean);
        f("moving_variance", &[C], &self.moving_variance);
    }
}

/// The mean and biased variance of each of the `C` channels of `x` (rows of `C` values), in
/// `f64` and in two passes, as `jnp.var` computes them.
fn channel_moments<const C: usize>(x: &[f32], mean: &mut [f32], var: &mut [f32]) {
    let rows = (x.len() / C).max(1) as f64;
    for c0 in (0..C).step_by(BLOCK) {
        let w = BLOCK.min(C - c0);
        let mut sum = [0.0f64; BLOCK];
        for xr in x.chunks_exact(C) {
            for (s, &v) in sum[..w].iter_mut().zip(&xr[c0..c0 + w]) {
                *s += f64::from(v);
            }
        }
        let mut m = [0.0f64; BLOCK];
        for j in 0..w {
            m[j] = sum[j] / rows;
        }
        let mut sq = [0.0f64; BLOCK];
        for xr in x.chunks_exact(C) {
            for j in 0..w {
                let d = f64::from(xr[c0 + j]) - m[j];
                sq[j] += d * d;
            }
        }
        for j in 0..w {
            mean[c0 + j] = m[j] as f32;
            var[c0 + j] = (sq[j] / rows) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::NoBias;
    use crate::params::boxed_zeroed;

    type Bn<const C: usize, G = [f32; C], B = [f32; C]> =
        BatchNormalization<[[f32; C]; 3], C, 0x3F7D_70A4, 0x3A83_126F, G, B>;

    #[test]
    fn default_bits_are_keras_defaults() {
        assert_eq!(<BatchNormalization<[f32; 2], 2>>::momentum(), 0.99);
        assert_eq!(<BatchNormalization<[f32; 2], 2>>::epsilon(), 1e-3);
    }

    #[test]
    fn params_follow_keras_order_and_count() {
        let mut bn = boxed_zeroed::<Bn<3>>();
        bn.init(&mut Rng::new(0));
        assert_eq!(<Bn<3> as Params>::COUNT, 12);
        assert_eq!(
            bn.flat(),
            &[1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
        );
        let mut names = std::vec::Vec::new();
        bn.visit_params(&mut |n, s, v| names.push((std::string::String::from(n), s.to_vec(), v.len())));
        assert_eq!(names[0].0, "gamma");
        assert_eq!(names[3], ("moving_variance".into(), std::vec![3], 3));
        assert_eq!(<Bn<3, NoBias, NoBias> as Params>::COUNT, 6);
        assert_eq!(<Bn<3, NoBias, NoBias> as Layer>::NON_TRAINABLE, 6);
    }

    #[test]
    fn many_channels_cross_the_block_boundary() {
        // 70 channels: one full block and a partial one; each channel is a shifted copy.
        const C: usize = 70;
        let mut bn = boxed_zeroed::<BatchNormalization<[[f32; C]; 2], C>>();
        bn.init(&mut Rng::new(0));
        let x: std::vec::Vec<f32> = (0..3 * 2 * C).map(|i| (i / C) as f32 + (i % C) as f32).collect();
        let mut y = std::vec![0.0; x.len()];
        let mut cache = std::vec![0.0; 3 * 2 * C];
        bn.forward_train(&x, &mut y, &mut cache, 3, &mut Rng::new(0));
        for c in 0..C {
            assert!((cache[c] - (2.5 + c as f32)).abs() < 1e-5);
            assert!((cache[C + c] - 35.0 / 12.0).abs() < 1e-5);
        }
    }
}
