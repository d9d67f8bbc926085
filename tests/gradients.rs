//! Finite-difference gradient checks of every layer, activation, loss and whole models.
//!
//! - Layers ([`gradcheck::layer`]): input *and* parameter gradients, every coordinate, batch
//!   1 and a batch of several samples: `Dense` with every activation, with and without bias;
//!   `ActivationLayer` for every activation on rank-1 and rank-2 samples; `Flatten`;
//!   `Reshape`; `Dropout` (mask held fixed); `Chain`.
//! - Models ([`gradcheck::model`]): every parameter of `model!` networks (`Flatten`,
//!   `Reshape`, two `Dropout`s, several activations) under every loss, batch 1 and 5.
//! - The checker itself: a hand-written layer with a wrong backward pass, a loss with a wrong
//!   gradient and a NaN gradient must all fail.
//! - Forward values: `Dense` against values computed by hand, and a declared model against
//!   a computation from its flat parameters.
//!
//! Non-differentiable points (the kinks of `relu`, `leaky_relu`, `selu`, `relu6`, ...) are
//! kept at least [`KINK_MARGIN`] away from every value the check perturbs: more than three
//! times what a step of `eps = 1e-2` can move them, so no central difference straddles one.

use std::ops::Range;

use kerust::activations::{
    bits, Activation, Elu, Gelu, LeakyRelu, Linear, Relu, Relu6, Selu, Sigmoid, Silu, Softmax, Softplus,
    Softsign, Tanh,
};
use kerust::gradcheck::{self, Options, Report};
use kerust::layers::{ActivationLayer, Chain, Dense, Dropout, Flatten, NoBias, Reshape};
use kerust::losses::{
    BinaryCrossentropy, CategoricalCrossentropy, Huber, Loss, MeanAbsoluteError, MeanSquaredError,
    SparseCategoricalCrossentropy, TargetKind, Targets,
};
use kerust::params::boxed_zeroed;
use kerust::{model, Layer, Model, Params, Rng, Shape};

/// The smallest distance between a kink and a pre-activation. A step of `eps = 1e-2` in an
/// input or a parameter moves a pre-activation by at most `eps * max(|x|, |w|, 1)`, at most
/// 0.015 here (inputs in [-1.5, 1.5], Glorot kernels).
const KINK_MARGIN: f32 = 0.05;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `n` values drawn uniformly from `[lo, hi)` by `rng`.
fn uniform(rng: &mut Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.uniform_range(lo, hi)).collect()
}

/// Moves every value at least [`KINK_MARGIN`] away from each kink, on its own side.
fn avoid_kinks(values: &mut [f32], kinks: &[f32]) {
    for v in values {
        for &k in kinks {
            if (*v - k).abs() < KINK_MARGIN {
                *v = if *v >= k { k + KINK_MARGIN } else { k - KINK_MARGIN };
            }
        }
    }
}

/// Whether every value is at least [`KINK_MARGIN`] from every kink and, when there are
/// kinks, both sides of the first one are exercised.
fn clear_of_kinks(values: &[f32], kinks: &[f32]) -> bool {
    let clear = values
        .iter()
        .all(|&v| kinks.iter().all(|&k| (v - k).abs() >= KINK_MARGIN));
    let both_sides = match kinks.first() {
        Some(&k) => values.iter().any(|&v| v < k) && values.iter().any(|&v| v > k),
        None => true,
    };
    clear && both_sides
}

/// `x · kernel + bias` for `batch` rows, from a dense layer's flat parameters (kernel
/// `[i][o]` row-major, then the bias if there is one), in `f64`.
fn affine(params: &[f32], x: &[f32], i: usize, o: usize, batch: usize) -> Vec<f64> {
    let (kernel, bias) = params.split_at(i * o);
    assert!(bias.is_empty() || bias.len() == o);
    let mut z = Vec::with_capacity(batch * o);
    for row in x.chunks_exact(i).take(batch) {
        for j in 0..o {
            let b = bias.get(j).map_or(0.0, |&b| f64::from(b));
            z.push(
                b + (0..i)
                    .map(|k| f64::from(row[k]) * f64::from(kernel[k * o + j]))
                    .sum::<f64>(),
            );
        }
    }
    z
}

/// Softmax of each row of `width` values, in `f64`.
fn softmax_rows(z: &[f64], width: usize) -> Vec<f64> {
    z.chunks_exact(width)
        .flat_map(|row| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
            row.iter().map(move |v| (v - max).exp() / sum)
        })
        .collect()
}

#[track_caller]
fn assert_close(actual: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len());
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (f64::from(a) - e).abs() <= tol * (1.0 + e.abs()),
            "element {i}: got {a}, expected {e}\n  actual:   {actual:?}\n  expected: {expected:?}"
        );
    }
}

#[track_caller]
fn assert_passed(report: &Report, what: &str) {
    assert!(report.passed(), "{what}: gradient check failed: {report}");
}

/// The options of these checks: every coordinate of every tensor (the default samples 64
/// per tensor), the default step `eps = 1e-2` and relative tolerance `rtol = 2e-2`, and an
/// absolute tolerance `atol = 1e-4` instead of the default 2e-3, which is as large as many
/// of the gradients checked here (1e-3 to 1e-2 for model parameters under a mean loss).
/// Measured, the worst coordinate of any check here uses about a tenth of this tolerance.
fn strict() -> Options {
    Options {
        atol: 1e-4,
        max_per_tensor: usize::MAX,
        ..Options::default()
    }
}

/// Gradient-checks `layer` on `x`, asserting it passed and that every input coordinate and
/// every parameter was compared.
#[track_caller]
fn check_layer<L: Layer>(layer: &L, x: &[f32], batch: usize) -> Report {
    let report = gradcheck::layer(layer, x, batch, &strict());
    let what = format!("{} (batch {batch})", std::any::type_name::<L>());
    assert_passed(&report, &what);
    assert_eq!(
        report.checked,
        batch * <L::Input as Shape>::LEN + L::COUNT,
        "{what}: every input coordinate and parameter is checked"
    );
    report
}

/// The flat range of parameter `name` of layer `layer` in a model.
fn param_range<M: Model>(model: &M, layer: &str, name: &str) -> Range<usize> {
    let (mut offset, mut found) = (0, None);
    model.visit_params(&mut |l, p, _, v| {
        if l == layer && p == name {
            found = Some(offset..offset + v.len());
        }
        offset += v.len();
    });
    found.unwrap_or_else(|| panic!("no parameter `{layer}/{name}`"))
}

/// Sets every bias of a model to random values (Keras initialises them to zero).
fn randomize_biases<M: Model>(model: &mut M, rng: &mut Rng) {
    let (mut offset, mut ranges) = (0, Vec::new());
    model.visit_params(&mut |_, p, _, v| {
        if p == "bias" {
            ranges.push(offset..offset + v.len());
        }
        offset += v.len();
    });
    for r in ranges {
        for b in &mut model.flat_mut()[r] {
            *b = rng.uniform_range(-0.5, 0.5);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dense, with every activation, with and without bias
// ---------------------------------------------------------------------------------------

/// A dense layer `L` with Glorot kernel and random bias, and an input of `batch` samples
/// whose pre-activations are clear of `kinks` (the first seed that gives one).
fn dense_case<L: Layer>(batch: usize, kinks: &[f32]) -> (Box<L>, Vec<f32>) {
    let (i, o) = (<L::Input as Shape>::LEN, <L::Output as Shape>::LEN);
    for seed in 0..1000 {
        let mut rng = Rng::new(seed);
        let mut layer = boxed_zeroed::<L>();
        layer.init(&mut rng);
        for b in &mut layer.flat_mut()[i * o..] {
            *b = rng.uniform_range(-0.5, 0.5);
        }
        let x = uniform(&mut rng, batch * i, -1.5, 1.5);
        let z: Vec<f32> = affine(layer.flat(), &x, i, o, batch)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        if clear_of_kinks(&z, kinks) {
            return (layer, x);
        }
    }
    panic!("no seed gives pre-activations clear of {kinks:?}");
}

fn check_dense<A: Activation>(kinks: &[f32]) {
    for batch in [1, 3] {
        let (layer, x) = dense_case::<Dense<5, 4, A>>(batch, kinks);
        let report = check_layer(&*layer, &x, batch);
        assert_eq!(report.checked, batch * 5 + 5 * 4 + 4);

        let (layer, x) = dense_case::<Dense<5, 4, A, NoBias>>(batch, kinks);
        let report = check_layer(&*layer, &x, batch);
        assert_eq!(report.checked, batch * 5 + 5 * 4);
    }
}

// ---------------------------------------------------------------------------------------
// ActivationLayer, for every activation, on rank-1 and rank-2 samples
// ---------------------------------------------------------------------------------------

fn check_activation_layer<A: Activation>(kinks: &[f32], range: f32) {
    let mut rng = Rng::new(11);
    for batch in [1, 4] {
        let mut x = uniform(&mut rng, batch * 6, -range, range);
        avoid_kinks(&mut x, kinks);
        check_layer(&ActivationLayer::<[f32; 6], A>::new(), &x, batch);
    }
    // Rank 2: softmax normalises each row of 4; elementwise activations do not care.
    let mut x = uniform(&mut rng, 2 * 12, -range, range);
    avoid_kinks(&mut x, kinks);
    check_layer(&ActivationLayer::<[[f32; 4]; 3], A>::new(), &x, 2);
}

/// One test per activation in `dense_activation::` and `activation_layer::`, with the
/// points where the activation (or its derivative) is not smooth.
macro_rules! per_activation {
    ($($name:ident => $act:ty, kinks: $kinks:expr, range: $range:expr;)*) => {
        mod dense_activation {
            use super::*;
            $(
                #[test]
                fn $name() {
                    check_dense::<$act>(&$kinks);
                }
            )*
        }
        mod activation_layer {
            use super::*;
            $(
                #[test]
                fn $name() {
                    check_activation_layer::<$act>(&$kinks, $range);
                }
            )*
        }
    };
}

per_activation! {
    linear => Linear, kinks: [], range: 3.0;
    relu => Relu, kinks: [0.0], range: 3.0;
    sigmoid => Sigmoid, kinks: [], range: 4.0;
    tanh => Tanh, kinks: [], range: 3.0;
    softmax => Softmax, kinks: [], range: 3.0;
    gelu => Gelu, kinks: [], range: 3.0;
    silu => Silu, kinks: [], range: 3.0;
    // With alpha = 1 the first derivative is continuous at 0, the second is not.
    elu => Elu, kinks: [0.0], range: 3.0;
    elu_alpha_0_5 => Elu<{ bits(0.5) }>, kinks: [0.0], range: 3.0;
    leaky_relu => LeakyRelu, kinks: [0.0], range: 3.0;
    leaky_relu_slope_0_3 => LeakyRelu<{ bits(0.3) }>, kinks: [0.0], range: 3.0;
    softplus => Softplus, kinks: [], range: 4.0;
    softsign => Softsign, kinks: [0.0], range: 3.0;
    selu => Selu, kinks: [0.0], range: 3.0;
    // A range past 6 exercises the upper clamp too.
    relu6 => Relu6, kinks: [0.0, 6.0], range: 8.0;
}

#[test]
fn parameterless_layers_view_as_empty_f32_slices() {
    // `Params::flat` makes an `&[f32]` from the layer's address, which must be f32-aligned
    // even for an empty slice (debug builds check it). Boxed zero-sized values sit at their
    // alignment, so this failed before these layers were aligned to 4.
    assert!(boxed_zeroed::<ActivationLayer<[f32; 3], Relu>>()
        .flat()
        .is_empty());
    assert!(boxed_zeroed::<Flatten<[[f32; 2]; 2], 4>>().flat().is_empty());
    assert!(boxed_zeroed::<Reshape<[f32; 4], [[f32; 2]; 2]>>()
        .flat()
        .is_empty());
    assert!(boxed_zeroed::<Dropout30>().flat_mut().is_empty());
    let on_stack = (0u8, Flatten::<[f32; 4], 4>::new());
    assert!(on_stack.1.flat().is_empty());
}

#[test]
fn large_dense_layer_is_sampled() {
    let (layer, x) = dense_case::<Dense<40, 30, Tanh>>(2, &[]);
    let report = gradcheck::layer(&*layer, &x, 2, &Options::default());
    assert_passed(&report, "Dense<40, 30, Tanh>");
    // 64 of the 80 inputs, 64 of the 1200 kernel values, all 30 biases.
    assert_eq!(report.checked, 64 + 64 + 30);
}

#[test]
fn softmax_layer_on_rank_2_samples_normalises_the_last_axis() {
    let layer = ActivationLayer::<[[f32; 4]; 3], Softmax>::new();
    let x = uniform(&mut Rng::new(5), 2 * 12, -3.0, 3.0);
    let mut y = vec![0.0; 2 * 12];
    layer.forward(&x, &mut y, &mut [], 2);
    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    assert_close(&y, &softmax_rows(&x64, 4), 1e-6);
    for row in y.chunks_exact(4) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{row:?}");
    }
    check_layer(&layer, &x, 2);
}

// ---------------------------------------------------------------------------------------
// Flatten, Reshape, Dropout, Chain
// ---------------------------------------------------------------------------------------

#[test]
fn flatten() {
    let layer = Flatten::<[[f32; 4]; 3], 12>::new();
    for batch in [1, 3] {
        let x = uniform(&mut Rng::new(batch as u64), batch * 12, -2.0, 2.0);
        check_layer(&layer, &x, batch);
        let mut y = vec![0.0; batch * 12];
        layer.forward(&x, &mut y, &mut [], batch);
        assert_eq!(y, x, "row-major order is kept");
    }
}

#[test]
fn reshape() {
    let to_matrix = Reshape::<[f32; 12], [[f32; 3]; 4]>::new();
    let between_ranks = Reshape::<[[f32; 4]; 3], [[[f32; 2]; 3]; 2]>::new();
    for batch in [1, 3] {
        let x = uniform(&mut Rng::new(batch as u64), batch * 12, -2.0, 2.0);
        check_layer(&to_matrix, &x, batch);
        check_layer(&between_ranks, &x, batch);
        let mut y = vec![0.0; batch * 12];
        between_ranks.forward(&x, &mut y, &mut [], batch);
        assert_eq!(y, x, "row-major order is kept");
    }
}

type Dropout30 = Dropout<[f32; 20], { bits(0.3) }>;

#[test]
fn dropout_gradient_with_the_mask_held_fixed() {
    let layer = Dropout30::new();
    for batch in [1, 5] {
        let x = uniform(&mut Rng::new(3), batch * 20, -2.0, 2.0);
        // Each seed draws another mask; within one check the mask is held fixed, so dropped
        // entries have a zero gradient on both sides and kept ones 1 / (1 - rate).
        for seed in 0..3 {
            let opts = Options { seed, ..strict() };
            let report = gradcheck::layer(&layer, &x, batch, &opts);
            assert_passed(&report, &format!("Dropout(0.3), batch {batch}, seed {seed}"));
            assert_eq!(report.checked, batch * 20);
        }
    }
}

#[test]
fn dropout_drops_about_rate_of_the_entries_and_backpropagates_through_the_mask() {
    const N: usize = 500;
    const BATCH: usize = 4;
    let layer = Dropout::<[f32; N], { bits(0.3) }>::new();
    let x = uniform(&mut Rng::new(1), BATCH * N, 0.5, 1.5); // no zeros of its own
    let (mut y, mut cache) = (vec![0.0; BATCH * N], vec![0.0; BATCH * N]);
    layer.forward_train(&x, &mut y, &mut cache, BATCH, &mut Rng::new(2));

    let dropped = y.iter().filter(|&&v| v == 0.0).count();
    let fraction = dropped as f64 / (BATCH * N) as f64;
    // 2000 draws at p = 0.3: one standard deviation is 0.0102.
    assert!((fraction - 0.3).abs() < 0.04, "dropped {fraction} of the entries");
    for (&yv, &xv) in y.iter().zip(&x) {
        assert!(
            yv == 0.0 || (yv - xv / 0.7).abs() <= 1e-6 * yv.abs(),
            "{yv} from {xv}"
        );
    }

    // Backward: dL/dx = dL/dy * mask, zero exactly where the entry was dropped.
    let mut dy = uniform(&mut Rng::new(3), BATCH * N, 0.5, 1.5);
    let mut dx = vec![f32::NAN; BATCH * N];
    let mut grads = Dropout::<[f32; N], { bits(0.3) }>::new();
    let dy0 = dy.clone();
    layer.backward(&x, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, BATCH);
    for i in 0..BATCH * N {
        let expected = if y[i] == 0.0 { 0.0 } else { dy0[i] / 0.7 };
        assert!((dx[i] - expected).abs() <= 1e-6 * expected.abs(), "dx[{i}]");
    }

    // Inference is the identity.
    layer.forward(&x, &mut y, &mut [], BATCH);
    assert_eq!(y, x);
}

/// `Flatten → Dense(gelu) → Dropout → Dense → Reshape → Softmax`, composed by hand.
type Composed = Chain<
    Flatten<[[f32; 3]; 2], 6>,
    Chain<
        Dense<6, 8, Gelu>,
        Chain<
            Dropout<[f32; 8], { bits(0.25) }>,
            Chain<
                Dense<8, 6>,
                Chain<Reshape<[f32; 6], [[f32; 3]; 2]>, ActivationLayer<[[f32; 3]; 2], Softmax>>,
            >,
        >,
    >,
>;

#[test]
fn chain() {
    let mut layer = boxed_zeroed::<Composed>();
    layer.init(&mut Rng::new(4));
    let mut rng = Rng::new(5);
    for b in layer.b.a.bias.iter_mut().chain(&mut layer.b.b.b.a.bias) {
        *b = rng.uniform_range(-0.5, 0.5);
    }
    for batch in [1, 4] {
        let x = uniform(&mut rng, batch * 6, -1.5, 1.5);
        let report = check_layer(&*layer, &x, batch);
        // Both dense layers' kernels and biases.
        assert_eq!(report.checked, batch * 6 + (6 * 8 + 8) + (8 * 6 + 6));
    }

    // A two-layer chain with smooth activations, batch 3.
    let mut mlp = boxed_zeroed::<Chain<Dense<5, 7, Tanh>, Dense<7, 3, Sigmoid>>>();
    mlp.init(&mut Rng::new(6));
    let x = uniform(&mut rng, 3 * 5, -1.5, 1.5);
    check_layer(&*mlp, &x, 3);
}

// ---------------------------------------------------------------------------------------
// The checker has teeth: a user's layer with a wrong backward pass fails
// ---------------------------------------------------------------------------------------

const CORRECT: u8 = 0;
/// dL/dx = w x dy: forgets the factor 2 of d(x²)/dx.
const FORGETS_THE_TWO: u8 = 1;
/// dL/dw is 10% too large.
const WEIGHT_GRAD_10_PERCENT_OFF: u8 = 2;
/// A NaN in the last input gradient.
const NAN_INPUT_GRAD: u8 = 3;

/// A layer a user might write: `y = w ⊙ x²`, one weight per feature. `BUG` selects a
/// deliberate mistake in its backward pass.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct WeightedSquare<const N: usize, const BUG: u8> {
    w: [f32; N],
}

// SAFETY: `#[repr(C)]` around one `[f32; N]`: exactly N contiguous f32 values, no padding.
unsafe impl<const N: usize, const BUG: u8> Params for WeightedSquare<N, BUG> {
    const COUNT: usize = N;
    const ZERO: Self = WeightedSquare { w: [0.0; N] };
}

impl<const N: usize, const BUG: u8> Layer for WeightedSquare<N, BUG> {
    type Input = [f32; N];
    type Output = [f32; N];
    const KIND: &'static str = "WeightedSquare";

    fn init(&mut self, rng: &mut Rng) {
        for w in &mut self.w {
            *w = rng.uniform_range(-1.0, 1.0);
        }
    }

    fn forward(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32], batch: usize) {
        for (i, (yv, &xv)) in y[..batch * N].iter_mut().zip(x).enumerate() {
            *yv = self.w[i % N] * xv * xv;
        }
    }

    fn backward(
        &self,
        x: &[f32],
        _y: &[f32],
        _cache: &mut [f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        grads: &mut Self,
        batch: usize,
    ) {
        let dw_factor = if BUG == WEIGHT_GRAD_10_PERCENT_OFF {
            1.1
        } else {
            1.0
        };
        let dx_factor = if BUG == FORGETS_THE_TWO { 1.0 } else { 2.0 };
        for (i, (&xv, &g)) in x[..batch * N].iter().zip(&*dy).enumerate() {
            grads.w[i % N] += dw_factor * xv * xv * g;
        }
        if let Some(dx) = dx {
            for (i, d) in dx[..batch * N].iter_mut().enumerate() {
                *d = dx_factor * self.w[i % N] * x[i] * dy[i];
            }
            if BUG == NAN_INPUT_GRAD {
                dx[batch * N - 1] = f32::NAN;
            }
        }
    }

    fn visit_params(&self, f: &mut kerust::layer::ParamVisitor<'_>) {
        f("w", &[N], &self.w);
    }
}

/// The check of `WeightedSquare<6, BUG>` with the default options, as a user would run it.
fn weighted_square_report<const BUG: u8>(batch: usize) -> Report {
    let mut layer = WeightedSquare::<6, BUG> { w: [0.0; 6] };
    layer.init(&mut Rng::new(8));
    let x = uniform(&mut Rng::new(9), batch * 6, -2.0, 2.0);
    gradcheck::layer(&layer, &x, batch, &Options::default())
}

#[test]
fn a_correct_custom_layer_passes() {
    for batch in [1, 3] {
        let report = weighted_square_report::<CORRECT>(batch);
        assert_passed(&report, "WeightedSquare");
        assert_eq!(report.checked, batch * 6 + 6);
        // And under the stricter options of the other checks.
        let mut layer = WeightedSquare::<6, CORRECT> { w: [0.0; 6] };
        layer.init(&mut Rng::new(8));
        check_layer(&layer, &uniform(&mut Rng::new(9), batch * 6, -2.0, 2.0), batch);
    }
}

#[test]
fn a_wrong_input_gradient_fails() {
    for batch in [1, 3] {
        let report = weighted_square_report::<FORGETS_THE_TWO>(batch);
        assert!(
            !report.passed(),
            "a factor-2 error in dL/dx went unnoticed: {report}"
        );
        assert!(report.worst.starts_with("input["), "{report}");
    }
}

#[test]
fn a_parameter_gradient_10_percent_off_fails() {
    for batch in [1, 3] {
        let report = weighted_square_report::<WEIGHT_GRAD_10_PERCENT_OFF>(batch);
        assert!(!report.passed(), "a 10% error in dL/dw went unnoticed: {report}");
        assert!(report.worst.starts_with("parameter `w`"), "{report}");
    }
}

#[test]
fn a_nan_gradient_fails() {
    for batch in [1, 3] {
        let report = weighted_square_report::<NAN_INPUT_GRAD>(batch);
        assert!(!report.passed(), "a NaN in dL/dx went unnoticed: {report}");
        assert!(
            report.worst.starts_with(&format!("input[{}]", batch * 6 - 1)),
            "{report}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Forward values by hand
// ---------------------------------------------------------------------------------------

/// Kernel `[[1, -2], [0.5, 1], [-1, 3]]`, bias `[0.25, -0.5]`.
fn hand_dense<A: Activation>() -> Dense<3, 2, A> {
    let mut d = Dense::<3, 2, A>::ZERO;
    d.kernel = [[1.0, -2.0], [0.5, 1.0], [-1.0, 3.0]];
    d.bias = [0.25, -0.5];
    d
}

/// Two samples.
const HAND_X: [f32; 6] = [1.0, 2.0, 3.0, -1.0, 0.0, 2.0];

/// Runs both forward passes and checks they agree.
fn run<L: Layer>(layer: &L, x: &[f32], batch: usize) -> Vec<f32> {
    let out = batch * <L::Output as Shape>::LEN;
    let (mut y, mut y_train) = (vec![f32::NAN; out], vec![f32::NAN; out]);
    let mut cache = vec![0.0; batch * L::CACHE];
    layer.forward(x, &mut y, &mut vec![0.0; batch * L::SCRATCH], batch);
    layer.forward_train(x, &mut y_train, &mut cache, batch, &mut Rng::new(0));
    assert_eq!(y, y_train, "inference and training forward agree");
    y
}

#[test]
fn dense_forward_matches_hand_computed_values() {
    // Row 0: [1, 2, 3] · kernel = [1 + 1 - 3, -2 + 2 + 9] = [-1, 9]; + bias = [-0.75, 8.5].
    // Row 1: [-1, 0, 2] · kernel = [-1 - 2, 2 + 6] = [-3, 8]; + bias = [-2.75, 7.5].
    // Every value is exact in f32, whatever the summation order.
    assert_eq!(run(&hand_dense::<Linear>(), &HAND_X, 2), [-0.75, 8.5, -2.75, 7.5]);
    assert_eq!(run(&hand_dense::<Relu>(), &HAND_X, 2), [0.0, 8.5, 0.0, 7.5]);
    assert_eq!(run(&hand_dense::<Linear>(), &HAND_X[..3], 1), [-0.75, 8.5]);

    let mut no_bias = Dense::<3, 2, Linear, NoBias>::ZERO;
    no_bias.kernel = hand_dense::<Linear>().kernel;
    assert_eq!(run(&no_bias, &HAND_X, 2), [-1.0, 9.0, -3.0, 8.0]);

    // sigmoid(-0.75), sigmoid(8.5), sigmoid(-2.75), sigmoid(7.5).
    assert_close(
        &run(&hand_dense::<Sigmoid>(), &HAND_X, 2),
        &[
            0.320_821_300_824_607,
            0.999_796_573_021_944_8,
            0.060_086_650_174_007_63,
            0.999_447_221_363_076_4,
        ],
        1e-6,
    );
    // softmax([-0.75, 8.5]) = [sigmoid(-9.25), sigmoid(9.25)], and likewise with 10.25.
    assert_close(
        &run(&hand_dense::<Softmax>(), &HAND_X, 2),
        &[
            9.610_241_549_947_396e-5,
            0.999_903_897_584_500_5,
            3.535_625_074_174_431_5e-5,
            0.999_964_643_749_258_2,
        ],
        1e-6,
    );
    // tanh(-0.75), tanh(8.5) (the second row is covered above).
    assert_close(
        &run(&hand_dense::<Tanh>(), &HAND_X[..3], 1),
        &[-0.635_148_952_387_287_3, 0.999_999_917_201_249],
        1e-6,
    );
}

model! {
    /// Two dense layers, for a forward pass computed by hand.
    struct Tiny: Input<3> {
        hidden: Dense(4, activation = tanh),
        out:    Dense(2, activation = softmax),
    }
}

model! {
    /// Two dense layers without bias.
    struct TinyNoBias: Input<3> {
        hidden: Dense(4, activation = relu, use_bias = false),
        out:    Dense(2, use_bias = false),
    }
}

#[test]
fn model_forward_matches_a_computation_from_the_flat_params() {
    let mut model = Tiny::new(3);
    randomize_biases(&mut *model, &mut Rng::new(4));
    // Declaration order, each kernel [in][out] row-major then its bias.
    assert_eq!(Tiny::PARAM_COUNT, 3 * 4 + 4 + 4 * 2 + 2);
    let p = model.params();
    let (hidden, out) = (&p[..3 * 4 + 4], &p[3 * 4 + 4..]);
    assert_eq!(hidden[12..], model.hidden.bias);
    assert_eq!(out[8..], model.out.bias);

    const BATCH: usize = 3;
    let x = uniform(&mut Rng::new(5), BATCH * 3, -2.0, 2.0);
    let h: Vec<f32> = affine(hidden, &x, 3, 4, BATCH)
        .iter()
        .map(|&z| z.tanh() as f32)
        .collect();
    let expected = softmax_rows(&affine(out, &h, 4, 2, BATCH), 2);

    let mut y = vec![0.0; BATCH * 2];
    let mut scratch = vec![0.0; BATCH * Tiny::SCRATCH];
    model.forward_batch(&x, &mut y, BATCH, &mut scratch);
    assert_close(&y, &expected, 1e-6);
    for b in 0..BATCH {
        let one = model.forward(&[x[3 * b], x[3 * b + 1], x[3 * b + 2]]);
        assert_close(&one, &expected[2 * b..2 * b + 2], 1e-6);
    }

    let model = TinyNoBias::new(6);
    assert_eq!(TinyNoBias::PARAM_COUNT, 3 * 4 + 4 * 2);
    let p = model.params();
    let h: Vec<f32> = affine(&p[..12], &x, 3, 4, BATCH)
        .iter()
        .map(|&z| z.max(0.0) as f32)
        .collect();
    let expected = affine(&p[12..], &h, 4, 2, BATCH);
    let mut scratch = vec![0.0; BATCH * TinyNoBias::SCRATCH];
    model.forward_batch(&x, &mut y, BATCH, &mut scratch);
    assert_close(&y, &expected, 1e-6);
}

// ---------------------------------------------------------------------------------------
// Whole models under every loss
// ---------------------------------------------------------------------------------------

/// A deep model: `Flatten`, `Reshape`, two `Dropout`s, relu, gelu, a rank-2 `Softmax`
/// layer, elu, tanh, and the given head activation.
macro_rules! deep_model {
    ($(#[$attr:meta])* $name:ident, head = $head:ident) => {
        model! {
            $(#[$attr])*
            struct $name: Input<3, 4> {
                flat:   Flatten,
                hidden: Dense(10, activation = relu),
                drop:   Dropout(0.25),
                mid:    Dense(6, activation = gelu),
                grid:   Reshape((2, 3)),
                rows:   Softmax,
                flat2:  Flatten,
                pre:    Dense(5, activation = elu),
                drop2:  Dropout(0.2),
                squash: Activation(tanh),
                out:    Dense(4, activation = $head),
            }
        }
    };
}

deep_model!(
    /// Linear head: regression losses and losses on logits.
    Regressor, head = linear
);
deep_model!(
    /// Sigmoid head: binary crossentropy on probabilities.
    Binary, head = sigmoid
);
deep_model!(
    /// Softmax head: categorical crossentropies on probabilities.
    Categorical, head = softmax
);

model! {
    /// Rank-2 output, a softmax per row of 3: the losses see 2 rows per sample.
    struct Grid: Input<6> {
        hidden: Dense(8, activation = silu),
        drop:   Dropout(0.5),
        logits: Dense(6, activation = softplus),
        grid:   Reshape((2, 3)),
        probs:  Softmax,
    }
}

model! {
    /// `Grid` without the softmax: the losses see logits.
    struct GridLogits: Input<6> {
        hidden: Dense(8, activation = silu),
        drop:   Dropout(0.5),
        logits: Dense(6),
        grid:   Reshape((2, 3)),
    }
}

const BATCHES: [usize; 2] = [1, 5];

/// A deep model (`Regressor`, `Binary` or `Categorical`) with random biases and an input of
/// `batch` samples whose relu pre-activations are clear of the kink (only the `hidden`
/// parameters move them, by at most `eps * |x|`).
fn deep_case<M: Model>(batch: usize) -> (Box<M>, Vec<f32>) {
    for seed in 0..1000 {
        let mut rng = Rng::new(seed);
        let mut model = boxed_zeroed::<M>();
        model.init_with(&mut rng);
        randomize_biases(&mut *model, &mut rng);
        let x = uniform(&mut rng, batch * <M::Input as Shape>::LEN, -1.5, 1.5);
        let (k, b) = (
            param_range(&*model, "hidden", "kernel"),
            param_range(&*model, "hidden", "bias"),
        );
        assert_eq!(k.end, b.start);
        let z: Vec<f32> = affine(&model.flat()[k.start..b.end], &x, 12, 10, batch)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        if clear_of_kinks(&z, &[0.0]) {
            return (model, x);
        }
    }
    panic!("no seed gives relu pre-activations clear of 0");
}

/// A model with random biases and a random input.
fn smooth_case<M: Model>(batch: usize, seed: u64) -> (Box<M>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let mut model = boxed_zeroed::<M>();
    model.init_with(&mut rng);
    randomize_biases(&mut *model, &mut rng);
    let x = uniform(&mut rng, batch * <M::Input as Shape>::LEN, -1.5, 1.5);
    (model, x)
}

/// Gradient-checks every parameter of `model` under `loss`.
#[track_caller]
fn check_model<M: Model, L: Loss>(model: &M, x: &[f32], targets: Targets<'_>, loss: &L) {
    let batch = x.len() / <M::Input as Shape>::LEN;
    let report = gradcheck::model(model, x, targets, loss, &strict());
    let what = format!("{} under {} (batch {batch})", M::NAME, loss.name());
    assert_passed(&report, &what);
    assert_eq!(report.checked, M::COUNT, "{what}: every parameter is checked");
}

/// Dense targets: for each row of `width`, one of a one-hot row, a random distribution,
/// and (when `binary`) independent values in `{0, 1, u}`.
fn dense_targets(rows: usize, width: usize, binary: bool, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut t = Vec::with_capacity(rows * width);
    for r in 0..rows {
        if binary {
            t.extend((0..width).map(|j| match (r + j) % 3 {
                0 => 0.0,
                1 => 1.0,
                _ => rng.uniform(),
            }));
        } else if r % 2 == 0 {
            let k = rng.below(width as u64) as usize;
            t.extend((0..width).map(|j| if j == k { 1.0 } else { 0.0 }));
        } else {
            let row = uniform(&mut rng, width, 0.05, 1.0);
            let sum: f32 = row.iter().sum();
            t.extend(row.iter().map(|v| v / sum));
        }
    }
    t
}

fn labels(rows: usize, width: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(seed);
    (0..rows).map(|_| rng.below(width as u64) as u32).collect()
}

#[test]
fn model_mean_squared_error() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Regressor>(batch);
        let t = uniform(&mut Rng::new(20), batch * 4, -1.5, 1.5);
        check_model(&*model, &x, Targets::Dense(&t), &MeanSquaredError);
    }
}

#[test]
fn model_mean_absolute_error() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Regressor>(batch);
        // |p - t| has a kink at p = t. The head sees tanh outputs in [-1, 1], so with any
        // dropout mask |out_j| <= Σ_i |kernel_ij| + |bias_j|: targets beyond that bound, on
        // either side, keep every error clear of 0.
        let (k, b) = (
            param_range(&*model, "out", "kernel"),
            param_range(&*model, "out", "bias"),
        );
        let (kernel, bias) = (&model.flat()[k], &model.flat()[b]);
        let bound: Vec<f32> = (0..4)
            .map(|j| (0..5).map(|i| kernel[i * 4 + j].abs()).sum::<f32>() + bias[j].abs())
            .collect();
        let mut rng = Rng::new(21);
        let t: Vec<f32> = (0..batch * 4)
            .map(|i| {
                let side = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
                side * (bound[i % 4] + 0.25)
            })
            .collect();
        check_model(&*model, &x, Targets::Dense(&t), &MeanAbsoluteError);
    }
}

#[test]
fn model_huber() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Regressor>(batch);
        // Errors on both sides of delta (the loss is smooth enough there: C¹).
        let t = uniform(&mut Rng::new(22), batch * 4, -2.5, 2.5);
        check_model(&*model, &x, Targets::Dense(&t), &Huber::new());
        check_model(&*model, &x, Targets::Dense(&t), &Huber::with_delta(0.5));
    }
}

#[test]
fn model_binary_crossentropy_on_sigmoid_probabilities() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Binary>(batch);
        let t = dense_targets(batch, 4, true, 23);
        check_model(&*model, &x, Targets::Dense(&t), &BinaryCrossentropy::new());
        let smoothed = BinaryCrossentropy::new().with_label_smoothing(0.1);
        check_model(&*model, &x, Targets::Dense(&t), &smoothed);
    }
}

#[test]
fn model_binary_crossentropy_from_logits() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Regressor>(batch);
        let t = dense_targets(batch, 4, true, 24);
        check_model(
            &*model,
            &x,
            Targets::Dense(&t),
            &BinaryCrossentropy::from_logits(),
        );
        let smoothed = BinaryCrossentropy::from_logits().with_label_smoothing(0.2);
        check_model(&*model, &x, Targets::Dense(&t), &smoothed);
    }
}

#[test]
fn model_categorical_crossentropy_on_softmax_probabilities() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Categorical>(batch);
        let t = dense_targets(batch, 4, false, 25);
        check_model(&*model, &x, Targets::Dense(&t), &CategoricalCrossentropy::new());
        let smoothed = CategoricalCrossentropy::new().with_label_smoothing(0.1);
        check_model(&*model, &x, Targets::Dense(&t), &smoothed);
    }
}

#[test]
fn model_categorical_crossentropy_from_logits() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Regressor>(batch);
        let t = dense_targets(batch, 4, false, 26);
        check_model(
            &*model,
            &x,
            Targets::Dense(&t),
            &CategoricalCrossentropy::from_logits(),
        );
        let smoothed = CategoricalCrossentropy::from_logits().with_label_smoothing(0.1);
        check_model(&*model, &x, Targets::Dense(&t), &smoothed);
    }
}

#[test]
fn model_sparse_categorical_crossentropy_on_softmax_probabilities() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Categorical>(batch);
        let k = labels(batch, 4, 27);
        check_model(
            &*model,
            &x,
            Targets::Sparse(&k),
            &SparseCategoricalCrossentropy::new(),
        );
    }
}

#[test]
fn model_sparse_categorical_crossentropy_from_logits() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Regressor>(batch);
        let k = labels(batch, 4, 28);
        check_model(
            &*model,
            &x,
            Targets::Sparse(&k),
            &SparseCategoricalCrossentropy::from_logits(),
        );
    }
}

#[test]
fn model_with_rank_2_output_under_categorical_losses() {
    for batch in BATCHES {
        // Two rows of 3 per sample.
        let rows = 2 * batch;
        let (model, x) = smooth_case::<Grid>(batch, 30);
        let t = dense_targets(rows, 3, false, 31);
        let k = labels(rows, 3, 32);
        check_model(&*model, &x, Targets::Dense(&t), &CategoricalCrossentropy::new());
        check_model(
            &*model,
            &x,
            Targets::Sparse(&k),
            &SparseCategoricalCrossentropy::new(),
        );

        let (model, x) = smooth_case::<GridLogits>(batch, 33);
        check_model(
            &*model,
            &x,
            Targets::Dense(&t),
            &CategoricalCrossentropy::from_logits(),
        );
        check_model(
            &*model,
            &x,
            Targets::Sparse(&k),
            &SparseCategoricalCrossentropy::from_logits(),
        );
        check_model(&*model, &x, Targets::Dense(&t), &MeanSquaredError);
    }
}

/// Mean squared error whose gradient forgets the factor 2 of d(e²)/de.
struct MseForgetsTheTwo;

impl Loss for MseForgetsTheTwo {
    fn name(&self) -> &'static str {
        "mse_forgets_the_two"
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Dense
    }

    fn compute(
        &self,
        pred: &[f32],
        targets: Targets<'_>,
        width: usize,
        losses: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) {
        MeanSquaredError.compute(pred, targets, width, losses, grad.as_deref_mut());
        if let Some(grad) = grad {
            grad.iter_mut().for_each(|g| *g *= 0.5);
        }
    }
}

#[test]
fn model_check_fails_on_a_wrong_loss_gradient() {
    for batch in BATCHES {
        let (model, x) = deep_case::<Regressor>(batch);
        let t = uniform(&mut Rng::new(40), batch * 4, -1.5, 1.5);
        let report = gradcheck::model(
            &*model,
            &x,
            Targets::Dense(&t),
            &MseForgetsTheTwo,
            &Options::default(),
        );
        assert!(
            !report.passed(),
            "a factor-2 error in the loss gradient went unnoticed: {report}"
        );
    }
}
