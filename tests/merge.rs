//! The merge kernels (`kerust::layers::merge`): values and gradients against Keras 3.15.1
//! (JAX backend) and `jax.grad`, and central-difference checks of every backward pass.
//!
//! - Keras references: element-wise merges on 3 samples of [3, 3] per input whose values
//!   (`ties`) run through all 27 combinations of {-0.5, 0, 0.5} in three inputs, so every
//!   tie pattern of Maximum/Minimum's gradients is compared; batches of 2 for Concatenate on
//!   the last, first and a middle axis; Dot on rank-1, rank-2 and rank-3 samples with
//!   several axes, with and without `normalize`.
//! - Finite differences: every coordinate of every input, batch 2, on `smooth` inputs
//!   (which have no ties, so Maximum/Minimum are differentiable there).
//!
//! The references were produced with:
//! ```python
//! import os; os.environ["KERAS_BACKEND"] = "jax"
//! import jax, jax.numpy as jnp, numpy as np, keras
//! from keras.layers import *
//! def ties(n, k): return (((np.arange(n) // 3**k) % 3) / 2 - 0.5).astype("float32")
//! def smooth(n, k): return (((np.arange(n) * 7 + 3 + 5 * k) % 13) / 4 - 1.5).astype("float32")
//! def r(n): return (((np.arange(n) * 3 + 1) % 7) / 4 - 0.75).astype("float32")
//! def ref(layer, xs):  # y = layer(xs) and the gradients of sum(r * y)
//!     y = layer(xs)
//!     rr = r(y.size).reshape(y.shape)
//!     gs = jax.grad(lambda *a: jnp.sum(layer(list(a)) * rr),
//!                   argnums=tuple(range(len(xs))))(*xs)
//!     return y, gs
//! ```

use kerust::layers::merge::dot::{self, DotDims};
use kerust::layers::merge::{add, average, concatenate, maximum, minimum, multiply, subtract};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `ties(n, k)` of the references: digit `k` of `i` in base 3, as -0.5, 0 or 0.5.
fn ties(n: usize, k: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i / 3usize.pow(k as u32)) % 3) as f32 / 2.0 - 0.5)
        .collect()
}

/// `smooth(n, k)` of the references: quarters in [-1.5, 1.5], never equal across `k` at the
/// same index (so at least 0.25 apart).
fn smooth(n: usize, k: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7 + 3 + 5 * k) % 13) as f32 / 4.0 - 1.5)
        .collect()
}

/// `r(n)` of the references: the upstream gradient dL/dy.
fn r(n: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 3 + 1) % 7) as f32 / 4.0 - 0.75).collect()
}

#[track_caller]
fn assert_close(what: &str, actual: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * (1.0 + e.abs()),
            "{what}[{i}]: got {a}, expected {e}\n  actual:   {actual:?}\n  expected: {expected:?}"
        );
    }
}

/// A backward pass under test: `(xs, y, dy, i) -> dL/dxs[i]`.
type GradFn<'a> = dyn Fn(&[&[f32]], &[f32], &[f32], usize) -> Vec<f32> + 'a;

/// Checks every coordinate of every input's gradient: `grad(xs, i)` (the backward pass,
/// given dL/dy = `r`) against central differences of `Σ r · forward(xs)`, accumulated in
/// f64, with step `eps`. Tolerances as `gradcheck`'s defaults.
#[track_caller]
fn finite_differences(
    name: &str,
    eps: f32,
    xs: &[Vec<f32>],
    forward: &dyn Fn(&[&[f32]]) -> Vec<f32>,
    grad: &GradFn<'_>,
) {
    let eval = |xs: &[Vec<f32>]| -> (Vec<f32>, f64) {
        let slices: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
        let y = forward(&slices);
        let rr = r(y.len());
        let f = y
            .iter()
            .zip(&rr)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum();
        (y, f)
    };
    let (y, _) = eval(xs);
    let dy = r(y.len());
    let slices: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
    let (rtol, atol) = (2e-2f64, 2e-3f64);
    let mut checked = 0;
    for i in 0..xs.len() {
        let analytic = grad(&slices, &y, &dy, i);
        assert_eq!(
            analytic.len(),
            xs[i].len(),
            "{name}: gradient length of input {i}"
        );
        let mut xp = xs.to_vec();
        for j in 0..xs[i].len() {
            let orig = xp[i][j];
            xp[i][j] = orig + eps;
            let (_, fp) = eval(&xp);
            xp[i][j] = orig - eps;
            let (_, fm) = eval(&xp);
            xp[i][j] = orig;
            let numeric = (fp - fm) / (2.0 * f64::from(eps));
            let a = f64::from(analytic[j]);
            assert!(
                (a - numeric).abs() <= atol + rtol * a.abs().max(numeric.abs()),
                "{name}: dL/dx{i}[{j}]: backward {a}, finite difference {numeric}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

type Forward = fn(&[&[f32]], &mut [f32]);
type Backward = fn(&[&[f32]], &[f32], &[f32], usize, &mut [f32]);

/// An element-wise merge against its Keras reference.
#[track_caller]
fn check_elementwise(name: &str, f: Forward, b: Backward, xs: &[Vec<f32>], y_ref: &[f32], d_ref: &[&[f32]]) {
    let slices: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
    let mut y = vec![f32::NAN; y_ref.len()];
    f(&slices, &mut y);
    assert_close(&format!("{name} y"), &y, y_ref, 1e-6);
    let dy = r(y.len());
    for (i, d) in d_ref.iter().enumerate() {
        let mut dx = vec![f32::NAN; d.len()];
        b(&slices, &y, &dy, i, &mut dx);
        assert_close(&format!("{name} dx{i}"), &dx, d, 1e-6);
    }
}

/// An element-wise merge's backward against finite differences.
#[track_caller]
fn fd_elementwise(name: &str, f: Forward, b: Backward, inputs: usize) {
    let xs: Vec<Vec<f32>> = (0..inputs).map(|k| smooth(12, k)).collect();
    finite_differences(
        name,
        1e-2,
        &xs,
        &|xs| {
            let mut y = vec![0.0; 12];
            f(xs, &mut y);
            y
        },
        &|xs, y, dy, i| {
            let mut dx = vec![f32::NAN; 12];
            b(xs, y, dy, i, &mut dx);
            dx
        },
    );
}

// ---------------------------------------------------------------------------------------
// Element-wise merges
// ---------------------------------------------------------------------------------------

fn ties_inputs(k: usize) -> Vec<Vec<f32>> {
    (0..k).map(|k| ties(27, k)).collect()
}

#[test]
fn keras_add() {
    let d: [&[f32]; 3] = [&ADD_D0, &ADD_D1, &ADD_D2];
    check_elementwise("Add", add::forward, add::backward, &ties_inputs(3), &ADD_Y, &d);
}

#[test]
fn keras_subtract() {
    let d: [&[f32]; 2] = [&SUBTRACT_D0, &SUBTRACT_D1];
    check_elementwise(
        "Subtract",
        subtract::forward,
        subtract::backward,
        &ties_inputs(2),
        &SUBTRACT_Y,
        &d,
    );
}

#[test]
fn keras_multiply() {
    let d: [&[f32]; 3] = [&MULTIPLY_D0, &MULTIPLY_D1, &MULTIPLY_D2];
    check_elementwise(
        "Multiply",
        multiply::forward,
        multiply::backward,
        &ties_inputs(3),
        &MULTIPLY_Y,
        &d,
    );
}

#[test]
fn keras_average() {
    let d: [&[f32]; 3] = [&AVERAGE_D0, &AVERAGE_D1, &AVERAGE_D2];
    check_elementwise(
        "Average",
        average::forward,
        average::backward,
        &ties_inputs(3),
        &AVERAGE_Y,
        &d,
    );
}

/// How many elements have a two-way and a three-way tie at `y` (so the reference
/// comparisons below exercise both).
fn tie_counts(xs: &[Vec<f32>], y: &[f32]) -> (usize, usize) {
    let mut counts = (0, 0);
    for (e, &m) in y.iter().enumerate() {
        match xs.iter().filter(|x| x[e] == m).count() {
            2 => counts.0 += 1,
            3 => counts.1 += 1,
            _ => {}
        }
    }
    counts
}

#[test]
fn keras_maximum_with_ties() {
    let xs = ties_inputs(3);
    let (two, three) = tie_counts(&xs, &MAXIMUM_Y);
    assert!(two > 0 && three > 0, "ties: {two} two-way, {three} three-way");
    let d: [&[f32]; 3] = [&MAXIMUM_D0, &MAXIMUM_D1, &MAXIMUM_D2];
    check_elementwise(
        "Maximum",
        maximum::forward,
        maximum::backward,
        &xs,
        &MAXIMUM_Y,
        &d,
    );
}

#[test]
fn keras_minimum_with_ties() {
    let xs = ties_inputs(3);
    let (two, three) = tie_counts(&xs, &MINIMUM_Y);
    assert!(two > 0 && three > 0, "ties: {two} two-way, {three} three-way");
    let d: [&[f32]; 3] = [&MINIMUM_D0, &MINIMUM_D1, &MINIMUM_D2];
    check_elementwise(
        "Minimum",
        minimum::forward,
        minimum::backward,
        &xs,
        &MINIMUM_Y,
        &d,
    );
}

#[test]
fn elementwise_finite_differences() {
    fd_elementwise("Add", add::forward, add::backward, 3);
    fd_elementwise("Subtract", subtract::forward, subtract::backward, 2);
    fd_elementwise("Multiply", multiply::forward, multiply::backward, 3);
    fd_elementwise("Average", average::forward, average::backward, 3);
    fd_elementwise("Maximum", maximum::forward, maximum::backward, 3);
    fd_elementwise("Minimum", minimum::forward, minimum::backward, 3);
}

// ---------------------------------------------------------------------------------------
// Concatenate
// ---------------------------------------------------------------------------------------

/// Concatenate with block sizes `chunks` against its Keras reference and finite
/// differences.
#[track_caller]
fn check_concatenate(name: &str, xs: &[Vec<f32>], chunks: &[usize], y_ref: &[f32], d_ref: &[&[f32]]) {
    let slices: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
    let mut y = vec![f32::NAN; y_ref.len()];
    concatenate::forward(&slices, chunks, &mut y);
    assert_eq!(y, y_ref, "{name} y");
    let dy = r(y.len());
    for (i, d) in d_ref.iter().enumerate() {
        let mut dx = vec![f32::NAN; d.len()];
        concatenate::backward(&dy, chunks, i, &mut dx);
        assert_eq!(&dx, d, "{name} dx{i}");
    }
    finite_differences(
        name,
        1e-2,
        xs,
        &|xs| {
            let mut y = vec![0.0; y_ref.len()];
            concatenate::forward(xs, chunks, &mut y);
            y
        },
        &|xs, _, dy, i| {
            let mut dx = vec![f32::NAN; xs[i].len()];
            concatenate::backward(dy, chunks, i, &mut dx);
            dx
        },
    );
}

#[test]
fn keras_concatenate_last_axis() {
    // Per-sample [4, 5, 2] + [4, 5, 3] on axis -1: outer = 2 * 4 * 5, chunks 2 and 3.
    let xs = [smooth(80, 0), smooth(120, 1)];
    let d: [&[f32]; 2] = [&CONCAT_LAST_D0, &CONCAT_LAST_D1];
    check_concatenate("Concatenate(-1)", &xs, &[2, 3], &CONCAT_LAST_Y, &d);
}

#[test]
fn keras_concatenate_first_axis() {
    // Per-sample [2, 3] + [4, 3] on the first per-sample axis: outer = 2, chunks 6 and 12.
    let xs = [smooth(12, 0), smooth(24, 1)];
    let d: [&[f32]; 2] = [&CONCAT_FIRST_D0, &CONCAT_FIRST_D1];
    check_concatenate("Concatenate(1)", &xs, &[6, 12], &CONCAT_FIRST_Y, &d);
}

#[test]
fn keras_concatenate_middle_axis_three_inputs() {
    // Per-sample [2, 2, 2] + [2, 3, 2] + [2, 1, 2] on the middle axis: outer = 2 * 2,
    // chunks 4, 6 and 2.
    let xs = [smooth(16, 0), smooth(24, 1), smooth(8, 2)];
    let d: [&[f32]; 3] = [&CONCAT_MIDDLE_D0, &CONCAT_MIDDLE_D1, &CONCAT_MIDDLE_D2];
    check_concatenate("Concatenate(2)", &xs, &[4, 6, 2], &CONCAT_MIDDLE_Y, &d);
}

// ---------------------------------------------------------------------------------------
// Dot
// ---------------------------------------------------------------------------------------

/// Dot with `dims` on `smooth` inputs (batch 2) against its Keras reference and finite
/// differences.
#[track_caller]
fn check_dot(name: &str, dims: DotDims, y_ref: &[f32], d0_ref: &[f32], d1_ref: &[f32]) {
    let batch = 2;
    let x0 = smooth(d0_ref.len(), 0);
    let x1 = smooth(d1_ref.len(), 1);
    assert_eq!(x0.len(), batch * dims.a0 * dims.c * dims.b0, "{name}: x0 length");
    assert_eq!(x1.len(), batch * dims.a1 * dims.c * dims.b1, "{name}: x1 length");
    let mut y = vec![f32::NAN; y_ref.len()];
    dot::forward(&x0, &x1, &dims, batch, &mut y);
    assert_close(&format!("{name} y"), &y, y_ref, 1e-5);
    let dy = r(y.len());
    for (i, d) in [d0_ref, d1_ref].into_iter().enumerate() {
        let mut dx = vec![f32::NAN; d.len()];
        dot::backward(&x0, &x1, &y, &dims, batch, &dy, i, &mut dx);
        assert_close(&format!("{name} dx{i}"), &dx, d, 1e-5);
    }
    let eps = if dims.normalize { 2e-3 } else { 1e-2 };
    finite_differences(
        name,
        eps,
        &[x0, x1],
        &|xs| {
            let mut y = vec![0.0; y_ref.len()];
            dot::forward(xs[0], xs[1], &dims, batch, &mut y);
            y
        },
        &|xs, y, dy, i| {
            let mut dx = vec![f32::NAN; xs[i].len()];
            dot::backward(xs[0], xs[1], y, &dims, batch, dy, i, &mut dx);
            dx
        },
    );
}

const fn dims(a0: usize, b0: usize, a1: usize, b1: usize, c: usize, normalize: bool) -> DotDims {
    DotDims {
        a0,
        b0,
        a1,
        b1,
        c,
        normalize,
    }
}

#[test]
fn keras_dot_rank_1_samples() {
    check_dot(
        "Dot(1) [4]·[4]",
        dims(1, 1, 1, 1, 4, false),
        &DOT_VEC_Y,
        &DOT_VEC_D0,
        &DOT_VEC_D1,
    );
    check_dot(
        "Dot(1, normalize) [4]·[4]",
        dims(1, 1, 1, 1, 4, true),
        &DOT_VEC_N_Y,
        &DOT_VEC_N_D0,
        &DOT_VEC_N_D1,
    );
}

#[test]
fn keras_dot_rank_2_last_axes() {
    // [3, 4]·[5, 4], axes 2: y [3, 5].
    check_dot(
        "Dot(2) [3,4]·[5,4]",
        dims(3, 1, 5, 1, 4, false),
        &DOT_LAST_Y,
        &DOT_LAST_D0,
        &DOT_LAST_D1,
    );
    check_dot(
        "Dot(2, normalize) [3,4]·[5,4]",
        dims(3, 1, 5, 1, 4, true),
        &DOT_LAST_N_Y,
        &DOT_LAST_N_D0,
        &DOT_LAST_N_D1,
    );
}

#[test]
fn keras_dot_rank_2_first_axes() {
    // [3, 4]·[3, 2], axes 1: y [4, 2].
    check_dot(
        "Dot(1) [3,4]·[3,2]",
        dims(1, 4, 1, 2, 3, false),
        &DOT_FIRST_Y,
        &DOT_FIRST_D0,
        &DOT_FIRST_D1,
    );
    check_dot(
        "Dot(1, normalize) [3,4]·[3,2]",
        dims(1, 4, 1, 2, 3, true),
        &DOT_FIRST_N_Y,
        &DOT_FIRST_N_D0,
        &DOT_FIRST_N_D1,
    );
}

#[test]
fn keras_dot_rank_2_mixed_axes() {
    // [3, 4]·[4, 2], axes (2, 1): a matrix product, y [3, 2].
    check_dot(
        "Dot((2,1)) [3,4]·[4,2]",
        dims(3, 1, 1, 2, 4, false),
        &DOT_MIXED_Y,
        &DOT_MIXED_D0,
        &DOT_MIXED_D1,
    );
    check_dot(
        "Dot((2,1), normalize) [3,4]·[4,2]",
        dims(3, 1, 1, 2, 4, true),
        &DOT_MIXED_N_Y,
        &DOT_MIXED_N_D0,
        &DOT_MIXED_N_D1,
    );
}

#[test]
fn keras_dot_rank_3_with_rank_2() {
    // [2, 3, 4]·[3, 5], axes (2, 1): the middle axis of x0, y [2, 4, 5].
    check_dot(
        "Dot((2,1)) [2,3,4]·[3,5]",
        dims(2, 4, 1, 5, 3, false),
        &DOT_R3_Y,
        &DOT_R3_D0,
        &DOT_R3_D1,
    );
    check_dot(
        "Dot((2,1), normalize) [2,3,4]·[3,5]",
        dims(2, 4, 1, 5, 3, true),
        &DOT_R3_N_Y,
        &DOT_R3_N_D0,
        &DOT_R3_N_D1,
    );
}

#[test]
fn keras_dot_rank_1_with_rank_2() {
    // [3]·[4, 3], axes (1, 2): y [4].
    check_dot(
        "Dot((1,2)) [3]·[4,3]",
        dims(1, 1, 4, 1, 3, false),
        &DOT_VEC_MAT_Y,
        &DOT_VEC_MAT_D0,
        &DOT_VEC_MAT_D1,
    );
    check_dot(
        "Dot((1,2), normalize) [3]·[4,3]",
        dims(1, 1, 4, 1, 3, true),
        &DOT_VEC_MAT_N_Y,
        &DOT_VEC_MAT_N_D0,
        &DOT_VEC_MAT_N_D1,
    );
}

/// Below the norm's floor (`|x| < 1e-7`) Keras scales by `1/ε` instead of `1/|x|`:
/// ```python
/// d = Dot(axes=1, normalize=True)
/// t = jnp.array([[1e-8, 0., 0.]]); w = jnp.array([[1., 2., 3.]])
/// d([t, w]), jax.grad(lambda a, b: jnp.sum(d([a, b])), argnums=(0, 1))(t, w)
/// ```
#[test]
fn keras_dot_normalize_below_the_epsilon_floor() {
    let dims = dims(1, 1, 1, 1, 3, true);
    let (t, w) = ([1e-8, 0.0, 0.0], [1.0, 2.0, 3.0]);
    let mut y = [f32::NAN];
    dot::forward(&t, &w, &dims, 1, &mut y);
    assert_close("y", &y, &[0.026_726_12], 1e-6);
    let mut dx = [f32::NAN; 3];
    dot::backward(&t, &w, &y, &dims, 1, &[1.0], 0, &mut dx);
    assert_close("dx0", &dx, &[2.672_612_2e6, 5.345_224_5e6, 8.017_837e6], 1e-6);
    dot::backward(&t, &w, &y, &dims, 1, &[1.0], 1, &mut dx);
    assert_close("dx1", &dx, &[0.024_817_12, -0.003_818_02, -0.005_727_03], 1e-5);
}

// ---------------------------------------------------------------------------------------
// Keras references
// ---------------------------------------------------------------------------------------

// `ref(Add(), [ties(27, k).reshape(3, 3, 3) for k in range(3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const ADD_Y: [f32; 27] = [
    -1.5, -1.0, -0.5, -1.0, -0.5, 0.0, -0.5, 0.0, 0.5, -1.0, -0.5, 0.0, -0.5, 0.0, 0.5, 0.0,
    0.5, 1.0, -0.5, 0.0, 0.5, 0.0, 0.5, 1.0, 0.5, 1.0, 1.5,
];
#[rustfmt::skip]
const ADD_D0: [f32; 27] = [
    -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5,
    0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25,
];
#[rustfmt::skip]
const ADD_D1: [f32; 27] = [
    -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5,
    0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25,
];
#[rustfmt::skip]
const ADD_D2: [f32; 27] = [
    -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5,
    0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25,
];
// `ref(Subtract(), [ties(27, k).reshape(3, 3, 3) for k in range(2)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const SUBTRACT_Y: [f32; 27] = [
    0.0, 0.5, 1.0, -0.5, 0.0, 0.5, -1.0, -0.5, 0.0, 0.0, 0.5, 1.0, -0.5, 0.0, 0.5, -1.0, -0.5,
    0.0, 0.0, 0.5, 1.0, -0.5, 0.0, 0.5, -1.0, -0.5, 0.0,
];
#[rustfmt::skip]
const SUBTRACT_D0: [f32; 27] = [
    -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5,
    0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25,
];
#[rustfmt::skip]
const SUBTRACT_D1: [f32; 27] = [
    0.5, -0.25, 0.75, -0.0, -0.75, 0.25, -0.5, 0.5, -0.25, 0.75, -0.0, -0.75, 0.25, -0.5, 0.5,
    -0.25, 0.75, -0.0, -0.75, 0.25, -0.5, 0.5, -0.25, 0.75, -0.0, -0.75, 0.25,
];
// `ref(Multiply(), [ties(27, k).reshape(3, 3, 3) for k in range(3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const MULTIPLY_Y: [f32; 27] = [
    -0.125, 0.0, 0.125, 0.0, -0.0, -0.0, 0.125, -0.0, -0.125, 0.0, -0.0, -0.0, -0.0, 0.0, 0.0,
    -0.0, 0.0, 0.0, 0.125, -0.0, -0.125, -0.0, 0.0, 0.0, -0.125, 0.0, 0.125,
];
#[rustfmt::skip]
const MULTIPLY_D0: [f32; 27] = [
    -0.125, 0.0625, -0.1875, -0.0, -0.0, 0.0, -0.125, 0.125, -0.0625, 0.0, -0.0, -0.0, -0.0,
    0.0, -0.0, 0.0, -0.0, 0.0, -0.1875, 0.0625, -0.125, -0.0, 0.0, -0.0, 0.0, 0.1875, -0.0625,
];
#[rustfmt::skip]
const MULTIPLY_D1: [f32; 27] = [
    -0.125, -0.0, 0.1875, 0.0, -0.0, 0.0625, 0.125, 0.0, -0.0625, 0.0, 0.0, 0.0, 0.0, 0.0, -0.0,
    -0.0, -0.0, 0.0, -0.1875, -0.0, 0.125, 0.125, 0.0, -0.1875, -0.0, 0.0, -0.0625,
];
#[rustfmt::skip]
const MULTIPLY_D2: [f32; 27] = [
    -0.125, -0.0, 0.1875, -0.0, 0.0, -0.0, -0.125, -0.0, 0.0625, -0.1875, -0.0, -0.1875, 0.0,
    0.0, -0.0, -0.0625, -0.0, 0.0, 0.1875, 0.0, -0.125, 0.0, 0.0, -0.0, -0.0, 0.0, -0.0625,
];
// `ref(Average(), [ties(27, k).reshape(3, 3, 3) for k in range(3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const AVERAGE_Y: [f32; 27] = [
    -0.5, -0.33333334, -0.16666667, -0.33333334, -0.16666667, 0.0, -0.16666667, 0.0, 0.16666667,
    -0.33333334, -0.16666667, 0.0, -0.16666667, 0.0, 0.16666667, 0.0, 0.16666667, 0.33333334,
    -0.16666667, 0.0, 0.16666667, 0.0, 0.16666667, 0.33333334, 0.16666667, 0.33333334, 0.5,
];
#[rustfmt::skip]
const AVERAGE_D0: [f32; 27] = [
    -0.16666667, 0.083333336, -0.25, 0.0, 0.25, -0.083333336, 0.16666667, -0.16666667,
    0.083333336, -0.25, 0.0, 0.25, -0.083333336, 0.16666667, -0.16666667, 0.083333336, -0.25,
    0.0, 0.25, -0.083333336, 0.16666667, -0.16666667, 0.083333336, -0.25, 0.0, 0.25,
    -0.083333336,
];
#[rustfmt::skip]
const AVERAGE_D1: [f32; 27] = [
    -0.16666667, 0.083333336, -0.25, 0.0, 0.25, -0.083333336, 0.16666667, -0.16666667,
    0.083333336, -0.25, 0.0, 0.25, -0.083333336, 0.16666667, -0.16666667, 0.083333336, -0.25,
    0.0, 0.25, -0.083333336, 0.16666667, -0.16666667, 0.083333336, -0.25, 0.0, 0.25,
    -0.083333336,
];
#[rustfmt::skip]
const AVERAGE_D2: [f32; 27] = [
    -0.16666667, 0.083333336, -0.25, 0.0, 0.25, -0.083333336, 0.16666667, -0.16666667,
    0.083333336, -0.25, 0.0, 0.25, -0.083333336, 0.16666667, -0.16666667, 0.083333336, -0.25,
    0.0, 0.25, -0.083333336, 0.16666667, -0.16666667, 0.083333336, -0.25, 0.0, 0.25,
    -0.083333336,
];
// `ref(Maximum(), [ties(27, k).reshape(3, 3, 3) for k in range(3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const MAXIMUM_Y: [f32; 27] = [
    -0.5, 0.0, 0.5, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5,
    0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
];
#[rustfmt::skip]
const MAXIMUM_D0: [f32; 27] = [
    -0.125, 0.25, -0.75, 0.0, 0.375, -0.25, 0.0, -0.0, 0.125, -0.0, 0.0, 0.75, -0.0, 0.125,
    -0.5, 0.0, -0.0, 0.0, 0.0, -0.0, 0.25, -0.0, 0.0, -0.375, 0.0, 0.0, -0.0625,
];
#[rustfmt::skip]
const MAXIMUM_D1: [f32; 27] = [
    -0.125, 0.0, -0.0, 0.0, 0.375, -0.0, 0.5, -0.5, 0.125, -0.0, 0.0, 0.0, -0.125, 0.125, -0.0,
    0.25, -0.75, 0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, 0.375, -0.0625,
];
#[rustfmt::skip]
const MAXIMUM_D2: [f32; 27] = [
    -0.25, 0.0, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.75, 0.0, 0.0, -0.125, 0.25, -0.0, 0.0,
    -0.0, 0.0, 0.75, -0.25, 0.25, -0.5, 0.25, -0.375, 0.0, 0.375, -0.125,
];
// `ref(Minimum(), [ties(27, k).reshape(3, 3, 3) for k in range(3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const MINIMUM_Y: [f32; 27] = [
    -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, 0.0, 0.0,
    -0.5, 0.0, 0.0, -0.5, -0.5, -0.5, -0.5, 0.0, 0.0, -0.5, 0.0, 0.5,
];
#[rustfmt::skip]
const MINIMUM_D0: [f32; 27] = [
    -0.125, 0.0, -0.0, 0.0, 0.0, -0.0, 0.25, -0.0, 0.0, -0.375, 0.0, 0.0, -0.25, 0.125, -0.0,
    0.25, -0.375, 0.0, 0.375, -0.0, 0.0, -0.5, 0.125, -0.0, 0.0, 0.75, -0.0625,
];
#[rustfmt::skip]
const MINIMUM_D1: [f32; 27] = [
    -0.125, 0.125, -0.375, 0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.375, 0.0, 0.75, -0.0, 0.125,
    -0.25, 0.0, -0.0, 0.0, 0.375, -0.25, 0.5, -0.0, 0.125, -0.75, 0.0, 0.0, -0.0625,
];
#[rustfmt::skip]
const MINIMUM_D2: [f32; 27] = [
    -0.25, 0.125, -0.375, 0.0, 0.75, -0.25, 0.25, -0.5, 0.25, -0.0, 0.0, 0.0, -0.0, 0.25, -0.25,
    0.0, -0.375, 0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, 0.0, -0.125,
];
// `ref(Concatenate(axis=-1), [smooth(80, 0).reshape(2, 4, 5, 2), smooth(120, 1).reshape(2, 4, 5, 3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const CONCAT_LAST_Y: [f32; 200] = [
    -0.75, 1.0, 0.5, -1.0, 0.75, -0.5, 1.25, -0.75, 1.0, -0.5, -0.25, 1.5, 1.25, -0.25, 1.5,
    0.0, -1.5, 0.0, -1.5, 0.25, 0.25, -1.25, -1.25, 0.5, -1.0, 0.5, -1.0, 0.75, -0.75, 1.0,
    0.75, -0.75, -0.5, 1.25, -0.25, 1.0, -0.5, 1.5, 0.0, -1.5, 1.25, -0.25, 0.25, -1.25, 0.5,
    1.5, 0.0, -1.0, 0.75, -0.75, -1.5, 0.25, 1.0, -0.5, 1.25, -1.25, 0.5, -0.25, 1.5, 0.0, -1.0,
    0.75, -1.5, 0.25, -1.25, -0.75, 1.0, 0.5, -1.0, 0.75, -0.5, 1.25, -0.75, 1.0, -0.5, -0.25,
    1.5, 1.25, -0.25, 1.5, 0.0, -1.5, 0.0, -1.5, 0.25, 0.25, -1.25, -1.25, 0.5, -1.0, 0.5, -1.0,
    0.75, -0.75, 1.0, 0.75, -0.75, -0.5, 1.25, -0.25, 1.0, -0.5, 1.5, 0.0, -1.5, 1.25, -0.25,
    0.25, -1.25, 0.5, 1.5, 0.0, -1.0, 0.75, -0.75, -1.5, 0.25, 1.0, -0.5, 1.25, -1.25, 0.5,
    -0.25, 1.5, 0.0, -1.0, 0.75, -1.5, 0.25, -1.25, -0.75, 1.0, 0.5, -1.0, 0.75, -0.5, 1.25,
    -0.75, 1.0, -0.5, -0.25, 1.5, 1.25, -0.25, 1.5, 0.0, -1.5, 0.0, -1.5, 0.25, 0.25, -1.25,
    -1.25, 0.5, -1.0, 0.5, -1.0, 0.75, -0.75, 1.0, 0.75, -0.75, -0.5, 1.25, -0.25, 1.0, -0.5,
    1.5, 0.0, -1.5, 1.25, -0.25, 0.25, -1.25, 0.5, 1.5, 0.0, -1.0, 0.75, -0.75, -1.5, 0.25, 1.0,
    -0.5, 1.25, -1.25, 0.5, -0.25, 1.5, 0.0, -1.0, 0.75, -1.5, 0.25, -1.25, -0.75, 1.0, 0.5,
    -1.0, 0.75,
];
#[rustfmt::skip]
const CONCAT_LAST_D0: [f32; 80] = [
    -0.5, 0.25, -0.25, 0.5, 0.0, 0.75, 0.25, -0.75, 0.5, -0.5, 0.75, -0.25, -0.75, 0.0, -0.5,
    0.25, -0.25, 0.5, 0.0, 0.75, 0.25, -0.75, 0.5, -0.5, 0.75, -0.25, -0.75, 0.0, -0.5, 0.25,
    -0.25, 0.5, 0.0, 0.75, 0.25, -0.75, 0.5, -0.5, 0.75, -0.25, -0.75, 0.0, -0.5, 0.25, -0.25,
    0.5, 0.0, 0.75, 0.25, -0.75, 0.5, -0.5, 0.75, -0.25, -0.75, 0.0, -0.5, 0.25, -0.25, 0.5,
    0.0, 0.75, 0.25, -0.75, 0.5, -0.5, 0.75, -0.25, -0.75, 0.0, -0.5, 0.25, -0.25, 0.5, 0.0,
    0.75, 0.25, -0.75, 0.5, -0.5,
];
#[rustfmt::skip]
const CONCAT_LAST_D1: [f32; 120] = [
    -0.75, 0.0, 0.75, -0.5, 0.25, -0.75, -0.25, 0.5, -0.5, 0.0, 0.75, -0.25, 0.25, -0.75, 0.0,
    0.5, -0.5, 0.25, 0.75, -0.25, 0.5, -0.75, 0.0, 0.75, -0.5, 0.25, -0.75, -0.25, 0.5, -0.5,
    0.0, 0.75, -0.25, 0.25, -0.75, 0.0, 0.5, -0.5, 0.25, 0.75, -0.25, 0.5, -0.75, 0.0, 0.75,
    -0.5, 0.25, -0.75, -0.25, 0.5, -0.5, 0.0, 0.75, -0.25, 0.25, -0.75, 0.0, 0.5, -0.5, 0.25,
    0.75, -0.25, 0.5, -0.75, 0.0, 0.75, -0.5, 0.25, -0.75, -0.25, 0.5, -0.5, 0.0, 0.75, -0.25,
    0.25, -0.75, 0.0, 0.5, -0.5, 0.25, 0.75, -0.25, 0.5, -0.75, 0.0, 0.75, -0.5, 0.25, -0.75,
    -0.25, 0.5, -0.5, 0.0, 0.75, -0.25, 0.25, -0.75, 0.0, 0.5, -0.5, 0.25, 0.75, -0.25, 0.5,
    -0.75, 0.0, 0.75, -0.5, 0.25, -0.75, -0.25, 0.5, -0.5, 0.0, 0.75, -0.25, 0.25, -0.75, 0.0,
];
// `ref(Concatenate(axis=1), [smooth(12, 0).reshape(2, 2, 3), smooth(24, 1).reshape(2, 4, 3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const CONCAT_FIRST_Y: [f32; 36] = [
    -0.75, 1.0, -0.5, 1.25, -0.25, 1.5, 0.5, -1.0, 0.75, -0.75, 1.0, -0.5, 1.25, -0.25, 1.5,
    0.0, -1.5, 0.25, 0.0, -1.5, 0.25, -1.25, 0.5, -1.0, -1.25, 0.5, -1.0, 0.75, -0.75, 1.0,
    -0.5, 1.25, -0.25, 1.5, 0.0, -1.5,
];
#[rustfmt::skip]
const CONCAT_FIRST_D0: [f32; 12] = [
    -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75,
];
#[rustfmt::skip]
const CONCAT_FIRST_D1: [f32; 24] = [
    0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0, 0.0, 0.75, -0.25,
    0.5, -0.5, 0.25, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5,
];
// `ref(Concatenate(axis=2), [smooth(16, 0).reshape(2, 2, 2, 2), smooth(24, 1).reshape(2, 2, 3, 2), smooth(8, 2).reshape(2, 2, 1, 2)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const CONCAT_MIDDLE_Y: [f32; 48] = [
    -0.75, 1.0, -0.5, 1.25, 0.5, -1.0, 0.75, -0.75, 1.0, -0.5, -1.5, 0.25, -0.25, 1.5, 0.0,
    -1.5, 1.25, -0.25, 1.5, 0.0, -1.5, 0.25, -1.25, 0.5, 0.25, -1.25, 0.5, -1.0, -1.25, 0.5,
    -1.0, 0.75, -0.75, 1.0, -1.0, 0.75, 0.75, -0.75, 1.0, -0.5, -0.5, 1.25, -0.25, 1.5, 0.0,
    -1.5, -0.75, 1.0,
];
#[rustfmt::skip]
const CONCAT_MIDDLE_D0: [f32; 16] = [
    -0.5, 0.25, -0.75, 0.0, -0.25, 0.5, -0.5, 0.25, 0.0, 0.75, -0.25, 0.5, 0.25, -0.75, 0.0,
    0.75,
];
#[rustfmt::skip]
const CONCAT_MIDDLE_D1: [f32; 24] = [
    0.75, -0.25, 0.5, -0.5, 0.25, -0.75, -0.75, 0.0, 0.75, -0.25, 0.5, -0.5, -0.5, 0.25, -0.75,
    0.0, 0.75, -0.25, -0.25, 0.5, -0.5, 0.25, -0.75, 0.0,
];
#[rustfmt::skip]
const CONCAT_MIDDLE_D2: [f32; 8] = [
    0.0, 0.75, 0.25, -0.75, 0.5, -0.5, 0.75, -0.25,
];
// `ref(Dot(axes=1, normalize=False), [smooth(8, 0).reshape(2, 4), smooth(8, 1).reshape(2, 4)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_VEC_Y: [f32; 2] = [
    -2.6875, -0.625,
];
#[rustfmt::skip]
const DOT_VEC_D0: [f32; 8] = [
    -0.25, 0.5, -0.375, 0.375, 0.25, -0.125, 0.3125, -0.0625,
];
#[rustfmt::skip]
const DOT_VEC_D1: [f32; 8] = [
    0.375, -0.5, 0.25, -0.625, -0.0625, 0.375, 0.0, -0.375,
];
// `ref(Dot(axes=2, normalize=False), [smooth(24, 0).reshape(2, 3, 4), smooth(40, 1).reshape(2, 5, 4)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_LAST_Y: [f32; 30] = [
    -2.6875, -2.1875, -0.0625, 2.875, 3.375, -0.5, -0.625, -0.75, -0.0625, -0.1875, 2.5, 1.75,
    -0.625, -2.1875, -2.9375, -0.5625, 2.125, 2.375, 2.625, -2.8125, -0.6875, 1.375, 2.625,
    3.875, -3.8125, 0.0, -1.8125, -2.8125, -3.8125, 4.125,
];
#[rustfmt::skip]
const DOT_LAST_D0: [f32; 24] = [
    -1.6875, 1.125, 0.6875, 1.0625, -0.125, -0.625, 1.3125, -0.8125, 0.125, -0.625, 1.0625,
    -0.5, 1.0625, 1.0625, 1.0625, 0.25, -1.0, 1.375, -1.125, -0.375, -0.875, 1.25, -0.6875,
    -1.0,
];
#[rustfmt::skip]
const DOT_LAST_D1: [f32; 40] = [
    0.4375, -0.875, 0.25, -0.25, -0.125, 0.0625, 0.25, -1.1875, 0.625, -1.1875, 0.25, 0.0625,
    0.0625, -0.25, 0.25, -0.875, -0.5, 0.25, -0.625, 2.5625, -0.3125, -0.125, 0.0625, 0.25,
    -0.8125, 0.625, -1.1875, 0.25, -0.4375, 0.0625, -0.25, 0.25, 0.375, -0.5, 0.25, -0.625,
    -0.5625, 0.25, -0.5625, 0.25,
];
// `ref(Dot(axes=1, normalize=False), [smooth(24, 0).reshape(2, 3, 4), smooth(12, 1).reshape(2, 3, 2)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_FIRST_Y: [f32; 16] = [
    -0.3125, 0.8125, 0.375, -1.5, 0.25, 0.25, -1.5, 0.375, 5.0625, -0.5625, -1.6875, 0.25,
    5.375, -0.5625, -1.375, 0.25,
];
#[rustfmt::skip]
const DOT_FIRST_D0: [f32; 24] = [
    -0.5, -0.375, 0.625, 0.75, -0.5625, -0.5625, 0.75, 0.75, -0.625, -0.75, 0.875, 0.75, 0.5,
    -0.1875, -0.4375, -0.6875, 0.375, 0.0, -0.375, -0.75, -0.5625, 0.1875, 0.5, 0.8125,
];
#[rustfmt::skip]
const DOT_FIRST_D1: [f32; 12] = [
    -0.125, -0.6875, -1.75, 0.6875, 0.6875, 0.4375, 0.1875, -0.75, -0.0625, -0.375, -0.3125,
    0.8125,
];
// `ref(Dot(axes=(2, 1), normalize=False), [smooth(24, 0).reshape(2, 3, 4), smooth(16, 1).reshape(2, 4, 2)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_MIXED_Y: [f32; 12] = [
    1.4375, -0.0625, -0.875, -0.5, -1.5625, 0.6875, 1.5, -0.0625, 0.375, 0.6875, -1.5625,
    -0.1875,
];
#[rustfmt::skip]
const DOT_MIXED_D0: [f32; 24] = [
    -0.5, -0.5625, -0.625, -0.6875, -0.375, -0.5625, -0.75, -0.9375, 0.625, 0.75, 0.875, 1.0,
    0.75, -0.875, -0.875, -0.875, 0.375, -0.5625, -0.6875, -0.8125, 0.0, 0.1875, 0.375, 0.5625,
];
#[rustfmt::skip]
const DOT_MIXED_D1: [f32; 16] = [
    0.75, -0.25, -2.5625, 0.5625, 0.625, -0.25, -0.25, 0.5625, 0.6875, -2.4375, -0.4375, 0.75,
    0.875, -2.5625, -0.25, 0.625,
];
// `ref(Dot(axes=(2, 1), normalize=False), [smooth(48, 0).reshape(2, 2, 3, 4), smooth(30, 1).reshape(2, 3, 5)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_R3_Y: [f32; 80] = [
    -0.625, 0.5, -0.8125, 0.3125, -1.0, 1.625, 0.5625, 1.9375, 0.875, 2.25, -1.0, 0.625, -1.0,
    0.625, -1.0, 2.875, -3.375, 2.5625, -3.6875, 2.25, 2.0, 0.4375, 2.125, 0.5625, 2.25, -0.625,
    0.5, -0.8125, 0.3125, -1.0, 1.625, 0.5625, 1.9375, 0.875, 2.25, -1.0, 0.625, -1.0, 0.625,
    -1.0, -0.625, 0.0, -1.0, 1.25, -1.375, 2.125, 0.5625, 2.25, -3.375, 2.375, -0.8125, 0.3125,
    -1.0, 0.9375, -1.1875, 1.9375, 0.875, 2.25, -3.6875, 2.5625, -1.75, 1.875, -1.0, -0.625,
    -0.25, -0.625, 0.0, -1.0, 1.25, -1.375, 2.125, 0.5625, 2.25, -3.375, 2.375, -0.8125, 0.3125,
    -1.0, 0.9375, -1.1875,
];
#[rustfmt::skip]
const DOT_R3_D0: [f32; 48] = [
    -0.3125, -1.9375, -1.8125, 0.0625, 0.75, 1.25, 1.75, 0.0625, 1.0, 2.0, 1.25, 0.0625, 1.5,
    1.625, 0.875, -0.3125, -2.0625, -1.5625, -0.1875, 0.75, -1.5625, -2.3125, -0.4375, 1.0,
    -2.125, -1.6875, 0.0625, 1.375, 0.25, 0.25, -2.375, 0.25, 1.8125, 1.375, 0.0625, -1.6875,
    1.8125, 0.9375, -0.375, -2.125, 0.25, 0.6875, 0.6875, 0.25, -2.125, -0.375, 0.9375, 1.8125,
];
#[rustfmt::skip]
const DOT_R3_D1: [f32; 30] = [
    -0.25, -1.3125, 1.125, 0.5, -1.4375, -1.3125, 1.25, 0.75, -1.9375, -0.25, 0.0625, 1.375,
    -1.25, 0.5, 0.9375, 1.5, -0.1875, -0.125, -1.375, 1.3125, 1.375, 0.0625, -0.375, -1.25,
    0.9375, 1.25, -1.3125, 1.8125, -0.3125, -0.25,
];
// `ref(Dot(axes=(1, 2), normalize=False), [smooth(6, 0).reshape(2, 3), smooth(24, 1).reshape(2, 4, 3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_VEC_MAT_Y: [f32; 8] = [
    -1.75, 1.8125, -1.9375, -1.625, -3.1875, 2.625, -1.3125, -0.375,
];
#[rustfmt::skip]
const DOT_VEC_MAT_D0: [f32; 6] = [
    -1.375, 0.9375, -1.625, -2.125, 1.1875, -0.375,
];
#[rustfmt::skip]
const DOT_VEC_MAT_D1: [f32; 24] = [
    0.375, -0.5, 0.25, -0.1875, 0.25, -0.125, 0.5625, -0.75, 0.375, -0.0, 0.0, -0.0, 0.9375,
    -0.1875, 1.125, -0.3125, 0.0625, -0.375, 0.625, -0.125, 0.75, -0.625, 0.125, -0.75,
];
// `ref(Dot(axes=1, normalize=True), [smooth(8, 0).reshape(2, 4), smooth(8, 1).reshape(2, 4)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_VEC_N_Y: [f32; 2] = [
    -0.94924814, -0.17256775,
];
#[rustfmt::skip]
const DOT_VEC_N_D0: [f32; 8] = [
    0.01716987, 0.03597495, -0.06213855, -0.04333347, 0.06666316, -0.0203299, 0.08628388,
    -0.03144043,
];
#[rustfmt::skip]
const DOT_VEC_N_D1: [f32; 8] = [
    0.032532364, 0.023237422, -0.061579145, -0.070874095, -0.0022508847, 0.096037716,
    0.018757364, -0.10729213,
];
// `ref(Dot(axes=2, normalize=True), [smooth(24, 0).reshape(2, 3, 4), smooth(40, 1).reshape(2, 5, 4)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_LAST_N_Y: [f32; 30] = [
    -0.94924814, -0.70225084, -0.015927278, 0.8518519, 1.0000001, -0.15189266, -0.17256775,
    -0.16438358, -0.015927294, -0.04778185, 0.9567297, 0.6086956, -0.17256775, -0.70225084,
    -0.94302255, -0.17087923, 0.81322026, 0.99999994, 0.86528987, -0.8985634, -0.16350664,
    0.4119532, 0.86528987, 0.9999999, -0.95359063, -3.6055354e-09, -0.52631664, -0.8985634,
    -0.95359063, 0.9999999,
];
#[rustfmt::skip]
const DOT_LAST_N_D0: [f32; 24] = [
    -0.22562343, 0.04432556, 0.3006345, -0.05058062, 0.0030085573, -0.17396533, 0.31184614,
    -0.17446674, 0.023154318, 0.05889474, 0.2415357, 0.052938, 0.2683182, 0.4606997, 0.23412809,
    0.17968395, 0.017662302, 0.299209, 0.035149574, -0.069774, -0.04003513, 0.25188094,
    -0.01593475, -0.28588274,
];
#[rustfmt::skip]
const DOT_LAST_N_D1: [f32; 40] = [
    0.043524593, -0.07469335, -0.073570676, 0.055036925, -0.09720218, -0.004891861,
    0.0056647956, -0.35070103, 0.10835316, -0.2692271, 0.10618304, -0.013020743, -0.10731986,
    -0.05247092, -0.02495972, -0.17716546, 0.12039718, -0.23637328, -0.0050946027, 0.25929907,
    -0.060540147, -0.0025452413, 0.03821567, 0.007544782, -0.23411709, -0.06296159, -0.30196548,
    -0.13081001, -0.063040145, -0.05423206, 0.022020184, 0.030828256, 0.009861603, -0.14405467,
    -0.032227106, -0.18614337, 0.021783367, 0.04628963, -0.011799291, 0.012706954,
];
// `ref(Dot(axes=1, normalize=True), [smooth(24, 0).reshape(2, 3, 4), smooth(12, 1).reshape(2, 3, 2)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_FIRST_N_Y: [f32; 16] = [
    -0.27994627, 0.7278602, 0.12697165, -0.5078867, 0.26261288, 0.26261285, -0.5078867,
    0.12697168, 0.9829923, -0.76063883, -0.82657367, 0.8528028, 0.9951011, -0.72524065,
    -0.789754, 0.99999994,
];
#[rustfmt::skip]
const DOT_FIRST_N_D0: [f32; 24] = [
    -0.096708745, -0.10718388, 0.7878386, 0.3363925, -0.38683486, -0.16077581, 0.7878386,
    0.15500438, -0.67696095, -0.2786781, 0.7878385, 0.18798405, 0.1743002, 0.058145642,
    -0.09197606, 0.03589791, -0.1603935, 0.23258258, 0.12113921, -0.43077487, -0.046511203,
    0.40701956, 0.07178618, 0.03589791,
];
#[rustfmt::skip]
const DOT_FIRST_N_D1: [f32; 12] = [
    -0.09693128, -0.2191354, -0.51781535, 0.21981315, 0.43682718, 0.10855109, 0.052921206,
    -0.33986497, -0.10569965, -0.940346, -0.061598614, -0.3398651,
];
// `ref(Dot(axes=(2, 1), normalize=True), [smooth(24, 0).reshape(2, 3, 4), smooth(16, 1).reshape(2, 4, 2)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_MIXED_N_Y: [f32; 12] = [
    0.42592597, -0.024845218, -0.22298199, -0.17094958, -0.5016077, 0.29611006, 0.36625212,
    -0.04335548, 0.07168295, 0.3733643, -0.28948683, -0.09869274,
];
#[rustfmt::skip]
const DOT_MIXED_N_D0: [f32; 24] = [
    -0.22216028, -0.1207062, -0.2303088, -0.12885474, -0.08640006, -0.1983274, -0.1911274,
    -0.1839274, 0.26721296, 0.065582454, 0.37291133, 0.17128086, 0.11845119, -0.2051622,
    -0.41226023, -0.33910042, 0.15623218, -0.19041947, -0.1619301, -0.35326853, -0.026916198,
    0.10317878, 0.17495532, 0.30505034,
];
#[rustfmt::skip]
const DOT_MIXED_N_D1: [f32; 16] = [
    0.28159437, -0.14424872, -0.6420412, 0.20188075, 0.3194769, -0.124925606, 0.017005414,
    0.22120386, 0.108598664, -1.3614225, -0.060809996, 0.5556138, 0.22935057, -1.2613447,
    -0.03257522, 0.6556918,
];
// `ref(Dot(axes=(2, 1), normalize=True), [smooth(48, 0).reshape(2, 2, 3, 4), smooth(30, 1).reshape(2, 3, 5)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_R3_N_Y: [f32; 80] = [
    -0.45454547, 0.37219366, -0.66254133, 0.21536525, -0.8528029, 0.4466853, 0.15826046,
    0.5971484, 0.22792117, 0.72524065, -0.8528029, 0.5455447, -0.95618284, 0.5050763,
    -0.99999994, 0.79028934, -0.9495629, 0.7897769, -0.9605249, 0.72524065, 0.57659996,
    0.12909941, 0.6869037, 0.15367226, 0.76063883, -0.45454547, 0.37219366, -0.66254133,
    0.21536525, -0.8528029, 0.4466853, 0.15826046, 0.5971484, 0.22792117, 0.72524065,
    -0.8528029, 0.5455447, -0.95618284, 0.5050763, -0.99999994, -0.37796444, 0.0, -0.6324555,
    0.63887656, -0.8315218, 0.6869037, 0.15367226, 0.76063883, -0.92203355, 0.76771593,
    -0.66254133, 0.21536525, -0.8528029, 0.6460958, -0.9683296, 0.5971484, 0.22792117,
    0.72524065, -0.9605249, 0.7897769, -0.63245547, 0.57270265, -0.37796444, -0.19090092,
    -0.09035078, -0.37796444, 0.0, -0.6324555, 0.63887656, -0.8315218, 0.6869037, 0.15367226,
    0.76063883, -0.92203355, 0.76771593, -0.66254133, 0.21536525, -0.8528029, 0.6460958,
    -0.9683296,
];
#[rustfmt::skip]
const DOT_R3_N_D0: [f32; 48] = [
    0.006777391, -0.41121298, -0.23624134, 0.016182873, 0.6319243, 0.601393, 1.4841698,
    -0.0025801787, 0.6522565, 0.39270127, -0.23624134, 0.024098856, 0.38586053, 0.05140257,
    0.19333085, 0.3106533, -0.66411376, -1.5191041, -0.18282546, 0.66525733, -0.3604979,
    -1.3648964, -0.06472587, 0.31065327, -0.29685086, -0.35084033, 0.46310243, 0.1657921,
    0.59370184, 0.32483646, -1.5072885, -0.2794377, 1.0689847, 0.09527683, -0.117981195,
    -0.20269153, 0.74364585, -0.03705287, -0.07156134, 0.04345703, 0.27897567, 0.07410586,
    0.28909943, 0.7337782, -0.43386573, -0.23000512, 0.20513552, 0.86414963,
];
#[rustfmt::skip]
const DOT_R3_N_D1: [f32; 30] = [
    -0.06802395, -0.18549916, 0.2739612, -0.022236869, -0.21320069, -0.31668186, -0.2627488,
    0.43245208, -0.12466857, -0.21320069, 0.08288597, 0.5717469, 0.077886224, 0.34065035,
    -0.21320069, 0.82158405, -0.12837973, 0.333226, -0.52273375, 0.0996604, 0.58640426,
    0.062117767, -0.085178, 0.042940557, 0.31704044, 0.3756696, -0.3789229, 0.33322603,
    -0.26260796, 0.27178097,
];
// `ref(Dot(axes=(1, 2), normalize=True), [smooth(6, 0).reshape(2, 3), smooth(24, 1).reshape(2, 4, 3)])`: y, then dL/dx0, dL/dx1, …
#[rustfmt::skip]
const DOT_VEC_MAT_N_Y: [f32; 8] = [
    -0.9655172, 1.0, -0.7310832, -0.7937313, -0.9655351, 0.9147743, -0.4869258, -0.089802675,
];
#[rustfmt::skip]
const DOT_VEC_MAT_N_D0: [f32; 6] = [
    -0.06503087, -0.22225478, -0.3469631, -0.25025362, 0.33651853, 0.26463097,
];
#[rustfmt::skip]
const DOT_VEC_MAT_N_D1: [f32; 24] = [
    0.07372175, -0.009512484, -0.06183116, 0.0, 0.0, 0.0, 0.035375, -0.24762496, -0.07074997,
    -0.0, 0.0, -0.0, -0.03786415, 0.07194184, 0.08330107, -0.028186314, -0.058935046,
    -0.023061536, 0.166946, 0.1159347, 0.24578162, -0.16463819, 0.029934216, -0.16463818,
];
