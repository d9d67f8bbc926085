//! Pooling, padding, cropping and up-sampling layers.
//!
//! - Forward values and input gradients against Keras 3.15 (JAX backend), exported once as
//!   literals: every layer, `valid` and `same` padding with odd sizes (the odd padded row or
//!   column goes at the bottom / right), pools larger than the input and strides larger than
//!   the pool, batches of two, `keepdims`, every `padding` / `cropping` form, nearest and
//!   bilinear up-sampling. Inputs are `input(n)`, `dy` is `weights(n)`, as in the Python
//!   export (`x = ((i * 37 + 11) % 211) * 0.25 - 26`, `r = ((i * 13 + 5) % 17) * 0.125 - 1`
//!   over the flat index `i`, in `float32`).
//! - Keras's details, each a literal from Keras: average pooling with `same` padding
//!   averages over the input cells only; max pooling with `same` padding pads with `-inf`;
//!   a max-pooling window sends its gradient to its first maximum in row-major order, while
//!   global max pooling shares it equally between tied maxima; a NaN in a window gives NaN.
//! - Finite-difference checks ([`gradcheck::layer`]) of every layer, batch 1 and 3, on
//!   inputs whose values are at least 0.05 apart, so no max-pooling winner changes under a
//!   step of `eps = 1e-2`.
//! - `model!` networks made of these layers, every parameter checked by
//!   [`gradcheck::model`], with inputs whose max-pooling windows have clear winners.

use kerust::gradcheck::{self, Options, Report};
use kerust::layers::{
    AveragePooling1D, AveragePooling2D, Bilinear, Cropping2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D, UpSampling2D, ZeroPadding2D,
};
use kerust::losses::{MeanSquaredError, Targets};
use kerust::params::boxed_zeroed;
use kerust::{model, Layer, Model, Rng, Shape};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The inputs of the Keras export: `((i * 37 + 11) % 211) * 0.25 - 26`, all different for
/// fewer than 211 values.
fn input(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 37 + 11) % 211) as f32 * 0.25 - 26.0)
        .collect()
}

/// `-|v| - 1`: only negative values.
fn negative(v: Vec<f32>) -> Vec<f32> {
    v.into_iter().map(|x| -x.abs() - 1.0).collect()
}

/// The output gradients of the Keras export: `((i * 13 + 5) % 17) * 0.125 - 1`.
fn weights(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 13 + 5) % 17) as f32 * 0.125 - 1.0).collect()
}

#[track_caller]
fn assert_close(what: &str, actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
            "{what}[{i}]: got {a}, Keras gives {e}\n  got:   {actual:?}\n  Keras: {expected:?}"
        );
    }
}

/// Runs `layer` on `batch` samples `x` and compares with Keras's `y`, then the input
/// gradient for `dy = weights(..)` with Keras's `dx`. The inference and training forward
/// passes must agree exactly, and the backward pass must write every input gradient.
#[track_caller]
fn check_against_keras<L: Layer>(layer: &L, x: &[f32], batch: usize, y: &[f32], dx: &[f32]) {
    let (in_len, out_len) = (<L::Input as Shape>::LEN, <L::Output as Shape>::LEN);
    assert_eq!(x.len(), batch * in_len, "input length");
    assert_eq!(y.len(), batch * out_len, "Keras's output length");
    let name = std::any::type_name::<L>();

    let mut out = vec![f32::NAN; batch * out_len];
    layer.forward(x, &mut out, &mut vec![0.0; batch * L::SCRATCH], batch);
    assert_close(&format!("{name} forward"), &out, y);

    let mut train = vec![f32::NAN; batch * out_len];
    let mut cache = vec![f32::NAN; batch * L::CACHE];
    layer.forward_train(x, &mut train, &mut cache, batch, &mut Rng::new(0));
    assert_eq!(
        train.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        "{name}: training and inference forward differ"
    );

    let mut dy = weights(batch * out_len);
    let mut grad = vec![f32::NAN; x.len()];
    let mut grads = boxed_zeroed::<L>();
    layer.backward(x, &train, &mut cache, &mut dy, Some(&mut grad), &mut grads, batch);
    assert_close(&format!("{name} backward"), &grad, dx);
}

/// The options of the finite-difference checks, as in `gradients.rs`: every coordinate,
/// `eps = 1e-2`, `rtol = 2e-2`, `atol = 1e-4`.
fn strict() -> Options {
    Options {
        atol: 1e-4,
        max_per_tensor: usize::MAX,
        ..Options::default()
    }
}

#[track_caller]
fn assert_passed(report: &Report, what: &str) {
    assert!(report.passed(), "{what}: gradient check failed: {report}");
}

// ---------------------------------------------------------------------------------------
// Against Keras
// ---------------------------------------------------------------------------------------

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=2, padding="same")(x)`,
/// `x` of shape (2, 5, 5, 2), `y` of shape (2, 3, 3, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_same_odd_size() {
    let layer = MaxPooling2D::<5, 5, 2, 2, 2, 2, 2, 0, 0, 3, 3>::new();
    let y = [
        16.5, 25.75, 19.25, 23.0, -2.0, 7.25, 22.0, 18.25, 6.25, 15.5, 24.75, 21.0, -4.0, 5.25, 14.5, 23.75,
        -1.25, 8.0, 22.75, 26.5, 20.0, 16.25, 25.5, -5.0, 9.75, 19.0, 15.25, 24.5, 12.5, 21.75, 18.0, -7.0,
        20.75, 11.5, -13.5, -4.25,
    ];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, -0.25, -0.75, -0.375, -0.875, 0.0, 0.0, 0.0, 0.0, 0.75, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.875, 0.0, 0.0, 0.0, -0.125, -0.625, 1.0, 0.0, 0.0, 0.0, 0.0, 0.375, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, -0.5, -1.0, 0.625, 0.0, 0.0, 0.125, -0.375, 0.0, 0.75, 0.0, 0.0,
        0.0, 0.0, 0.25, 0.0, 0.0, 0.875, 0.0, 0.0, -0.875, 0.0, 0.0, 0.0, 0.0, -0.25, -0.75, 0.0, 0.0, 0.0,
        0.375, -0.125, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, -0.625, 1.0, 0.0, 0.0, 0.0, 0.0,
        -0.5, 0.0, 0.0, -1.0, 0.0, 0.125, 0.625, 0.0, -0.375, -0.875,
    ];
    check_against_keras(&layer, &input(100), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=(4, 3), strides=(1, 2), padding="same")(x)`,
/// `x` of shape (1, 4, 5, 1), `y` of shape (1, 4, 3, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_same_pads_before_and_after() {
    let layer = MaxPooling2D::<4, 5, 1, 4, 3, 1, 2, 1, 1, 4, 3>::new();
    let y = [
        25.75, 25.75, 13.75, 25.75, 25.75, 13.75, 25.75, 25.75, 7.25, 25.75, 25.75, 0.75,
    ];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.125, 0.0, 0.375, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0,
        0.0,
    ];
    check_against_keras(&layer, &input(20), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=(3, 2), strides=(2, 1))(x)`,
/// `x` of shape (1, 6, 5, 2), `y` of shape (1, 2, 4, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_valid_overlapping() {
    let layer = MaxPooling2D::<6, 5, 2, 3, 2, 2, 1, 0, 0, 2, 4>::new();
    let y = [
        22.0, 25.75, 22.0, 23.0, 19.25, 23.0, 24.75, 15.5, 22.0, 18.25, 22.0, 23.75, 14.5, 23.75, 24.75, 21.0,
    ];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0, -0.875, 0.0, 0.0, 0.0, 0.0, -0.25, 0.0, 0.0,
        0.0, 0.0, 0.0, 1.25, 0.0, 0.0, 0.0, 0.0, 0.375, -0.125, 0.0, 0.0, 0.0, 0.0, -0.625, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.625, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0,
    ];
    check_against_keras(&layer, &input(60), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=2, padding="same")(x)`,
/// `x` of shape (1, 3, 3, 1), `y` of shape (1, 2, 2, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_same_pads_with_minus_infinity() {
    let layer = MaxPooling2D::<3, 3, 1, 2, 2, 2, 2, 0, 0, 2, 2>::new();
    let y = [-5.5, -5.75, -12.25, -3.0];
    let dx = [0.0, 0.0, -0.875, -0.375, 0.0, 0.0, 0.0, 0.75, 0.25];
    check_against_keras(&layer, &negative(input(9)), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling1D(pool_size=3, strides=2, padding="same")(x)`,
/// `x` of shape (2, 7, 3), `y` of shape (2, 4, 3); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_1d_same() {
    let layer = MaxPooling1D::<7, 3, 3, 2, 1, 4>::new();
    let y = [
        4.5, 13.75, 23.0, 7.25, 16.5, 25.75, 10.0, 19.25, 25.75, 10.0, 19.25, 3.5, 12.75, 22.0, 6.25, 15.5,
        24.75, 9.0, 18.25, 2.5, 11.75, 21.0, 2.5, 11.75,
    ];
    let dx = [
        0.0, 0.0, 0.0, -0.375, -0.875, 0.75, 0.0, 0.0, 0.0, 0.25, -0.25, -0.875, 0.0, 0.0, 0.0, 0.25, 1.375,
        0.0, 0.0, 0.0, 0.5, 0.0, -0.5, 0.0, 0.0, 0.0, -1.0, 0.625, 0.125, 0.0, 0.0, 0.0, -0.375, -0.875, 0.0,
        0.0, 0.0, 0.0, 1.125, -0.25, 0.0, 0.0,
    ];
    check_against_keras(&layer, &input(42), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling1D()(x)`,
/// `x` of shape (1, 5, 2), `y` of shape (1, 2, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_1d_valid_default() {
    let layer = MaxPooling1D::<5, 2, 2, 2, 0, 2>::new();
    let y = [-4.75, 4.5, 13.75, 23.0];
    let dx = [0.0, 0.0, -0.375, -0.875, 0.75, 0.25, 0.0, 0.0, 0.0, 0.0];
    check_against_keras(&layer, &input(10), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.AveragePooling2D(pool_size=2, padding="same")(x)`,
/// `x` of shape (2, 5, 5, 2), `y` of shape (2, 3, 3, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn average_pooling_2d_same_odd_size() {
    let layer = AveragePooling2D::<5, 5, 2, 2, 2, 2, 2, 0, 0, 3, 3>::new();
    let y = [
        -7.3125, 1.9375, 3.3125, -0.625, -8.5, 0.75, 6.25, 2.3125, -9.5, -0.25, 18.25, 1.125, -13.25, -4.0,
        -2.625, 6.625, -1.25, 8.0, 6.8125, 2.875, 4.25, 0.3125, 5.625, -11.5, -6.0, 3.25, -8.5625, 0.6875,
        6.0, 15.25, 0.875, -16.25, 11.5, -5.625, -13.5, -4.25,
    ];
    let dx = [
        -0.09375, -0.21875, -0.09375, -0.21875, 0.1875, 0.0625, 0.1875, 0.0625, -0.125, -0.375, -0.09375,
        -0.21875, -0.09375, -0.21875, 0.1875, 0.0625, 0.1875, 0.0625, -0.125, -0.375, 0.21875, 0.09375,
        0.21875, 0.09375, -0.03125, -0.15625, -0.03125, -0.15625, 0.5, 0.25, 0.21875, 0.09375, 0.21875,
        0.09375, -0.03125, -0.15625, -0.03125, -0.15625, 0.5, 0.25, 0.0, -0.25, 0.0, -0.25, -0.5, 0.3125,
        -0.5, 0.3125, 0.125, -0.375, -0.21875, 0.1875, -0.21875, 0.1875, 0.0625, -0.0625, 0.0625, -0.0625,
        -0.375, 0.4375, -0.21875, 0.1875, -0.21875, 0.1875, 0.0625, -0.0625, 0.0625, -0.0625, -0.375, 0.4375,
        0.09375, -0.03125, 0.09375, -0.03125, -0.15625, 0.25, -0.15625, 0.25, 0.25, 0.0, 0.09375, -0.03125,
        0.09375, -0.03125, -0.15625, 0.25, -0.15625, 0.25, 0.25, 0.0, -0.25, -0.5, -0.25, -0.5, 0.3125,
        0.0625, 0.3125, 0.0625, -0.375, -0.875,
    ];
    check_against_keras(&layer, &input(100), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.AveragePooling2D(pool_size=(4, 3), strides=(1, 2), padding="same")(x)`,
/// `x` of shape (1, 4, 5, 1), `y` of shape (1, 4, 3, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn average_pooling_2d_same_pads_before_and_after() {
    let layer = AveragePooling2D::<4, 5, 1, 4, 3, 1, 2, 1, 1, 4, 3>::new();
    let y = [
        1.25, -5.388889, 2.625, 4.59375, -5.7083335, -0.625, 12.333333, -6.0277777, -3.875, 17.875,
        -3.4166667, -7.125,
    ];
    let dx = [
        -0.03125,
        -0.14930555,
        -0.11805556,
        -0.08680556,
        0.03125,
        0.11458333,
        0.038194444,
        -0.076388896,
        -0.065972224,
        0.010416666,
        -0.04166667,
        0.04861112,
        0.090277776,
        0.22569445,
        0.13541667,
        0.020833328,
        0.20833334,
        0.1875,
        0.19791666,
        0.010416664,
    ];
    check_against_keras(&layer, &input(20), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.AveragePooling2D(pool_size=3, strides=2)(x)`,
/// `x` of shape (1, 7, 6, 1), `y` of shape (1, 3, 2, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn average_pooling_2d_valid() {
    let layer = AveragePooling2D::<7, 6, 1, 3, 3, 2, 2, 0, 0, 3, 2>::new();
    let y = [-11.25, 7.25, -5.75, 12.75, -0.25, 6.5277777];
    let dx = [
        -0.041666668,
        -0.041666668,
        -0.1388889,
        -0.097222224,
        -0.097222224,
        0.0,
        -0.041666668,
        -0.041666668,
        -0.1388889,
        -0.097222224,
        -0.097222224,
        0.0,
        0.041666668,
        0.041666668,
        -0.027777782,
        -0.06944445,
        -0.06944445,
        0.0,
        0.083333336,
        0.083333336,
        0.11111111,
        0.027777778,
        0.027777778,
        0.0,
        0.05555556,
        0.05555556,
        0.0,
        -0.05555556,
        -0.05555556,
        0.0,
        -0.027777778,
        -0.027777778,
        -0.11111111,
        -0.083333336,
        -0.083333336,
        0.0,
        -0.027777778,
        -0.027777778,
        -0.11111111,
        -0.083333336,
        -0.083333336,
        0.0,
    ];
    check_against_keras(&layer, &input(42), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.AveragePooling1D(pool_size=3, strides=2, padding="same")(x)`,
/// `x` of shape (2, 7, 3), `y` of shape (2, 4, 3); `dx` is the gradient of `sum(y * r)`.
#[test]
fn average_pooling_1d_same() {
    let layer = AveragePooling1D::<7, 3, 3, 2, 1, 4>::new();
    let y = [
        -9.375,
        -0.125,
        9.125,
        -2.9166667,
        6.3333335,
        15.583334,
        -0.16666667,
        9.083334,
        0.75,
        -2.5,
        6.75,
        -10.375,
        0.25,
        9.5,
        -7.625,
        -2.0833335,
        7.166667,
        -1.1666667,
        0.6666667,
        -7.666667,
        1.5833334,
        7.125,
        -10.0,
        -0.75,
    ];
    let dx = [
        -0.1875,
        -0.4375,
        0.375,
        -0.104166664,
        -0.5208333,
        0.125,
        0.083333336,
        -0.083333336,
        -0.25,
        0.37500003,
        0.041666664,
        -0.29166666,
        0.2916667,
        0.125,
        -0.041666668,
        -0.020833313,
        0.625,
        0.20833333,
        -0.3125,
        0.5,
        0.25,
        0.0,
        -0.25,
        -0.5,
        0.20833334,
        -0.20833333,
        -0.625,
        0.20833334,
        0.041666668,
        -0.125,
        -0.08333334,
        0.29166666,
        -0.041666664,
        -0.2916667,
        0.25,
        0.083333336,
        -0.4166667,
        -0.125,
        0.5208333,
        -0.125,
        -0.375,
        0.4375,
    ];
    check_against_keras(&layer, &input(42), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.AveragePooling1D(pool_size=4, strides=1, padding="same")(x)`,
/// `x` of shape (1, 5, 1), `y` of shape (1, 5, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn average_pooling_1d_same_odd_padding_at_the_end() {
    let layer = AveragePooling1D::<5, 1, 4, 1, 1, 5>::new();
    let y = [-14.0, -9.375, -0.125, 4.5, 9.125];
    let dx = [-0.34375, -0.15625, -0.072916664, -0.072916664, 0.14583334];
    check_against_keras(&layer, &input(5), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.GlobalAveragePooling2D()(x)`,
/// `x` of shape (2, 3, 4, 2), `y` of shape (2, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn global_average_pooling_2d() {
    let layer = GlobalAveragePooling2D::<3, 4, 2>::new();
    let y = [-0.625, -0.16666667, -2.8125, 2.0416667];
    let dx = [
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
        0.0625,
        0.020833334,
    ];
    check_against_keras(&layer, &input(48), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.GlobalAveragePooling2D(keepdims=True)(x)`,
/// `x` of shape (1, 3, 4, 2), `y` of shape (1, 1, 1, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn global_average_pooling_2d_keepdims() {
    let layer = GlobalAveragePooling2D::<3, 4, 2, [[[f32; 2]; 1]; 1]>::new();
    let y = [-0.625, -0.16666667];
    let dx = [
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
        -0.03125,
        -0.07291667,
    ];
    check_against_keras(&layer, &input(24), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.GlobalMaxPooling2D()(x)`,
/// `x` of shape (2, 3, 4, 2), `y` of shape (2, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn global_max_pooling_2d() {
    let layer = GlobalMaxPooling2D::<3, 4, 2>::new();
    let y = [22.0, 25.75, 24.75, 23.75];
    let dx = [
        -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.875, -0.0, -0.0, -0.0, -0.0,
        -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.375, -0.0, 0.0, 0.0, 0.0, 0.0, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0,
    ];
    check_against_keras(&layer, &input(48), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.GlobalAveragePooling1D(keepdims=True)(x)`,
/// `x` of shape (2, 5, 3), `y` of shape (2, 1, 3); `dx` is the gradient of `sum(y * r)`.
#[test]
fn global_average_pooling_1d_keepdims() {
    let layer = GlobalAveragePooling1D::<5, 3, [[f32; 3]; 1]>::new();
    let y = [-9.95, -0.7, 8.55, 2.2, 11.45, -10.95];
    let dx = [
        -0.075, -0.175, 0.15, -0.075, -0.175, 0.15, -0.075, -0.175, 0.15, -0.075, -0.175, 0.15, -0.075,
        -0.175, 0.15, 0.05, -0.05, -0.15, 0.05, -0.05, -0.15, 0.05, -0.05, -0.15, 0.05, -0.05, -0.15, 0.05,
        -0.05, -0.15,
    ];
    check_against_keras(&layer, &input(30), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.GlobalMaxPooling1D(keepdims=True)(x)`,
/// `x` of shape (2, 5, 3), `y` of shape (2, 1, 3); `dx` is the gradient of `sum(y * r)`.
#[test]
fn global_max_pooling_1d_keepdims() {
    let layer = GlobalMaxPooling1D::<5, 3, [[f32; 3]; 1]>::new();
    let y = [7.25, 16.5, 25.75, 15.5, 24.75, 6.25];
    let dx = [
        -0.0, -0.0, 0.0, -0.0, -0.0, 0.0, -0.0, -0.0, 0.0, -0.375, -0.875, 0.75, -0.0, -0.0, 0.0, 0.0, -0.0,
        -0.0, 0.0, -0.0, -0.0, 0.0, -0.0, -0.0, 0.0, -0.0, -0.75, 0.25, -0.25, -0.0,
    ];
    check_against_keras(&layer, &input(30), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.GlobalMaxPooling1D()(x)`,
/// `x` of shape (1, 5, 3), `y` of shape (1, 3); `dx` is the gradient of `sum(y * r)`.
#[test]
fn global_max_pooling_1d() {
    let layer = GlobalMaxPooling1D::<5, 3>::new();
    let y = [7.25, 16.5, 25.75];
    let dx = [
        -0.0, -0.0, 0.0, -0.0, -0.0, 0.0, -0.0, -0.0, 0.0, -0.375, -0.875, 0.75, -0.0, -0.0, 0.0,
    ];
    check_against_keras(&layer, &input(15), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.ZeroPadding2D()(x)`,
/// `x` of shape (1, 2, 2, 1), `y` of shape (1, 4, 4, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn zero_padding_2d_default() {
    let layer = ZeroPadding2D::<2, 2, 1, 1, 1, 1, 1, 4, 4>::new();
    let y = [
        0.0, 0.0, 0.0, 0.0, 0.0, -23.25, -14.0, 0.0, 0.0, -4.75, 4.5, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    let dx = [-0.75, 0.875, -0.625, 1.0];
    check_against_keras(&layer, &input(4), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.ZeroPadding2D(padding=(2, 1))(x)`,
/// `x` of shape (1, 1, 2, 1), `y` of shape (1, 5, 4, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn zero_padding_2d_symmetric_pair() {
    let layer = ZeroPadding2D::<1, 2, 1, 2, 2, 1, 1, 5, 4>::new();
    let y = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -23.25, -14.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0,
    ];
    let dx = [-0.625, 1.0];
    check_against_keras(&layer, &input(2), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.ZeroPadding2D(padding=((1, 0), (2, 1)))(x)`,
/// `x` of shape (2, 2, 3, 2), `y` of shape (2, 3, 6, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn zero_padding_2d_each_side() {
    let layer = ZeroPadding2D::<2, 3, 2, 1, 0, 2, 1, 3, 6>::new();
    let y = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -23.25, -14.0, -4.75,
        4.5, 13.75, 23.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -20.5, -11.25, -2.0, 7.25, 16.5, 25.75, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -17.75, -8.5, 0.75,
        10.0, 19.25, -24.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -15.0, -5.75, 3.5, 12.75, 22.0, -21.5, 0.0, 0.0,
    ];
    let dx = [
        0.125, -0.375, -0.875, 0.75, 0.25, -0.25, 0.5, 0.0, -0.5, -1.0, 0.625, 0.125, -0.875, 0.75, 0.25,
        -0.25, -0.75, 0.875, -0.5, -1.0, 0.625, 0.125, -0.375, -0.875,
    ];
    check_against_keras(&layer, &input(24), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.Cropping2D(cropping=((1, 0), (0, 2)))(x)`,
/// `x` of shape (2, 4, 5, 1), `y` of shape (2, 3, 3, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn cropping_2d_each_side() {
    let layer = Cropping2D::<4, 5, 1, 1, 0, 0, 2, 3, 3>::new();
    let y = [
        23.0, -20.5, -11.25, 16.5, 25.75, -17.75, 10.0, 19.25, -24.25, -3.0, 6.25, 15.5, -9.5, -0.25, 9.0,
        -16.0, -6.75, 2.5,
    ];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, -0.375, -0.875, 0.75, 0.0, 0.0, 0.25, -0.25, -0.75, 0.0, 0.0, 0.875, 0.375,
        -0.125, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.625, 1.0, 0.5, 0.0, 0.0, 0.0, -0.5, -1.0, 0.0, 0.0,
        0.625, 0.125, -0.375, 0.0, 0.0,
    ];
    check_against_keras(&layer, &input(40), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.Cropping2D(cropping=1)(x)`,
/// `x` of shape (1, 3, 4, 2), `y` of shape (1, 1, 2, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn cropping_2d_int() {
    let layer = Cropping2D::<3, 4, 2, 1, 1, 1, 1, 1, 2>::new();
    let y = [16.5, 25.75, -17.75, -8.5];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.375, -0.875, 0.75, 0.25, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    check_against_keras(&layer, &input(24), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.Cropping2D(cropping=(1, 2))(x)`,
/// `x` of shape (1, 4, 6, 1), `y` of shape (1, 2, 2, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn cropping_2d_symmetric_pair() {
    let layer = Cropping2D::<4, 6, 1, 1, 1, 2, 2, 2, 2>::new();
    let y = [-2.0, 7.25, 0.75, 10.0];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.375, -0.875, 0.0, 0.0, 0.0, 0.0, 0.75, 0.25, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    check_against_keras(&layer, &input(24), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.UpSampling2D(size=(2, 3))(x)`,
/// `x` of shape (2, 2, 2, 2), `y` of shape (2, 4, 6, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn up_sampling_2d_nearest() {
    let layer = UpSampling2D::<2, 2, 2, 2, 3, 4, 6>::new();
    let y = [
        -23.25, -14.0, -23.25, -14.0, -23.25, -14.0, -4.75, 4.5, -4.75, 4.5, -4.75, 4.5, -23.25, -14.0,
        -23.25, -14.0, -23.25, -14.0, -4.75, 4.5, -4.75, 4.5, -4.75, 4.5, 13.75, 23.0, 13.75, 23.0, 13.75,
        23.0, -20.5, -11.25, -20.5, -11.25, -20.5, -11.25, 13.75, 23.0, 13.75, 23.0, 13.75, 23.0, -20.5,
        -11.25, -20.5, -11.25, -20.5, -11.25, -2.0, 7.25, -2.0, 7.25, -2.0, 7.25, 16.5, 25.75, 16.5, 25.75,
        16.5, 25.75, -2.0, 7.25, -2.0, 7.25, -2.0, 7.25, 16.5, 25.75, 16.5, 25.75, 16.5, 25.75, -17.75, -8.5,
        -17.75, -8.5, -17.75, -8.5, 0.75, 10.0, 0.75, 10.0, 0.75, 10.0, -17.75, -8.5, -17.75, -8.5, -17.75,
        -8.5, 0.75, 10.0, 0.75, 10.0, 0.75, 10.0,
    ];
    let dx = [
        -0.75, -1.625, 0.375, 1.625, 1.625, 0.75, 0.625, -2.375, -2.375, 1.0, 0.875, 0.0, 0.0, -0.875, -1.0,
        2.375,
    ];
    check_against_keras(&layer, &input(16), 2, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.UpSampling2D()(x)`,
/// `x` of shape (1, 2, 1, 1), `y` of shape (1, 4, 2, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn up_sampling_2d_default() {
    let layer = UpSampling2D::<2, 1, 1, 2, 2, 4, 2>::new();
    let y = [-23.25, -23.25, -23.25, -23.25, -14.0, -14.0, -14.0, -14.0];
    let dx = [-0.25, 0.25];
    check_against_keras(&layer, &input(2), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.UpSampling2D(size=(2, 3), interpolation="bilinear")(x)`,
/// `x` of shape (1, 3, 2, 2), `y` of shape (1, 6, 6, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn up_sampling_2d_bilinear() {
    let layer = UpSampling2D::<3, 2, 2, 2, 3, 6, 6, Bilinear>::new();
    let y = [
        -23.25,
        -14.0,
        -23.25,
        -14.0,
        -17.083332,
        -7.833333,
        -10.916665,
        -1.6666651,
        -4.75,
        4.5,
        -4.75,
        4.5,
        -14.0,
        -4.75,
        -14.0,
        -4.75,
        -12.229167,
        -2.9791665,
        -10.458333,
        -1.208333,
        -8.6875,
        0.5625,
        -8.6875,
        0.5625,
        4.5,
        13.75,
        4.5,
        13.75,
        -2.5208342,
        6.729166,
        -9.541668,
        -0.29166842,
        -16.5625,
        -7.3125,
        -16.5625,
        -7.3125,
        9.8125,
        19.0625,
        9.8125,
        19.0625,
        2.791666,
        12.041666,
        -4.2291684,
        5.0208316,
        -11.25,
        -2.0,
        -11.25,
        -2.0,
        1.9375,
        11.1875,
        1.9375,
        11.1875,
        3.7083335,
        12.958334,
        5.479167,
        14.729167,
        7.25,
        16.5,
        7.25,
        16.5,
        -2.0,
        7.25,
        -2.0,
        7.25,
        4.166667,
        13.416667,
        10.333334,
        19.583334,
        16.5,
        25.75,
        16.5,
        25.75,
    ];
    let dx = [
        -0.4270833,
        -0.7708334,
        0.61458325,
        0.2708333,
        0.07291666,
        0.26041675,
        0.5833333,
        -0.82291675,
        -1.0208334,
        0.7604166,
        0.5520834,
        -0.32291663,
    ];
    check_against_keras(&layer, &input(12), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=5, strides=1, padding="same")(x)`,
/// `x` of shape (1, 3, 3, 1), `y` of shape (1, 3, 3, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_same_pool_larger_than_input() {
    let layer = MaxPooling2D::<3, 3, 1, 5, 5, 1, 1, 2, 2, 3, 3>::new();
    let y = [23.0, 23.0, 23.0, 23.0, 23.0, 23.0, 23.0, 23.0, 23.0];
    let dx = [0.0, 0.0, 0.0, 0.0, 0.0, -0.125, 0.0, 0.0, 0.0];
    check_against_keras(&layer, &input(9), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.AveragePooling2D(pool_size=5, strides=1, padding="same")(x)`,
/// `x` of shape (1, 3, 3, 1), `y` of shape (1, 3, 3, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn average_pooling_2d_same_pool_larger_than_input() {
    let layer = AveragePooling2D::<3, 3, 1, 5, 5, 1, 1, 2, 2, 3, 3>::new();
    let y = [
        -3.8333333, -3.8333333, -3.8333333, -3.8333333, -3.8333333, -3.8333333, -3.8333333, -3.8333333,
        -3.8333333,
    ];
    let dx = [
        -0.013888893,
        -0.013888893,
        -0.013888893,
        -0.013888893,
        -0.013888893,
        -0.013888893,
        -0.013888893,
        -0.013888893,
        -0.013888893,
    ];
    check_against_keras(&layer, &input(9), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=2, strides=3)(x)`,
/// `x` of shape (1, 7, 7, 1), `y` of shape (1, 2, 2, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_strides_larger_than_pool() {
    let layer = MaxPooling2D::<7, 7, 1, 2, 2, 3, 3, 0, 0, 2, 2>::new();
    let y = [-2.0, 25.75, 24.75, 9.0];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.375, 0.0, 0.0, -0.875, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.75, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    check_against_keras(&layer, &input(49), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.AveragePooling2D(pool_size=2, strides=3, padding="same")(x)`,
/// `x` of shape (1, 7, 7, 1), `y` of shape (1, 3, 3, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn average_pooling_2d_same_strides_larger_than_pool() {
    let layer = AveragePooling2D::<7, 7, 1, 2, 2, 3, 3, 0, 0, 3, 3>::new();
    let y = [-12.625, 15.125, -14.5, 10.1875, -1.625, -4.875, 0.625, 2.0, -1.25];
    let dx = [
        -0.09375, -0.09375, 0.0, -0.21875, -0.21875, 0.0, 0.375, -0.09375, -0.09375, 0.0, -0.21875, -0.21875,
        0.0, 0.375, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0625, 0.0625, 0.0, -0.0625, -0.0625, 0.0, -0.375,
        0.0625, 0.0625, 0.0, -0.0625, -0.0625, 0.0, -0.375, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4375,
        0.4375, 0.0, 0.1875, 0.1875, 0.0, -0.125,
    ];
    check_against_keras(&layer, &input(49), 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=2, strides=1)(x)`,
/// `x` of shape (1, 4, 4, 1), `y` of shape (1, 3, 3, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_ties_go_to_the_first_maximum() {
    let layer = MaxPooling2D::<4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3>::new();
    let y = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0];
    let dx = [
        -0.375, 0.0, -0.125, 0.0, 0.0, 0.0, 0.0, 0.0, 1.125, 0.0, -0.75, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    check_against_keras(
        &layer,
        &[
            1.0, 1.0, 2.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 0.0, 3.0, 3.0, 0.0, 3.0, 3.0, 3.0,
        ],
        1,
        &y,
        &dx,
    );
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling2D(pool_size=3, strides=2, padding="same")(x)`,
/// `x` of shape (1, 4, 4, 1), `y` of shape (1, 2, 2, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_2d_same_ties_go_to_the_first_maximum() {
    let layer = MaxPooling2D::<4, 4, 1, 3, 3, 2, 2, 0, 0, 2, 2>::new();
    let y = [3.0, 3.0, 3.0, 3.0];
    let dx = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.375, 0.0, -0.625, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    check_against_keras(
        &layer,
        &[
            1.0, 1.0, 2.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 0.0, 3.0, 3.0, 0.0, 3.0, 3.0, 3.0,
        ],
        1,
        &y,
        &dx,
    );
}

/// Keras 3.15 (JAX): `y = keras.layers.MaxPooling1D(pool_size=3, strides=1, padding="same")(x)`,
/// `x` of shape (1, 8, 1), `y` of shape (1, 8, 1); `dx` is the gradient of `sum(y * r)`.
#[test]
fn max_pooling_1d_ties_go_to_the_first_maximum() {
    let layer = MaxPooling1D::<8, 1, 3, 1, 1, 8>::new();
    let y = [2.0, 2.0, 2.0, 5.0, 5.0, 5.0, 5.0, 0.0];
    let dx = [-1.25, 0.75, 0.0, 0.0, -0.75, 0.875, 0.375, 0.0];
    check_against_keras(&layer, &[2.0, 2.0, 2.0, -1.0, 5.0, 5.0, 0.0, 0.0], 1, &y, &dx);
}

/// Keras 3.15 (JAX): `y = keras.layers.GlobalMaxPooling2D()(x)`,
/// `x` of shape (1, 2, 2, 2), `y` of shape (1, 2); `dx` is the gradient of `sum(y * r)`.
#[test]
fn global_max_pooling_2d_ties_share_the_gradient() {
    let layer = GlobalMaxPooling2D::<2, 2, 2>::new();
    let y = [3.0, 7.0];
    let dx = [
        -0.0,
        -0.29166666,
        -0.125,
        -0.29166666,
        -0.125,
        -0.0,
        -0.125,
        -0.29166666,
    ];
    check_against_keras(&layer, &[1.0, 7.0, 3.0, 7.0, 3.0, -2.0, 3.0, 7.0], 1, &y, &dx);
}
// ---------------------------------------------------------------------------------------
// NaN, as Keras: `lax.max` propagates it
// ---------------------------------------------------------------------------------------

#[test]
fn a_nan_in_a_window_gives_nan() {
    // Keras 3.15 (JAX): MaxPooling2D()(x) and GlobalMaxPooling2D()(x) are NaN for
    // x = [[1, nan], [3, 2]].
    let x = [1.0, f32::NAN, 3.0, 2.0];
    let mut y = [0.0; 1];
    MaxPooling2D::<2, 2, 1, 2, 2, 2, 2, 0, 0, 1, 1>::new().forward(&x, &mut y, &mut [], 1);
    assert!(y[0].is_nan());
    let mut cache = [0.0; 1];
    MaxPooling2D::<2, 2, 1, 2, 2, 2, 2, 0, 0, 1, 1>::new().forward_train(
        &x,
        &mut y,
        &mut cache,
        1,
        &mut Rng::new(0),
    );
    assert!(y[0].is_nan());
    GlobalMaxPooling2D::<2, 2, 1>::new().forward(&x, &mut y, &mut [], 1);
    assert!(y[0].is_nan());
    // A NaN first in the window stays, too.
    MaxPooling1D::<3, 1, 3, 1, 0, 1>::new().forward(&[f32::NAN, 5.0, 1.0], &mut y, &mut [], 1);
    assert!(y[0].is_nan());
}

// ---------------------------------------------------------------------------------------
// Finite differences, every layer
// ---------------------------------------------------------------------------------------

/// `n` values at least 0.05 apart (fewer than 211), in [-5.2, 5.3].
fn spread(n: usize) -> Vec<f32> {
    assert!(n < 211, "values repeat after 211");
    (0..n)
        .map(|i| ((i * 37 + 11) % 211) as f32 * 0.05 - 5.2)
        .collect()
}

/// Gradient-checks `layer` on batches of 1 and 3, every input coordinate.
#[track_caller]
fn check_layer<L: Layer>(layer: L) {
    for batch in [1, 3] {
        let x = spread(batch * <L::Input as Shape>::LEN);
        let report = gradcheck::layer(&layer, &x, batch, &strict());
        let what = format!("{} (batch {batch})", std::any::type_name::<L>());
        assert_passed(&report, &what);
        assert_eq!(
            report.checked,
            x.len(),
            "{what}: every input coordinate is checked"
        );
    }
}

#[test]
fn gradcheck_max_pooling_2d() {
    check_layer(MaxPooling2D::<5, 5, 2, 2, 2, 2, 2, 0, 0, 3, 3>::new());
    check_layer(MaxPooling2D::<4, 5, 1, 4, 3, 1, 2, 1, 1, 4, 3>::new());
    check_layer(MaxPooling2D::<6, 5, 2, 3, 2, 2, 1, 0, 0, 2, 4>::new());
    check_layer(MaxPooling2D::<3, 3, 1, 5, 5, 1, 1, 2, 2, 3, 3>::new());
}

#[test]
fn gradcheck_max_pooling_1d() {
    check_layer(MaxPooling1D::<7, 3, 3, 2, 1, 4>::new());
    check_layer(MaxPooling1D::<5, 2, 2, 2, 0, 2>::new());
    check_layer(MaxPooling1D::<6, 2, 4, 1, 1, 6>::new());
}

#[test]
fn gradcheck_average_pooling_2d() {
    check_layer(AveragePooling2D::<5, 5, 2, 2, 2, 2, 2, 0, 0, 3, 3>::new());
    check_layer(AveragePooling2D::<4, 5, 1, 4, 3, 1, 2, 1, 1, 4, 3>::new());
    check_layer(AveragePooling2D::<7, 6, 1, 3, 3, 2, 2, 0, 0, 3, 2>::new());
    check_layer(AveragePooling2D::<7, 7, 1, 2, 2, 3, 3, 0, 0, 3, 3>::new());
}

#[test]
fn gradcheck_average_pooling_1d() {
    check_layer(AveragePooling1D::<7, 3, 3, 2, 1, 4>::new());
    check_layer(AveragePooling1D::<5, 1, 4, 1, 1, 5>::new());
}

#[test]
fn gradcheck_global_pooling() {
    check_layer(GlobalAveragePooling2D::<3, 4, 2>::new());
    check_layer(GlobalAveragePooling2D::<3, 4, 2, [[[f32; 2]; 1]; 1]>::new());
    check_layer(GlobalMaxPooling2D::<3, 4, 2>::new());
    check_layer(GlobalMaxPooling2D::<3, 4, 2, [[[f32; 2]; 1]; 1]>::new());
    check_layer(GlobalAveragePooling1D::<5, 3>::new());
    check_layer(GlobalAveragePooling1D::<5, 3, [[f32; 3]; 1]>::new());
    check_layer(GlobalMaxPooling1D::<5, 3>::new());
    check_layer(GlobalMaxPooling1D::<5, 3, [[f32; 3]; 1]>::new());
}

#[test]
fn gradcheck_padding_cropping_up_sampling() {
    check_layer(ZeroPadding2D::<2, 3, 2, 1, 0, 2, 1, 3, 6>::new());
    check_layer(ZeroPadding2D::<2, 2, 1, 1, 1, 1, 1, 4, 4>::new());
    check_layer(Cropping2D::<4, 5, 1, 1, 0, 0, 2, 3, 3>::new());
    check_layer(Cropping2D::<3, 4, 2, 1, 1, 1, 1, 1, 2>::new());
    check_layer(UpSampling2D::<2, 2, 2, 2, 3, 4, 6>::new());
    check_layer(UpSampling2D::<3, 2, 2, 2, 3, 6, 6, Bilinear>::new());
    check_layer(UpSampling2D::<2, 3, 1, 3, 1, 6, 3, Bilinear>::new());
}

// ---------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------

model! {
    /// Every 2D layer but the global ones, after a dense layer whose tanh outputs the
    /// pooling sees.
    struct Pool2dNet: Input<8> {
        dense: Dense(18, activation = tanh),
        image: Reshape((3, 3, 2)),
        pad:   ZeroPadding2D(((1, 0), (0, 1))),
        max:   MaxPooling2D(3, strides = 2, padding = same),
        up:    UpSampling2D(2, interpolation = bilinear),
        crop:  Cropping2D(((1, 0), (0, 1))),
        avg:   AveragePooling2D(2, strides = 1, padding = same),
        near:  UpSampling2D((1, 2)),
        flat:  Flatten,
        out:   Dense(3),
    }
}

model! {
    /// The 1D layers.
    struct Pool1dNet: Input<8> {
        dense: Dense(16, activation = tanh),
        seq:   Reshape((8, 2)),
        max:   MaxPooling1D(),
        avg:   AveragePooling1D(3, strides = 1, padding = same),
        gmax:  GlobalMaxPooling1D(keepdims = true),
        gavg:  GlobalAveragePooling1D,
        out:   Dense(3),
    }
}

model! {
    /// Global max pooling of an image.
    struct GlobalMaxNet: Input<6> {
        dense: Dense(24, activation = tanh),
        image: Reshape((2, 3, 4)),
        pool:  GlobalMaxPooling2D,
        out:   Dense(2),
    }
}

model! {
    /// Global average pooling of an image, keeping its dimensions.
    struct GlobalAverageNet: Input<6> {
        dense: Dense(24, activation = tanh),
        image: Reshape((2, 3, 4)),
        pool:  GlobalAveragePooling2D(keepdims = true),
        flat:  Flatten,
        out:   Dense(2),
    }
}

/// The gap between the largest and second largest input cell of every max-pooling window
/// (`[h, w, c]` samples, Keras geometry, padding excluded), the smallest over all windows.
#[allow(clippy::too_many_arguments)]
fn smallest_gap(
    x: &[f32],
    [h, w, c]: [usize; 3],
    pool: [usize; 2],
    strides: [usize; 2],
    pad: [usize; 2],
    out: [usize; 2],
) -> f32 {
    let mut smallest = f32::INFINITY;
    for sample in x.chunks_exact(h * w * c) {
        for (oh, ow, ch) in
            (0..out[0]).flat_map(|i| (0..out[1]).flat_map(move |j| (0..c).map(move |k| (i, j, k))))
        {
            let rows = (oh * strides[0]).saturating_sub(pad[0])
                ..(oh * strides[0] + pool[0]).saturating_sub(pad[0]).min(h);
            let cols = (ow * strides[1]).saturating_sub(pad[1])
                ..(ow * strides[1] + pool[1]).saturating_sub(pad[1]).min(w);
            let mut v: Vec<f32> = rows
                .flat_map(|i| cols.clone().map(move |j| (i, j)))
                .map(|(i, j)| sample[(i * w + j) * c + ch])
                .collect();
            v.sort_by(|a, b| b.total_cmp(a));
            if v.len() > 1 {
                smallest = smallest.min(v[0] - v[1]);
            }
        }
    }
    smallest
}

/// A step of `eps = 1e-2` in a dense parameter moves a tanh output by at most 0.015 (inputs
/// in [-1.5, 1.5]): windows whose two largest cells are 0.05 apart keep their winner.
const GAP: f32 = 0.05;

/// The first seed whose model and `batch` inputs pass `clear`, with random targets.
fn case<M: Model>(batch: usize, clear: impl Fn(&M, &[f32]) -> bool) -> (Box<M>, Vec<f32>, Vec<f32>) {
    for seed in 0..1000 {
        let mut rng = Rng::new(seed);
        let mut model = boxed_zeroed::<M>();
        model.init_with(&mut rng);
        let x: Vec<f32> = (0..batch * <M::Input as Shape>::LEN)
            .map(|_| rng.uniform_range(-1.5, 1.5))
            .collect();
        if clear(&model, &x) {
            let t = (0..batch * <M::Output as Shape>::LEN)
                .map(|_| rng.uniform_range(-1.0, 1.0))
                .collect();
            return (model, x, t);
        }
    }
    panic!("no seed gives max-pooling windows with clear winners");
}

/// Runs `layer` on `batch` samples.
fn run<L: Layer>(layer: &L, x: &[f32], batch: usize) -> Vec<f32> {
    let mut y = vec![0.0; batch * <L::Output as Shape>::LEN];
    layer.forward(x, &mut y, &mut vec![0.0; batch * L::SCRATCH], batch);
    y
}

#[track_caller]
fn check_model<M: Model>(model: &M, x: &[f32], t: &[f32]) {
    let report = gradcheck::model(model, x, Targets::Dense(t), &MeanSquaredError, &strict());
    let batch = x.len() / <M::Input as Shape>::LEN;
    assert_passed(&report, &format!("{} (batch {batch})", M::NAME));
    assert_eq!(report.checked, M::COUNT, "every parameter is checked");
}

#[test]
fn model_with_2d_layers() {
    assert_eq!(<Pool2dNet as Model>::Output::LEN, 3);
    for batch in [1, 2] {
        let (model, x, t) = case::<Pool2dNet>(batch, |m, x| {
            let padded = run(&m.pad, &run(&m.dense, x, batch), batch);
            smallest_gap(&padded, [4, 4, 2], [3, 3], [2, 2], [0, 0], [2, 2]) > GAP
        });
        check_model(&*model, &x, &t);
    }
}

#[test]
fn model_with_1d_layers() {
    for batch in [1, 2] {
        let (model, x, t) = case::<Pool1dNet>(batch, |m, x| {
            let seq = run(&m.dense, x, batch);
            let avg = run(&m.avg, &run(&m.max, &seq, batch), batch);
            // A step moves an average of maxima no more than the maxima themselves.
            smallest_gap(&seq, [1, 8, 2], [1, 2], [1, 2], [0, 0], [1, 4]) > GAP
                && smallest_gap(&avg, [1, 4, 2], [1, 4], [1, 1], [0, 0], [1, 1]) > GAP
        });
        check_model(&*model, &x, &t);
    }
}

#[test]
fn model_with_global_pooling() {
    for batch in [1, 2] {
        let (model, x, t) = case::<GlobalMaxNet>(batch, |m, x| {
            smallest_gap(
                &run(&m.dense, x, batch),
                [2, 3, 4],
                [2, 3],
                [1, 1],
                [0, 0],
                [1, 1],
            ) > GAP
        });
        check_model(&*model, &x, &t);
        let (model, x, t) = case::<GlobalAverageNet>(batch, |_, _| true);
        check_model(&*model, &x, &t);
    }
}

#[test]
fn model_types_are_keras_shapes() {
    // What `model!` writes for each layer: sizes as Keras computes them.
    let m = Pool2dNet::ZERO;
    let _: ZeroPadding2D<3, 3, 2, 1, 0, 0, 1, 4, 4> = m.pad;
    let _: MaxPooling2D<4, 4, 2, 3, 3, 2, 2, 0, 0, 2, 2> = m.max;
    let _: UpSampling2D<2, 2, 2, 2, 2, 4, 4, Bilinear> = m.up;
    let _: Cropping2D<4, 4, 2, 1, 0, 0, 1, 3, 3> = m.crop;
    let _: AveragePooling2D<3, 3, 2, 2, 2, 1, 1, 0, 0, 3, 3> = m.avg;
    let _: UpSampling2D<3, 3, 2, 1, 2, 3, 6> = m.near;
    let m = Pool1dNet::ZERO;
    let _: MaxPooling1D<8, 2, 2, 2, 0, 4> = m.max;
    let _: AveragePooling1D<4, 2, 3, 1, 1, 4> = m.avg;
    let _: GlobalMaxPooling1D<4, 2, [[f32; 2]; 1]> = m.gmax;
    let _: GlobalAveragePooling1D<1, 2> = m.gavg;
    let _: GlobalAveragePooling2D<2, 3, 4, [[[f32; 4]; 1]; 1]> = GlobalAverageNet::ZERO.pool;
    let _: GlobalMaxPooling2D<2, 3, 4> = GlobalMaxNet::ZERO.pool;
    let kinds: Vec<&str> = Pool2dNet::LAYERS.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            "Dense",
            "Reshape",
            "ZeroPadding2D",
            "MaxPooling2D",
            "UpSampling2D",
            "Cropping2D",
            "AveragePooling2D",
            "UpSampling2D",
            "Flatten",
            "Dense"
        ]
    );
    let shapes: Vec<&[usize]> = Pool2dNet::LAYERS.iter().map(|l| l.output_shape).collect();
    assert_eq!(
        shapes,
        [
            &[18][..],
            &[3, 3, 2],
            &[4, 4, 2],
            &[2, 2, 2],
            &[4, 4, 2],
            &[3, 3, 2],
            &[3, 3, 2],
            &[3, 6, 2],
            &[36],
            &[3]
        ]
    );
}
