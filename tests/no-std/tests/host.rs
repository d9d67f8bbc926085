//! Runs the no_std crate's inference on the host (with std, for the test harness only).

use kerust_no_std_test::{argmax, build, classify, probabilities, Tiny, CLASSES, SEED, ZERO};

fn inputs() -> [[[f32; 4]; 4]; 5] {
    let ramp: [[f32; 4]; 4] = core::array::from_fn(|i| core::array::from_fn(|j| (i * 4 + j) as f32 / 16.0));
    let checker: [[f32; 4]; 4] =
        core::array::from_fn(|i| core::array::from_fn(|j| if (i + j) % 2 == 0 { 1.0 } else { -1.0 }));
    [[[0.0; 4]; 4], [[1.0; 4]; 4], [[-3.0; 4]; 4], ramp, checker]
}

#[test]
fn classify_returns_a_valid_class() {
    for x in &inputs() {
        let class = classify(x);
        assert!(class < CLASSES, "class {class}");
        assert_eq!(class, argmax(&probabilities(&build(SEED), x)));
    }
}

#[test]
fn forward_is_a_probability_distribution() {
    let model = build(SEED);
    for x in &inputs() {
        let p = probabilities(&model, x);
        assert!(
            p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
            "{p:?}"
        );
        let sum: f32 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "sum {sum} of {p:?}");
    }
    // Distinct inputs give distinct outputs: the weights are really used.
    let [a, b, ..] = inputs();
    assert_ne!(probabilities(&model, &a), probabilities(&model, &b));
}

#[test]
fn params_are_deterministic_for_a_seed() {
    assert_eq!(Tiny::PARAM_COUNT, 16 * 8 + 8 + 8 * 3 + 3);
    let (a, b, c) = (build(SEED), build(SEED), build(SEED + 1));
    assert_eq!(a.params().len(), Tiny::PARAM_COUNT);
    assert_eq!(a.params(), b.params());
    assert_ne!(a.params(), c.params());
    // Glorot-uniform kernels are non-zero, biases start at zero.
    assert!(a.hidden.kernel.iter().flatten().any(|&v| v != 0.0));
    assert_eq!(a.hidden.bias, [0.0; 8]);
    assert_eq!(a.out.bias, [0.0; 3]);
    // Re-initialising in place gives the same values as building afresh.
    let mut d = Tiny::ZERO;
    d.init(SEED);
    assert_eq!(d.params(), a.params());
}

#[test]
fn the_static_model_is_all_zero() {
    assert!(ZERO.params().iter().all(|&v| v == 0.0));
    // Zero weights: softmax of equal logits is uniform.
    let p = probabilities(&ZERO, &[[1.0; 4]; 4]);
    for v in p {
        assert!((v - 1.0 / CLASSES as f32).abs() < 1e-6, "{p:?}");
    }
}

#[test]
fn batched_forward_matches_single_samples() {
    // One sample takes gemm's matrix-vector path; a batch takes the general kernel, which
    // without `alloc` is kerust's heap-free loop instead of matrixmultiply.
    use kerust::Model;
    let model = build(SEED);
    let xs = inputs();
    let batch = xs.len();
    let flat: Vec<f32> = xs.iter().flatten().flatten().copied().collect();
    let mut y = vec![f32::NAN; batch * CLASSES];
    let mut scratch = vec![f32::NAN; batch * Tiny::SCRATCH];
    model.forward_batch(&flat, &mut y, batch, &mut scratch);
    for (x, got) in xs.iter().zip(y.chunks_exact(CLASSES)) {
        let want = probabilities(&model, x);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
        }
    }
}

#[test]
fn the_functional_model_gives_probabilities_and_a_value() {
    let (class, value) = kerust_no_std_test::graph_outputs(&[0.5, -0.5, 0.25, 0.0, 1.0, -1.0, 0.75, 0.1]);
    assert!((class.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{class:?}");
    assert!(value[0].is_finite());
}
