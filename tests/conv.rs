//! `Conv2D` and `Conv1D`: forward values against Keras, finite-difference gradient checks of
//! the layers and of whole `model!` CNNs, and what the macro generates for them.
//!
//! - Forward (`keras_conv2d_*`, `keras_conv1d_*`): one-layer models declared with
//!   `model!` (so the macro's output sizes and padding are checked too), their parameters
//!   set to fixed sequences, against outputs computed by Keras 3.15.1 (JAX backend) from the
//!   same sequences; inference and training forwards, batches of 1 and 2. One layer's
//!   kernel, bias and input gradients against `jax.grad` of the Keras layer.
//! - Layers ([`gradcheck::layer`]): input, kernel and bias gradients, every coordinate:
//!   valid and same padding (odd total padding, even kernels), strides, dilations, odd sizes,
//!   1×1 kernels (with and without the pointwise shortcut), stride and dilation together,
//!   no bias, smooth and kinked activations, softmax over the filters; `Conv1D` with valid,
//!   same and causal padding.
//! - Models ([`gradcheck::model`]): every parameter of `Conv2D → … → Flatten → Dense` and
//!   `Conv1D → Conv1D → Flatten → Dense` networks under sparse categorical crossentropy on
//!   logits, batch 1 and 3.
//! - Generated code: the field types, `LAYERS` (Keras's class names), parameter shapes,
//!   Keras's initialiser.

use kerust::activations::{Elu, Gelu, Linear, Relu, Sigmoid, Silu, Softmax, Tanh};
use kerust::gradcheck::{self, Options};
use kerust::layers::{Causal, Conv1D, Conv2D, MaxPooling2D, NoBias, Same, Valid};
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

/// The kernel sequence of the Keras references, in Keras's (and our) kernel order:
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

/// A boxed model whose kernel is `seq_k` and bias (if any) `seq_b`, read through
/// `visit_params` (so the layout is the one the model reports).
fn keras_model<M: Model>() -> Box<M> {
    let mut model = boxed_zeroed::<M>();
    let mut values = Vec::new();
    model.visit_params(&mut |_, name, _, v| {
        values.extend(if name == "kernel" {
            seq_k(v.len())
        } else {
            seq_b(v.len())
        })
    });
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
/// both to `expected`.
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

/// The options of these checks: every coordinate, absolute tolerance 1e-4 (as
/// `tests/gradients.rs`).
fn strict() -> Options {
    Options {
        atol: 1e-4,
        max_per_tensor: usize::MAX,
        ..Options::default()
    }
}

/// Smallest distance kept between a kink and a pre-activation (as `tests/gradients.rs`).
const KINK_MARGIN: f32 = 0.05;

/// A layer `L` with Glorot kernel, random bias and an input of `batch` samples in
/// [-1.5, 1.5], whose pre-activations (computed by `Z`, the same layer with a linear
/// activation) are at least [`KINK_MARGIN`] from every kink and on both sides of the first.
fn conv_case<L: Layer, Z: Layer>(batch: usize, kinks: &[f32]) -> (Box<L>, Vec<f32>) {
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
        let (layer, x) = conv_case::<L, Z>(batch, kinks);
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
// Forward against Keras
// ---------------------------------------------------------------------------------------
//
// Each reference: `layer.build(...)`, `layer.set_weights([seq_k(...).reshape(kernel.shape),
// seq_b(filters)])`, `layer(seq_x(...).reshape(input))` in Keras 3.15.1 with the JAX
// backend; the float32 results in their shortest round-trip form.

model! {
    /// Stride 2, `same`: H = 5 pads one row on top and one at the bottom, W = 4 none.
    struct KerasA: Input<5, 4, 3> {
        conv: Conv2D(2, (3, 2), strides = (2, 2), padding = same),
    }
}

/// `keras.layers.Conv2D(2, (3, 2), strides=(2, 2), padding="same")` on (2, 5, 4, 3) -> (2, 3, 2, 2)
#[rustfmt::skip]
const KERAS_A: [f64; 24] = [
    -1.24375, 0.8, -1.15, -0.8875, -0.4, 0.70625,
    -1.4625, 1.01875, 0.38125, 0.64375, 0.4125, 1.55,
    0.9125, -1.04375, 1.00625, -1.5125, -1.275, -1.04375,
    1.31875, -2.35625, -0.93125, 0.76875, 0.31875, -1.575,
];

#[test]
fn keras_conv2d_stride_2_same_padding_batch_2() {
    check_keras::<KerasA>(2, &KERAS_A);
    let _: Conv2D<5, 4, 3, 2, 3, 2, 2, 2, 1, 1, 3, 2, Same> = KerasA::ZERO.conv;
}

model! {
    /// Dilation 2, `valid`, odd sizes.
    struct KerasB: Input<7, 6, 2> {
        conv: Conv2D(3, 3, padding = valid, dilation_rate = 2),
    }
}

/// `keras.layers.Conv2D(3, 3, padding="valid", dilation_rate=2)` on (1, 7, 6, 2) -> (1, 3, 2, 3)
#[rustfmt::skip]
const KERAS_B: [f64; 18] = [
    0.50625, -0.66875, -0.012499988, 2.56875, -2.60625, 2.64375,
    -0.11875, 0.70625, 1.3, -1.30625, 2.01875, 0.3,
    -1.15, -0.35625, -1.85625, 0.50625, -0.66875, -0.012499988,
];

#[test]
fn keras_conv2d_dilation_2_valid() {
    check_keras::<KerasB>(1, &KERAS_B);
    let _: Conv2D<7, 6, 2, 3, 3, 3, 1, 1, 2, 2, 3, 2, Valid> = KerasB::ZERO.conv;
}

model! {
    /// An even kernel with `same` padding: 3 padding rows, 1 on top and 2 at the bottom.
    struct KerasC: Input<5, 5, 1> {
        conv: Conv2D(2, 4, padding = same, activation = tanh, use_bias = false),
    }
}

/// `keras.layers.Conv2D(2, 4, padding="same", activation="tanh", use_bias=False)` on (1, 5, 5, 1)
/// -> (1, 5, 5, 2)
#[rustfmt::skip]
const KERAS_C: [f64; 50] = [
    0.38528392, -0.2740616, -0.59637356, 0.9051482, 0.983876, -0.9640276,
    0.24491866, -0.8866951, 0.9448294, -0.6709671, 0.8649066, -0.94808525,
    0.97802615, -0.46211717, -0.3308211, -0.65342367, -0.48633605, 0.87257004,
    -0.9448294, 0.59637356, -0.9965986, 0.95676935, -0.9448294, 0.124353,
    -0.91063815, 0.99078083, 0.2740616, 0.06241874, -0.46211717, 0.59637356,
    0.3583574, -0.8866951, 0.7193275, -0.09347629, 0.84828365, -0.95676935,
    0.8866951, -0.87982666, 0.46211717, -0.65342367, 0.5545997, -0.2740616,
    -0.5325873, 0.809301, 0.30270973, -0.41157007, -0.8568176, 0.6709671,
    -0.6709671, 0.46211717,
];

#[test]
fn keras_conv2d_even_kernel_same_padding_tanh_without_bias() {
    check_keras::<KerasC>(1, &KERAS_C);
    let _: Conv2D<5, 5, 1, 2, 4, 4, 1, 1, 1, 1, 5, 5, Same, Tanh, NoBias> = KerasC::ZERO.conv;
}

model! {
    /// Stride 2, `same`, an odd total padding of 1: all of it at the bottom and right.
    struct KerasD: Input<6, 6, 1> {
        conv: Conv2D(2, 3, strides = 2, padding = same),
    }
}

/// `keras.layers.Conv2D(2, 3, strides=2, padding="same")` on (1, 6, 6, 1) -> (1, 3, 3, 2)
#[rustfmt::skip]
const KERAS_D: [f64; 18] = [
    -0.99375, -0.23125, -0.8375, -0.3875, -0.68125, -0.91875,
    1.1625, 0.8625, -0.30625, 1.51875, -0.86875, 1.175,
    0.1, -0.73125, -0.9625, 0.20625, -0.775, 0.14375,
];

#[test]
fn keras_conv2d_stride_2_same_padding_after_only() {
    check_keras::<KerasD>(1, &KERAS_D);
    let _: KerasDConv = KerasD::ZERO.conv;
}

/// The gradients of `Σ r ⊙ y` for `y = conv(x)` with `r[i] = ((i * 3 + 1) % 7 - 3) / 4`,
/// computed by `jax.grad` through `layer.stateless_call` of the `KERAS_D` layer, for the
/// kernel, the bias and the input.
#[rustfmt::skip]
const KERAS_D_DKERNEL: [f64; 18] = [
    2.1875, -1.0, -2.4375, 1.0625, 1.6875, -2.0625,
    0.4375, -0.8125, 2.3125, 0.4375, -1.6875, 1.8125,
    -0.875, 0.5625, 1.1875, -0.3125, -1.9375, 1.0,
];
const KERAS_D_DBIAS: [f64; 2] = [-1.25, 0.25];
#[rustfmt::skip]
const KERAS_D_DX: [f64; 36] = [
    0.28125, 0.3125, 0.03125, 0.46875, -0.875, -0.46875,
    -0.3125, -0.28125, -0.625, -0.28125, 0.25, 0.375,
    -0.53125, -0.15625, 0.25, -0.15625, 0.6875, -0.15625,
    0.375, 0.375, 0.6875, 0.375, 0.25, -0.28125,
    0.5625, -0.15625, 0.25, -0.15625, -0.84375, 0.9375,
    -0.25, -0.28125, -0.625, -0.28125, -0.625, -0.28125,
];

/// `KerasD`'s layer.
type KerasDConv = Conv2D<6, 6, 1, 2, 3, 3, 2, 2, 1, 1, 3, 3, Same>;

#[test]
fn keras_conv2d_gradients_stride_2_same_padding() {
    let model = keras_model::<KerasD>();
    let conv = &model.conv;
    let x = seq_x(36);
    let mut y = vec![0.0; 18];
    let mut cache = vec![f32::NAN; <KerasDConv as Layer>::CACHE];
    conv.forward_train(&x, &mut y, &mut cache, 1, &mut Rng::new(0));
    let mut dy: Vec<f32> = (0..18).map(|i| ((i * 3 + 1) % 7) as f32 / 4.0 - 0.75).collect();
    let mut dx = vec![f32::NAN; 36];
    let mut grads = boxed_zeroed::<KerasDConv>();
    conv.backward(&x, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, 1);
    assert_close(
        grads.kernel.as_flattened().as_flattened().as_flattened(),
        &KERAS_D_DKERNEL,
        1e-6,
    );
    assert_close(&grads.bias, &KERAS_D_DBIAS, 1e-6);
    assert_close(&dx, &KERAS_D_DX, 1e-6);
}

model! {
    /// Causal padding with dilation 2: 4 zeros before the sequence.
    struct KerasE: Input<7, 2> {
        conv: Conv1D(2, 3, padding = causal, dilation_rate = 2),
    }
}

/// `keras.layers.Conv1D(2, 3, padding="causal", dilation_rate=2)` on (1, 7, 2) -> (1, 7, 2)
#[rustfmt::skip]
const KERAS_E: [f64; 14] = [
    0.06875, -0.41875, 0.225, -0.6375, 0.4125, -1.0125,
    0.0375, 0.3, 0.225, -0.10625, -1.24375, 0.425,
    -1.0875, 0.14375,
];

#[test]
fn keras_conv1d_causal_dilation_2() {
    check_keras::<KerasE>(1, &KERAS_E);
    let _: Conv1D<7, 2, 2, 3, 1, 2, 7, Causal> = KerasE::ZERO.conv;
}

model! {
    /// Stride 3, `same`, an odd total padding of 3: 1 before, 2 after.
    struct KerasF: Input<7, 2> {
        conv: Conv1D(3, 4, strides = 3, padding = same),
    }
}

/// `keras.layers.Conv1D(3, 4, strides=3, padding="same")` on (1, 7, 2) -> (1, 3, 3)
#[rustfmt::skip]
const KERAS_F: [f64; 9] = [
    0.50625, -0.45, 0.425, -0.3375, 1.01875, 0.08125001,
    0.50625, -1.1375, 0.76875,
];

#[test]
fn keras_conv1d_stride_3_same_padding() {
    check_keras::<KerasF>(1, &KERAS_F);
}

model! {
    /// Stride 2, `valid`, sigmoid.
    struct KerasG: Input<9, 2> {
        conv: Conv1D(2, 3, strides = 2, activation = sigmoid),
    }
}

/// `keras.layers.Conv1D(2, 3, strides=2, padding="valid", activation="sigmoid")` on (2, 9, 2) ->
/// (2, 4, 2)
#[rustfmt::skip]
const KERAS_G: [f64; 16] = [
    0.6091522, 0.23147522, 0.15693003, 0.6626218, 0.65982175, 0.52809536,
    0.726115, 0.38936076, 0.14109196, 0.5820635, 0.5327655, 0.3458119,
    0.6091522, 0.23147522, 0.15693003, 0.6626218,
];

#[test]
fn keras_conv1d_stride_2_valid_sigmoid_batch_2() {
    check_keras::<KerasG>(2, &KERAS_G);
    let _: Conv1D<9, 2, 2, 3, 2, 1, 4, Valid, Sigmoid> = KerasG::ZERO.conv;
}

model! {
    /// Causal padding with stride 2: 2 zeros before the sequence, ceil(8 / 2) outputs.
    struct KerasH: Input<8, 2> {
        conv: Conv1D(2, 3, strides = 2, padding = causal, activation = tanh),
    }
}

/// `keras.layers.Conv1D(2, 3, strides=2, padding="causal", activation="tanh")` on (1, 8, 2)
/// -> (1, 4, 2)
#[rustfmt::skip]
const KERAS_H: [f64; 8] = [
    0.068641886, -0.39587685, 0.416748, -0.8336546, -0.9330236, 0.5882593,
    0.5800248, 0.112027764,
];

#[test]
fn keras_conv1d_causal_stride_2_tanh() {
    check_keras::<KerasH>(1, &KERAS_H);
    let _: Conv1D<8, 2, 2, 3, 2, 1, 4, Causal, Tanh> = KerasH::ZERO.conv;
}

#[test]
fn single_sample_forward_matches_the_batched_one() {
    let model = keras_model::<KerasA>();
    let x = seq_x(2 * 60);
    let mut y = vec![0.0; 2 * 12];
    let mut scratch = vec![0.0; 2 * KerasA::SCRATCH];
    model.forward_batch(&x, &mut y, 2, &mut scratch);
    for b in 0..2 {
        let mut sample = <[[[f32; 3]; 4]; 5]>::ZERO;
        sample.as_flat_mut().copy_from_slice(&x[b * 60..(b + 1) * 60]);
        let one = model.forward(&sample);
        assert_eq!(one.as_flat(), &y[b * 12..(b + 1) * 12]);
    }
}

// ---------------------------------------------------------------------------------------
// Layer gradients
// ---------------------------------------------------------------------------------------

/// `Conv2D<H, W, C, F, KH, KW, SH, SW, DH, DW, OH, OW, P, A, B>` and its linear twin.
macro_rules! conv2d_checks {
    ($($name:ident: [$($dims:literal),*], $pad:ty, $act:ty, $bias:ty, $kinks:expr;)*) => {$(
        #[test]
        fn $name() {
            type L = Conv2D<$($dims),*, $pad, $act, $bias>;
            type Z = Conv2D<$($dims),*, $pad, Linear, $bias>;
            check::<L, Z>($kinks);
        }
    )*};
}

conv2d_checks! {
    // 5x5x2 → 3x3x3
    gradient_conv2d_valid_3x3: [5, 5, 2, 3, 3, 3, 1, 1, 1, 1, 3, 3], Valid, Linear, [f32; 3], &[];
    // Odd sizes, 2x3 kernel, `same`: total padding 1 row (after) and 2 columns (1 + 1).
    gradient_conv2d_same_odd_sizes_tanh: [4, 5, 2, 2, 2, 3, 1, 1, 1, 1, 4, 5], Same, Tanh, [f32; 2], &[];
    // Stride 2, `same`, padding 1 on top and bottom (H = 5) and 1 after only (W = 6).
    gradient_conv2d_stride_2_same_sigmoid: [5, 6, 2, 3, 3, 3, 2, 2, 1, 1, 3, 3], Same, Sigmoid, [f32; 3], &[];
    // Stride 2, `valid`, windows that leave the last row and column unread.
    gradient_conv2d_stride_2_valid_relu: [6, 6, 1, 2, 3, 3, 2, 2, 1, 1, 2, 2], Valid, Relu, [f32; 2], &[0.0];
    // Unequal strides.
    gradient_conv2d_strides_3_1_same_elu: [7, 4, 2, 2, 3, 2, 3, 1, 1, 1, 3, 4], Same, Elu, [f32; 2], &[0.0];
    // Dilation 2, `valid` and `same`.
    gradient_conv2d_dilation_2_valid: [7, 6, 2, 3, 3, 3, 1, 1, 2, 2, 3, 2], Valid, Linear, [f32; 3], &[];
    gradient_conv2d_dilation_2_same_gelu: [5, 5, 1, 2, 3, 3, 1, 1, 2, 2, 5, 5], Same, Gelu, [f32; 2], &[];
    // Unequal dilations.
    gradient_conv2d_dilation_1_3_same_silu: [4, 7, 2, 2, 2, 2, 1, 1, 1, 3, 4, 7], Same, Silu, [f32; 2], &[];
    // An even kernel with `same`: 1 row and column before, 2 after.
    gradient_conv2d_even_kernel_same_no_bias: [5, 5, 2, 2, 4, 4, 1, 1, 1, 1, 5, 5], Same, Tanh, NoBias, &[];
    // 1x1 kernel, stride 1: the pointwise shortcut (no patches).
    gradient_conv2d_pointwise: [3, 4, 3, 2, 1, 1, 1, 1, 1, 1, 3, 4], Valid, Linear, [f32; 2], &[];
    gradient_conv2d_pointwise_same_relu: [3, 4, 3, 2, 1, 1, 1, 1, 1, 1, 3, 4], Same, Relu, [f32; 2], &[0.0];
    // 1x1 kernel with stride 2: patches again.
    gradient_conv2d_1x1_stride_2: [5, 4, 2, 3, 1, 1, 2, 2, 1, 1, 3, 2], Valid, Linear, [f32; 3], &[];
    // Softmax over the filters at each position.
    gradient_conv2d_softmax_over_filters: [4, 4, 2, 3, 2, 2, 1, 1, 1, 1, 4, 4], Same, Softmax, [f32; 3], &[];
    // The kernel covers the whole input: one output position.
    gradient_conv2d_kernel_as_large_as_input: [3, 2, 2, 4, 3, 2, 1, 1, 1, 1, 1, 1], Valid, Tanh, [f32; 4], &[];
    // Strides and dilations together: `model!` rejects it as Keras does, the type computes it.
    gradient_conv2d_stride_and_dilation_together: [7, 7, 1, 2, 3, 3, 2, 2, 2, 2, 4, 4], Same, Linear, [f32; 2], &[];
}

/// `Conv1D<L, C, F, K, S, D, OL, P, A, B>` and its linear twin.
macro_rules! conv1d_checks {
    ($($name:ident: [$($dims:literal),*], $pad:ty, $act:ty, $bias:ty, $kinks:expr;)*) => {$(
        #[test]
        fn $name() {
            type L = Conv1D<$($dims),*, $pad, $act, $bias>;
            type Z = Conv1D<$($dims),*, $pad, Linear, $bias>;
            check::<L, Z>($kinks);
        }
    )*};
}

conv1d_checks! {
    gradient_conv1d_valid: [9, 2, 3, 3, 1, 1, 7], Valid, Linear, [f32; 3], &[];
    gradient_conv1d_valid_stride_2_tanh: [9, 2, 2, 3, 2, 1, 4], Valid, Tanh, [f32; 2], &[];
    gradient_conv1d_same_stride_3_odd_padding: [7, 2, 3, 4, 3, 1, 3], Same, Sigmoid, [f32; 3], &[];
    gradient_conv1d_same_dilation_2_relu: [8, 3, 2, 3, 1, 2, 8], Same, Relu, [f32; 2], &[0.0];
    gradient_conv1d_causal_dilation_2: [7, 2, 2, 3, 1, 2, 7], Causal, Linear, [f32; 2], &[];
    gradient_conv1d_causal_stride_2_no_bias: [8, 2, 3, 2, 2, 1, 4], Causal, Gelu, NoBias, &[];
    gradient_conv1d_pointwise: [5, 3, 2, 1, 1, 1, 5], Valid, Silu, [f32; 2], &[];
}

#[test]
fn causal_outputs_do_not_depend_on_later_inputs() {
    type L = Conv1D<8, 2, 3, 3, 1, 2, 8, Causal, Tanh>;
    let mut layer = boxed_zeroed::<L>();
    layer.init(&mut Rng::new(1));
    let x = seq_x(16);
    let run = |x: &[f32]| {
        let mut y = vec![0.0; 24];
        let mut scratch = vec![0.0; L::SCRATCH];
        layer.forward(x, &mut y, &mut scratch, 1);
        y
    };
    let y = run(&x);
    for t in 0..8 {
        // Change every input from step t on: outputs before t stay the same.
        let mut changed = x.clone();
        changed[2 * t..].iter_mut().for_each(|v| *v += 1.0);
        let z = run(&changed);
        assert_eq!(y[..3 * t], z[..3 * t], "step {t}");
        assert_ne!(y[3 * t..3 * t + 3], z[3 * t..3 * t + 3], "step {t}");
    }
}

// ---------------------------------------------------------------------------------------
// Whole models
// ---------------------------------------------------------------------------------------

model! {
    /// A small CNN: convolution, flatten, dense logits.
    struct SmallCnn: Input<6, 5, 2> {
        conv: Conv2D(4, 3, strides = 2, padding = same, activation = tanh),
        flat: Flatten,
        logits: Dense(5),
    }
}

model! {
    /// Two convolutions (dilated, then strided) and a dense head.
    struct DeeperCnn: Input<7, 7, 1> {
        conv1: Conv2D(3, (3, 2), padding = same, dilation_rate = 2, activation = gelu),
        conv2: Conv2D(4, 2, strides = (2, 3), activation = silu, use_bias = false),
        flat:  Flatten,
        hidden: Dense(6, activation = tanh),
        logits: Dense(4),
    }
}

model! {
    /// Causal and strided 1-D convolutions and a dense head.
    struct SequenceNet: Input<9, 2> {
        causal: Conv1D(4, 3, padding = causal, dilation_rate = 2, activation = tanh),
        down:   Conv1D(3, 2, strides = 2, padding = same, activation = elu),
        flat:   Flatten,
        logits: Dense(3),
    }
}

/// Gradient-checks every parameter of `M` under sparse categorical crossentropy on logits,
/// with random biases, batches of 1 and 3.
#[track_caller]
fn check_model<M: Model>(classes: usize) {
    for batch in [1, 3] {
        let mut rng = Rng::new(7 + batch as u64);
        let mut model = boxed_zeroed::<M>();
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
        let x: Vec<f32> = (0..batch * <M::Input as Shape>::LEN)
            .map(|_| rng.uniform_range(-1.5, 1.5))
            .collect();
        let labels: Vec<u32> = (0..batch).map(|_| rng.below(classes as u64) as u32).collect();
        let report = gradcheck::model(
            &*model,
            &x,
            Targets::Sparse(&labels),
            &SparseCategoricalCrossentropy::from_logits(),
            &strict(),
        );
        assert!(report.passed(), "{} (batch {batch}): {report}", M::NAME);
        assert_eq!(report.checked, M::COUNT, "every parameter is checked");
    }
}

#[test]
fn model_gradient_conv2d_flatten_dense() {
    check_model::<SmallCnn>(5);
}

#[test]
fn model_gradient_two_conv2d_layers() {
    check_model::<DeeperCnn>(4);
}

#[test]
fn model_gradient_conv1d_layers() {
    check_model::<SequenceNet>(3);
}

// ---------------------------------------------------------------------------------------
// What the macro generates
// ---------------------------------------------------------------------------------------

#[test]
fn generated_types_shapes_and_summary() {
    // Conv2D(4, 3, strides=2, padding="same") on 6x5x2: ceil(6/2) x ceil(5/2) = 3x3.
    let _: Conv2D<6, 5, 2, 4, 3, 3, 2, 2, 1, 1, 3, 3, Same, Tanh> = SmallCnn::ZERO.conv;
    // Dilated `same` keeps 7x7; then a 2x2 kernel with strides (2, 3), valid: 3x2.
    let _: Conv2D<7, 7, 1, 3, 3, 2, 1, 1, 2, 2, 7, 7, Same, Gelu> = DeeperCnn::ZERO.conv1;
    let _: Conv2D<7, 7, 3, 4, 2, 2, 2, 3, 1, 1, 3, 2, Valid, Silu, NoBias> = DeeperCnn::ZERO.conv2;
    let _: Conv1D<9, 2, 4, 3, 1, 2, 9, Causal, Tanh> = SequenceNet::ZERO.causal;
    let _: Conv1D<9, 4, 3, 2, 2, 1, 5, Same, Elu> = SequenceNet::ZERO.down;

    let kinds: Vec<(&str, &str, &[usize], usize)> = DeeperCnn::LAYERS
        .iter()
        .map(|l| (l.name, l.kind, l.output_shape, l.params))
        .collect();
    assert_eq!(
        kinds,
        [
            ("conv1", "Conv2D", &[7, 7, 3][..], 3 * 2 * 3 + 3),
            ("conv2", "Conv2D", &[3, 2, 4][..], 2 * 2 * 3 * 4),
            ("flat", "Flatten", &[24][..], 0),
            ("hidden", "Dense", &[6][..], 24 * 6 + 6),
            ("logits", "Dense", &[4][..], 6 * 4 + 4),
        ]
    );
    assert_eq!(SequenceNet::LAYERS[0].kind, "Conv1D");

    // Per-sample buffers: the 3x3 positions' patches of 3*3*2 values (`same` padding: the
    // windows reach into it, so `im2col` copies them out), and the pre-activation (3x3x4)
    // when the activation is neither linear nor ReLU (whose gradient comes from the
    // output); none for a pointwise convolution with a linear activation.
    type Conv = Conv2D<6, 5, 2, 4, 3, 3, 2, 2, 1, 1, 3, 3, Same, Tanh>;
    assert_eq!(<Conv as Layer>::SCRATCH, 9 * 18);
    assert_eq!(<Conv as Layer>::CACHE, 9 * 18 + 9 * 4);
    type Pointwise<A> = Conv2D<3, 4, 3, 2, 1, 1, 1, 1, 1, 1, 3, 4, Valid, A>;
    assert_eq!(<Pointwise<Linear> as Layer>::SCRATCH, 0);
    assert_eq!(<Pointwise<Linear> as Layer>::CACHE, 0);
    assert_eq!(<Pointwise<Relu> as Layer>::CACHE, 0);
    assert_eq!(<Pointwise<Tanh> as Layer>::CACHE, 12 * 2);
    // `valid`: every window is inside the input, so inference reads the patches in place
    // (no scratch); training keeps room for the patches' gradients.
    type ValidConv = Conv2D<6, 5, 2, 4, 3, 3, 1, 1, 1, 1, 4, 3, Valid, Relu>;
    assert_eq!(<ValidConv as Layer>::SCRATCH, 0);
    assert_eq!(<ValidConv as Layer>::CACHE, 12 * 18);

    let mut shapes = Vec::new();
    SmallCnn::ZERO.visit_params(&mut |layer, name, shape, _| {
        shapes.push((layer.to_string(), name.to_string(), shape.to_vec()))
    });
    assert_eq!(
        shapes,
        [
            ("conv".into(), "kernel".into(), vec![3, 3, 2, 4]),
            ("conv".into(), "bias".into(), vec![4]),
            ("logits".into(), "kernel".into(), vec![36, 5]),
            ("logits".into(), "bias".into(), vec![5]),
        ]
    );
    let summary = kerust::train::summary_string::<DeeperCnn>();
    assert!(summary.contains("conv1 (Conv2D)"), "{summary}");
}

#[test]
fn keras_initialisation_glorot_uniform_over_the_receptive_field() {
    let model = DeeperCnn::new(3);
    // conv1: kernel (3, 2, 1, 3): fan_in = 3*2*1 = 6, fan_out = 3*2*3 = 18.
    let limit = (6.0f32 / (6.0 + 18.0)).sqrt();
    let k = model.conv1.kernel.as_flattened().as_flattened().as_flattened();
    assert!(k.iter().all(|v| v.abs() <= limit) && k.iter().any(|v| v.abs() > 0.8 * limit));
    assert!(model.conv1.bias.iter().all(|&b| b == 0.0));
    // A larger kernel for the variance: (3, 3, 16, 32), Var = limit² / 3 = 2 / (fan_in + fan_out).
    let mut big = boxed_zeroed::<Conv2D<5, 5, 16, 32, 3, 3, 1, 1, 1, 1, 3, 3>>();
    big.init(&mut Rng::new(9));
    let w = big.kernel.as_flattened().as_flattened().as_flattened();
    let var = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
    let expected = 2.0 / (9.0 * 16.0 + 9.0 * 32.0);
    assert!((var - expected).abs() < 0.05 * expected, "{var} vs {expected}");
}

model! {
    /// Every kind of layer `backward_fresh` treats: convolutions (gathered `valid` patches and
    /// `same` ones through `im2col`), Conv1D, Dense with ReLU and with tanh, pooling,
    /// normalisation (the default: zero, then add).
    struct FreshNet: Input<9, 8, 2> {
        c1: Conv2D(4, 3, activation = relu),
        c2: Conv2D(5, (2, 3), padding = same, activation = tanh),
        bn: BatchNormalization(),
        pool: MaxPooling2D(2),
        r: Reshape((9, 5)),
        seq: Conv1D(3, 2, activation = relu),
        flat: Flatten,
        hidden: Dense(7, activation = relu),
        mid: Dense(6, activation = tanh),
        out: Dense(3),
    }
}

model! {
    /// ReLU layers followed by max pooling, whose backward applies the ReLU's gradient
    /// (disjoint windows, 2-D and 1-D), and by pooling that cannot (overlapping windows).
    struct FusedNet: Input<12, 10, 2> {
        c1: Conv2D(4, 3, activation = relu),
        p1: MaxPooling2D(2),
        c2: Conv2D(6, (2, 1), activation = relu),
        p2: MaxPooling2D(2, strides = 1),
        r: Reshape((9, 6)),
        c3: Conv1D(5, 1, activation = relu),
        p3: MaxPooling1D(2),
        flat: Flatten,
        out: Dense(3),
    }
}

/// `backward_fresh` (which the trainer runs) against zeroed gradients added to by
/// `backward`: the same bits.
fn check_fresh_gradients<M: Model + Params>(model: &M, seed: u64) {
    let batch = 4;
    let mut rng = Rng::new(seed + 2);
    let x: Vec<f32> = (0..batch * M::Input::LEN)
        .map(|_| rng.uniform_range(-1.0, 1.0))
        .collect();
    let dy: Vec<f32> = (0..batch * M::Output::LEN)
        .map(|_| rng.uniform_range(-1.0, 1.0))
        .collect();
    let run = |fresh: bool| {
        let mut ws = vec![f32::NAN; batch * M::WORKSPACE];
        model.forward_train(&x, batch, &mut ws, &mut Rng::new(0));
        let mut grads = boxed_zeroed::<M>();
        let mut dy = dy.clone();
        if fresh {
            grads.flat_mut().fill(f32::NAN);
            model.backward_fresh(&x, batch, &mut ws, &mut dy, &mut grads);
        } else {
            model.backward(&x, batch, &mut ws, &mut dy, &mut grads);
        }
        grads.flat().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    };
    let (added, fresh) = (run(false), run(true));
    assert!(fresh.iter().all(|&b| !f32::from_bits(b).is_nan()));
    assert!(added.iter().filter(|&&b| b != 0).count() > <M as Params>::COUNT / 2);
    assert_eq!(added, fresh);
}

#[test]
fn fresh_gradients_are_the_bits_of_zeroed_ones_added_to() {
    check_fresh_gradients(&*FreshNet::new(3), 3);
}

#[test]
fn relu_gradients_applied_by_max_pooling_keep_the_bits() {
    // The fused pairs are in place, and the overlapping pooling keeps the separate pass.
    const {
        assert!(<MaxPooling2D<10, 8, 4, 2, 2, 2, 2, 0, 0, 5, 4> as Layer>::MASKS_RELU_INPUT);
        assert!(!<MaxPooling2D<4, 4, 6, 2, 2, 1, 1, 0, 0, 3, 3> as Layer>::MASKS_RELU_INPUT);
    }
    for seed in [3, 4, 5] {
        check_fresh_gradients(&*FusedNet::new(seed), seed);
    }
}

model! {
    /// Convolutions whose outputs max pooling reads in part: an odd row left out, windows
    /// with gaps between them, a ReLU and a tanh.
    struct PooledNet: Input<15, 14, 3> {
        c1: Conv2D(8, 3, activation = relu),
        p1: MaxPooling2D(2),
        c2: Conv2D(16, 2, activation = tanh),
        p2: MaxPooling2D(2, strides = 3),
        flat: Flatten,
        out: Dense(4),
    }
}

model! {
    /// Pairs the computed-in-full path takes: a padded convolution, overlapping windows,
    /// padded windows after a layer other than a convolution, and a pooling after dropout.
    struct PooledFallbacks: Input<9, 8, 2> {
        c1: Conv2D(4, 3, padding = same, activation = relu),
        p1: MaxPooling2D(2),
        c2: Conv2D(5, 2, activation = relu),
        p2: MaxPooling2D(2, strides = 1),
        bn: BatchNormalization(),
        p3: MaxPooling2D(2, padding = same),
        drop: Dropout(0.5),
        p4: MaxPooling2D(1),
        flat: Flatten,
        out: Dense(3),
    }
}

model! {
    /// A pooling as the last layer: the pair writes the model's output.
    struct PooledLast: Input<7, 6, 2> {
        c: Conv2D(3, 2, activation = relu),
        p: MaxPooling2D(2),
    }
}

model! {
    /// Two poolings in a row after a convolution (the second runs on its own), and two
    /// poolings first.
    struct PooledTwice: Input<12, 10, 2> {
        c: Conv2D(3, 3, activation = relu),
        p1: MaxPooling2D(2),
        p2: MaxPooling2D(2),
        flat: Flatten,
        out: Dense(2),
    }
}

model! {
    /// Poolings only, then a dense layer.
    struct PoolsFirst: Input<8, 8, 2> {
        p1: MaxPooling2D(2),
        p2: MaxPooling2D(2),
        flat: Flatten,
        out: Dense(2),
    }
}

/// One layer's inference forward, on its own.
pub(crate) fn layer_forward<L: Layer>(layer: &L, x: &[f32], batch: usize) -> Vec<f32> {
    let mut y = vec![f32::NAN; batch * <L::Output as Shape>::LEN];
    let mut scratch = vec![0.0; batch * L::SCRATCH];
    layer.forward(x, &mut y, &mut scratch, batch);
    y
}

/// A model with random biases and moving statistics, and `batch` random inputs.
fn pooled_case<M: Model>(seed: u64, batch: usize) -> (Box<M>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let mut model = boxed_zeroed::<M>();
    model.init_with(&mut rng);
    for v in model.flat_mut() {
        if *v == 0.0 || *v == 1.0 {
            *v = rng.uniform_range(0.2, 1.0);
        }
    }
    let x = (0..batch * <M::Input as Shape>::LEN)
        .map(|_| rng.uniform_range(-1.5, 1.5))
        .collect();
    (model, x)
}

/// The model's inference forward, with exactly the scratch it declares.
pub(crate) fn model_forward<M: Model>(model: &M, x: &[f32], batch: usize) -> Vec<f32> {
    let mut y = vec![f32::NAN; batch * <M::Output as Shape>::LEN];
    let mut scratch = vec![f32::NAN; batch * M::SCRATCH];
    model.forward_batch(x, &mut y, batch, &mut scratch);
    y
}

/// The values' bit patterns, to compare results exactly (NaNs included).
pub(crate) fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A layer followed by `MaxPooling2D` runs as one step at inference
/// (`Layer::forward_max_pooled`); a convolution then computes only the positions the
/// windows cover. The outputs keep the bits of the layers run one by one.
#[test]
fn pooled_inference_steps_keep_the_bits_of_the_layers() {
    for (seed, batch) in [(1, 1), (2, 3), (3, 7)] {
        let (m, x) = pooled_case::<PooledNet>(seed, batch);
        let h = layer_forward(&m.c1, &x, batch);
        assert!(h.contains(&0.0), "the ReLU gives ties at zero");
        let h = layer_forward(&m.p1, &h, batch);
        let h = layer_forward(&m.c2, &h, batch);
        let h = layer_forward(&m.p2, &h, batch);
        let want = layer_forward(&m.out, &h, batch);
        assert_eq!(
            bits(&model_forward(&*m, &x, batch)),
            bits(&want),
            "PooledNet batch {batch}"
        );

        let (m, x) = pooled_case::<PooledFallbacks>(seed, batch);
        let h = layer_forward(&m.c1, &x, batch);
        let h = layer_forward(&m.p1, &h, batch);
        let h = layer_forward(&m.c2, &h, batch);
        let h = layer_forward(&m.p2, &h, batch);
        let h = layer_forward(&m.bn, &h, batch);
        let h = layer_forward(&m.p3, &h, batch);
        let h = layer_forward(&m.p4, &h, batch);
        let want = layer_forward(&m.out, &h, batch);
        assert_eq!(
            bits(&model_forward(&*m, &x, batch)),
            bits(&want),
            "PooledFallbacks batch {batch}"
        );

        let (m, x) = pooled_case::<PooledTwice>(seed, batch);
        let h = layer_forward(&m.c, &x, batch);
        let h = layer_forward(&m.p1, &h, batch);
        let h = layer_forward(&m.p2, &h, batch);
        let want = layer_forward(&m.out, &h, batch);
        assert_eq!(
            bits(&model_forward(&*m, &x, batch)),
            bits(&want),
            "PooledTwice batch {batch}"
        );

        let (m, x) = pooled_case::<PoolsFirst>(seed, batch);
        let h = layer_forward(&m.p1, &x, batch);
        let h = layer_forward(&m.p2, &h, batch);
        let want = layer_forward(&m.out, &h, batch);
        assert_eq!(
            bits(&model_forward(&*m, &x, batch)),
            bits(&want),
            "PoolsFirst batch {batch}"
        );

        let (m, x) = pooled_case::<PooledLast>(seed, batch);
        let h = layer_forward(&m.c, &x, batch);
        let want = layer_forward(&m.p, &h, batch);
        assert_eq!(
            bits(&model_forward(&*m, &x, batch)),
            bits(&want),
            "PooledLast batch {batch}"
        );
    }
}

/// `Conv2D::forward_max_pooled` on its own: the bits of `forward` then the pooling, for
/// whole windows (some positions left out), windows with gaps, a non-ReLU activation, a
/// shallow convolution pooled as it is computed (ReLU and none), and NaN and infinite
/// inputs (a NaN spreads to every position whose window reads it).
#[test]
fn a_convolution_pools_its_output_with_the_bits_of_the_pooling_layer() {
    type C1 = Conv2D<9, 11, 3, 20, 2, 3, 1, 1, 1, 1, 8, 9, Valid, Relu>;
    type P1 = MaxPooling2D<8, 9, 20, 2, 2, 2, 2, 0, 0, 4, 4>;
    type C2 = Conv2D<9, 11, 3, 17, 3, 2, 2, 1, 1, 1, 4, 10, Valid, Elu>;
    type P2 = MaxPooling2D<4, 10, 17, 1, 2, 2, 3, 0, 0, 2, 3>;
    // Over one channel: shallow enough to be pooled as it is computed.
    type C3 = Conv2D<10, 9, 1, 24, 3, 3, 1, 1, 1, 1, 8, 7, Valid, Relu>;
    type C4 = Conv2D<10, 9, 1, 24, 3, 3, 1, 1, 1, 1, 8, 7, Valid, Linear>;
    type P3 = MaxPooling2D<8, 7, 24, 2, 2, 2, 2, 0, 0, 4, 3>;
    fn check<C: Layer, P: Layer>(windows: &kerust::layers::MaxPoolWindows, specials: bool) -> Vec<f32> {
        let batch = 3;
        let mut rng = Rng::new(9);
        let mut conv = boxed_zeroed::<C>();
        conv.init(&mut rng);
        let mut x: Vec<f32> = (0..batch * <C::Input as Shape>::LEN)
            .map(|_| rng.uniform_range(-1.0, 1.0))
            .collect();
        if specials {
            x[5] = f32::NAN;
            x[40] = -f32::NAN;
            x[41] = f32::NAN;
            x[70] = f32::INFINITY;
            x[100] = f32::NEG_INFINITY;
        }
        let want = layer_forward(&*boxed_zeroed::<P>(), &layer_forward(&*conv, &x, batch), batch);
        let mut y = vec![0.0; want.len()];
        let mut scratch = vec![f32::NAN; batch * (<C::Output as Shape>::LEN + C::SCRATCH)];
        conv.forward_max_pooled(windows, &x, &mut y, &mut scratch, batch);
        assert_eq!(bits(&y), bits(&want));
        // The special values reach the pooled output.
        assert_eq!(specials, y.iter().any(|v| !v.is_finite()));
        y
    }
    for specials in [false, true] {
        check::<C1, P1>(&P1::WINDOWS, specials);
        check::<C3, P3>(&P3::WINDOWS, specials);
        assert_eq!(
            specials,
            check::<C4, P3>(&P3::WINDOWS, specials).iter().any(|v| v.is_nan())
        );
        let y = check::<C2, P2>(&P2::WINDOWS, specials);
        // ReLU turns NaN into 0, ELU keeps it: the windows' NaN path ran.
        assert_eq!(specials, y.iter().any(|v| v.is_nan()));
    }
}
