//! Activation functions with their derivatives, as Keras 3 defines them.
//!
//! Each activation is a zero-sized type implementing [`Activation`]; layers are generic over
//! it, so the generated code calls the exact function with no dispatch. Activations whose
//! Keras form has a float argument carry it as the argument's `f32` bit pattern in a const
//! parameter (stable Rust has no `f32` const generics); [`bits`] converts.

use libm::{erff, expf, fabsf, log1pf, tanhf};

/// The bit pattern of `x`, for const parameters of [`LeakyRelu`], [`Elu`] and dropout rates.
///
/// ```
/// assert_eq!(kerust::activations::bits(0.2), 0.2f32.to_bits());
/// ```
pub const fn bits(x: f32) -> u32 {
    x.to_bits()
}

/// An activation: `y = f(x)` applied along rows of length `row` (the last axis).
pub trait Activation: Copy + Default + Send + Sync + 'static {
    /// Keras's name for it (`"relu"`).
    const NAME: &'static str;
    /// True for the identity, so layers can skip storing pre-activations.
    const IS_LINEAR: bool = false;
    /// True only for [`Relu`], `max(x, 0)`: layers then apply it as their matrix product
    /// finishes and take its gradient from the output (`y > 0` exactly where `x > 0`),
    /// without storing pre-activations.
    const IS_RELU: bool = false;
    /// Writes `y = f(x)`; `x` and `y` have equal length, a multiple of `row`.
    fn forward(x: &[f32], y: &mut [f32], row: usize);
    /// Replaces `y` by `f(y)` (inference, where the pre-activation is not kept).
    fn forward_in_place(y: &mut [f32], row: usize);
    /// Turns `dy = dL/dy` into `dL/dx` in place, given `x` and `y = f(x)`.
    fn backward(x: &[f32], y: &[f32], dy: &mut [f32], row: usize);
}

macro_rules! elementwise {
    ($(#[$doc:meta])* $name:ident $(<const $p:ident : u32 = $default:literal>)?, $kname:literal,
     |$x:ident $(, $pv:ident)?| $f:expr, |$dx:ident, $dyv:ident $(, $pd:ident)?| $df:expr
     $(, is_relu = $relu:literal)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name $(<const $p: u32 = $default>)?;

        impl $(<const $p: u32>)? Activation for $name $(<$p>)? {
            const NAME: &'static str = $kname;
            $(const IS_RELU: bool = $relu;)?
            #[inline]
            fn forward(x: &[f32], y: &mut [f32], _row: usize) {
                $(let $pv = f32::from_bits($p);)?
                for (yv, &$x) in y.iter_mut().zip(x) {
                    *yv = $f;
                }
            }
            #[inline]
            fn forward_in_place(y: &mut [f32], _row: usize) {
                $(let $pv = f32::from_bits($p);)?
                for yv in y.iter_mut() {
                    let $x = *yv;
                    *yv = $f;
                }
            }
            #[inline]
            fn backward(x: &[f32], y: &[f32], dy: &mut [f32], _row: usize) {
                $(let $pd = f32::from_bits($p);)?
                for ((g, &$dx), &$dyv) in dy.iter_mut().zip(x).zip(y) {
                    *g *= $df;
                }
            }
        }
    };
}

/// The identity, `linear` in Keras.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Linear;

impl Activation for Linear {
    const NAME: &'static str = "linear";
    const IS_LINEAR: bool = true;
    fn forward(x: &[f32], y: &mut [f32], _row: usize) {
        y.copy_from_slice(x);
    }
    fn forward_in_place(_y: &mut [f32], _row: usize) {}
    fn backward(_x: &[f32], _y: &[f32], _dy: &mut [f32], _row: usize) {}
}

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + expf(-x))
    } else {
        let e = expf(x);
        e / (1.0 + e)
    }
}

const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

elementwise!(
    /// `max(x, 0)`; the gradient at 0 is 0.
    Relu, "relu", |x| if x > 0.0 { x } else { 0.0 }, |x, _y| if x > 0.0 { 1.0 } else { 0.0 },
    is_relu = true);
elementwise!(
    /// `1 / (1 + exp(-x))`.
    Sigmoid, "sigmoid", |x| sigmoid(x), |_x, y| y * (1.0 - y));
elementwise!(
    /// `tanh(x)`.
    Tanh, "tanh", |x| tanhf(x), |_x, y| 1.0 - y * y);
elementwise!(
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))` (Keras's default, `approximate=False`).
    Gelu, "gelu",
    |x| 0.5 * x * (1.0 + erff(x * core::f32::consts::FRAC_1_SQRT_2)),
    |x, _y| 0.5 * (1.0 + erff(x * core::f32::consts::FRAC_1_SQRT_2)) + x * FRAC_1_SQRT_2PI * expf(-0.5 * x * x));
elementwise!(
    /// `x * sigmoid(x)` (also called swish).
    Silu, "silu", |x| x * sigmoid(x), |x, _y| { let s = sigmoid(x); s + x * s * (1.0 - s) });
elementwise!(
    /// `x` for `x > 0`, else `alpha (exp(x) - 1)`; Keras's default `alpha = 1.0`.
    Elu<const ALPHA: u32 = 0x3F80_0000>, "elu",
    |x, a| if x > 0.0 { x } else { a * (expf(x) - 1.0) },
    |x, y, a| if x > 0.0 { 1.0 } else { y + a });
elementwise!(
    /// `x` for `x > 0`, else `negative_slope * x`; the `leaky_relu` activation's default
    /// slope is 0.2 (the `LeakyReLU` layer's is 0.3).
    LeakyRelu<const NEGATIVE_SLOPE: u32 = 0x3E4C_CCCD>, "leaky_relu",
    |x, s| if x > 0.0 { x } else { s * x },
    |x, _y, s| if x > 0.0 { 1.0 } else { s });
elementwise!(
    /// `log(1 + exp(x))`, computed without overflow.
    Softplus, "softplus",
    |x| if x > 0.0 { x + log1pf(expf(-x)) } else { log1pf(expf(x)) },
    |x, _y| sigmoid(x));
elementwise!(
    /// `x / (1 + |x|)`.
    Softsign, "softsign", |x| x / (1.0 + fabsf(x)), |x, _y| { let d = 1.0 + fabsf(x); 1.0 / (d * d) });
elementwise!(
    /// `scale * elu(x, alpha)` with Keras's constants (alpha 1.67326324, scale 1.05070098).
    Selu, "selu",
    |x| if x > 0.0 { SELU_SCALE * x } else { SELU_SCALE * SELU_ALPHA * (expf(x) - 1.0) },
    |x, y| if x > 0.0 { SELU_SCALE } else { y + SELU_SCALE * SELU_ALPHA });
elementwise!(
    /// `min(max(x, 0), 6)`.
    Relu6, "relu6",
    |x| x.clamp(0.0, 6.0),
    |x, _y| if x > 0.0 && x < 6.0 { 1.0 } else { 0.0 });

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_SCALE: f32 = 1.050_701;

/// Softmax along the last axis: `exp(x_i - max) / sum_j exp(x_j - max)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax;

impl Activation for Softmax {
    const NAME: &'static str = "softmax";
    fn forward(x: &[f32], y: &mut [f32], row: usize) {
        for (xr, yr) in x.chunks_exact(row).zip(y.chunks_exact_mut(row)) {
            softmax_row(xr, yr);
        }
    }
    fn forward_in_place(y: &mut [f32], row: usize) {
        for r in y.chunks_exact_mut(row) {
            let max = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in r.iter_mut() {
                *v = expf(*v - max);
                sum += *v;
            }
            let inv = 1.0 / sum;
            r.iter_mut().for_each(|v| *v *= inv);
        }
    }
    fn backward(_x: &[f32], y: &[f32], dy: &mut [f32], row: usize) {
        for (yr, gr) in y.chunks_exact(row).zip(dy.chunks_exact_mut(row)) {
            let dot: f32 = yr.iter().zip(gr.iter()).map(|(a, b)| a * b).sum();
            for (g, &yv) in gr.iter_mut().zip(yr) {
                *g = yv * (*g - dot);
            }
        }
    }
}

/// Numerically stable softmax of one row.
pub fn softmax_row(x: &[f32], y: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv = expf(xv - max);
        sum += *yv;
    }
    let inv = 1.0 / sum;
    y.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply<A: Activation>(x: f32) -> f32 {
        let mut y = [0.0];
        A::forward(&[x], &mut y, 1);
        y[0]
    }

    fn grad<A: Activation>(x: f32) -> f32 {
        let mut y = [0.0];
        A::forward(&[x], &mut y, 1);
        let mut g = [1.0];
        A::backward(&[x], &y, &mut g, 1);
        g[0]
    }

    #[test]
    fn reference_values() {
        // Values from the closed forms (Keras 3 keras.activations, float64, rounded).
        let close = |a: f32, b: f32| assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        close(apply::<Relu>(-1.5), 0.0);
        close(apply::<Sigmoid>(1.0), 0.731_058_6);
        close(apply::<Tanh>(0.5), 0.462_117_16);
        close(apply::<Gelu>(1.0), 0.841_344_7);
        close(apply::<Gelu>(-0.5), -0.154_268_63);
        close(apply::<Silu>(2.0), 1.761_594_2);
        close(apply::<Elu>(-1.0), -0.632_120_56);
        close(apply::<LeakyRelu>(-2.0), -0.4);
        close(apply::<LeakyRelu<0x3E99_999A>>(-2.0), -0.6);
        close(apply::<Softplus>(0.0), core::f32::consts::LN_2);
        close(apply::<Softsign>(1.0), 0.5);
        close(apply::<Selu>(-1.0), -1.111_330_7);
        close(apply::<Relu6>(7.0), 6.0);
        close(grad::<Gelu>(0.0), 0.5);
        close(grad::<Elu>(-1.0), 0.367_879_44);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_are_shift_invariant() {
        let x = [1.0, 2.0, 3.0, 1000.0, 1001.0, 1002.0];
        let mut y = [0.0; 6];
        Softmax::forward(&x, &mut y, 3);
        for r in y.chunks(3) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        for i in 0..3 {
            assert!((y[i] - y[i + 3]).abs() < 1e-6);
        }
        assert!((y[2] - 0.665_240_94).abs() < 1e-6);
    }

    #[test]
    fn bits_round_trip() {
        assert_eq!(f32::from_bits(bits(0.3)), 0.3);
        assert_eq!(bits(1.0), 0x3F80_0000);
        assert_eq!(bits(0.2), 0x3E4C_CCCD);
        assert_eq!(bits(0.3), 0x3E99_999A);
    }
}
