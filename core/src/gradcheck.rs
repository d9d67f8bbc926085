//! Finite-difference gradient checks for layers and models — yours included.
//!
//! [`layer`] compares a layer's backward pass (input and parameter gradients) with central
//! differences of `f(x, θ) = Σ r ⊙ forward(x, θ)` for a fixed random `r`; [`model`] compares
//! a whole model's backward pass with central differences of its mean loss. Dropout masks
//! are held fixed between evaluations.
//!
//! ```
//! use kerust::{gradcheck, layers::Dense, activations::Tanh, params::boxed_zeroed, Layer, Rng};
//! let mut d = boxed_zeroed::<Dense<5, 3, Tanh>>();
//! d.init(&mut Rng::new(1));
//! let x: Vec<f32> = (0..10).map(|i| (i as f32 * 0.37).sin()).collect();
//! let report = gradcheck::layer(&*d, &x, 2, &gradcheck::Options::default());
//! assert!(report.passed(), "{report}");
//! ```

use std::boxed::Box;
use std::fmt;
use std::format;
use std::string::String;
use std::vec::Vec;

use crate::losses::{Loss, Targets};
use crate::params::boxed_zeroed;
use crate::{Layer, Model, Params, Rng, Shape};

/// Settings of a gradient check.
#[derive(Clone, Debug)]
pub struct Options {
    /// The finite-difference step.
    pub eps: f32,
    /// Relative tolerance: a coordinate passes when `|a - n| <= atol + rtol * max(|a|, |n|)`.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// At most this many coordinates per tensor (inputs, each parameter tensor), sampled.
    pub max_per_tensor: usize,
    /// Seed of `r`, the sampling and dropout masks.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            eps: 1e-2,
            rtol: 2e-2,
            atol: 2e-3,
            max_per_tensor: 64,
            seed: 0,
        }
    }
}

/// The outcome of a gradient check.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Coordinates compared.
    pub checked: usize,
    /// The largest `|a - n| / (atol + rtol * max(|a|, |n|))`; at most 1 means passed.
    pub worst_ratio: f64,
    /// Where the worst coordinate is, with both values.
    pub worst: String,
}

impl Report {
    /// Whether every coordinate was within tolerance.
    pub fn passed(&self) -> bool {
        self.checked > 0 && self.worst_ratio <= 1.0
    }

    fn record(&mut self, opts: &Options, what: &dyn Fn() -> String, analytic: f64, numeric: f64) {
        let ratio = (analytic - numeric).abs() / (opts.atol + opts.rtol * analytic.abs().max(numeric.abs()));
        // A NaN ratio (a NaN or infinite gradient) compares false with everything: without
        // this it would be skipped below and the check could pass. Count it as the worst.
        let ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
        self.checked += 1;
        if ratio > self.worst_ratio || self.worst.is_empty() {
            self.worst_ratio = ratio;
            self.worst = format!(
                "{}: backward {analytic:.6e}, finite difference {numeric:.6e}",
                what()
            );
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} coordinates checked, worst error ratio {:.3} ({})",
            self.checked,
            self.worst_ratio,
            if self.worst.is_empty() {
                "none"
            } else {
                &self.worst
            }
        )
    }
}

/// The coordinates to check in a tensor of `len` values.
fn sample(len: usize, max: usize, rng: &mut Rng) -> Vec<usize> {
    if len <= max {
        (0..len).collect()
    } else {
        let mut idx: Vec<usize> = (0..len).collect();
        rng.shuffle(&mut idx);
        idx.truncate(max);
        idx.sort_unstable();
        idx
    }
}

/// Copies a parameter block on the heap.
fn boxed_copy<P: Params>(p: &P) -> Box<P> {
    let mut b = boxed_zeroed::<P>();
    b.flat_mut().copy_from_slice(p.flat());
    b
}

/// Names each flat parameter offset by tensor, from `visit`.
type TensorVisitor<'a> = dyn FnMut(String, usize) + 'a;

fn tensor_ranges(visit: &dyn Fn(&mut TensorVisitor<'_>)) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    visit(&mut |name, len| {
        out.push((name, offset, len));
        offset += len;
    });
    out
}

/// Checks `layer`'s backward pass on the input `x` (`batch` samples).
pub fn layer<L: Layer>(layer: &L, x: &[f32], batch: usize, opts: &Options) -> Report {
    let (in_len, out_len) = (<L::Input as Shape>::LEN, <L::Output as Shape>::LEN);
    assert_eq!(
        x.len(),
        batch * in_len,
        "gradcheck::layer: x must hold batch * Input::LEN values"
    );
    let mut rng = Rng::new(opts.seed);
    let r: Vec<f32> = (0..batch * out_len)
        .map(|_| rng.uniform_range(-1.0, 1.0))
        .collect();
    let mut y = std::vec![0.0; batch * out_len];
    let mut cache = std::vec![0.0; batch * L::CACHE];
    let f = |l: &L, x: &[f32], y: &mut Vec<f32>, cache: &mut Vec<f32>| -> f64 {
        l.forward_train(x, y, cache, batch, &mut Rng::new(opts.seed ^ 0xD0));
        y.iter().zip(&r).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum()
    };

    // Analytic gradients.
    f(layer, x, &mut y, &mut cache);
    let mut dy = r.clone();
    let mut dx = std::vec![0.0; x.len()];
    let mut grads = boxed_zeroed::<L>();
    layer.backward(x, &y, &mut cache, &mut dy, Some(&mut dx), &mut grads, batch);

    let mut report = Report::default();
    let eps = opts.eps;
    let mut xp = x.to_vec();
    for i in sample(x.len(), opts.max_per_tensor, &mut rng) {
        let orig = xp[i];
        xp[i] = orig + eps;
        let fp = f(layer, &xp, &mut y, &mut cache);
        xp[i] = orig - eps;
        let fm = f(layer, &xp, &mut y, &mut cache);
        xp[i] = orig;
        let numeric = (fp - fm) / (2.0 * f64::from(eps));
        report.record(opts, &|| format!("input[{i}]"), f64::from(dx[i]), numeric);
    }

    let ranges = tensor_ranges(&|cb| layer.visit_params(&mut |name, _, v| cb(name.into(), v.len())));
    let mut lp = boxed_copy(layer);
    for (name, offset, len) in ranges {
        for j in sample(len, opts.max_per_tensor, &mut rng) {
            let k = offset + j;
            let orig = lp.flat()[k];
            lp.flat_mut()[k] = orig + eps;
            let fp = f(&lp, x, &mut y, &mut cache);
            lp.flat_mut()[k] = orig - eps;
            let fm = f(&lp, x, &mut y, &mut cache);
            lp.flat_mut()[k] = orig;
            let numeric = (fp - fm) / (2.0 * f64::from(eps));
            report.record(
                opts,
                &|| format!("parameter `{name}`[{j}]"),
                f64::from(grads.flat()[k]),
                numeric,
            );
        }
    }
    report
}

/// Checks a whole model's backward pass: the gradient of the mean `loss` over the `batch`
/// samples of `x` with respect to every parameter tensor (sampled).
pub fn model<M: Model, L: Loss>(
    model: &M,
    x: &[f32],
    targets: Targets<'_>,
    loss: &L,
    opts: &Options,
) -> Report {
    let (in_len, out_len) = (<M::Input as Shape>::LEN, <M::Output as Shape>::LEN);
    let batch = x.len() / in_len;
    assert_eq!(
        x.len(),
        batch * in_len,
        "gradcheck::model: x must hold whole samples"
    );
    let width = {
        let rank = <M::Output as Shape>::RANK;
        if rank == 0 {
            1
        } else {
            <M::Output as Shape>::DIMS[rank - 1]
        }
    };
    let rows = batch * out_len / width;
    let mut ws = std::vec![0.0; batch * M::WORKSPACE];
    let mut losses = std::vec![0.0; rows];
    let f = |m: &M, ws: &mut Vec<f32>, losses: &mut Vec<f32>, grad: Option<&mut [f32]>| -> f64 {
        m.forward_train(x, batch, ws, &mut Rng::new(opts.seed ^ 0xD0));
        loss.compute(M::train_output(ws, batch), targets, width, losses, grad);
        losses.iter().map(|&l| f64::from(l)).sum::<f64>() / rows as f64
    };

    let mut dy = std::vec![0.0; batch * out_len];
    f(model, &mut ws, &mut losses, Some(&mut dy));
    dy.iter_mut().for_each(|g| *g /= rows as f32);
    let mut grads = boxed_zeroed::<M>();
    model.backward(x, batch, &mut ws, &mut dy, &mut grads);

    let mut rng = Rng::new(opts.seed);
    let ranges = tensor_ranges(&|cb| {
        model.visit_params(&mut |layer, name, _, v| cb(format!("{layer}/{name}"), v.len()))
    });
    let mut mp = boxed_copy(model);
    let mut report = Report::default();
    let eps = opts.eps;
    for (name, offset, len) in ranges {
        for j in sample(len, opts.max_per_tensor, &mut rng) {
            let k = offset + j;
            let orig = mp.flat()[k];
            mp.flat_mut()[k] = orig + eps;
            let fp = f(&mp, &mut ws, &mut losses, None);
            mp.flat_mut()[k] = orig - eps;
            let fm = f(&mp, &mut ws, &mut losses, None);
            mp.flat_mut()[k] = orig;
            let numeric = (fp - fm) / (2.0 * f64::from(eps));
            report.record(
                opts,
                &|| format!("parameter `{name}`[{j}]"),
                f64::from(grads.flat()[k]),
                numeric,
            );
        }
    }
    report
}
