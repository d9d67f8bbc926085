//! `DepthwiseConv2D`, `SeparableConv2D` and `Conv2DTranspose`: forward values and gradients
//! against Keras, finite-difference gradient checks of the layers and of a `model!` using all
//! three, and what the macro generates for them.
//!
//! - Forward (`keras_*`): one-layer models declared with `model!` (so the macro's output
//!   sizes, padding and crops are checked too), their parameters set to fixed sequences,
//!   against outputs computed by Keras 3.15.1 (JAX backend) from the same sequences;
//!   inference and training forwards, batches of 1 and 2. For one layer of each kind, the
//!   parameter and input gradients against `jax.grad` of the Keras layer.
//! - Layers ([`gradcheck::layer`]): input and every parameter, every coordinate: valid and
//!   same padding (odd sizes, even kernels, odd total padding), strides, dilations, both
//!   together (depthwise and separable, which Keras accepts), depth multipliers, 1×1
//!   kernels, no bias, smooth and kinked activations, softmax over the channels; for the
//!   transpose also `output_padding`, kernels smaller than the stride, unequal strides.
//! - `Conv2DTranspose` is the adjoint of `Conv2D` with the same kernel: `<T x, y> = <x, C y>`.
//! - Model ([`gradcheck::model`]): every parameter of a `model!` with all three layers.
//! - Generated code: field types, `LAYERS`, parameter names and shapes, Keras's initialiser.

use kerust::activations::{Elu, Gelu, Linear, Relu, Sigmoid, Silu, Softmax, Tanh};
use kerust::gradcheck::{self, Options};
use kerust::layers::{Conv2D, Conv2DTranspose, DepthwiseConv2D, NoBias, Same, SeparableConv2D, Valid};
use kerust::losses::{SparseCategoricalCrossentropy, Targets};
use kerust::params::boxed_zeroed;
use kerust::{model, Layer, Model, Params, Rng, Shape};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The input sequence of the Keras references: `((i * 7 + 3) % 13 - 6) / 4`.
fn seq_x(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 7 + 3) % 13) as f32 / 4.0 - 1.5).collect()
}

/// The sequence of every kernel of the Keras references, in Keras's (and our) kernel order:
/// `((j * 5 + 1) % 11 - 5) / 8`.
fn seq_k(n: usize) -> Vec<f32> {
    (0..n).map(|j| (((j * 5 + 1) % 11) as f32 - 5.0) / 8.0).collect()
}

/// The bias sequence of the Keras references: `(f + 1) * 0.1 * (-1)^f`.
fn seq_b(n: usize) -> Vec<f32> {
    (0..n)
        .map(|f| (f + 1) as f32 * 0.1 * if f % 2 == 0 { 1.0 } else { -1.0 })
        .collect()
}

/// The output gradient of the `jax.grad` references: `((i * 3 + 1) % 7 - 3) / 4`.
fn seq_r(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 3 + 1) % 7) as f32 / 4.0 - 0.75).collect()
}

/// The values of the Keras references for a parameter tensor: `seq_k` for kernels
/// (`kernel`, `depthwise_kernel`, `pointwise_kernel`), `seq_b` for biases.
fn keras_values(name: &str, len: usize) -> Vec<f32> {
    if name.ends_with("kernel") {
        seq_k(len)
    } else {
        seq_b(len)
    }
}

/// A boxed model whose parameters are the Keras references' sequences, read through
/// `visit_params` (so the layout is the one the model reports).
fn keras_model<M: Model>() -> Box<M> {
    let mut model = boxed_zeroed::<M>();
    let mut values = Vec::new();
    model.visit_params(&mut |_, name, _, v| values.extend(keras_values(name, v.len())));
    model.flat_mut().copy_from_slice(&values);
    model
}

#[track_caller]
fn assert_close(actual: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "lengths");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (f64::from(a) - e).abs() <= tol * (1.0 + e.abs()),
            "element {i}: got {a}, expected {e}\n  actual:   {actual:?}\n  expected: {expected:?}"
        );
    }
}

/// Runs `M` on `batch` samples of `seq_x`, in inference and in training mode, and compares
/// both to `expected`; then one sample at a time through the stack-only `forward`.
#[track_caller]
fn check_keras<M: Model>(batch: usize, expected: &[f64]) {
    let model = keras_model::<M>();
    let (in_len, out_len) = (<M::Input as Shape>::LEN, <M::Output as Shape>::LEN);
    let x = seq_x(batch * in_len);
    let mut y = vec![f32::NAN; batch * out_len];
    let mut scratch = vec![f32::NAN; batch * M::SCRATCH];
    model.forward_batch(&x, &mut y, batch, &mut scratch);
    assert_close(&y, expected, 1e-5);
    let mut ws = vec![f32::NAN; batch * M::WORKSPACE];
    model.forward_train(&x, batch, &mut ws, &mut Rng::new(0));
    assert_close(M::train_output(&ws, batch), expected, 1e-5);
}

/// Compares `layer`'s gradients of `Σ seq_r ⊙ y` on one sample of `seq_x` with `jax.grad`
/// of the Keras layer: `expected` names each parameter tensor's gradient, `dx` the input's.
#[track_caller]
fn check_keras_gradients<L: Layer>(layer: &L, expected: &[(&str, &[f64])], dx_expected: &[f64]) {
    let (in_len, out_len) = (<L::Input as Shape>::LEN, <L::Output as Shape>::LEN);
    let x = seq_x(in_len);
    let mut y = vec![f32::NAN; out_len];
    let mut cache = vec![f32::NAN; L::CACHE];
    layer.forward_train(&x, &mut y, &mut cache, 1, &mut Rng::new(0));
    let mut dy = seq_r(out_len);
    let mut dx = vec![f32::NAN; in_len];
    let mut grads = boxed_zeroed::<L>();
    layer.backward(&x, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, 1);
    let mut seen = Vec::new();
    grads.visit_params(&mut |name, _, values| {
        let (_, want) = expected
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no reference for `{name}`"));
        assert_close(values, want, 1e-6);
        seen.push(name.to_string());
    });
    assert_eq!(
        seen.len(),
        expected.len(),
        "every parameter tensor has a gradient"
    );
    assert_close(&dx, dx_expected, 1e-6);
}

/// The options of these checks: every coordinate, absolute tolerance 1e-4 (as
/// `tests/conv.rs`).
fn strict() -> Options {
    Options {
        atol: 1e-4,
        max_per_tensor: usize::MAX,
        ..Options::default()
    }
}

/// Smallest distance kept between a kink and a pre-activation (as `tests/conv.rs`).
const KINK_MARGIN: f32 = 0.05;

/// A layer `L` with Keras's initialisation, random bias and an input of `batch` samples in
/// [-1.5, 1.5], whose pre-activations (computed by `Z`, the same layer with a linear
/// activation) are at least [`KINK_MARGIN`] from every kink and on both sides of the first.
fn layer_case<L: Layer, Z: Layer>(batch: usize, kinks: &[f32]) -> (Box<L>, Vec<f32>) {
    assert_eq!(L::COUNT, Z::COUNT);
    for seed in 0..1000 {
        let mut rng = Rng::new(seed);
        let mut layer = boxed_zeroed::<L>();
        layer.init(&mut rng);
        let mut bias = None;
        layer.visit_params(&mut |name, _, v| {
            if name == "bias" {
                bias = Some(v.len());
            }
        });
        if let Some(n) = bias {
            let count = L::COUNT;
            for b in &mut layer.flat_mut()[count - n..] {
                *b = rng.uniform_range(-0.5, 0.5);
            }
        }
        let x: Vec<f32> = (0..batch * <L::Input as Shape>::LEN)
            .map(|_| rng.uniform_range(-1.5, 1.5))
            .collect();
        if kinks.is_empty() {
            return (layer, x);
        }
        let mut lin = boxed_zeroed::<Z>();
        lin.flat_mut().copy_from_slice(layer.flat());
        let mut z = vec![0.0; batch * <Z::Output as Shape>::LEN];
        let mut scratch = vec![0.0; batch * Z::SCRATCH];
        lin.forward(&x, &mut z, &mut scratch, batch);
        let clear = z
            .iter()
            .all(|&v| kinks.iter().all(|&k| (v - k).abs() >= KINK_MARGIN));
        let both = z.iter().any(|&v| v < kinks[0]) && z.iter().any(|&v| v > kinks[0]);
        if clear && both {
            return (layer, x);
        }
    }
    panic!("no seed gives pre-activations clear of {kinks:?}");
}

/// Gradient-checks `L` (its linear twin `Z` finds an input clear of `kinks`) on batches of
/// 1 and 2, asserting that every input coordinate and parameter was compared.
#[track_caller]
fn check<L: Layer, Z: Layer>(kinks: &[f32]) {
    for batch in [1, 2] {
        let (layer, x) = layer_case::<L, Z>(batch, kinks);
        let report = gradcheck::layer(&*layer, &x, batch, &strict());
        let what = format!("{} (batch {batch})", std::any::type_name::<L>());
        assert!(report.passed(), "{what}: gradient check failed: {report}");
        assert_eq!(
            report.checked,
            batch * <L::Input as Shape>::LEN + L::COUNT,
            "{what}: every input coordinate and parameter is checked"
        );
    }
}

// ---------------------------------------------------------------------------------------
// DepthwiseConv2D against Keras
// ---------------------------------------------------------------------------------------
//
// Each reference: `layer.build(...)`, `layer.set_weights([seq_k(...).reshape(w.shape) for
// kernels, seq_b(n) for the bias])`, `layer(seq_x(...).reshape(input))` in Keras 3.15.1 with
// the JAX backend; the float32 results in their shortest round-trip form. Gradients:
// `jax.grad` of `Σ seq_r ⊙ y` through `layer.stateless_call`.

model! {
    /// Stride 2, `same`, odd height (one padding row on top, one at the bottom), M = 2.
    struct DwA: Input<5, 4, 3> {
        dw: DepthwiseConv2D(3, strides = 2, padding = same, depth_multiplier = 2),
    }
}

/// `keras.layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)` on (2, 5, 4, 3) -> (2, 3, 2, 6)
#[rustfmt::skip]
const KERAS_DW_A: [f64; 72] = [
    0.63125, -0.325, -1.1375, 0.4125, 0.875, -0.25625002,
    0.7875, 0.8, 1.8, -0.99375, -0.0625, -0.88125,
    0.25625, -1.23125, 0.51875, -1.68125, 2.9375, -2.0375,
    0.475, 0.6125, 0.20625001, 0.099999994, -1.46875, 0.21249998,
    -0.7125, -1.0125, 0.95625, -1.3375, 1.625, 0.087499976,
    -1.3375, -0.23125, -0.575, 0.475, 0.875, -0.56875,
    0.38125, -1.2, 2.08125, -0.80625, -0.3125, -1.4125,
    -0.4625, 0.018749997, 1.425, -0.24375, -0.9375, -0.63125,
    1.35, 0.8, 1.45625, 0.19375, -0.75, -1.69375,
    0.85, -0.7, 0.8, -0.3375, -0.65625, -1.38125,
    0.5375, 0.26875, -0.825, 1.38125, -0.75, -1.19375,
    1.44375, -0.3875, 0.64375, -0.5875, -0.28125, -0.9125,
];

#[test]
fn keras_depthwise_stride_2_same_multiplier_2_batch_2() {
    check_keras::<DwA>(2, &KERAS_DW_A);
    let _: DepthwiseConv2D<5, 4, 3, 3, 3, 2, 2, 1, 1, 3, 2, 2, 6, Same> = DwA::ZERO.dw;
}

model! {
    /// A dilated 2x3 kernel, `valid`, tanh, no bias.
    struct DwB: Input<7, 6, 2> {
        dw: DepthwiseConv2D((2, 3), dilation_rate = 2, activation = tanh, use_bias = false),
    }
}

/// `keras.layers.DepthwiseConv2D((2, 3), dilation_rate=2, activation="tanh", use_bias=False)` on (1, 7, 6, 2) -> (1, 5, 2, 2)
#[rustfmt::skip]
const KERAS_DW_B: [f64; 20] = [
    0.0, 0.3583574, 0.15499072, 0.09347629, -0.79824275, 0.30270973,
    -0.94137555, 0.031239828, -0.15499072, -0.74815446, 0.0, 0.3583574,
    0.65342367, 0.5325873, -0.79824275, 0.30270973, -0.30270973, -0.79824275,
    -0.15499072, -0.74815446,
];

#[test]
fn keras_depthwise_dilated_valid_tanh_without_bias() {
    check_keras::<DwB>(1, &KERAS_DW_B);
    let _: DepthwiseConv2D<7, 6, 2, 2, 3, 1, 1, 2, 2, 5, 2, 1, 2, Valid, Tanh, NoBias> = DwB::ZERO.dw;
}

model! {
    /// Stride 2 with dilation 2 (Keras's depthwise layer accepts both), M = 3.
    struct DwC: Input<7, 7, 2> {
        dw: DepthwiseConv2D(3, strides = 2, dilation_rate = 2, depth_multiplier = 3),
    }
}

/// `keras.layers.DepthwiseConv2D(3, strides=2, dilation_rate=2, depth_multiplier=3)` on (1, 7, 7, 2) -> (1, 2, 2, 6)
#[rustfmt::skip]
const KERAS_DW_C: [f64; 24] = [
    1.06875, -0.95, 1.26875, 0.037499994, 0.28125, -0.100000024,
    1.00625, -0.95, 1.33125, -1.05625, 2.09375, -0.5375,
    1.0375, -0.95, 1.3, -0.30625, 0.375, 0.087499976,
    0.975, -0.95, 1.3625, -0.99375, 0.15625, -0.35000002,
];

/// The gradients of the `KERAS_DW_C` layer: kernel, bias, input.
#[rustfmt::skip]
const KERAS_DW_C_DKERNEL: [f64; 54] = [
    0.375, -0.3125, 0.75, -0.0625, -0.5625, 2.0,
    0.625, -0.3125, 0.5, 1.0625, 2.0, -0.5625,
    0.875, -0.3125, 0.25, 0.5625, -0.3125, 0.125,
    0.5, -0.3125, 0.625, 2.125, -0.5, -0.5,
    0.75, -0.3125, 0.375, 0.8125, -0.375, 0.1875,
    1.0, -0.3125, 0.125, 0.3125, -0.25, 0.0625,
    0.625, -0.3125, 0.5, 1.0625, 2.0, -0.5625,
    0.875, -0.3125, 0.25, 0.5625, -0.3125, 0.125,
    1.125, -0.3125, 0.0, 0.0625, -0.1875, 0.0,
];
#[rustfmt::skip]
const KERAS_DW_C_DBIAS: [f64; 6] = [
    0.5, 0.0, -0.5, -1.0, 0.25, -0.25,
];
#[rustfmt::skip]
const KERAS_DW_C_DX: [f64; 98] = [
    0.75, 0.5, 0.0, 0.0, -1.0625, 0.21875,
    0.0, 0.0, 0.25, -0.3125, 0.0, 0.0,
    0.375, -0.09375, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 1.0, -0.875,
    0.0, 0.0, -1.71875, 0.3125, 0.0, 0.0,
    -0.34375, 1.03125, 0.0, 0.0, 0.6875, -0.8125,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.6875, 0.15625, 0.0, 0.0,
    -0.34375, -1.3125, 0.0, 0.0, -1.71875, 0.4375,
    0.0, 0.0, 1.0, 0.65625, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.375, 0.3125, 0.0, 0.0, 0.25, -0.09375,
    0.0, 0.0, -1.0625, -0.5625, 0.0, 0.0,
    0.75, 0.5,
];

#[test]
fn keras_depthwise_stride_and_dilation_multiplier_3_with_gradients() {
    check_keras::<DwC>(1, &KERAS_DW_C);
    let model = keras_model::<DwC>();
    let _: &DepthwiseConv2D<7, 7, 2, 3, 3, 2, 2, 2, 2, 2, 2, 3, 6> = &model.dw;
    check_keras_gradients(
        &model.dw,
        &[("kernel", &KERAS_DW_C_DKERNEL), ("bias", &KERAS_DW_C_DBIAS)],
        &KERAS_DW_C_DX,
    );
}

// ---------------------------------------------------------------------------------------
// SeparableConv2D against Keras
// ---------------------------------------------------------------------------------------

model! {
    /// Unequal strides, `same`, an odd total padding, M = 2.
    struct SepA: Input<5, 5, 2> {
        sep: SeparableConv2D(3, (3, 2), strides = (2, 1), padding = same, depth_multiplier = 2),
    }
}

/// `keras.layers.SeparableConv2D(3, (3, 2), strides=(2, 1), padding="same", depth_multiplier=2)` on (2, 5, 5, 2) -> (2, 3, 5, 3)
#[rustfmt::skip]
const KERAS_SEP_A: [f64; 90] = [
    0.9515625, 0.09296875, 1.0226562, 0.8304688, 0.12421875, 0.90546876,
    1.4710938, -0.35234374, 1.8039062, 0.334375, 0.28828126, 0.56953126,
    -0.24375, 0.4328125, -0.15312499, 0.396875, 0.49921876, 0.32734376,
    1.13125, 0.018749997, 1.1242187, 1.0023438, 0.046093747, 1.0070312,
    0.8734375, 0.0734375, 0.88984376, 1.2054688, -0.21171875, 1.4914062,
    -1.3101562, -0.28984374, -0.87578124, -0.3453125, -0.95, -0.15312499,
    -0.19296876, 0.11640625, -0.19218749, 0.365625, 0.5734375, 0.378125,
    0.9125, -0.16484375, 1.1046875, 1.0726563, 0.061718747, 1.1398437,
    0.9515625, 0.09296875, 1.0226562, 0.8304688, 0.12421875, 0.90546876,
    1.4710938, -0.35234374, 1.8039062, -0.22421876, 0.41328126, -0.12578124,
    -1.0484375, 0.3703125, -0.97734374, 0.396875, 0.49921876, 0.32734376,
    1.13125, 0.018749997, 1.1242187, 1.0023438, 0.046093747, 1.0070312,
    1.240625, -0.27421874, 1.503125, -0.1421875, -0.746875, 0.17890626,
    -1.3101562, -0.28984374, -0.87578124, -0.3453125, -0.95, -0.15312499,
    -0.19296876, 0.11640625, -0.19218749, 0.896875, -0.1140625, 1.05,
];

#[test]
fn keras_separable_unequal_strides_same_batch_2() {
    check_keras::<SepA>(2, &KERAS_SEP_A);
    let _: SeparableConv2D<5, 5, 2, 3, 3, 2, 2, 1, 1, 1, 3, 5, 2, 4, Same> = SepA::ZERO.sep;
}

model! {
    /// Dilation 2, `valid`, relu.
    struct SepB: Input<7, 6, 3> {
        sep: SeparableConv2D(2, 3, dilation_rate = 2, activation = relu),
    }
}

/// `keras.layers.SeparableConv2D(2, 3, dilation_rate=2, activation="relu")` on (1, 7, 6, 3) -> (1, 3, 2, 2)
#[rustfmt::skip]
const KERAS_SEP_B: [f64; 12] = [
    0.9945313, 0.0, 0.0, 0.014843747, 0.0, 0.0,
    1.7054688, 0.0, 0.8929688, 0.0, 0.9945313, 0.0,
];

/// The gradients of the `KERAS_SEP_B` layer: depthwise kernel, pointwise kernel, bias, input.
#[rustfmt::skip]
const KERAS_SEP_B_DDEPTHWISE_KERNEL: [f64; 27] = [
    -0.3125, 0.859375, 0.4296875, -0.40625, -0.2734375, 0.546875,
    0.71875, -0.390625, -0.859375, -0.0625, -0.3515625, -0.8984375,
    0.65625, -0.46875, -0.78125, -0.25, -0.078125, 0.3515625,
    -0.21875, -0.546875, 0.3125, -0.3125, 0.859375, 0.4296875,
    -0.40625, -0.2734375, 0.546875,
];
#[rustfmt::skip]
const KERAS_SEP_B_DPOINTWISE_KERNEL: [f64; 6] = [
    -1.390625, 0.0, 0.6171875, 0.0, 0.390625, 0.0,
];
#[rustfmt::skip]
const KERAS_SEP_B_DBIAS: [f64; 2] = [
    0.25, 0.0,
];
#[rustfmt::skip]
const KERAS_SEP_B_DX: [f64; 126] = [
    -0.125, 0.0390625, 0.1953125, 0.0, 0.0, 0.0,
    0.0, 0.1953125, 0.0390625, 0.0, 0.0, 0.0,
    0.125, -0.078125, -0.1171875, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.125, -0.0390625, -0.1953125,
    0.0, 0.0, 0.0, 0.0, -0.1953125, -0.0390625,
    0.0, 0.0, 0.0, -0.125, 0.078125, 0.1171875,
    -0.03125, 0.05859375, 0.05859375, 0.0, 0.0, 0.0,
    0.03125, -0.29296875, -0.01953125, 0.0, 0.0, 0.0,
    0.09375, 0.0, -0.09765625, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.09375, -0.078125, -0.15625,
    0.0, 0.0, 0.0, -0.03125, 0.1953125, 0.0,
    0.0, 0.0, 0.0, -0.15625, 0.0390625, 0.15625,
    -0.015625, 0.078125, 0.0390625, 0.0, 0.0, 0.0,
    0.046875, -0.05859375, -0.0390625, 0.0, 0.0, 0.0,
    -0.234375, 0.01953125, -0.1171875, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0625, -0.1171875, -0.1171875,
    0.0, 0.0, 0.0, -0.0625, 0.15625, 0.0390625,
    0.0, 0.0, 0.0, 0.15625, 0.0, 0.1953125,
    0.03125, -0.05859375, -0.05859375, 0.0, 0.0, 0.0,
    -0.03125, 0.078125, 0.01953125, 0.0, 0.0, 0.0,
    0.078125, 0.0, 0.09765625, 0.0, 0.0, 0.0,
];

#[test]
fn keras_separable_dilated_relu_with_gradients() {
    check_keras::<SepB>(1, &KERAS_SEP_B);
    let model = keras_model::<SepB>();
    let _: &SeparableConv2D<7, 6, 3, 2, 3, 3, 1, 1, 2, 2, 3, 2, 1, 3, Valid, Relu> = &model.sep;
    check_keras_gradients(
        &model.sep,
        &[
            ("depthwise_kernel", &KERAS_SEP_B_DDEPTHWISE_KERNEL),
            ("pointwise_kernel", &KERAS_SEP_B_DPOINTWISE_KERNEL),
            ("bias", &KERAS_SEP_B_DBIAS),
        ],
        &KERAS_SEP_B_DX,
    );
}

// ---------------------------------------------------------------------------------------
// Conv2DTranspose against Keras
// ---------------------------------------------------------------------------------------

model! {
    /// Stride 2, `same`, odd sizes: 3x5 → 6x10.
    struct TrA: Input<3, 5, 3> {
        up: Conv2DTranspose(2, 3, strides = 2, padding = same),
    }
}

/// `keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same")` on (2, 3, 5, 3) -> (2, 6, 10, 2)
#[rustfmt::skip]
const KERAS_TR_A: [f64; 240] = [
    0.9125, 0.4875, -0.7125, 0.58125, -2.2125, -1.3875,
    1.35, -1.48125, 0.06875, 0.39375, 0.56875, -0.7,
    2.35, 0.55, -1.025, 0.89375, -1.4625, -2.1375,
    1.0375, -1.16875, 0.85, -0.95, 0.25625, 0.51875,
    -1.65, 1.2375, 0.25625, -0.85625, 0.38125, -1.0125,
    0.25625, -1.0125, 1.6, -1.23125, 0.25625, 0.45625,
    -1.65, 1.8, 0.25625, -0.91875, 1.35, -0.2,
    0.225, -0.29375, -1.74375, 1.39375, -0.99375, 0.3,
    0.2875, -1.35625, 0.225, 0.08125, 2.725, -0.85625,
    0.225, 0.26875, -3.775, 0.049999997, 0.225, -0.7625,
    0.7875, -0.98125, 0.25625, 0.55, -0.43125, 0.55,
    -1.775, -0.012500003, -0.43125, 0.7375, 0.25625, -0.98125,
    1.6, -1.5125, 0.25625, 0.4875, -1.65, 1.51875,
    0.25625, -0.8875, 1.225, 0.08125, 0.225, -0.575,
    0.2875, 0.64375, -0.99375, 1.2375, -1.74375, -1.7,
    0.225, -0.2, 2.725, -0.3875, 0.225, -0.012500003,
    -3.775, 0.51875, 0.225, -1.04375, 0.725, -1.0125,
    0.25625, 0.58125, 0.38125, -0.54375, 0.25625, 0.425,
    -1.65, 2.08125, 0.25625, -0.95, 1.6, -1.79375,
    0.25625, 0.51875, -1.65, 1.2375, 0.25625, -0.85625,
    -0.24375, -1.16875, 0.56875, -0.7, 2.35, 0.55,
    -1.025, 0.89375, -1.4625, -2.1375, 1.0375, -1.16875,
    1.225, 1.675, -0.55625, 0.425, -0.55625, -0.60625,
    0.2875, -0.012500003, -0.55625, 0.58125, 0.25625, -1.0125,
    1.6, -1.23125, 0.25625, 0.45625, -1.65, 1.8,
    0.25625, -0.91875, 1.6, -2.075, 0.25625, 0.55,
    -0.43125, 0.55, -1.775, -0.012500003, -1.4625, -0.575,
    0.225, 0.08125, 2.725, -0.85625, 0.225, 0.26875,
    -3.775, 0.049999997, 0.225, -0.7625, 2.725, 0.55,
    0.225, -0.575, 0.2875, 0.64375, -0.99375, 1.2375,
    -0.61875, 0.55, 0.25625, -0.98125, 1.6, -1.5125,
    0.25625, 0.4875, -1.65, 1.51875, 0.25625, -0.8875,
    1.6, -2.35625, 0.25625, 0.58125, 0.38125, -0.54375,
    0.25625, 0.425, -1.5875, -0.29375, 0.225, -0.2,
    2.725, -0.3875, 0.225, -0.012500003, -3.775, 0.51875,
    0.225, -1.04375, 2.31875, -1.0125, 1.0375, -1.66875,
    2.31875, -0.10625, 0.225, 0.55, -0.68125, 0.51875,
    0.25625, -0.95, 1.6, -1.79375, 0.25625, 0.51875,
    -1.65, 1.2375, 0.25625, -0.85625, 0.38125, -1.0125,
    0.25625, -1.0125, 1.6, -1.23125, 0.25625, 0.45625,
];

/// The gradients of the `KERAS_TR_A` layer on its first sample: kernel, bias, input.
#[rustfmt::skip]
const KERAS_TR_A_DKERNEL: [f64; 54] = [
    0.3125, -1.875, 2.4375, -1.5, 3.9375, -1.1875,
    4.125, -3.375, 1.3125, -2.9375, 2.875, -1.875,
    1.625, -1.6875, -0.125, -2.0, 0.0, -0.4375,
    0.8125, 0.1875, 0.375, 0.3125, -1.875, 2.4375,
    -1.5, 3.9375, -1.1875, 4.125, -3.375, 1.3125,
    -3.0625, 2.75, -2.0, 1.625, -1.6875, -0.125,
    -2.1875, -1.0625, -0.75, 0.0625, 1.875, -0.375,
    -0.3125, -1.3125, 1.75, -2.0, 3.375, -1.8125,
    3.5, -2.25, 0.9375, -2.125, 0.75, -1.25,
];
#[rustfmt::skip]
const KERAS_TR_A_DBIAS: [f64; 2] = [
    0.0, -0.5,
];
#[rustfmt::skip]
const KERAS_TR_A_DX: [f64; 45] = [
    -0.875, -0.46875, -0.40625, -0.28125, -0.65625, -0.6875,
    0.3125, 0.46875, -0.75, -0.1875, 0.5, 0.5,
    0.90625, -0.0625, 1.03125, -0.1875, 0.5, 0.5,
    0.84375, -0.34375, 0.875, 0.78125, 0.125, 0.15625,
    -0.59375, 0.375, 0.3125, 0.03125, -0.21875, 0.5625,
    -0.03125, 0.28125, 0.9375, -0.875, 0.0, -0.5,
    -0.40625, -0.28125, -0.84375, 0.9375, -0.78125, -0.09375,
    -0.71875, 0.625, -0.09375,
];

#[test]
fn keras_transpose_stride_2_same_odd_sizes_batch_2_with_gradients() {
    check_keras::<TrA>(2, &KERAS_TR_A);
    let model = keras_model::<TrA>();
    let _: &Conv2DTranspose<3, 5, 3, 2, 3, 3, 2, 2, 1, 1, 6, 10, Same> = &model.up;
    check_keras_gradients(
        &model.up,
        &[("kernel", &KERAS_TR_A_DKERNEL), ("bias", &KERAS_TR_A_DBIAS)],
        &KERAS_TR_A_DX,
    );
}

model! {
    /// `valid` with a kernel smaller than the stride: `(n - 1) * s + max(k, s)`, 3x4 → 9x9.
    struct TrB: Input<3, 4, 2> {
        up: Conv2DTranspose(3, (2, 3), strides = (3, 2)),
    }
}

/// `keras.layers.Conv2DTranspose(3, (2, 3), strides=(3, 2))` on (1, 3, 4, 2) -> (1, 9, 9, 3)
#[rustfmt::skip]
const KERAS_TR_B: [f64; 243] = [
    0.6, 0.26875, -0.29375, -0.525, -0.85625, -0.3875,
    -0.2125, 0.7375, 0.425, -0.4625, -0.85625, -0.45,
    -0.43125, 0.7375, 0.64375, -0.4, -0.85625, -0.5125,
    -1.05625, 0.7375, 1.26875, 0.475, 0.3625, 1.05,
    1.0375, -1.1375, -0.45, 0.6625, 0.33125, 0.8,
    0.56875, -0.79375, -0.325, 0.0375, -0.3875, -0.012499988,
    0.4125, -0.66875, -0.2625, 0.06875, -0.48125, -0.23124999,
    0.25625, -0.54375, -0.19999999, -1.11875, -1.3875, -0.85625,
    0.1, -0.012500003, 0.675, 0.6625, 0.55, 1.2375,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, -0.18125, -0.35625, 0.6125,
    0.5375, 0.3625, 0.9875, 0.5375, -1.29375, 0.08125001,
    0.6, 0.3625, 0.925, 0.31875, -1.29375, 0.3,
    0.6625, 0.3625, 0.8625, 0.1, -1.29375, 0.51875,
    0.725, 0.3625, 0.8, 0.5375, -0.5125, -0.07499999,
    -0.43125, -0.60625, 0.018750012, -0.05625, 0.1125, 0.7375,
    0.1625, 0.049999997, 0.7375, -0.2125, 0.2375, 0.8,
    0.19375, -0.043750003, 0.51875, -0.36875, 0.3625, 0.8625,
    0.225, -0.1375, 0.3, -0.525, 0.4875, 0.925,
    0.6625, 0.3, 0.7375, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    -0.55625, -0.98125, 1.1125, 0.7875, 0.3625, 0.7375,
    -0.3375, -1.29375, 0.95625, 0.85, 0.3625, 0.675,
    1.06875, 0.7375, -0.85625, -0.7125, -0.85625, -0.19999999,
    0.44375, 0.7375, -0.23124999, -0.65, -0.85625, -0.2625,
    -0.36875, 0.1125, 0.70625, -0.30625, -0.73125, -0.35625,
    -0.68125, 0.6125, 0.9875, 0.2875, -0.325, -0.13749999,
    -0.8375, 0.7375, 1.05, 1.13125, 0.8, 1.26875,
    1.0375, -1.16875, -0.5125, -0.05625, -0.10625, 0.64375,
    0.88125, -1.04375, -0.45, -0.55625, -0.7625, -0.16874999,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3, 0.1, -0.2, 0.3,
    0.1, -0.2, 0.3,
];

#[test]
fn keras_transpose_valid_kernel_smaller_than_stride() {
    check_keras::<TrB>(1, &KERAS_TR_B);
    let _: Conv2DTranspose<3, 4, 2, 3, 2, 3, 3, 2, 1, 1, 9, 9> = TrB::ZERO.up;
}

model! {
    /// `same` with `output_padding`: `(n - 1) * s + k % 2 + op`, 3x3 → 5x5, even kernel.
    struct TrC: Input<3, 3, 1> {
        up: Conv2DTranspose(2, 4, strides = 2, padding = same, output_padding = 1),
    }
}

/// `keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=1)` on (1, 3, 3, 1) -> (1, 5, 5, 2)
#[rustfmt::skip]
const KERAS_TR_C: [f64; 50] = [
    -0.0875, 0.175, 0.38125, -0.10625, 0.35, -1.16875,
    0.0375, -0.6375, -0.024999999, 0.675, -0.49375, -0.48125,
    1.1625, -0.075, 1.00625, -0.23125, -1.11875, 0.018749997,
    -1.3375, -0.2, -0.05625, -0.73125, -0.8375, -0.7,
    0.38125, 0.8625, 1.44375, -0.85625, 0.5375, -1.41875,
    -0.2125, 0.26875, 0.4125, -0.2, 0.475, -0.1375,
    -1.05625, 0.70625, -1.05625, 0.70625, 0.88125, -0.35625,
    0.31875, 0.049999997, 0.0375, 0.1125, -1.05625, 0.70625,
    1.00625, -1.35625,
];

#[test]
fn keras_transpose_same_even_kernel_output_padding() {
    check_keras::<TrC>(1, &KERAS_TR_C);
    let _: Conv2DTranspose<3, 3, 1, 2, 4, 4, 2, 2, 1, 1, 5, 5, Same> = TrC::ZERO.up;
}

model! {
    /// `valid` with `output_padding`: `(n - 1) * s + k + op`, 3x3 → 8x8, sigmoid.
    struct TrD: Input<3, 3, 2> {
        up: Conv2DTranspose(2, 3, strides = 2, output_padding = 1, activation = sigmoid),
    }
}

/// `keras.layers.Conv2DTranspose(2, 3, strides=2, output_padding=1, activation="sigmoid")` on (1, 3, 3, 2) -> (1, 8, 8, 2)
#[rustfmt::skip]
const KERAS_TR_D: [f64; 128] = [
    0.6456563, 0.566786, 0.37901056, 0.30470333, 0.46257016, 0.3600839,
    0.40884307, 0.31810373, 0.43936244, 0.31136402, 0.43936244, 0.33181223,
    0.3644156, 0.26649088, 0.5249792, 0.45016602, 0.3500658, 0.6046791,
    0.6668006, 0.5896455, 0.44707403, 0.74673045, 0.68729424, 0.59718513,
    0.40884307, 0.7583675, 0.7070812, 0.6046791, 0.6384747, 0.52809536,
    0.5249792, 0.45016602, 0.59417456, 0.31136402, 0.41641688, 0.381957,
    0.50156254, 0.31136402, 0.46257016, 0.3968159, 0.42403033, 0.26649088,
    0.5093739, 0.41186765, 0.46257016, 0.36731565, 0.5249792, 0.45016602,
    0.7383674, 0.24277966, 0.34298956, 0.31810373, 0.63123065, 0.23708098,
    0.3644156, 0.32492048, 0.59417456, 0.24857068, 0.38639292, 0.33181223,
    0.41641688, 0.3600839, 0.5249792, 0.45016602, 0.40884307, 0.381957,
    0.7383674, 0.7160598, 0.6668006, 0.7285938, 0.77294225, 0.7285938,
    0.59417456, 0.6832504, 0.80415994, 0.74077487, 0.7837237, 0.7160598,
    0.5249792, 0.45016602, 0.65982175, 0.3387768, 0.40884307, 0.3387768,
    0.51718074, 0.27264383, 0.43168002, 0.3458119, 0.47813898, 0.28521267,
    0.45481116, 0.35291508, 0.3938279, 0.29812345, 0.5249792, 0.45016602,
    0.40884307, 0.5896455, 0.65982175, 0.5896455, 0.5093739, 0.74077487,
    0.67370707, 0.5896455, 0.45481116, 0.74077487, 0.68729424, 0.5896455,
    0.63123065, 0.52809536, 0.5249792, 0.45016602, 0.5249792, 0.45016602,
    0.5249792, 0.45016602, 0.5249792, 0.45016602, 0.5249792, 0.45016602,
    0.5249792, 0.45016602, 0.5249792, 0.45016602, 0.5249792, 0.45016602,
    0.5249792, 0.45016602,
];

#[test]
fn keras_transpose_valid_output_padding_sigmoid() {
    check_keras::<TrD>(1, &KERAS_TR_D);
    let _: Conv2DTranspose<3, 3, 2, 2, 3, 3, 2, 2, 1, 1, 8, 8, Valid, Sigmoid> = TrD::ZERO.up;
}

model! {
    /// Dilation 2, `same`, tanh, no bias.
    struct TrE: Input<5, 4, 2> {
        up: Conv2DTranspose(2, 3, padding = same, dilation_rate = 2, activation = tanh, use_bias = false),
    }
}

/// `keras.layers.Conv2DTranspose(2, 3, padding="same", dilation_rate=2, activation="tanh", use_bias=False)` on (1, 5, 4, 2) -> (1, 5, 4, 2)
#[rustfmt::skip]
const KERAS_TR_E: [f64; 40] = [
    0.8392851, 0.9961465, 0.9969977, 0.829802, 0.7193275, 0.635149,
    -0.48633605, -0.48633605, -0.38528392, -0.87982666, -0.38528392, -0.8568176,
    -0.9640276, -0.95933527, -0.94808525, -0.9640276, -0.8568176, -0.829802,
    -0.87982666, -0.50983, -0.38528392, -0.30270973, 0.5325873, 0.61613446,
    -0.3583574, 0.98484546, -0.46211717, 0.9918598, 0.98661435, 0.98817796,
    0.98817796, 0.98284495, 0.9158246, -0.9207223, 0.8931933, -0.8568176,
    -0.8649066, -0.77440923, -0.84828365, -0.8392851,
];

#[test]
fn keras_transpose_dilated_same_tanh_without_bias() {
    check_keras::<TrE>(1, &KERAS_TR_E);
    let _: Conv2DTranspose<5, 4, 2, 2, 3, 3, 1, 1, 2, 2, 5, 4, Same, Tanh, NoBias> = TrE::ZERO.up;
}

model! {
    /// A 1x1 kernel with stride 3, `same`: each pixel lands on the top-left of a 3x3 block,
    /// the rest is bias only.
    struct TrF: Input<2, 2, 2> {
        up: Conv2DTranspose(1, 1, strides = 3, padding = same),
    }
}

/// `keras.layers.Conv2DTranspose(1, 1, strides=3, padding="same")` on (1, 2, 2, 2) -> (1, 6, 6, 1)
#[rustfmt::skip]
const KERAS_TR_F: [f64; 36] = [
    0.6, 0.1, 0.1, 0.50625, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
    0.4125, 0.1, 0.1, -0.0875, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
    0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
];

#[test]
fn keras_transpose_1x1_kernel_stride_3_same() {
    check_keras::<TrF>(1, &KERAS_TR_F);
}

model! {
    /// An even kernel with stride 2, `same`: the windows start one row and column early.
    struct TrG: Input<3, 3, 1> {
        up: Conv2DTranspose(2, 4, strides = 2, padding = same),
    }
}

/// `keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")` on (1, 3, 3, 1) -> (1, 6, 6, 2)
#[rustfmt::skip]
const KERAS_TR_G: [f64; 72] = [
    -0.0875, 0.175, 0.38125, -0.10625, 0.35, -1.16875,
    0.0375, -0.6375, -0.024999999, 0.675, 0.0375, 0.1125,
    -0.49375, -0.48125, 1.1625, -0.075, 1.00625, -0.23125,
    -1.11875, 0.018749997, -1.3375, -0.2, 1.225, -0.5125,
    -0.05625, -0.73125, -0.8375, -0.7, 0.38125, 0.8625,
    1.44375, -0.85625, 0.5375, -1.41875, 0.0375, -1.0125,
    -0.2125, 0.26875, 0.4125, -0.2, 0.475, -0.1375,
    -1.05625, 0.70625, -1.05625, 0.70625, -0.30625, 0.14375,
    0.88125, -0.35625, 0.31875, 0.049999997, 0.0375, 0.1125,
    -1.05625, 0.70625, 1.00625, -1.35625, 0.88125, -0.73125,
    0.1, -0.2, 0.2875, -0.95, 0.475, -0.7625,
    0.63125, -0.45, 0.7875, -0.29375, 0.0062500015, -0.1375,
];

#[test]
fn keras_transpose_even_kernel_stride_2_same() {
    check_keras::<TrG>(1, &KERAS_TR_G);
}

#[test]
fn single_sample_forward_matches_the_batched_one() {
    let model = keras_model::<TrA>();
    let x = seq_x(2 * 45);
    let mut y = vec![0.0; 2 * 120];
    let mut scratch = vec![0.0; 2 * TrA::SCRATCH];
    model.forward_batch(&x, &mut y, 2, &mut scratch);
    for b in 0..2 {
        let mut sample = <[[[f32; 3]; 5]; 3]>::ZERO;
        sample.as_flat_mut().copy_from_slice(&x[b * 45..(b + 1) * 45]);
        let one = model.forward(&sample);
        assert_eq!(one.as_flat(), &y[b * 120..(b + 1) * 120]);
    }
}

// ---------------------------------------------------------------------------------------
// Conv2DTranspose is the adjoint of Conv2D
// ---------------------------------------------------------------------------------------

/// `<T x, y> = <x, C y>` for random `x`, `y`, with `C`'s kernel `[KH, KW, F, C]` the same
/// values as `T`'s: the transpose of the convolution from `T`'s output back to its input.
fn check_adjoint<T: Layer, C: Layer>() {
    assert_eq!(T::COUNT, C::COUNT);
    assert_eq!(<T::Input as Shape>::LEN, <C::Output as Shape>::LEN);
    assert_eq!(<T::Output as Shape>::LEN, <C::Input as Shape>::LEN);
    let mut rng = Rng::new(5);
    let mut t = boxed_zeroed::<T>();
    t.init(&mut rng);
    let mut c = boxed_zeroed::<C>();
    c.flat_mut().copy_from_slice(t.flat());
    let batch = 2;
    let random =
        |n: usize, rng: &mut Rng| -> Vec<f32> { (0..n).map(|_| rng.uniform_range(-1.0, 1.0)).collect() };
    let x = random(batch * <T::Input as Shape>::LEN, &mut rng);
    let y = random(batch * <T::Output as Shape>::LEN, &mut rng);
    let mut tx = vec![0.0; y.len()];
    t.forward(&x, &mut tx, &mut vec![0.0; batch * T::SCRATCH], batch);
    let mut cy = vec![0.0; x.len()];
    c.forward(&y, &mut cy, &mut vec![0.0; batch * C::SCRATCH], batch);
    let dot =
        |a: &[f32], b: &[f32]| -> f64 { a.iter().zip(b).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum() };
    let (lhs, rhs) = (dot(&tx, &y), dot(&x, &cy));
    assert!((lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()), "{lhs} vs {rhs}");
}

#[test]
fn transpose_is_the_adjoint_of_conv2d() {
    // `same`, k = 3, s = 2: no crop; Conv2D pads one row and column after.
    check_adjoint::<
        Conv2DTranspose<3, 5, 3, 2, 3, 3, 2, 2, 1, 1, 6, 10, Same, Linear, NoBias>,
        Conv2D<6, 10, 2, 3, 3, 3, 2, 2, 1, 1, 3, 5, Same, Linear, NoBias>,
    >();
    // `same`, k = 4, s = 2: crop 1 before; Conv2D pads 1 before and 1 after.
    check_adjoint::<
        Conv2DTranspose<3, 3, 1, 2, 4, 4, 2, 2, 1, 1, 6, 6, Same, Linear, NoBias>,
        Conv2D<6, 6, 2, 1, 4, 4, 2, 2, 1, 1, 3, 3, Same, Linear, NoBias>,
    >();
    // `valid`, unequal strides and kernel.
    check_adjoint::<
        Conv2DTranspose<4, 3, 2, 3, 3, 2, 2, 1, 1, 1, 9, 4, Valid, Linear, NoBias>,
        Conv2D<9, 4, 3, 2, 3, 2, 2, 1, 1, 1, 4, 3, Valid, Linear, NoBias>,
    >();
    // Dilation 2, `same`: crop 2.
    check_adjoint::<
        Conv2DTranspose<5, 4, 2, 2, 3, 3, 1, 1, 2, 2, 5, 4, Same, Linear, NoBias>,
        Conv2D<5, 4, 2, 2, 3, 3, 1, 1, 2, 2, 5, 4, Same, Linear, NoBias>,
    >();
    // 1x1, stride 1: the pointwise path without columns.
    check_adjoint::<
        Conv2DTranspose<3, 4, 3, 2, 1, 1, 1, 1, 1, 1, 3, 4, Valid, Linear, NoBias>,
        Conv2D<3, 4, 2, 3, 1, 1, 1, 1, 1, 1, 3, 4, Valid, Linear, NoBias>,
    >();
}

// ---------------------------------------------------------------------------------------
// Layer gradients
// ---------------------------------------------------------------------------------------

/// `DepthwiseConv2D<H, W, C, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>` and its
/// linear twin.
macro_rules! depthwise_checks {
    ($($name:ident: [$($dims:literal),*], $pad:ty, $act:ty, $bias:ty, $kinks:expr;)*) => {$(
        #[test]
        fn $name() {
            type L = DepthwiseConv2D<$($dims),*, $pad, $act, $bias>;
            type Z = DepthwiseConv2D<$($dims),*, $pad, Linear, $bias>;
            check::<L, Z>($kinks);
        }
    )*};
}

depthwise_checks! {
    // 5x4x2 → 3x2x2
    gradient_depthwise_valid_3x3: [5, 4, 2, 3, 3, 1, 1, 1, 1, 3, 2, 1, 2], Valid, Linear, [f32; 2], &[];
    // Stride 2, `same`, odd sizes (padding 1 on every side), M = 2.
    gradient_depthwise_stride_2_same_multiplier_2_tanh: [5, 5, 3, 3, 3, 2, 2, 1, 1, 3, 3, 2, 6], Same, Tanh, [f32; 6], &[];
    // Even kernel height, dilated, `same`, M = 3.
    gradient_depthwise_even_kernel_dilated_same_gelu: [6, 5, 2, 2, 4, 1, 1, 2, 1, 6, 5, 3, 6], Same, Gelu, [f32; 6], &[];
    // Valid, relu, M = 2.
    gradient_depthwise_valid_multiplier_2_relu: [4, 3, 2, 3, 2, 1, 1, 1, 1, 2, 2, 2, 4], Valid, Relu, [f32; 4], &[0.0];
    // Strides and dilations together, no bias.
    gradient_depthwise_stride_and_dilation_no_bias: [7, 7, 2, 3, 3, 2, 2, 2, 2, 2, 2, 3, 6], Valid, Linear, NoBias, &[];
    // Unequal strides, `same`.
    gradient_depthwise_strides_3_1_same_elu: [7, 4, 2, 2, 3, 3, 1, 1, 1, 3, 4, 2, 4], Same, Elu, [f32; 4], &[0.0];
    // 1x1 kernel: a per-channel scale.
    gradient_depthwise_1x1_multiplier_3_sigmoid: [3, 4, 2, 1, 1, 1, 1, 1, 1, 3, 4, 3, 6], Valid, Sigmoid, [f32; 6], &[];
    // Softmax over the output channels at each position.
    gradient_depthwise_softmax_over_channels: [4, 4, 2, 2, 2, 1, 1, 1, 1, 4, 4, 2, 4], Same, Softmax, [f32; 4], &[];
}

/// `SeparableConv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, M, CM, P, A, B>` and its
/// linear twin.
macro_rules! separable_checks {
    ($($name:ident: [$($dims:literal),*], $pad:ty, $act:ty, $bias:ty, $kinks:expr;)*) => {$(
        #[test]
        fn $name() {
            type L = SeparableConv2D<$($dims),*, $pad, $act, $bias>;
            type Z = SeparableConv2D<$($dims),*, $pad, Linear, $bias>;
            check::<L, Z>($kinks);
        }
    )*};
}

separable_checks! {
    // Unequal strides, `same`, M = 2.
    gradient_separable_strides_2_1_same: [5, 5, 2, 3, 3, 2, 2, 1, 1, 1, 3, 5, 2, 4], Same, Linear, [f32; 3], &[];
    // Dilation 2, `valid`, relu.
    gradient_separable_dilated_valid_relu: [7, 6, 3, 2, 3, 3, 1, 1, 2, 2, 3, 2, 1, 3], Valid, Relu, [f32; 2], &[0.0];
    // Stride 2, `same`, odd total padding, M = 3, no bias.
    gradient_separable_stride_2_same_no_bias_gelu: [6, 6, 2, 4, 3, 3, 2, 2, 1, 1, 3, 3, 3, 6], Same, Gelu, NoBias, &[];
    // 1x1 depthwise kernel.
    gradient_separable_1x1_tanh: [4, 5, 3, 2, 1, 1, 1, 1, 1, 1, 4, 5, 1, 3], Valid, Tanh, [f32; 2], &[];
    // Strides and dilations together.
    gradient_separable_stride_and_dilation_silu: [7, 7, 2, 2, 3, 3, 2, 2, 2, 2, 2, 2, 2, 4], Valid, Silu, [f32; 2], &[];
    // Softmax over the filters.
    gradient_separable_softmax_over_filters: [4, 4, 2, 3, 2, 2, 1, 1, 1, 1, 4, 4, 2, 4], Same, Softmax, [f32; 3], &[];
}

/// `Conv2DTranspose<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>` and its linear
/// twin.
macro_rules! transpose_checks {
    ($($name:ident: [$($dims:literal),*], $pad:ty, $act:ty, $bias:ty, $kinks:expr;)*) => {$(
        #[test]
        fn $name() {
            type L = Conv2DTranspose<$($dims),*, $pad, $act, $bias>;
            type Z = Conv2DTranspose<$($dims),*, $pad, Linear, $bias>;
            check::<L, Z>($kinks);
        }
    )*};
}

transpose_checks! {
    // Stride 2, `same`, odd sizes: 3x5 → 6x10.
    gradient_transpose_stride_2_same_odd_sizes: [3, 5, 3, 2, 3, 3, 2, 2, 1, 1, 6, 10], Same, Linear, [f32; 2], &[];
    // `valid`, kernel smaller than the stride: 3x4 → 9x9.
    gradient_transpose_valid_kernel_below_stride_tanh: [3, 4, 2, 3, 2, 3, 3, 2, 1, 1, 9, 9], Valid, Tanh, [f32; 3], &[];
    // `same`, even kernel, `output_padding = 1`: 3x3 → 5x5.
    gradient_transpose_same_output_padding: [3, 3, 1, 2, 4, 4, 2, 2, 1, 1, 5, 5], Same, Linear, [f32; 2], &[];
    // `valid`, `output_padding = 1`: 3x3 → 8x8.
    gradient_transpose_valid_output_padding_sigmoid: [3, 3, 2, 2, 3, 3, 2, 2, 1, 1, 8, 8], Valid, Sigmoid, [f32; 2], &[];
    // Dilation 2, `same`, no bias.
    gradient_transpose_dilated_same_no_bias: [5, 4, 2, 2, 3, 3, 1, 1, 2, 2, 5, 4], Same, Tanh, NoBias, &[];
    // 1x1, stride 3, `same`: positions that no input reaches.
    gradient_transpose_1x1_stride_3: [2, 2, 2, 1, 1, 1, 3, 3, 1, 1, 6, 6], Same, Linear, [f32; 1], &[];
    // 1x1, stride 1: the pointwise path.
    gradient_transpose_pointwise_relu: [3, 4, 3, 2, 1, 1, 1, 1, 1, 1, 3, 4], Valid, Relu, [f32; 2], &[0.0];
    // Even kernel, stride 2, `same` (crop 1).
    gradient_transpose_even_kernel_stride_2_same_elu: [3, 3, 1, 2, 4, 4, 2, 2, 1, 1, 6, 6], Same, Elu, [f32; 2], &[0.0];
    // Unequal strides, `same`.
    gradient_transpose_strides_3_1_same_silu: [3, 4, 2, 2, 2, 3, 3, 1, 1, 1, 9, 4], Same, Silu, [f32; 2], &[];
    // Softmax over the filters.
    gradient_transpose_softmax_over_filters: [3, 3, 2, 3, 2, 2, 2, 2, 1, 1, 6, 6], Valid, Softmax, [f32; 3], &[];
}

// ---------------------------------------------------------------------------------------
// A whole model
// ---------------------------------------------------------------------------------------

model! {
    /// Depthwise, separable and transposed convolutions and a dense head.
    struct EncoderDecoder: Input<6, 5, 2> {
        dw:     DepthwiseConv2D(3, padding = same, depth_multiplier = 2, activation = tanh),
        sep:    SeparableConv2D(3, 3, strides = 2, padding = same, activation = silu),
        up:     Conv2DTranspose(2, 3, strides = 2, padding = same, activation = tanh),
        flat:   Flatten,
        logits: Dense(4),
    }
}

#[test]
fn model_gradient_depthwise_separable_transpose() {
    for batch in [1, 3] {
        let mut rng = Rng::new(7 + batch as u64);
        let mut model = boxed_zeroed::<EncoderDecoder>();
        model.init_with(&mut rng);
        let mut biases = Vec::new();
        let mut offset = 0;
        model.visit_params(&mut |_, name, _, v| {
            if name == "bias" {
                biases.push(offset..offset + v.len());
            }
            offset += v.len();
        });
        for r in biases {
            for b in &mut model.flat_mut()[r] {
                *b = rng.uniform_range(-0.5, 0.5);
            }
        }
        let x: Vec<f32> = (0..batch * 60).map(|_| rng.uniform_range(-1.5, 1.5)).collect();
        let labels: Vec<u32> = (0..batch).map(|_| rng.below(4) as u32).collect();
        let report = gradcheck::model(
            &*model,
            &x,
            Targets::Sparse(&labels),
            &SparseCategoricalCrossentropy::from_logits(),
            &strict(),
        );
        assert!(report.passed(), "batch {batch}: {report}");
        assert_eq!(
            report.checked,
            EncoderDecoder::COUNT,
            "every parameter is checked"
        );
    }
}

// ---------------------------------------------------------------------------------------
// What the macro generates
// ---------------------------------------------------------------------------------------

#[test]
fn generated_types_shapes_and_summary() {
    // 6x5x2 → depthwise `same` 6x5x4 → separable stride 2 `same` 3x3x3 → transpose 6x6x2.
    let _: DepthwiseConv2D<6, 5, 2, 3, 3, 1, 1, 1, 1, 6, 5, 2, 4, Same, Tanh> = EncoderDecoder::ZERO.dw;
    let _: SeparableConv2D<6, 5, 4, 3, 3, 3, 2, 2, 1, 1, 3, 3, 1, 4, Same, Silu> = EncoderDecoder::ZERO.sep;
    let _: Conv2DTranspose<3, 3, 3, 2, 3, 3, 2, 2, 1, 1, 6, 6, Same, Tanh> = EncoderDecoder::ZERO.up;

    let kinds: Vec<(&str, &str, &[usize], usize)> = EncoderDecoder::LAYERS
        .iter()
        .map(|l| (l.name, l.kind, l.output_shape, l.params))
        .collect();
    assert_eq!(
        kinds,
        [
            ("dw", "DepthwiseConv2D", &[6, 5, 4][..], 3 * 3 * 2 * 2 + 4),
            ("sep", "SeparableConv2D", &[3, 3, 3][..], 3 * 3 * 4 + 4 * 3 + 3),
            ("up", "Conv2DTranspose", &[6, 6, 2][..], 3 * 3 * 2 * 3 + 2),
            ("flat", "Flatten", &[72][..], 0),
            ("logits", "Dense", &[4][..], 72 * 4 + 4),
        ]
    );

    let mut shapes = Vec::new();
    EncoderDecoder::ZERO
        .visit_params(&mut |layer, name, shape, _| shapes.push(format!("{layer}/{name} {shape:?}")));
    assert_eq!(
        shapes[..7],
        [
            "dw/kernel [3, 3, 2, 2]",
            "dw/bias [4]",
            "sep/depthwise_kernel [3, 3, 4, 1]",
            "sep/pointwise_kernel [1, 1, 4, 3]",
            "sep/bias [3]",
            "up/kernel [3, 3, 2, 3]",
            "up/bias [2]",
        ]
    );

    // Per-sample buffers: the depthwise layer reads its input in place (pre-activation
    // only); the separable one keeps its 3x3x4 depthwise output (and the 3x3x3
    // pre-activation); the transpose its 3x3 rows of 3*3*2 columns (and the 6x6x2
    // pre-activation).
    type Dw = DepthwiseConv2D<6, 5, 2, 3, 3, 1, 1, 1, 1, 6, 5, 2, 4, Same, Tanh>;
    assert_eq!((<Dw as Layer>::SCRATCH, <Dw as Layer>::CACHE), (0, 6 * 5 * 4));
    type Sep = SeparableConv2D<6, 5, 4, 3, 3, 3, 2, 2, 1, 1, 3, 3, 1, 4, Same, Silu>;
    assert_eq!((<Sep as Layer>::SCRATCH, <Sep as Layer>::CACHE), (36, 36 + 27));
    type Up = Conv2DTranspose<3, 3, 3, 2, 3, 3, 2, 2, 1, 1, 6, 6, Same, Tanh>;
    assert_eq!(
        (<Up as Layer>::SCRATCH, <Up as Layer>::CACHE),
        (9 * 18, 9 * 18 + 72)
    );
    type Pointwise = Conv2DTranspose<3, 4, 3, 2, 1, 1, 1, 1, 1, 1, 3, 4>;
    assert_eq!(
        (<Pointwise as Layer>::SCRATCH, <Pointwise as Layer>::CACHE),
        (0, 0)
    );

    let summary = kerust::train::summary_string::<EncoderDecoder>();
    for line in [
        "dw (DepthwiseConv2D)",
        "sep (SeparableConv2D)",
        "up (Conv2DTranspose)",
    ] {
        assert!(summary.contains(line), "{summary}");
    }
}

/// The largest magnitude and the mean square of `w`.
fn range_and_variance(w: &[f32]) -> (f32, f32) {
    let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    (max, w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32)
}

/// Glorot uniform with Keras's fans: values within `sqrt(6 / (fan_in + fan_out))`, close
/// to it at the extremes, variance `2 / (fan_in + fan_out)`.
#[track_caller]
fn assert_glorot(w: &[f32], fan_in: usize, fan_out: usize) {
    let sum = (fan_in + fan_out) as f32;
    let (max, var) = range_and_variance(w);
    let limit = (6.0 / sum).sqrt();
    assert!(max <= limit && max > 0.95 * limit, "{max} vs {limit}");
    let expected = 2.0 / sum;
    assert!((var - expected).abs() < 0.06 * expected, "{var} vs {expected}");
}

#[test]
fn keras_initialisation_with_keras_fans() {
    // Depthwise kernel (3, 3, 128, 4): compute_fans gives fan_in = 9 * 128, fan_out = 9 * 4.
    let mut dw = boxed_zeroed::<DepthwiseConv2D<3, 3, 128, 3, 3, 1, 1, 1, 1, 1, 1, 4, 512>>();
    dw.init(&mut Rng::new(1));
    assert_glorot(
        dw.kernel.as_flattened().as_flattened().as_flattened(),
        9 * 128,
        9 * 4,
    );
    assert!(dw.bias.iter().all(|&b| b == 0.0));

    // Separable: depthwise (3, 3, 64, 2) and pointwise (1, 1, 128, 32).
    let mut sep = boxed_zeroed::<SeparableConv2D<3, 3, 64, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2, 128>>();
    sep.init(&mut Rng::new(2));
    assert_glorot(
        sep.depthwise_kernel.as_flattened().as_flattened().as_flattened(),
        9 * 64,
        9 * 2,
    );
    assert_glorot(
        sep.pointwise_kernel.as_flattened().as_flattened().as_flattened(),
        128,
        32,
    );
    assert!(sep.bias.iter().all(|&b| b == 0.0));

    // Transpose kernel (3, 3, 16, 64): fan_in = 9 * 16 (filters), fan_out = 9 * 64.
    let mut up = boxed_zeroed::<Conv2DTranspose<2, 2, 64, 16, 3, 3, 1, 1, 1, 1, 4, 4>>();
    up.init(&mut Rng::new(3));
    assert_glorot(
        up.kernel.as_flattened().as_flattened().as_flattened(),
        9 * 16,
        9 * 64,
    );
    assert!(up.bias.iter().all(|&b| b == 0.0));
}
