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
