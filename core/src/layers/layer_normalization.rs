//! `LayerNormalization`: normalises each sample over its last axis, then scales and shifts.

use core::marker::PhantomData;

use super::BiasVec;
use crate::layer::ParamVisitor;
use crate::{Layer, Params, Shape};

/// Normalises every row of `C` values (the last axis) of each sample on its own:
/// `y = gamma * (x - mean) / sqrt(var + epsilon) + beta`, with the row's mean and biased
/// variance (Keras `LayerNormalization` with `axis = -1`). Training and inference compute
/// the same thing; there are no batch statistics.
///
/// Parameters, in Keras's order: `gamma` (initialised to 1) and `beta` (0), one per value of
/// the last axis; `G` and `B` are `[f32; C]`, or [`NoBias`](super::NoBias) for Keras's `scale = false` and
/// `center = false`. `EPSILON` is an `f32` bit pattern (see [`crate::activations::bits`]);
/// `model!` writes it from `LayerNormalization(epsilon = 1e-5)`. A `C` that is not the last
/// dimension of `S`, or a negative epsilon, fails to compile when the layer is used.
///
/// # Shapes
/// - input: `S`, any rank ≥ 1 (`C` is its last dimension)
/// - output: `S`
///
/// ```
/// use kerust::{Layer, Rng, layers::LayerNormalization, params::boxed_zeroed};
/// let mut ln = boxed_zeroed::<LayerNormalization<[f32; 2], 2>>();
/// ln.init(&mut Rng::new(0));
/// let mut y = [0.0; 2];
/// ln.forward(&[1.0, 3.0], &mut y, &mut [], 1);
/// assert!((y[0] + 0.9995).abs() < 1e-3 && (y[1] - 0.9995).abs() < 1e-3);
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LayerNormalization<
    S: Shape,
    const C: usize,
    const EPSILON: u32 = 0x3A83_126F,
    G: BiasVec<C> = [f32; C],
    B: BiasVec<C> = [f32; C],
> {
    /// Scale per value of the last axis, or [`NoBias`](super::NoBias) (`scale = false`).
    pub gamma: G,
    /// Offset per value of the last axis, or [`NoBias`](super::NoBias) (`center = false`).
    pub beta: B,
    marker: PhantomData<S>,
}

// SAFETY: repr(C) of f32 arrays and zero-sized markers; `flat` checks the size.
unsafe impl<S: Shape, const C: usize, const E: u32, G: BiasVec<C>, B: BiasVec<C>> Params
    for LayerNormalization<S, C, E, G, B>
{
    const COUNT: usize = if G::PRESENT { C } else { 0 } + if B::PRESENT { C } else { 0 };
    const ZERO: Self = LayerNormalization {
        gamma: G::ZERO,
        beta: B::ZERO,
        marker: PhantomData,
    };
}

impl<S: Shape, const C: usize, const E: u32, G: BiasVec<C>, B: BiasVec<C>> LayerNormalization<S, C, E, G, B> {
    const CHECK: () = {
        assert!(
            C >= 1 && S::RANK >= 1 && S::DIMS[S::RANK - 1] == C,
            "LayerNormalization: C must be the last dimension of the sample shape S"
        );
        let e = f32::from_bits(E);
        assert!(
            e >= 0.0 && e < f32::INFINITY,
            "LayerNormalization: epsilon must be finite and non-negative"
        );
    };

    /// The value added to the variance before the square root.
    pub fn epsilon() -> f32 {
        let () = Self::CHECK;
        f32::from_bits(E)
    }

    /// Normalises the rows of `x` into `y`, calling `stats(row, mean, rstd)` for each.
    fn run(&self, x: &[f32], y: &mut [f32], mut stats: impl FnMut(usize, f32, f32)) {
        let eps = Self::epsilon();
        let (gamma, beta) = (self.gamma.values(), self.beta.values());
        for (r, (xr, yr)) in x.chunks_exact(C).zip(y.chunks_exact_mut(C)).enumerate() {
            let (mean, var) = row_moments(xr);
            let rstd = 1.0 / libm::sqrtf(var + eps);
            stats(r, mean, rstd);
            // Keras's arrangement: y = x * inv + (beta - mean * inv), inv = gamma * rstd.
            for (c, (&xv, yv)) in xr.iter().zip(yr.iter_mut()).enumerate() {
                let inv = gamma.get(c).map_or(rstd, |&g| rstd * g);
                *yv = xv * inv + (beta.get(c).map_or(0.0, |&b| b) - mean * inv);
            }
        }
    }
}

impl<S: Shape, const C: usize, const E: u32, G: BiasVec<C>, B: BiasVec<C>> Layer
    for LayerNormalization<S, C, E, G, B>
{
    type Input = S;
    type Output = S;
    const KIND: &'static str = "LayerNormalization";
    /// Each row's mean and `1 / sqrt(var + epsilon)`.
    const CACHE: usize = 2 * (S::LEN / C);

    fn init(&mut self, _rng: &mut crate::Rng) {
        let () = Self::CHECK;
        self.gamma.values_mut().fill(1.0);
        self.beta.values_mut().fill(0.0);
    }

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        let n = batch * S::LEN;
        self.run(&x[..n], &mut y[..n], |_, _, _| {});
    }

    fn forward_train(
        &self,
        x: &[f32],
        y: &mut [f32],
        cache: &mut [f32],
        batch: usize,
        _rng: &mut crate::Rng,
    ) {
        let n = batch * S::LEN;
        let cache = &mut cache[..2 * (n / C)];
        self.run(&x[..n], &mut y[..n], |r, mean, rstd| {
            cache[2 * r] = mean;
            cache[2 * r + 1] = rstd;
        });
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
        let (x, dy) = (&x[..n], &dy[..n]);
        let gamma = self.gamma.values();
        let mut dx = dx.map(|d| &mut d[..n]);
        let (dgamma, dbeta) = (grads.gamma.values_mut(), grads.beta.values_mut());
        for (r, (xr, gr)) in x.chunks_exact(C).zip(dy.chunks_exact(C)).enumerate() {
            let (mean, rstd) = (cache[2 * r], cache[2 * r + 1]);
            // dL/dgamma += dy · x̂, dL/dbeta += dy, with x̂ = (x - mean) · rstd.
            for (dg, (&xv, &g)) in dgamma.iter_mut().zip(xr.iter().zip(gr)) {
                *dg += g * (xv - mean) * rstd;
            }
            for (db, &g) in dbeta.iter_mut().zip(gr) {
                *db += g;
            }
            // dx = rstd · (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂)), ĝ = gamma · dy, means over the row.
            if let Some(dx) = dx.as_deref_mut() {
                let (mut s, mut sx) = (0.0f64, 0.0f64);
                for (c, (&xv, &g)) in xr.iter().zip(gr).enumerate() {
                    let gh = gamma.get(c).map_or(g, |&w| w * g);
                    s += f64::from(gh);
                    sx += f64::from(gh * (xv - mean) * rstd);
                }
                let (a, b) = ((s / C as f64) as f32, (sx / C as f64) as f32);
                let dr = &mut dx[r * C..(r + 1) * C];
                for (c, ((&xv, &g), d)) in xr.iter().zip(gr).zip(dr).enumerate() {
                    let gh = gamma.get(c).map_or(g, |&w| w * g);
                    *d = rstd * (gh - a - (xv - mean) * rstd * b);
                }
            }
        }
    }

    fn visit_params(&self, f: &mut ParamVisitor<'_>) {
        if G::PRESENT {
            f("gamma", &[C], self.gamma.values());
        }
        if B::PRESENT {
            f("beta", &[C], self.beta.values());
        }
    }
}

/// The mean and biased variance of one row, in `f64` and two passes (as `jnp.var`).
fn row_moments(row: &[f32]) -> (f32, f32) {
    let n = row.len() as f64;
    let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = row
        .iter()
        .map(|&v| {
            let d = f64::from(v) - mean;
            d * d
        })
        .sum::<f64>()
        / n;
    (mean as f32, var as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::NoBias;
    use crate::params::boxed_zeroed;

    #[test]
    fn params_and_cache() {
        type Ln = LayerNormalization<[[f32; 4]; 3], 4>;
        let mut ln = boxed_zeroed::<Ln>();
        ln.init(&mut crate::Rng::new(0));
        assert_eq!(ln.flat(), &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(<Ln as Layer>::CACHE, 6);
        assert_eq!(
            <LayerNormalization<[f32; 4], 4, 0x3A83_126F, NoBias> as Params>::COUNT,
            4
        );
    }
}
