//! `BatchNormalization` and `LayerNormalization`: values against Keras, finite-difference
//! gradients, and `BatchNormalization` inside trained `model!` networks.
//!
//! - Keras literals (Keras 3.15.1 on JAX 0.10.2, `KERAS_BACKEND=jax`): training and
//!   inference forwards, the moving statistics after one and two training calls, and the
//!   gradients of `sum(dy * layer(x, training=True))` from `jax.grad` over
//!   `layer.stateless_call`. Inputs are `round(2 sin(0.7 i + k) + 0.13 (i % 5) + 0.5 k, 2)`.
//! - `gradcheck::layer` on inputs, `gamma` and `beta` (and the moving statistics, whose
//!   gradient is zero in training mode), rank-1 and rank-3 samples, batches of 3 and more,
//!   with and without `center` / `scale`; `gradcheck::model` through declared models.
//! - Training with `compile` / `fit`: moving statistics equal a hand computation over whole
//!   batches (one shard even where other models use two), weight decay leaves them to
//!   `update_state`, the summary counts them as non-trainable, and 1 and 2 threads give
//!   bit-identical weights.

use kerust::activations::bits;
use kerust::data::{Dataset, Target};
use kerust::gradcheck::{self, Options};
use kerust::layers::{BatchNormalization, LayerNormalization, NoBias};
use kerust::losses::{MeanSquaredError, Targets};
use kerust::params::boxed_zeroed;
use kerust::prelude::*;
use kerust::train::{summary_string, Verbosity};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

#[track_caller]
fn assert_close(actual: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(actual.len(), expected.len());
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * (1.0 + e.abs()),
            "element {i}: got {a}, expected {e}\n  actual:   {actual:?}\n  expected: {expected:?}"
        );
    }
}

/// Tolerance against Keras: both compute in `f32`; kerust sums the statistics in `f64`, and
/// `1 - momentum` rounds differently (`f32` here, Python's `f64` in Keras).
const KERAS_TOL: f32 = 2e-6;

fn uniform(rng: &mut Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.uniform_range(lo, hi)).collect()
}

// ---------------------------------------------------------------------------------------
// BatchNormalization against Keras
// ---------------------------------------------------------------------------------------

/// `bn = keras.layers.BatchNormalization(momentum=0.9)` on `(None, 4)`, with
/// `gamma = [1.5, -0.5, 2, 0.8]`, `beta = [0.1, -0.2, 0.3, 0]`; `x1`, `x2`: batches of 5.
type Bn4 = BatchNormalization<[f32; 4], 4, { bits(0.9) }>;
const BN1_X1: [f32; 20] = [
    0.0, 1.42, 2.23, 2.12, 1.19, -0.7, -1.61, -1.7, -0.87, 0.55, 1.31, 2.11, 1.97, 1.03, -0.21, -1.76, -1.83,
    -0.98, 0.46, 1.86,
];
const BN1_X2: [f32; 20] = [
    2.18, 2.61, 2.11, 0.97, -0.2, -1.46, -1.14, 0.01, 1.51, 2.72, 2.48, 1.96, 0.81, -0.36, -0.94, -1.25,
    -0.09, 1.41, 2.61, 2.99,
];
const BN1_Y1: [f32; 20] = [
    -0.000832133,
    -0.8101665,
    3.0372062,
    0.69126284,
    1.3034099,
    0.30882397,
    -2.8216963,
    -0.96533954,
    -0.9543536,
    -0.35095817,
    1.6335106,
    0.68692625,
    2.158291,
    -0.60431445,
    -0.6856382,
    -0.9913595,
    -2.006515,
    0.45661518,
    0.33661824,
    0.5785099,
];
const BN1_MEAN1: [f32; 4] = [0.009199998, 0.0264, 0.043599997, 0.052599996];
const BN1_VAR1: [f32; 4] = [1.0872096, 0.9896344, 1.0717263, 1.2402064];
const BN1_Y2: [f32; 20] = [
    2.2906303,
    -0.69252795,
    1.5816481,
    0.018413961,
    -1.6060065,
    0.5403065,
    -2.2538552,
    -0.5015096,
    1.1936779,
    -0.72584784,
    2.0183055,
    0.5545851,
    0.047608256,
    0.20710798,
    -2.0178244,
    -1.1839092,
    -1.4259099,
    -0.32903868,
    2.1717255,
    1.1124196,
];
const BN1_MEAN2: [f32; 4] = [0.092480004, 0.12215999, 0.14164001, 0.14094];
const BN1_VAR2: [f32; 4] = [1.0623262, 1.1630414, 1.251652, 1.33428];
const BN1_INFER: [f32; 20] = [
    -0.03452588,
    -0.80146027,
    4.0318155,
    1.3701332,
    1.6965057,
    0.18101503,
    -2.8301103,
    -1.2745106,
    -1.3000698,
    -0.39827466,
    2.3878121,
    1.36321,
    2.8311312,
    -0.6207219,
    -0.32836652,
    -1.3160496,
    -2.6965322,
    0.31077594,
    0.86889654,
    1.1901312,
];
// The moving variance Keras keeps is the biased one: with the unbiased batch variance the
// first update would give [1.134012, 1.012043, 1.114658, 1.325258] instead of BN1_VAR1.

fn bn4() -> Box<Bn4> {
    let mut bn = boxed_zeroed::<Bn4>();
    bn.init(&mut Rng::new(0));
    bn.gamma = [1.5, -0.5, 2.0, 0.8];
    bn.beta = [0.1, -0.2, 0.3, 0.0];
    bn
}

#[test]
fn batch_norm_initial_values_are_keras_defaults() {
    let bn = bn4();
    assert_eq!(bn.moving_mean, [0.0; 4]);
    assert_eq!(bn.moving_variance, [1.0; 4]);
    assert_eq!(Bn4::momentum(), 0.9);
    assert_eq!(Bn4::epsilon(), 1e-3);
    let mut fresh = boxed_zeroed::<BatchNormalization<[f32; 4], 4>>();
    fresh.init(&mut Rng::new(0));
    assert_eq!(fresh.gamma, [1.0; 4]);
    assert_eq!(fresh.beta, [0.0; 4]);
}

#[test]
fn batch_norm_training_forward_and_two_moving_updates_match_keras() {
    let mut bn = bn4();
    let mut y = [0.0; 20];
    let mut cache = vec![0.0; 5 * Bn4::CACHE];
    // y1 = bn(x1, training=True); bn.moving_mean, bn.moving_variance
    bn.forward_train(&BN1_X1, &mut y, &mut cache, 5, &mut Rng::new(0));
    assert_close(&y, &BN1_Y1, KERAS_TOL);
    bn.update_state(&cache, 5);
    assert_close(&bn.moving_mean, &BN1_MEAN1, KERAS_TOL);
    assert_close(&bn.moving_variance, &BN1_VAR1, KERAS_TOL);
    // y2 = bn(x2, training=True): normalised by x2's own statistics, moving ones updated again
    bn.forward_train(&BN1_X2, &mut y, &mut cache, 5, &mut Rng::new(0));
    assert_close(&y, &BN1_Y2, KERAS_TOL);
    bn.update_state(&cache, 5);
    assert_close(&bn.moving_mean, &BN1_MEAN2, KERAS_TOL);
    assert_close(&bn.moving_variance, &BN1_VAR2, KERAS_TOL);
    // bn(x1, training=False): the moving statistics after the two steps
    bn.forward(&BN1_X1, &mut y, &mut [], 5);
    assert_close(&y, &BN1_INFER, KERAS_TOL);
}

/// `bn = keras.layers.BatchNormalization()` on `(None, 2, 3, 2)` (defaults: momentum 0.99,
/// epsilon 1e-3), `gamma = [1.25, -0.75]`, `beta = [0.5, -0.25]`, `moving_mean = [0.2, -0.1]`,
/// `moving_variance = [1.5, 0.7]`; `x`: a batch of 3. `BN3_DX`, `BN3_DGAMMA`, `BN3_DBETA`:
/// `jax.grad` of `sum(BN3_DY * bn.stateless_call(..., x, training=True)[0])`.
type Bn3 = BatchNormalization<[[[f32; 2]; 3]; 2], 2>;
const BN3_X: [f32; 36] = [
    2.82, 1.98, 0.75, -0.25, -0.47, -0.41, 0.96, 2.42, 3.33, 3.32, 1.82, 0.59, -0.4, -0.6, 0.13, 0.87, 2.31,
    3.2, 3.18, 2.31, 0.42, -0.54, -0.73, 0.03, 1.42, 2.21, 3.08, 3.03, 2.15, 0.91, -0.69, -0.85, -0.08, 1.32,
    2.76, 2.96,
];
const BN3_INFER: [f32; 36] = [
    3.1731353,
    -2.1132262,
    1.0611544,
    -0.11563273,
    -0.18358803,
    0.027692348,
    1.2754133,
    -2.5073702,
    3.693478,
    -3.3135736,
    2.1528544,
    -0.86808944,
    -0.1121684,
    0.19789091,
    0.42858034,
    -1.1189084,
    2.652792,
    -3.20608,
    3.5404363,
    -2.408834,
    0.7244617,
    0.14414403,
    -0.448861,
    -0.36645162,
    1.7447423,
    -2.319256,
    3.438408,
    -3.053797,
    2.4895473,
    -1.1547396,
    -0.40804976,
    0.4218364,
    0.2143214,
    -1.5220102,
    3.1119184,
    -2.9910924,
];
const BN3_TRAIN: [f32; 36] = [
    1.8776487,
    -0.6351349,
    0.04439187,
    0.5413732,
    -1.0360785,
    0.6257863,
    0.23037446,
    -0.8672711,
    2.329321,
    -1.3420949,
    0.9920175,
    0.098204225,
    -0.97408426,
    0.7260269,
    -0.5046996,
    -0.049518794,
    1.4259769,
    -1.2787852,
    2.196476,
    -0.80923694,
    -0.24786651,
    0.694372,
    -1.2663426,
    0.39365017,
    0.6377648,
    -0.75647885,
    2.107913,
    -1.1890962,
    1.2842759,
    -0.07062209,
    -1.2309173,
    0.85792243,
    -0.6906822,
    -0.28693074,
    1.8245109,
    -1.1521654,
];
const BN3_MEAN1: [f32; 2] = [0.21064444, -0.086500004];
const BN3_VAR1: [f32; 2] = [1.5049112, 0.7131989];
const BN3_DY: [f32; 36] = [
    0.89, 0.285, -0.07, 0.02, 0.545, 0.965, 1.61, 1.88, 1.68, 1.135, 0.205, -0.14, -0.04, 0.495, 1.24, 1.555,
    1.815, 1.605, 1.055, 0.45, -0.21, -0.1, 0.445, 1.195, 1.825, 1.745, 1.525, 0.97, 0.375, 0.045, -0.155,
    0.395, 1.145, 1.77, 2.005, 1.45,
];
const BN3_DX: [f32; 36] = [
    -0.3999957,
    0.4077917,
    -0.70908284,
    0.25007138,
    0.15450084,
    -0.2698411,
    0.72388166,
    -0.3749964,
    0.16633385,
    0.1381315,
    -0.7452431,
    0.44655842,
    -0.38189223,
    -0.04722759,
    0.61316854,
    -0.41033527,
    0.5525325,
    -0.12584266,
    -0.34797424,
    0.3647697,
    -0.7468059,
    0.27468905,
    0.13390434,
    -0.33247963,
    0.79404384,
    -0.33179125,
    0.09441358,
    0.18649036,
    -0.6809511,
    0.39165056,
    -0.40793094,
    -0.0278247,
    0.5839296,
    -0.46372578,
    0.60316795,
    -0.07608858,
];
const BN3_DGAMMA: [f32; 2] = [7.4989243, 6.4711123];
const BN3_DBETA: [f32; 2] = [15.884999, 15.72];

fn bn3() -> Box<Bn3> {
    let mut bn = boxed_zeroed::<Bn3>();
    bn.init(&mut Rng::new(0));
    bn.gamma = [1.25, -0.75];
    bn.beta = [0.5, -0.25];
    bn.moving_mean = [0.2, -0.1];
    bn.moving_variance = [1.5, 0.7];
    bn
}

#[test]
fn batch_norm_rank_3_matches_keras_in_both_modes() {
    let mut bn = bn3();
    let mut y = [0.0; 36];
    // bn(x, training=False)
    bn.forward(&BN3_X, &mut y, &mut [], 3);
    assert_close(&y, &BN3_INFER, KERAS_TOL);
    // bn(x, training=True): per channel over 3 × 2 × 3 values
    let mut cache = vec![0.0; 3 * Bn3::CACHE];
    bn.forward_train(&BN3_X, &mut y, &mut cache, 3, &mut Rng::new(0));
    assert_close(&y, &BN3_TRAIN, KERAS_TOL);
    bn.update_state(&cache, 3);
    assert_close(&bn.moving_mean, &BN3_MEAN1, KERAS_TOL);
    assert_close(&bn.moving_variance, &BN3_VAR1, KERAS_TOL);
}

#[test]
fn batch_norm_backward_matches_jax_grad() {
    let bn = bn3();
    let (mut y, mut dx) = ([0.0; 36], [0.0; 36]);
    let mut cache = vec![0.0; 3 * Bn3::CACHE];
    bn.forward_train(&BN3_X, &mut y, &mut cache, 3, &mut Rng::new(0));
    let mut dy = BN3_DY;
    let mut grads = boxed_zeroed::<Bn3>();
    bn.backward(&BN3_X, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, 3);
    assert_close(&dx, &BN3_DX, 1e-5);
    assert_close(&grads.gamma, &BN3_DGAMMA, 1e-5);
    assert_close(&grads.beta, &BN3_DBETA, 1e-5);
    // No gradient reaches the moving statistics.
    assert_eq!(grads.moving_mean, [0.0; 2]);
    assert_eq!(grads.moving_variance, [0.0; 2]);
    // Backward leaves the batch statistics in the cache for `update_state`.
    let mut again = bn3();
    again.update_state(&cache, 3);
    assert_close(&again.moving_mean, &BN3_MEAN1, KERAS_TOL);
    assert_close(&again.moving_variance, &BN3_VAR1, KERAS_TOL);
}

#[test]
fn batch_norm_without_center_and_scale_has_only_moving_statistics() {
    type Bare = BatchNormalization<[f32; 4], 4, { bits(0.9) }, { bits(1e-3) }, NoBias, NoBias>;
    let mut bn = boxed_zeroed::<Bare>();
    bn.init(&mut Rng::new(0));
    assert_eq!(Bare::COUNT, 8);
    assert_eq!(Bare::NON_TRAINABLE, 8);
    let mut names = Vec::new();
    bn.visit_params(&mut |n, _, _| names.push(n.to_string()));
    assert_eq!(names, ["moving_mean", "moving_variance"]);
    // gamma = 1, beta = 0 is what Keras computes without them.
    let (mut y, mut reference) = ([0.0; 20], [0.0; 20]);
    let mut cache = vec![0.0; 5 * Bare::CACHE];
    bn.forward_train(&BN1_X1, &mut y, &mut cache, 5, &mut Rng::new(0));
    let mut plain = boxed_zeroed::<Bn4>();
    plain.init(&mut Rng::new(0));
    plain.forward_train(
        &BN1_X1,
        &mut reference,
        &mut [0.0; 5 * Bn4::CACHE],
        5,
        &mut Rng::new(0),
    );
    assert_eq!(y, reference);
}

// ---------------------------------------------------------------------------------------
// LayerNormalization against Keras
// ---------------------------------------------------------------------------------------

/// `ln = keras.layers.LayerNormalization()` on `(None, 5)`, `gamma = [1, 0.5, -1.5, 2, 0.25]`,
/// `beta = [0, 0.1, -0.2, 0.3, 1]`; `LN1_Y = ln(LN1_X)` for a batch of 3.
const LN1_X: [f32; 15] = [
    0.49, 0.13, 0.71, 2.03, 3.51, 3.88, 4.01, 3.26, 2.04, 0.98, 0.0, 0.61, 1.93, 3.41, 4.41,
];
const LN1_Y: [f32; 15] = [
    -0.7092354,
    -0.39903218,
    0.5990933,
    1.3526211,
    1.4284296,
    0.90150166,
    0.6067716,
    -0.7507262,
    -1.0686278,
    0.60052955,
    -1.2511804,
    -0.34141546,
    -0.07137966,
    1.9159067,
    1.3529513,
];

/// `ln = keras.layers.LayerNormalization(epsilon=1e-2)` on `(None, 2, 2, 3)`,
/// `gamma = [1.5, -0.5, 0.75]`, `beta = [0.2, 0, -0.4]`, a batch of 2; gradients of
/// `sum(LN3_DY * ln(x))` from `jax.grad`.
type Ln3 = LayerNormalization<[[[f32; 3]; 2]; 2], 3, { bits(1e-2) }>;
const LN3_X: [f32; 24] = [
    0.58, 1.53, 2.99, 4.35, 5.02, 4.1, 3.08, 1.84, 1.04, 1.11, 1.43, 2.9, 4.24, 4.89, 4.6, 2.91, 1.69, 0.9,
    0.99, 1.98, 2.8, 4.13, 4.76, 4.45,
];
const LN3_Y: [f32; 24] = [
    -1.4863642,
    0.08532202,
    0.57116497,
    -0.3235817,
    -0.6607132,
    -1.1292768,
    2.140379,
    0.08676493,
    -1.2400424,
    -1.1425729,
    0.24391145,
    0.6371536,
    -1.5778084,
    -0.5515299,
    -0.3383932,
    2.1391482,
    0.08605099,
    -1.2404978,
    -1.6748133,
    -0.037942648,
    0.4804926,
    -1.521244,
    -0.56770897,
    -0.39094162,
];
const LN3_DY: [f32; 24] = [
    1.22, 1.97, 2.53, 2.665, 2.345, 1.425, 0.865, 0.635, 0.87, 1.495, 1.92, 2.47, 2.595, 2.265, 1.67, 0.79,
    0.57, 0.815, 1.45, 2.195, 2.415, 2.525, 2.185, 1.585,
];
const LN3_DX: [f32; 24] = [
    1.1328783,
    -1.8739433,
    0.741065,
    5.5750303,
    -1.784147,
    -3.7908838,
    0.3797691,
    -0.95086634,
    0.57109714,
    1.9122964,
    -2.339848,
    0.4275514,
    0.983984,
    -1.2399447,
    0.25596046,
    0.35439813,
    -0.885345,
    0.53094697,
    1.2463561,
    -2.7363343,
    1.489978,
    1.3101172,
    -1.0079048,
    -0.30221272,
];
const LN3_DGAMMA: [f32; 3] = [-9.285026, 6.763558, 6.4098444];
const LN3_DBETA: [f32; 3] = [13.605, 14.084999, 13.78];

#[test]
fn layer_norm_rank_1_matches_keras() {
    let mut ln = boxed_zeroed::<LayerNormalization<[f32; 5], 5>>();
    ln.init(&mut Rng::new(0));
    assert_eq!((ln.gamma, ln.beta), ([1.0; 5], [0.0; 5]));
    ln.gamma = [1.0, 0.5, -1.5, 2.0, 0.25];
    ln.beta = [0.0, 0.1, -0.2, 0.3, 1.0];
    let mut y = [0.0; 15];
    ln.forward(&LN1_X, &mut y, &mut [], 3);
    assert_close(&y, &LN1_Y, KERAS_TOL);
}

#[test]
fn layer_norm_rank_3_matches_keras_forward_and_backward() {
    let mut ln = boxed_zeroed::<Ln3>();
    ln.init(&mut Rng::new(0));
    ln.gamma = [1.5, -0.5, 0.75];
    ln.beta = [0.2, 0.0, -0.4];
    let mut y = [0.0; 24];
    ln.forward(&LN3_X, &mut y, &mut [], 2);
    assert_close(&y, &LN3_Y, KERAS_TOL);
    // Training mode computes the same values.
    let mut y_train = [0.0; 24];
    let mut cache = vec![0.0; 2 * Ln3::CACHE];
    ln.forward_train(&LN3_X, &mut y_train, &mut cache, 2, &mut Rng::new(0));
    assert_eq!(y_train, y);
    let (mut dy, mut dx) = (LN3_DY, [0.0; 24]);
    let mut grads = boxed_zeroed::<Ln3>();
    ln.backward(&LN3_X, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, 2);
    assert_close(&dx, &LN3_DX, 1e-5);
    assert_close(&grads.gamma, &LN3_DGAMMA, 1e-5);
    assert_close(&grads.beta, &LN3_DBETA, 1e-5);
}

// ---------------------------------------------------------------------------------------
// Finite differences
// ---------------------------------------------------------------------------------------

/// Every coordinate, step 1e-2, `atol = 1e-4` (as `tests/gradients.rs`).
fn strict() -> Options {
    Options {
        atol: 1e-4,
        max_per_tensor: usize::MAX,
        ..Options::default()
    }
}

/// Gradient-checks `L` with random `gamma` and `beta` (the first `trainable` parameters) on
/// `batch` random samples; every input coordinate and parameter is compared.
fn check<L: Layer>(batch: usize, trainable: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut layer = boxed_zeroed::<L>();
    layer.init(&mut rng);
    for p in &mut layer.flat_mut()[..trainable] {
        *p = rng.uniform_range(-1.5, 1.5);
    }
    let x = uniform(&mut rng, batch * <L::Input as Shape>::LEN, -1.5, 1.5);
    let report = gradcheck::layer(&*layer, &x, batch, &strict());
    let what = format!("{} (batch {batch})", std::any::type_name::<L>());
    assert!(report.passed(), "{what}: {report}");
    assert_eq!(
        report.checked,
        x.len() + L::COUNT,
        "{what}: every coordinate checked"
    );
}

#[test]
fn batch_norm_gradients_rank_1() {
    for (batch, seed) in [(3, 1), (4, 2), (7, 3)] {
        check::<BatchNormalization<[f32; 5], 5>>(batch, 10, seed);
        check::<BatchNormalization<[f32; 5], 5, { bits(0.9) }, { bits(1e-3) }, NoBias>>(batch, 5, seed);
        check::<BatchNormalization<[f32; 5], 5, { bits(0.9) }, { bits(1e-3) }, [f32; 5], NoBias>>(
            batch, 5, seed,
        );
    }
}

#[test]
fn batch_norm_gradients_rank_3() {
    for (batch, seed) in [(3, 4), (5, 5)] {
        check::<BatchNormalization<[[[f32; 3]; 2]; 2], 3>>(batch, 6, seed);
    }
    // A single sample still has 2 × 2 values per channel.
    check::<BatchNormalization<[[[f32; 3]; 2]; 2], 3>>(1, 6, 6);
}

#[test]
fn layer_norm_gradients_rank_1_and_rank_3() {
    for (batch, seed) in [(1, 7), (3, 8)] {
        check::<LayerNormalization<[f32; 6], 6>>(batch, 12, seed);
        check::<LayerNormalization<[f32; 6], 6, { bits(1e-3) }, NoBias, NoBias>>(batch, 0, seed);
        check::<LayerNormalization<[[[f32; 4]; 3]; 2], 4, { bits(1e-5) }>>(batch, 8, seed);
    }
}

// ---------------------------------------------------------------------------------------
// In declared models, trained with compile / fit
// ---------------------------------------------------------------------------------------

model! {
    /// Batch normalisation of a 3×3×2 image first, so that its batch statistics are those
    /// of the data and can be computed by hand.
    struct BnNet: Input<3, 3, 2> {
        bn:   BatchNormalization(momentum = 0.9),
        flat: Flatten,
        out:  Dense(2),
    }
}

model! {
    /// Both layers inside a network: Dense → BatchNormalization → LayerNormalization.
    struct NormNet: Input<6> {
        hidden: Dense(4, activation = tanh),
        bn:     BatchNormalization(-1, 0.95, 1e-2),
        ln:     LayerNormalization(axis = 0, center = false),
        out:    Dense(2),
    }
}

/// `n` images of 3×3×2 whose channels have different means and spreads, with targets of
/// width 2.
fn images(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(n * 18);
    for _ in 0..n * 9 {
        x.push(rng.uniform_range(-1.0, 3.0));
        x.push(rng.uniform_range(-0.5, 0.5) * 4.0 - 2.0);
    }
    let y = uniform(&mut rng, n * 2, -1.0, 1.0);
    Dataset::new(x, &[3, 3, 2], Target::Values { data: y, width: 2 }).unwrap()
}

fn fit_options(epochs: usize, batch_size: usize, shuffle: bool) -> FitOptions<'static> {
    FitOptions {
        epochs,
        batch_size,
        shuffle,
        verbose: Verbosity::Silent,
        ..Default::default()
    }
}

/// The moving statistics of `BnNet` after training on `data` in order, by hand: Keras's
/// update with the biased variance of each whole batch.
fn moving_by_hand(data: &Dataset, epochs: usize, batch_size: usize) -> ([f32; 2], [f32; 2]) {
    let (mut mean, mut var) = ([0.0f32; 2], [1.0f32; 2]);
    let m = 0.9f32;
    for _ in 0..epochs {
        for batch in data.x.chunks(batch_size * 18) {
            for c in 0..2 {
                let v: Vec<f64> = batch.iter().skip(c).step_by(2).map(|&v| f64::from(v)).collect();
                let mu = v.iter().sum::<f64>() / v.len() as f64;
                let s2 = v.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / v.len() as f64;
                mean[c] = mean[c] * m + mu as f32 * (1.0 - m);
                var[c] = var[c] * m + s2 as f32 * (1.0 - m);
            }
        }
    }
    (mean, var)
}

#[test]
fn model_flags_batch_statistics_and_non_trainable_ranges() {
    const { assert!(<BnNet as Model>::WHOLE_BATCH) };
    const { assert!(<NormNet as Model>::WHOLE_BATCH) };
    // gamma, beta at 0..4; moving statistics at 4..8.
    let frozen: Vec<_> = <BnNet as Model>::NON_TRAINABLE
        .iter()
        .filter(|r| r.1 > 0)
        .collect();
    assert_eq!(frozen, [&(4, 4)]);
    // hidden 6·4 + 4 = 28, then bn: gamma, beta 28..36, moving 36..44.
    let frozen: Vec<_> = <NormNet as Model>::NON_TRAINABLE
        .iter()
        .filter(|r| r.1 > 0)
        .collect();
    assert_eq!(frozen, [&(36, 8)]);
    // center = false: the layer norm has only its 4 gammas.
    assert_eq!(NormNet::PARAM_COUNT, 28 + 16 + 4 + 4 * 2 + 2);
    let mut names = Vec::new();
    NormNet::new(0).visit_params(&mut |l, p, _, _| names.push(format!("{l}/{p}")));
    assert_eq!(
        names,
        [
            "hidden/kernel",
            "hidden/bias",
            "bn/gamma",
            "bn/beta",
            "bn/moving_mean",
            "bn/moving_variance",
            "ln/gamma",
            "out/kernel",
            "out/bias"
        ]
    );
}

#[test]
fn summary_counts_moving_statistics_as_non_trainable() {
    let s = summary_string::<BnNet>();
    assert!(s.contains("bn (BatchNormalization)"), "{s}");
    assert!(s.contains("(None, 3, 3, 2)"), "{s}");
    // Keras's per-layer count includes the moving statistics: 4 × 2.
    let bn_row = s.lines().find(|l| l.contains("bn (BatchNormalization)")).unwrap();
    assert!(
        bn_row.trim_end_matches('│').trim_end().ends_with(" 8"),
        "{bn_row}"
    );
    assert!(s.contains("Total params: 46 (184.00 B)"), "{s}");
    assert!(s.contains("Trainable params: 42 (168.00 B)"), "{s}");
    assert!(s.contains("Non-trainable params: 4 (16.00 B)"), "{s}");
}

#[test]
fn fit_updates_moving_statistics_from_whole_batches_as_by_hand() -> TestResult {
    // 200 samples in batches of 128 and 72: a batch of 128 would be two shards of 64 in a
    // model without batch statistics; the hand computation uses all 128 rows.
    let data = images(200, 1);
    let mut t = BnNet::new(3).compile(Sgd::new(0.05), MeanSquaredError, []);
    t.fit(&data, fit_options(2, 128, false))?;
    let (mean, var) = moving_by_hand(&data, 2, 128);
    let bn = &t.model().bn;
    assert_close(&bn.moving_mean, &mean, 1e-6);
    assert_close(&bn.moving_variance, &var, 1e-6);
    // Training moved gamma and beta.
    assert_ne!(bn.gamma, [1.0; 2]);
    assert_ne!(bn.beta, [0.0; 2]);
    Ok(())
}

#[test]
fn weight_decay_leaves_moving_statistics_to_update_state() -> TestResult {
    let data = images(200, 2);
    let (mean, var) = moving_by_hand(&data, 3, 50);
    // Decoupled weight decay (AdamW) and SGD with momentum and weight decay: strong enough
    // to shrink any parameter it touches by 5% a step.
    let mut adamw = BnNet::new(4).compile(AdamW::new(0.01).weight_decay(5.0), MeanSquaredError, []);
    adamw.fit(&data, fit_options(3, 50, false))?;
    let mut sgd = BnNet::new(4).compile(
        Sgd::new(0.1).momentum(0.9).weight_decay(0.5),
        MeanSquaredError,
        [],
    );
    sgd.fit(&data, fit_options(3, 50, false))?;
    let mut plain = BnNet::new(4).compile(Sgd::new(0.1).momentum(0.9), MeanSquaredError, []);
    plain.fit(&data, fit_options(3, 50, false))?;
    for t in [adamw.model(), sgd.model(), plain.model()] {
        assert_close(&t.bn.moving_mean, &mean, 1e-6);
        assert_close(&t.bn.moving_variance, &var, 1e-6);
    }
    // The decay did act on the trainable parameters.
    assert_ne!(sgd.model().out.kernel, plain.model().out.kernel);
    Ok(())
}

#[test]
fn inference_after_fit_uses_the_moving_statistics() -> TestResult {
    let data = images(64, 5);
    let mut t = BnNet::new(6).compile(Sgd::new(0.05), MeanSquaredError, []);
    t.fit(&data, fit_options(1, 16, true))?;
    let model = t.model();
    let x = &data.x[..18];
    let mut normed = [0.0f32; 18];
    for (i, (n, &v)) in normed.iter_mut().zip(x).enumerate() {
        let c = i % 2;
        let bn = &model.bn;
        *n = bn.gamma[c] * (v - bn.moving_mean[c]) / (bn.moving_variance[c] + 1e-3).sqrt() + bn.beta[c];
    }
    let expected: Vec<f32> = (0..2)
        .map(|j| model.out.bias[j] + (0..18).map(|i| normed[i] * model.out.kernel[i][j]).sum::<f32>())
        .collect();
    let sample: [[[f32; 2]; 3]; 3] =
        core::array::from_fn(|h| core::array::from_fn(|w| [x[6 * h + 2 * w], x[6 * h + 2 * w + 1]]));
    assert_close(&model.forward(&sample), &expected, 1e-5);
    // predict and evaluate run in inference mode too: one sample alone is not squashed to
    // beta, as a training-mode batch of one would be.
    assert_close(&model.predict(x, 1)?, &expected, 1e-5);
    Ok(())
}

/// Trains `BnNet` with shuffling in a pool of `threads` threads; batches of 128.
fn train_in_pool(threads: usize, data: &Dataset) -> Result<Vec<u32>, Box<dyn std::error::Error>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    assert_eq!(pool.current_num_threads(), threads);
    let params = pool.install(|| -> kerust::Result<Vec<u32>> {
        let mut t = BnNet::new(8).compile(Adam::default(), MeanSquaredError, []);
        t.fit(
            data,
            FitOptions {
                seed: 5,
                ..fit_options(2, 128, true)
            },
        )?;
        Ok(t.model().params().iter().map(|v| v.to_bits()).collect())
    })?;
    Ok(params)
}

#[test]
fn batch_norm_training_is_bit_identical_on_1_and_2_threads() -> TestResult {
    let data = images(300, 9);
    let p1 = train_in_pool(1, &data)?;
    let p2 = train_in_pool(2, &data)?;
    assert!(p1 == p2, "1 and 2 threads give different weights");
    let init: Vec<u32> = BnNet::new(8).params().iter().map(|v| v.to_bits()).collect();
    assert_ne!(p1, init);
    Ok(())
}

#[test]
fn whole_model_gradients_through_batch_and_layer_normalization() {
    let mut rng = Rng::new(21);
    let mut model = NormNet::new(21);
    for p in [&mut model.bn.gamma, &mut model.bn.beta, &mut model.ln.gamma] {
        p.iter_mut().for_each(|v| *v = rng.uniform_range(-1.5, 1.5));
    }
    for batch in [3, 6] {
        let x = uniform(&mut rng, batch * 6, -1.5, 1.5);
        let y = uniform(&mut rng, batch * 2, -1.0, 1.0);
        let report = gradcheck::model(&*model, &x, Targets::Dense(&y), &MeanSquaredError, &strict());
        assert!(report.passed(), "NormNet (batch {batch}): {report}");
        assert_eq!(report.checked, NormNet::PARAM_COUNT);
    }
    let data = images(6, 3);
    let mut bn_net = BnNet::new(2);
    bn_net.bn.gamma = [0.7, -1.3];
    let y = match &data.y {
        Target::Values { data, .. } => data.clone(),
        _ => unreachable!(),
    };
    let report = gradcheck::model(
        &*bn_net,
        &data.x,
        Targets::Dense(&y),
        &MeanSquaredError,
        &strict(),
    );
    assert!(report.passed(), "BnNet: {report}");
}
