//! `Dot(axes, normalize)`: per sample, the sum over one axis of the products of two inputs.
//!
//! Per sample, `x0` is viewed as `[a0, c, b0]` and `x1` as `[a1, c, b1]`, where `c` is the
//! contracted axis (Keras's `axes`) and `a`/`b` are the products of the dims before/after it;
//! `y` (per sample `[a0, b0, a1, b1]`, as Keras's `batch_dot` lays it out) is
//! `y[p, q, r, s] = Σ_k x0[p, k, q] · x1[r, k, s]`.
//!
//! With `normalize`, both inputs are first L2-normalised along the contracted axis as Keras
//! does (`keras.ops.normalize`): `x · min(rsqrt(Σ x²), 1 / ε)` with `ε = 1e-7`. The gradient
//! is `jax.grad`'s, including the halving at the (measure-zero) tie `rsqrt(Σ x²) = 1 / ε`,
//! with one deliberate difference: for a vector that is exactly zero, JAX returns NaN
//! (`0 · ∞` in the gradient of `rsqrt`), whereas this kernel returns the true gradient,
//! `dy`-side gradient × `1 / ε` (the normalisation is `x / ε` around zero).
//!
//! # Shapes
//! `x0`: `batch * a0 * c * b0`; `x1`: `batch * a1 * c * b1`; `y`: `batch * a0 * b0 * a1 * b1`.
//!
//! ```
//! use kerust::layers::merge::dot::{self, DotDims};
//! // Cosine similarity of two 3-vectors: `Dot(axes=1, normalize=True)` on rank-1 samples.
//! let dims = DotDims { a0: 1, b0: 1, a1: 1, b1: 1, c: 3, normalize: true };
//! let mut y = [0.0];
//! dot::forward(&[3.0, 0.0, 4.0], &[0.0, 2.0, 0.0], &dims, 1, &mut y);
//! assert_eq!(y, [0.0]);
//! dot::forward(&[3.0, 0.0, 4.0], &[6.0, 0.0, 8.0], &dims, 1, &mut y);
//! assert!((y[0] - 1.0).abs() < 1e-6);
//! ```

/// `1 / ε`: Keras's cap on the inverse norm (`backend.epsilon()` = 1e-7).
const INV_EPSILON: f32 = 1.0e7;

/// The per-sample geometry of a `Dot` merge (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DotDims {
    /// Product of `x0`'s per-sample dims before the contracted axis.
    pub a0: usize,
    /// Product of `x0`'s per-sample dims after the contracted axis.
    pub b0: usize,
    /// Product of `x1`'s per-sample dims before the contracted axis.
    pub a1: usize,
    /// Product of `x1`'s per-sample dims after the contracted axis.
    pub b1: usize,
    /// Size of the contracted axis (the same in both inputs).
    pub c: usize,
    /// L2-normalise both inputs along the contracted axis first (Keras's `normalize`).
    pub normalize: bool,
}

/// One input's view as `a * b` vectors of `c` values: vector `v = p * b + q` starts at
/// `p * c * b + q` and has stride `b`.
#[derive(Clone, Copy)]
struct Side {
    b: usize,
    c: usize,
    vectors: usize,
}

impl Side {
    fn len(self) -> usize {
        self.vectors * self.c
    }
    #[inline]
    fn base(self, v: usize) -> usize {
        (v / self.b) * self.c * self.b + v % self.b
    }
}

impl DotDims {
    fn sides(&self) -> (Side, Side) {
        let side = |a: usize, b: usize| Side {
            b: b.max(1),
            c: self.c,
            vectors: a * b,
        };
        (side(self.a0, self.b0), side(self.a1, self.b1))
    }
}

/// `Σ_k x[xb + k·xs] · z[zb + k·zs]` for `k < n`; 8 lanes on the contiguous path so that it
/// vectorises.
#[inline]
fn dot(x: &[f32], xb: usize, xs: usize, z: &[f32], zb: usize, zs: usize, n: usize) -> f32 {
    if xs == 1 && zs == 1 {
        let ((xc, xt), (zc, zt)) = (x[xb..xb + n].as_chunks::<8>(), z[zb..zb + n].as_chunks::<8>());
        let mut acc = [0.0f32; 8];
        for (a, b) in xc.iter().zip(zc) {
            for l in 0..8 {
                acc[l] += a[l] * b[l];
            }
        }
        let tail: f32 = xt.iter().zip(zt).map(|(a, b)| a * b).sum();
        acc.iter().sum::<f32>() + tail
    } else {
        x[xb..]
            .iter()
            .step_by(xs)
            .zip(z[zb..].iter().step_by(zs))
            .take(n)
            .map(|(a, b)| a * b)
            .sum()
    }
}

/// `d[db + k·ds] += alpha · s[sb + k·ss]` for `k < n`.
#[inline]
#[allow(clippy::too_many_arguments)]
fn axpy(d: &mut [f32], db: usize, ds: usize, alpha: f32, s: &[f32], sb: usize, ss: usize, n: usize) {
    if ds == 1 && ss == 1 {
        for (o, &v) in d[db..db + n].iter_mut().zip(&s[sb..sb + n]) {
            *o += alpha * v;
        }
    } else {
        for (o, &v) in d[db..]
            .iter_mut()
            .step_by(ds)
            .zip(s[sb..].iter().step_by(ss))
            .take(n)
        {
            *o += alpha * v;
        }
    }
}

/// Keras's inverse norm `min(rsqrt(ss), 1/ε)` of a vector whose sum of squares is `ss`,
/// and the share `w` of the gradient that flows through `rsqrt` (JAX's `jnp.minimum`:
/// 1 below the cap, ½ at it, 0 above it).
#[inline]
fn inv_norm(ss: f32) -> (f32, f32) {
    let r = 1.0 / libm::sqrtf(ss);
    if r > INV_EPSILON {
        (INV_EPSILON, 0.0)
    } else if r == INV_EPSILON {
        (INV_EPSILON, 0.5)
    } else {
        (r, 1.0)
    }
}

/// The inverse norm of vector `v` of one sample `x` of `side`.
#[inline]
fn vector_inv_norm(x: &[f32], side: Side, v: usize) -> (f32, f32) {
    let base = side.base(v);
    inv_norm(dot(x, base, side.b, x, base, side.b, side.c))
}

/// Writes the `Dot` merge of `x0` and `x1` (`batch` samples each) to `y`.
pub fn forward(x0: &[f32], x1: &[f32], dims: &DotDims, batch: usize, y: &mut [f32]) {
    let (s0, s1) = dims.sides();
    let (n0, n1) = (s0.vectors, s1.vectors);
    debug_assert!(
        x0.len() == batch * s0.len(),
        "x0 must hold batch * a0 * c * b0 values"
    );
    debug_assert!(
        x1.len() == batch * s1.len(),
        "x1 must hold batch * a1 * c * b1 values"
    );
    debug_assert!(
        y.len() == batch * n0 * n1,
        "y must hold batch * a0 * b0 * a1 * b1 values"
    );
    if n0 * n1 == 0 {
        return;
    }
    let c = dims.c;
    for ((x0, x1), y) in x0
        .chunks_exact(s0.len().max(1))
        .zip(x1.chunks_exact(s1.len().max(1)))
        .zip(y.chunks_exact_mut(n0 * n1))
    {
        for (u, row) in y.chunks_exact_mut(n1).enumerate() {
            let b0 = s0.base(u);
            let k0 = if dims.normalize {
                vector_inv_norm(x0, s0, u).0
            } else {
                1.0
            };
            for (v, o) in row.iter_mut().enumerate() {
                *o = k0 * dot(x0, b0, s0.b, x1, s1.base(v), s1.b, c);
            }
        }
        if dims.normalize {
            for v in 0..n1 {
                let k1 = vector_inv_norm(x1, s1, v).0;
                for o in y[v..].iter_mut().step_by(n1) {
                    *o *= k1;
                }
            }
        }
    }
}

/// Writes dL/d`x0` (`i == 0`) or dL/d`x1` (`i == 1`) to `dx`, from dL/d`y` in `dy`; `y` is
/// [`forward`]'s output (not needed by the computation, only length-checked).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x0: &[f32],
    x1: &[f32],
    y: &[f32],
    dims: &DotDims,
    batch: usize,
    dy: &[f32],
    i: usize,
    dx: &mut [f32],
) {
    let (s0, s1) = dims.sides();
    let (n0, n1) = (s0.vectors, s1.vectors);
    debug_assert!(i < 2, "Dot has 2 inputs, got input index {i}");
    debug_assert!(
        x0.len() == batch * s0.len(),
        "x0 must hold batch * a0 * c * b0 values"
    );
    debug_assert!(
        x1.len() == batch * s1.len(),
        "x1 must hold batch * a1 * c * b1 values"
    );
    debug_assert!(
        y.len() == batch * n0 * n1,
        "y must hold batch * a0 * b0 * a1 * b1 values"
    );
    debug_assert!(dy.len() == y.len(), "dy must have y's length");
    // `own` is the input differentiated, `other` the one it is multiplied with; the element
    // of `dy` that pairs own vector `u` with other vector `v` is `dy[u * su + v * sv]`.
    let (own, other, own_x, other_x, su, sv) = if i == 0 {
        (s0, s1, x0, x1, n1, 1)
    } else {
        (s1, s0, x1, x0, 1, n1)
    };
    debug_assert!(dx.len() == batch * own.len(), "dx must have the input's length");
    dx.fill(0.0);
    if n0 * n1 == 0 || dims.c == 0 {
        return;
    }
    let c = dims.c;
    for (((own_x, other_x), dy), dx) in own_x
        .chunks_exact(own.len())
        .zip(other_x.chunks_exact(other.len()))
        .zip(dy.chunks_exact(n0 * n1))
        .zip(dx.chunks_exact_mut(own.len()))
    {
        // dL/d(own after normalisation) = Σ_v dy[u, v] · (other vector v, normalised).
        for v in 0..other.vectors {
            let k = if dims.normalize {
                vector_inv_norm(other_x, other, v).0
            } else {
                1.0
            };
            let vb = other.base(v);
            for u in 0..own.vectors {
                let g = dy[u * su + v * sv] * k;
                axpy(dx, own.base(u), own.b, g, other_x, vb, other.b, c);
            }
        }
        if dims.normalize {
            // Through `x · r`, r = min(rsqrt(Σ x²), 1/ε): dx = r·(g − w·r²·(x·g)·x).
            for u in 0..own.vectors {
                let base = own.base(u);
                let (r, w) = vector_inv_norm(own_x, own, u);
                let f = w * r * r * dot(own_x, base, own.b, dx, base, own.b, c);
                for (d, &x) in dx[base..]
                    .iter_mut()
                    .step_by(own.b)
                    .zip(own_x[base..].iter().step_by(own.b))
                    .take(c)
                {
                    *d = r * (*d - f * x);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_a_contraction_over_the_middle_axis() {
        // x0 [2, 2, 1] · x1 [1, 2, 2] over the axis of size 2: y [a0=2, b0=1, a1=1, b1=2].
        let dims = DotDims {
            a0: 2,
            b0: 1,
            a1: 1,
            b1: 2,
            c: 2,
            normalize: false,
        };
        let x0 = [1.0, 2.0, 3.0, 4.0];
        let x1 = [1.0, 10.0, 100.0, 1000.0];
        let mut y = [0.0; 4];
        forward(&x0, &x1, &dims, 1, &mut y);
        assert_eq!(y, [201.0, 2010.0, 403.0, 4030.0]);
    }

    #[test]
    fn zero_vector_gradient_is_finite() {
        let dims = DotDims {
            a0: 1,
            b0: 1,
            a1: 1,
            b1: 1,
            c: 3,
            normalize: true,
        };
        let (x0, x1) = ([0.0; 3], [1.0, 2.0, 2.0]);
        let mut y = [f32::NAN];
        forward(&x0, &x1, &dims, 1, &mut y);
        assert_eq!(y, [0.0]);
        let mut dx = [f32::NAN; 3];
        backward(&x0, &x1, &y, &dims, 1, &[1.0], 0, &mut dx);
        // 1e7 · x1 / |x1|.
        for (d, e) in dx.iter().zip([1.0e7 / 3.0, 2.0e7 / 3.0, 2.0e7 / 3.0]) {
            assert!((d - e).abs() <= 1.0, "{dx:?}");
        }
    }
}
