//! Models with several inputs and outputs: datasets, per-output losses with loss weights,
//! per-output metrics, checked against Keras 3.15 (JAX backend).
//!
//! The models are declared sequential models wrapped by hand (`split_model!`) so that
//! their rows are read as two outputs (or two inputs): `Base`'s five output values are
//! output `a` (3 logits) and output `b` (2 values), which is Keras's
//! `h = Dense(6, relu)(x); a = Dense(3)(h); b = Dense(2)(h)` with the kernels side by side.

use kerust::data::{join_inputs, split_outputs};
use kerust::prelude::*;
use kerust::train::PerOutput;
use kerust::TensorInfo;

include!("split_model.rs");

model! {
    struct Base: Input<4> {
        h:   Dense(6, activation = relu),
        out: Dense(5),
    }
}

split_model!(
    TwoHeads(Base),
    inputs = &[TensorInfo {
        name: "input",
        shape: &[4],
        offset: 0,
        len: 4
    }],
    outputs = &[
        TensorInfo {
            name: "a",
            shape: &[3],
            offset: 0,
            len: 3
        },
        TensorInfo {
            name: "b",
            shape: &[2],
            offset: 3,
            len: 2
        },
    ]
);

split_model!(
    TwoInputs(Base),
    inputs = &[
        TensorInfo {
            name: "img",
            shape: &[3],
            offset: 0,
            len: 3
        },
        TensorInfo {
            name: "tab",
            shape: &[1],
            offset: 3,
            len: 1
        },
    ],
    outputs = &[
        TensorInfo {
            name: "a",
            shape: &[3],
            offset: 0,
            len: 3
        },
        TensorInfo {
            name: "b",
            shape: &[2],
            offset: 3,
            len: 2
        },
    ]
);

// The reference, from Keras 3.15.1 with KERAS_BACKEND=jax:
//
//   rng = np.random.default_rng(7)
//   hk = rng.normal(scale=0.5, size=(4, 6)).astype("float32"); hb = rng.normal(scale=0.1, size=6).astype("float32")
//   ok = rng.normal(scale=0.5, size=(6, 5)).astype("float32"); ob = rng.normal(scale=0.1, size=5).astype("float32")
//   X = rng.normal(size=(6, 4)).astype("float32")
//   ya = np.array([0, 2, 1, 2, 0, 1]); yb = rng.normal(size=(6, 2)).astype("float32")
//   x = keras.Input((4,), name="input")
//   h = keras.layers.Dense(6, activation="relu", name="h")(x)
//   a = keras.layers.Dense(3, name="a")(h)
//   b = keras.layers.Dense(2, name="b")(h)
//   m = keras.Model(x, [a, b])
//   m.get_layer("h").set_weights([hk, hb])
//   m.get_layer("a").set_weights([ok[:, :3], ob[:3]])
//   m.get_layer("b").set_weights([ok[:, 3:], ob[3:]])
//   m.compile(optimizer=keras.optimizers.SGD(0.1),
//     loss={"a": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "b": keras.losses.MeanSquaredError()},
//     loss_weights={"a": 0.8, "b": 0.5},
//     metrics={"a": ["accuracy"], "b": [keras.metrics.MeanAbsoluteError()]})
//   hist = m.fit(X, {"a": ya, "b": yb}, batch_size=3, epochs=2, shuffle=False, verbose=0,
//                validation_data=(X, {"a": ya, "b": yb}))
//   # then the weights, and m.predict(X[:2])
const HK: [f32; 24] = [
    0.0006150767,
    0.14937277,
    -0.13706893,
    -0.44529593,
    -0.2273354,
    -0.49582326,
    0.0300718,
    0.6701076,
    -0.24610326,
    -0.31023744,
    0.24492103,
    0.1784435,
    0.052707125,
    -0.465234,
    -0.014625912,
    0.3476516,
    -0.6721073,
    -0.22880788,
    -0.95061135,
    -0.6447689,
    -0.9208675,
    -0.11754557,
    -0.63372326,
    0.13563217,
];
const HB: [f32; 6] = [
    0.015675109,
    -0.018693095,
    -0.25167596,
    -0.05386929,
    -0.0048500947,
    0.011330899,
];
const OK: [f32; 30] = [
    -0.7650679,
    -0.23887664,
    -0.48925954,
    -0.40441862,
    0.53044933,
    -0.40376735,
    -0.016260853,
    0.44219494,
    -0.29180023,
    -0.055850975,
    0.05523207,
    0.031890888,
    -0.6125279,
    0.038070116,
    0.6794117,
    -0.7735723,
    0.42969134,
    0.059677012,
    -0.3207352,
    1.0002083,
    0.38112986,
    -0.5996444,
    0.037258115,
    0.2883448,
    -0.09439106,
    0.34145513,
    -0.03325866,
    0.33362377,
    0.7192613,
    -0.33783114,
];
const OB: [f32; 5] = [0.02031386, -0.046330757, 0.012726841, -0.11871945, -0.05793016];
const X: [f32; 24] = [
    -0.19619597,
    0.8987639,
    1.145222,
    -1.3235278,
    -0.7946424,
    0.6469034,
    -1.9924198,
    -0.46316987,
    -0.097286925,
    1.257015,
    0.6894039,
    -0.3272134,
    -0.3685759,
    -0.2501954,
    1.5235294,
    -0.42802495,
    -0.3036804,
    0.35258907,
    -0.12077045,
    -0.19728422,
    -1.1140672,
    -0.011521468,
    -0.44358122,
    1.1661278,
];
const YA: [u32; 6] = [0, 2, 1, 2, 0, 1];
const YB: [f32; 12] = [
    0.6530885,
    -0.024143614,
    0.66838104,
    -0.33986956,
    1.0521264,
    -0.0053995606,
    0.58338237,
    -1.2908932,
    0.34668005,
    -1.6882042,
    -2.0353289,
    -0.3044769,
];

/// `hist.history`, in Keras's key order.
const HISTORY: [(&str, [f64; 2]); 10] = [
    ("a_accuracy", [0.16666667, 0.16666667]),
    ("a_loss", [1.1492106, 1.0519372]),
    ("b_loss", [1.7335206, 1.2342321]),
    ("b_mean_absolute_error", [1.0173763, 0.84735554]),
    ("loss", [1.786129, 1.4586658]),
    ("val_a_accuracy", [0.16666667, 0.16666667]),
    ("val_a_loss", [1.0535398, 1.0145582]),
    ("val_b_loss", [1.2439768, 1.0144073]),
    ("val_b_mean_absolute_error", [0.8607829, 0.7772918]),
    ("val_loss", [1.4648203, 1.3188503]),
];
/// The weights after training: `h`'s kernel and bias, then `a`'s and `b`'s side by side.
const HK2: [f32; 24] = [
    0.035971317,
    0.15197918,
    -0.10222664,
    -0.4613603,
    -0.24050072,
    -0.43027434,
    -0.020557435,
    0.6190845,
    -0.24487291,
    -0.34257188,
    0.27336645,
    0.21259144,
    -0.07995777,
    -0.5453828,
    -0.096274704,
    0.15443812,
    -0.6288669,
    -0.19413547,
    -0.8565655,
    -0.5961563,
    -0.8777462,
    0.04182156,
    -0.6920037,
    0.0424136,
];
const HB2: [f32; 6] = [
    -0.1180876,
    -0.0766112,
    -0.33553767,
    -0.1327316,
    0.04854938,
    -0.011333452,
];
const OK2: [f32; 30] = [
    -0.7241321,
    -0.2652272,
    -0.50384474,
    -0.32400227,
    0.46138695,
    -0.39543065,
    -0.01991797,
    0.43751532,
    -0.21904081,
    -0.09522798,
    0.078887574,
    0.012153979,
    -0.61644655,
    0.0743763,
    0.6443987,
    -0.77710605,
    0.4222351,
    0.07066695,
    -0.31684935,
    0.9573879,
    0.374343,
    -0.6163783,
    0.06077884,
    0.31956667,
    -0.12093066,
    0.3192778,
    -0.007074767,
    0.32961723,
    0.6654334,
    -0.3510347,
];
const OB2: [f32; 5] = [0.035954766, -0.0347439, -0.014500917, -0.0704402, -0.20821097];
/// `m.predict(X[:2])` after training: output `a`, then output `b`.
const PRED_A: [f32; 6] = [
    -0.6158738,
    -0.6100872,
    -0.48376307,
    0.15621862,
    -1.401219,
    0.75284827,
];
const PRED_B: [f32; 4] = [-0.28612334, 0.41532537, 0.6637955, -0.58880335];

/// A model of type `M` (a wrapper of `Base`) with the reference's initial weights.
fn reference_model<M: Model>() -> Box<M> {
    let mut m = kerust::params::boxed_zeroed::<M>();
    let flat: Vec<f32> = [&HK[..], &HB, &OK, &OB].concat();
    m.flat_mut().copy_from_slice(&flat);
    m
}

fn targets() -> Target {
    Target::Multi(vec![
        Target::Classes(YA.to_vec()),
        Target::Values {
            data: YB.to_vec(),
            width: 2,
        },
    ])
}

fn reference_losses() -> PerOutput {
    PerOutput::new()
        .loss("a", SparseCategoricalCrossentropy::from_logits())
        .loss("b", MeanSquaredError::new())
        .loss_weight("a", 0.8)
        .loss_weight("b", 0.5)
        .metrics("a", [Metric::Accuracy])
        .metrics("b", [Metric::MeanAbsoluteError])
}

#[track_caller]
fn assert_close(actual: &[f32], expected: &[f32], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= 1e-5, "{what}[{i}]: got {a}, Keras {e}");
    }
}

#[test]
fn two_outputs_train_as_keras_with_loss_weights_and_metrics_per_output() {
    assert_eq!(Base::PARAM_COUNT, HK.len() + HB.len() + OK.len() + OB.len());
    let data = Dataset::from_inputs::<TwoHeads>(&[&X], targets()).unwrap();
    let mut trainer = reference_model::<TwoHeads>().compile(Sgd::new(0.1), reference_losses(), []);
    let history = trainer
        .fit(
            &data,
            FitOptions {
                epochs: 2,
                batch_size: 3,
                shuffle: false,
                validation_data: Some(&data),
                verbose: Verbosity::Silent,
                ..Default::default()
            },
        )
        .unwrap();

    let names: Vec<&str> = HISTORY.iter().map(|(n, _)| *n).collect();
    assert_eq!(history.names(), names, "Keras 3's log keys, in its order");
    for (name, expected) in HISTORY {
        let got = history.metric(name);
        for (epoch, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!(
                (g - e).abs() <= 1e-5,
                "{name} of epoch {epoch}: got {g}, Keras {e}"
            );
        }
    }
    // The total is the weighted sum of the per-output losses.
    let last = history.last().unwrap();
    let total = 0.8 * last.get("val_a_loss").unwrap() + 0.5 * last.get("val_b_loss").unwrap();
    assert!((last.get("val_loss").unwrap() - total).abs() < 1e-6);

    let p = trainer.model().flat();
    assert_close(&p[..24], &HK2, "h.kernel");
    assert_close(&p[24..30], &HB2, "h.bias");
    assert_close(&p[30..60], &OK2, "out.kernel");
    assert_close(&p[60..], &OB2, "out.bias");

    let outputs = trainer.model().predict_outputs(&[&X[..8]], 32).unwrap();
    assert_eq!(outputs.len(), 2);
    assert_close(&outputs[0], &PRED_A, "prediction of output a");
    assert_close(&outputs[1], &PRED_B, "prediction of output b");
}

#[test]
fn one_loss_applies_to_every_output_and_targets_can_be_named() {
    // Keras's `compile(loss="mse")` on two outputs: `a_loss`, `b_loss`, and their sum.
    let y = Target::by_name::<TwoHeads>([
        (
            "b",
            Target::Values {
                data: YB.to_vec(),
                width: 2,
            },
        ),
        (
            "a",
            Target::Values {
                data: (0..18).map(|i| i as f32 / 10.0).collect(),
                width: 3,
            },
        ),
    ])
    .unwrap();
    let Target::Multi(parts) = &y else {
        panic!("two outputs give a Target::Multi")
    };
    assert_eq!(
        parts[1],
        Target::Values {
            data: YB.to_vec(),
            width: 2
        }
    );
    let data = Dataset::from_inputs::<TwoHeads>(&[&X], y).unwrap();
    let mut trainer = reference_model::<TwoHeads>().compile(Sgd::new(0.1), MeanSquaredError::new(), []);
    let logs = trainer.evaluate(&data).unwrap();
    let names: Vec<&str> = logs.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a_loss", "b_loss", "loss"]);
    let (a, b) = (logs.get("a_loss").unwrap(), logs.get("b_loss").unwrap());
    assert!((logs.loss() - (a + b)).abs() < 1e-6);
    // The per-output losses are those of the outputs' own predictions.
    let outputs = trainer.model().predict_outputs(&[&X], 32).unwrap();
    let Target::Multi(parts) = &data.y else {
        unreachable!()
    };
    let mse = |p: &[f32], t: &Target| {
        let Target::Values { data, .. } = t else {
            unreachable!()
        };
        p.iter()
            .zip(data)
            .map(|(p, t)| f64::from(p - t).powi(2))
            .sum::<f64>()
            / p.len() as f64
    };
    assert!((a - mse(&outputs[0], &parts[0])).abs() < 1e-5);
    assert!((b - mse(&outputs[1], &parts[1])).abs() < 1e-5);
}

#[test]
fn several_outputs_train_the_same_on_one_thread_and_on_two() {
    // 256 samples: batches of 128 are two shards.
    let n = 256;
    let mut rng = Rng::new(3);
    let x: Vec<f32> = (0..n * 4).map(|_| rng.uniform() - 0.5).collect();
    let y = Target::Multi(vec![
        Target::Classes((0..n as u32).map(|i| i % 3).collect()),
        Target::Values {
            data: (0..n * 2).map(|_| rng.uniform()).collect(),
            width: 2,
        },
    ]);
    let data = Dataset::from_inputs::<TwoHeads>(&[&x], y).unwrap();
    let run = || {
        let mut t = reference_model::<TwoHeads>().compile(Adam::default(), reference_losses(), []);
        let h = t
            .fit(
                &data,
                FitOptions {
                    epochs: 2,
                    batch_size: 128,
                    sample_weight: Some(&(0..n).map(|i| (i % 4) as f32 * 0.5).collect::<Vec<_>>()),
                    verbose: Verbosity::Silent,
                    ..Default::default()
                },
            )
            .unwrap();
        (t.model().flat().to_vec(), h)
    };
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    };
    let (w1, h1) = pool(1).install(run);
    let (w2, h2) = pool(2).install(run);
    assert_eq!(w1, w2);
    assert_eq!(h1, h2);
    assert!(h1.metric("loss")[1] < h1.metric("loss")[0], "{h1:?}");
}

#[test]
fn datasets_check_each_input_and_output_by_name() {
    let y = || targets();
    let err = |r: kerust::Result<Dataset>| r.unwrap_err().to_string();
    let (img, tab) = (&[0.5f32; 18][..], &[1.0f32; 6][..]);

    let ds = Dataset::from_inputs::<TwoInputs>(&[img, tab], y()).unwrap();
    assert_eq!((ds.len(), ds.sample_shape.as_slice()), (6, &[4][..]));
    // Each sample's row is its `img` values, then its `tab` value.
    assert_eq!(ds.x[..8], [0.5, 0.5, 0.5, 1.0, 0.5, 0.5, 0.5, 1.0]);
    assert_eq!(join_inputs::<TwoInputs>(&[img, tab]).unwrap(), ds.x);

    let e = err(Dataset::from_inputs::<TwoInputs>(&[img], y()));
    assert!(e.contains("2 inputs (`img`, `tab`), got 1 arrays"), "{e}");
    let e = err(Dataset::from_inputs::<TwoInputs>(&[img, &[1.0; 7][..3]], y()));
    assert!(
        e.contains("input `img` has 6 samples but input `tab` has 3"),
        "{e}"
    );
    let e = err(Dataset::from_inputs::<TwoInputs>(&[&img[..17], tab], y()));
    assert!(
        e.contains("input `img` (#0): 17 values are not a whole number of samples of shape [3]"),
        "{e}"
    );

    let one = Target::Classes(YA.to_vec());
    let e = err(Dataset::from_inputs::<TwoInputs>(&[img, tab], one));
    assert!(e.contains("2 outputs (`a`, `b`)"), "{e}");
    let e = err(Dataset::from_inputs::<TwoInputs>(
        &[img, tab],
        Target::Multi(vec![Target::Classes(YA.to_vec())]),
    ));
    assert!(e.contains("2 outputs (`a`, `b`), got 1 targets"), "{e}");
    let wide = Target::Multi(vec![
        Target::Classes(YA.to_vec()),
        Target::Values {
            data: vec![0.0; 18],
            width: 3,
        },
    ]);
    let e = err(Dataset::from_inputs::<TwoInputs>(&[img, tab], wide));
    assert!(
        e.contains("targets of output `b` have 3 values per sample, but the output has shape [2]"),
        "{e}"
    );
    let bad_label = Target::Multi(vec![
        Target::Classes(vec![0, 1, 3, 0, 0, 0]),
        Target::Values {
            data: YB.to_vec(),
            width: 2,
        },
    ]);
    let e = err(Dataset::from_inputs::<TwoInputs>(&[img, tab], bad_label));
    assert!(
        e.contains("label 3 of sample 2") && e.contains("output `a` has 3 classes"),
        "{e}"
    );
    let short = Target::Multi(vec![
        Target::Classes(YA[..5].to_vec()),
        Target::Values {
            data: YB.to_vec(),
            width: 2,
        },
    ]);
    let e = err(Dataset::from_inputs::<TwoInputs>(&[img, tab], short));
    assert!(e.contains("6 samples but 5 labels of output `a`"), "{e}");

    let e = Target::by_name::<TwoInputs>([("a", Target::Classes(vec![0]))])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no target for output `b`"), "{e}");
    let e = Target::by_name::<TwoInputs>([("c", Target::Classes(vec![0]))])
        .unwrap_err()
        .to_string();
    assert!(e.contains("`c`") && e.contains("its outputs: `a`, `b`"), "{e}");

    let e = split_outputs::<TwoInputs>(&[0.0; 7]).unwrap_err().to_string();
    assert!(e.contains("7 output values"), "{e}");
}

#[test]
fn compiling_two_outputs_reports_what_does_not_fit() {
    let data = Dataset::from_inputs::<TwoHeads>(&[&X], targets()).unwrap();
    let fit_err = |losses: PerOutput, metrics: Vec<Metric>| {
        let mut t = reference_model::<TwoHeads>().compile(Sgd::new(0.1), losses, metrics);
        let opts = FitOptions {
            verbose: Verbosity::Silent,
            ..Default::default()
        };
        let e = t.fit(&data, opts).unwrap_err().to_string();
        assert_eq!(
            t.model().flat(),
            reference_model::<TwoHeads>().flat(),
            "nothing trained"
        );
        e
    };
    let only_a = PerOutput::new().loss("a", SparseCategoricalCrossentropy::from_logits());
    let e = fit_err(only_a, vec![]);
    assert!(e.contains("no loss for output `b`"), "{e}");
    let e = fit_err(reference_losses().loss("c", MeanSquaredError::new()), vec![]);
    assert!(e.contains("output `c`") && e.contains("no such output"), "{e}");
    let e = fit_err(reference_losses().loss_weight("b", f32::NAN), vec![]);
    assert!(e.contains("loss_weights") && e.contains("output `b`"), "{e}");
    let e = fit_err(reference_losses(), vec![Metric::Accuracy]);
    assert!(e.contains("metrics per output"), "{e}");
    // Dense targets for a sparse loss, named by output.
    let swapped = PerOutput::new()
        .loss("a", MeanSquaredError::new())
        .loss("b", MeanSquaredError::new());
    let e = fit_err(swapped, vec![]);
    assert!(
        e.starts_with("invalid data: output `a`:") && e.contains("class labels"),
        "{e}"
    );

    let mut t = reference_model::<TwoHeads>().compile(Sgd::new(0.1), reference_losses(), []);
    let opts = FitOptions {
        class_weight: Some(&[1.0, 2.0, 1.0]),
        verbose: Verbosity::Silent,
        ..Default::default()
    };
    let e = t.fit(&data, opts).unwrap_err().to_string();
    assert!(e.contains("class_weight"), "{e}");
    let single = Dataset::new(X.to_vec(), &[4], Target::Classes(YA.to_vec())).unwrap();
    let e = t.evaluate(&single).unwrap_err().to_string();
    assert!(e.contains("give one target per output"), "{e}");
}
