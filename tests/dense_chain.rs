//! Two `Dense` layers in a row run as one inference step (`Dense::forward_chain`): on one
//! sample, wide enough layers split both products between two threads with one hand-off
//! (with AVX-512F and the `parallel` feature).
//! The second layer's sums are then taken in two halves, so outputs are compared with the
//! layers run one by one within rounding, and with themselves bit for bit; batches of
//! several samples keep the bits of the layers.

use kerust::params::boxed_zeroed;
use kerust::prelude::*;
use kerust::{Model, Shape};

use crate::conv::{bits, layer_forward, model_forward};

model! {
    /// W1's network: `h1 → h2` chain, `out` alone.
    struct Mlp: Input<784> {
        h1: Dense(256, activation = relu),
        h2: Dense(128, activation = relu),
        out: Dense(10),
    }
}

model! {
    /// A chain whose second layer has a non-ReLU activation and no bias, then another
    /// chain too narrow to split (runs the layers one by one).
    struct Softmaxed: Input<400> {
        a: Dense(200, activation = relu),
        b: Dense(30, activation = softmax, use_bias = false),
        c: Dense(20, activation = tanh),
        d: Dense(5),
    }
}

model! {
    /// One chained pair that writes the model's output (no ping-pong buffers): a linear
    /// first layer without bias.
    struct Pair: Input<784> {
        a: Dense(256, use_bias = false),
        b: Dense(10),
    }
}

/// A model with random biases, and `batch` inputs with zeros (as images have).
fn case<M: Model>(seed: u64, batch: usize) -> (Box<M>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let mut model = boxed_zeroed::<M>();
    model.init_with(&mut rng);
    for v in model.flat_mut() {
        if *v == 0.0 {
            *v = rng.uniform_range(-0.3, 0.3);
        }
    }
    let x = (0..batch * <M::Input as Shape>::LEN)
        .map(|i| {
            if i % 3 == 0 {
                0.0
            } else {
                rng.uniform_range(-1.0, 1.0)
            }
        })
        .collect();
    (model, x)
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len());
    for (j, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{what} at {j}: {g} vs {w} (layers one by one)"
        );
    }
}

#[test]
fn chained_dense_layers_give_the_layers_outputs() {
    // Where the chain runs (AVX-512F; on one thread too), its sums in two halves differ
    // from the layers' in the last bits somewhere: the model does take that path.
    let mut differs = false;
    for seed in 1..4 {
        // One sample: within rounding of the layers one by one, and the same bits every call.
        let (m, x) = case::<Mlp>(seed, 1);
        let h = layer_forward(&m.h1, &x, 1);
        assert!(h.contains(&0.0), "the ReLU zeroes some of h1");
        let h = layer_forward(&m.h2, &h, 1);
        let want = layer_forward(&m.out, &h, 1);
        let got = model_forward(&*m, &x, 1);
        assert_close(&got, &want, "Mlp");
        differs |= bits(&got) != bits(&want);
        assert_eq!(bits(&m.forward(x.as_slice().try_into().unwrap())), bits(&got));
        for _ in 0..100 {
            assert_eq!(bits(&model_forward(&*m, &x, 1)), bits(&got), "Mlp, again");
        }

        let (m, x) = case::<Softmaxed>(seed, 1);
        let h = layer_forward(&m.a, &x, 1);
        let h = layer_forward(&m.b, &h, 1);
        let h = layer_forward(&m.c, &h, 1);
        let want = layer_forward(&m.d, &h, 1);
        assert_close(&model_forward(&*m, &x, 1), &want, "Softmaxed");

        let (m, x) = case::<Pair>(seed, 1);
        let h = layer_forward(&m.a, &x, 1);
        let want = layer_forward(&m.b, &h, 1);
        let got = model_forward(&*m, &x, 1);
        assert_close(&got, &want, "Pair");
        differs |= bits(&got) != bits(&want);

        // Several samples: the layers' own steps, bit for bit.
        let (m, x) = case::<Mlp>(seed, 3);
        let h = layer_forward(&m.h1, &x, 3);
        let h = layer_forward(&m.h2, &h, 3);
        let want = layer_forward(&m.out, &h, 3);
        assert_eq!(bits(&model_forward(&*m, &x, 3)), bits(&want), "Mlp batch 3");
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        assert!(differs, "the single-sample forward ran the layers one by one");
    }
}
