//! Functional models (`model!` with named nodes): forward passes against hand-computed
//! compositions, and every parameter's gradient against finite differences on models with
//! fan-out, shared layers, several inputs and several outputs.

use kerust::gradcheck::{self, Options};
use kerust::losses::{MeanSquaredError, Targets};
use kerust::prelude::*;

fn strict() -> Options {
    Options {
        atol: 1e-4,
        max_per_tensor: usize::MAX,
        ..Options::default()
    }
}

/// Checks every parameter's gradient of `M` under the mean squared error on random data.
fn check_gradients<M: Model>(batch: usize, seed: u64) {
    let mut model = kerust::params::boxed_zeroed::<M>();
    model.init_with(&mut Rng::new(seed));
    // Non-zero biases, so that no parameter sits at a special point.
    let mut rng = Rng::new(seed ^ 7);
    for p in model.flat_mut() {
        *p += rng.uniform_range(-0.1, 0.1);
    }
    let x: Vec<f32> = (0..batch * <M::Input as Shape>::LEN)
        .map(|_| rng.uniform_range(-1.0, 1.0))
        .collect();
    let t: Vec<f32> = (0..batch * <M::Output as Shape>::LEN)
        .map(|_| rng.uniform_range(-1.0, 1.0))
        .collect();
    let report = gradcheck::model(&*model, &x, Targets::Dense(&t), &MeanSquaredError, &strict());
    assert!(report.passed(), "{} (batch {batch}): {report}", M::NAME);
    assert_eq!(report.checked, M::COUNT, "every parameter is checked");
}

model! {
    /// One trunk, a layer shared by two nodes (applied twice in a row), two heads.
    struct SharedTwoHeads {
        x = Input<6>;
        h = Dense(8, activation = tanh)(x);
        shared: Dense(8, activation = tanh);
        a = shared(h);
        b = shared(a);
        c = Dense(3, activation = softmax)(b);
        d = Dense(2)(a);
        outputs(c, d);
    }
}

model! {
    /// The same network as `Chain`, written as a graph.
    struct GraphChain {
        x = Input<5>;
        h = Dense(7, activation = tanh)(x);
        y = Dense(3)(h);
        outputs(y);
    }
}

model! {
    struct Chain: Input<5> {
        h: Dense(7, activation = tanh),
        y: Dense(3),
    }
}

#[test]
fn a_chain_written_as_a_graph_computes_what_the_sequential_model_does() {
    let g = GraphChain::new(3);
    let mut s = Chain::new(0);
    s.params_mut().copy_from_slice(g.params());
    let x = [0.3, -0.2, 0.9, 0.0, -1.0];
    assert_eq!(g.forward(&x), s.forward(&x));
    assert_eq!(GraphChain::PARAM_COUNT, Chain::PARAM_COUNT);
}

#[test]
fn shared_layers_apply_the_same_weights_at_every_call() {
    let m = SharedTwoHeads::new(5);
    let x = [0.1, 0.2, -0.3, 0.4, -0.5, 0.6];
    let (c, d) = m.forward(&x);
    // By hand: h = tanh(W_h x + b_h), a = tanh(W_s h + b_s), b = tanh(W_s a + b_s), ...
    let dense = |w: &[[f32; 8]], b: &[f32], x: &[f32], act: fn(f32) -> f32| -> Vec<f32> {
        let n = b.len();
        (0..n)
            .map(|j| act(b[j] + x.iter().enumerate().map(|(i, v)| v * w[i][j]).sum::<f32>()))
            .collect()
    };
    let h = dense(&m.h.kernel, &m.h.bias, &x, f32::tanh);
    let a = dense(&m.shared.kernel, &m.shared.bias, &h, f32::tanh);
    let b = dense(&m.shared.kernel, &m.shared.bias, &a, f32::tanh);
    let head = |w: &[[f32; 3]; 8], b: &[f32; 3], x: &[f32]| -> Vec<f32> {
        (0..3)
            .map(|j| b[j] + x.iter().enumerate().map(|(i, v)| v * w[i][j]).sum::<f32>())
            .collect()
    };
    let logits = head(&m.c.kernel, &m.c.bias, &b);
    let z: f32 = logits.iter().map(|v| v.exp()).sum();
    for (got, l) in c.iter().zip(&logits) {
        assert!((got - l.exp() / z).abs() < 1e-5, "{c:?} vs {logits:?}");
    }
    let dd: Vec<f32> = (0..2)
        .map(|j| {
            m.d.bias[j]
                + a.iter()
                    .enumerate()
                    .map(|(i, v)| v * m.d.kernel[i][j])
                    .sum::<f32>()
        })
        .collect();
    for (got, want) in d.iter().zip(&dd) {
        assert!((got - want).abs() < 1e-5, "{d:?} vs {dd:?}");
    }
    // The shared layer's parameters are stored once.
    assert_eq!(
        SharedTwoHeads::PARAM_COUNT,
        (6 * 8 + 8) + (8 * 8 + 8) + (8 * 3 + 3) + (8 * 2 + 2)
    );
}

#[test]
fn gradients_of_a_shared_layer_accumulate_over_its_calls() {
    check_gradients::<SharedTwoHeads>(1, 1);
    check_gradients::<SharedTwoHeads>(3, 2);
}

#[test]
fn graph_chain_gradients() {
    check_gradients::<GraphChain>(4, 3);
}

#[test]
fn summary_shows_the_graph_as_keras_does() {
    // Printed by Keras 3.15 (JAX) for the same graph:
    //   x = keras.Input((6,), name="x")
    //   h = keras.layers.Dense(8, activation="tanh", name="h")(x)
    //   s = keras.layers.Dense(8, activation="tanh", name="shared"); a = s(h); b = s(a)
    //   c = keras.layers.Dense(3, activation="softmax", name="c")(b)
    //   d = keras.layers.Dense(2, name="d")(a)
    //   keras.Model(x, [c, d], name="SharedTwoHeads").summary()
    let keras = r#"Model: "SharedTwoHeads"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ x (InputLayer)      │ (None, 6)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ h (Dense)           │ (None, 8)         │         56 │ x[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ shared (Dense)      │ (None, 8)         │         72 │ h[0][0],          │
│                     │                   │            │ shared[0][0]      │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ c (Dense)           │ (None, 3)         │         27 │ shared[1][0]      │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ d (Dense)           │ (None, 2)         │         18 │ shared[0][0]      │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 173 (692.00 B)
 Trainable params: 173 (692.00 B)
 Non-trainable params: 0 (0.00 B)
"#;
    assert_eq!(kerust::train::summary_string::<SharedTwoHeads>(), keras);
}

model! {
    /// A residual block: the input is added back to two layers' output.
    struct Residual {
        x = Input<6>;
        h = Dense(6, activation = tanh)(x);
        r = Dense(6, activation = sigmoid)(h);
        s = Add(h, r);
        y = Dense(2)(s);
        outputs(y);
    }
}

model! {
    /// Two inputs, merged three ways.
    struct TwoInputs {
        img = Input<4, 3>;
        tab = Input<5>;
        f = Flatten()(img);
        a = Dense(4, activation = tanh)(f);
        b = Dense(4, activation = tanh)(tab);
        m = Multiply(a, b);
        d = Subtract(a, b);
        av = Average(m, d, b);
        cat = Concatenate(a, av, axis = -1);
        dot = Dot(a, b, axes = 1);
        both = Concatenate(cat, dot);
        y = Dense(3)(both);
        outputs(y, dot);
    }
}

model! {
    /// Convolutions on a branch and a skip path joined on the channel axis.
    struct ConvBranches {
        x = Input<6, 6, 2>;
        c = Conv2D(3, 3, padding = same, activation = tanh)(x);
        p = Conv2D(2, 1)(x);
        j = Concatenate(c, p);
        n = LayerNormalization()(j);
        g = GlobalAveragePooling2D()(n);
        y = Dense(2)(g);
        outputs(y);
    }
}

#[test]
fn residual_gradients() {
    check_gradients::<Residual>(1, 4);
    check_gradients::<Residual>(5, 5);
}

#[test]
fn two_input_merge_gradients() {
    check_gradients::<TwoInputs>(1, 6);
    check_gradients::<TwoInputs>(4, 7);
}

#[test]
fn conv_branch_gradients() {
    check_gradients::<ConvBranches>(2, 8);
}

#[test]
fn residual_forward_adds_the_skip_path() {
    let m = Residual::new(9);
    let x = [0.5, -0.25, 0.125, 1.0, -1.0, 0.0];
    // The same computation through the layers one at a time.
    let mut h = [0.0f32; 6];
    m.h.forward(&x, &mut h, &mut [], 1);
    let mut r = [0.0f32; 6];
    m.r.forward(&h, &mut r, &mut [], 1);
    let s: Vec<f32> = h.iter().zip(&r).map(|(a, b)| a + b).collect();
    let mut y = [0.0f32; 2];
    m.y.forward(&s, &mut y, &mut [], 1);
    assert_eq!(m.forward(&x), y);
}

#[test]
fn several_inputs_are_laid_side_by_side_in_a_row() {
    assert_eq!(<TwoInputs as Model>::INPUTS[0].offset, 0);
    assert_eq!(<TwoInputs as Model>::INPUTS[1].offset, 12);
    assert_eq!(<<TwoInputs as Model>::Input as Shape>::LEN, 17);
    let m = TwoInputs::new(3);
    let img = [
        [0.1, 0.2, 0.3],
        [0.4, -0.5, 0.6],
        [0.0, 1.0, -1.0],
        [0.25, 0.5, 0.75],
    ];
    let tab = [1.0, -2.0, 0.5, 0.0, 0.3];
    let (y, dot) = m.forward((&img, &tab));
    // The batch API takes the same sample as one row: the image, then the vector.
    let mut row = Vec::from(kerust::shape::flatten(&img));
    row.extend_from_slice(&tab);
    let mut out = vec![0.0; 4];
    let mut scratch = vec![0.0; <TwoInputs as Model>::SCRATCH];
    m.forward_batch(&row, &mut out, 1, &mut scratch);
    assert_eq!(&out[..3], &y);
    assert_eq!(out[3], dot[0]);
}

model! {
    /// Element-wise maximum and minimum of three branches.
    struct MaxMin {
        x = Input<5>;
        a = Dense(6, activation = tanh)(x);
        b = Dense(6, activation = tanh)(x);
        c = Dense(6, activation = tanh)(x);
        mx = Maximum(a, b, c);
        mn = Minimum(a, b);
        s = Concatenate(mx, mn);
        y = Dense(2)(s);
        outputs(y);
    }
}

#[test]
fn maximum_and_minimum_gradients_follow_the_selected_branch() {
    // Finite differences are only valid away from ties: a smaller step, with a tolerance for
    // f32 rounding at that step.
    let opts = Options {
        eps: 1e-3,
        atol: 1e-3,
        ..strict()
    };
    for (batch, seed) in [(1, 10), (4, 11)] {
        let mut model = kerust::params::boxed_zeroed::<MaxMin>();
        model.init_with(&mut Rng::new(seed));
        let mut rng = Rng::new(seed ^ 7);
        let x: Vec<f32> = (0..batch * 5).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
        let t: Vec<f32> = (0..batch * 2).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
        let report = gradcheck::model(&*model, &x, Targets::Dense(&t), &MeanSquaredError, &opts);
        assert!(report.passed(), "batch {batch}: {report}");
        assert_eq!(report.checked, MaxMin::PARAM_COUNT);
    }
}

model! {
    /// A residual block as its own model.
    pub struct Block {
        x = Input<6>;
        h = Dense(6, activation = tanh)(x);
        r = Dense(6)(h);
        s = Add(x, r);
        outputs(s);
    }
}

model! {
    /// The block reused twice, then a head; the block's input gradient flows through the
    /// skip connection into the first block.
    struct TwoBlocks {
        x = Input<6>;
        first = Model(Block)(x);
        second = Model(Block)(first);
        y = Dense(2, activation = tanh)(second);
        outputs(y);
    }
}

model! {
    /// One block instance applied twice: its weights are shared.
    struct SharedBlock {
        x = Input<6>;
        block: Model(Block);
        a = block(x);
        b = block(a);
        y = Dense(2)(b);
        outputs(y);
    }
}

model! {
    /// A sequential model using the block.
    struct SequentialWithBlock: Input<6> {
        block: Model(Block),
        y: Dense(3),
    }
}

#[test]
fn nested_model_gradients() {
    check_gradients::<TwoBlocks>(1, 12);
    check_gradients::<TwoBlocks>(3, 13);
    check_gradients::<SharedBlock>(2, 14);
    check_gradients::<SequentialWithBlock>(2, 15);
}

#[test]
fn a_nested_model_computes_what_it_computes_alone() {
    let m = TwoBlocks::new(1);
    let x = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6];
    let first = m.first.0.forward(&x);
    let second = m.second.0.forward(&first);
    let mut y = [0.0; 2];
    m.y.forward(&second, &mut y, &mut [], 1);
    assert_eq!(m.forward(&x), y);
    assert_eq!(TwoBlocks::PARAM_COUNT, 2 * Block::PARAM_COUNT + 6 * 2 + 2);
    assert_eq!(SharedBlock::PARAM_COUNT, Block::PARAM_COUNT + 6 * 2 + 2);
}

#[test]
fn nested_parameters_are_named_under_the_field() {
    let mut names = Vec::new();
    TwoBlocks::new(0)
        .visit_params(&mut |layer, param, shape, _| names.push(format!("{layer}/{param} {shape:?}")));
    assert_eq!(
        names,
        [
            "first/h/kernel [6, 6]",
            "first/h/bias [6]",
            "first/r/kernel [6, 6]",
            "first/r/bias [6]",
            "second/h/kernel [6, 6]",
            "second/h/bias [6]",
            "second/r/kernel [6, 6]",
            "second/r/bias [6]",
            "y/kernel [6, 2]",
            "y/bias [2]",
        ]
    );
    let s = kerust::train::summary_string::<TwoBlocks>();
    assert!(
        s.contains("│ first (Functional)  │ (None, 6)         │         84 │ x[0][0]           │"),
        "{s}"
    );
}

model! {
    /// A block with batch normalisation, whose moving statistics are not trainable.
    pub struct NormBlock: Input<4> {
        d: Dense(4),
        bn: BatchNormalization,
    }
}

model! {
    struct TwoNormBlocks {
        x = Input<4>;
        a = Model(NormBlock)(x);
        h = Dense(4)(a);
        b = Model(NormBlock)(h);
        outputs(b);
    }
}

#[test]
fn nested_non_trainable_ranges_are_shifted_into_place() {
    // NormBlock: kernel 16, bias 4, gamma 4, beta 4, then moving mean and variance (8).
    assert_eq!(<NormBlock as Model>::NON_TRAINABLE, &[(20, 0), (28, 8)]);
    let ranges: Vec<(usize, usize)> = <TwoNormBlocks as Model>::NON_TRAINABLE
        .iter()
        .copied()
        .filter(|r| r.1 > 0)
        .collect();
    // a: 0..36, h: 36..56, b: 56..92.
    assert_eq!(ranges, [(28, 8), (56 + 28, 8)]);
    const { assert!(<TwoNormBlocks as Model>::WHOLE_BATCH) };
    let m = TwoNormBlocks::new(0);
    let mut names = Vec::new();
    m.visit_params(&mut |l, p, _, _| names.push(format!("{l}/{p}")));
    assert_eq!(names[4], "a/bn/moving_mean");
}
