//! The training surface: convergence, determinism, errors on bad input.

use std::error::Error as StdError;

use kerust::data::{Dataset, Target};
use kerust::prelude::*;
use kerust::train::{summary_string, Context, Control, EvaluateOptions, Logs, Verbosity};

type TestResult = std::result::Result<(), Box<dyn StdError>>;

model! {
    /// Digits classifier with dropout (the quickstart's network).
    pub struct Mlp: Input<64> {
        hidden: Dense(128, activation = relu),
        drop:   Dropout(0.2),
        out:    Dense(10),
    }
}

model! {
    /// A smaller digits classifier with heavy dropout, for the determinism tests.
    struct DropNet: Input<64> {
        hidden: Dense(32, activation = relu),
        drop:   Dropout(0.5),
        out:    Dense(10),
    }
}

model! {
    /// `y = x · w + b`.
    struct Linear: Input<3> {
        out: Dense(1),
    }
}

model! {
    /// A tiny two-layer regressor for the finite-difference check of one SGD step.
    struct Tiny: Input<3> {
        hidden: Dense(4, activation = tanh),
        out:    Dense(2),
    }
}

model! {
    /// A binary classifier returning one logit.
    struct Binary: Input<2> {
        hidden: Dense(8, activation = tanh),
        out:    Dense(1),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

fn silent<'a>(epochs: usize, batch_size: usize) -> FitOptions<'a> {
    FitOptions {
        epochs,
        batch_size,
        verbose: Verbosity::Silent,
        ..Default::default()
    }
}

/// The error's message, failing the test when there is none.
#[track_caller]
fn err_msg<T>(r: kerust::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error, got Ok"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `msg` contains every one of `parts`.
#[track_caller]
fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "error message {msg:?} does not mention {p:?}");
    }
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|v| v.to_bits()).collect()
}

fn history_bits(h: &History) -> Vec<Vec<(String, u64)>> {
    h.logs
        .iter()
        .map(|l| l.iter().map(|(k, v)| (k.to_string(), v.to_bits())).collect())
        .collect()
}

/// The first `n` samples of the digits training set.
fn digits_head(n: usize) -> Dataset {
    let (train, _) = kerust::datasets::digits().unwrap();
    train.select(&(0..n).collect::<Vec<_>>())
}

/// A trainer of `DropNet` for sparse labels.
fn drop_net(seed: u64) -> Trainer<DropNet, Adam, SparseCategoricalCrossentropy> {
    DropNet::new(seed).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    )
}

/// `n` samples of `y = 2 x0 - 3 x1 + 0.5 x2 + 1` with `x` uniform in `[-1, 1]^3`.
fn linear_data(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(3 * n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let s: [f32; 3] = core::array::from_fn(|_| rng.uniform_range(-1.0, 1.0));
        x.extend_from_slice(&s);
        y.push(2.0 * s[0] - 3.0 * s[1] + 0.5 * s[2] + 1.0);
    }
    Dataset::new(x, &[3], Target::Values { data: y, width: 1 }).unwrap()
}

// ---------------------------------------------------------------------------------------
// 1. Determinism across threads

/// Trains `DropNet` for two epochs: batches of 256 are cut into 4 shards, the last
/// (partial) batch by its own size; dropout and shuffling are on. Returns the weights.
fn train_drop_net(init_seed: u64, fit_seed: u64, data: &Dataset) -> kerust::Result<(Vec<f32>, History)> {
    let mut t = drop_net(init_seed);
    let h = t.fit(
        data,
        FitOptions {
            seed: fit_seed,
            shuffle: true,
            validation_split: 0.2,
            ..silent(2, 256)
        },
    )?;
    Ok((t.model().params().to_vec(), h))
}

/// [`train_drop_net`] in a pool of `threads` threads.
fn train_in_pool(
    threads: usize,
    init_seed: u64,
    fit_seed: u64,
    data: &Dataset,
) -> std::result::Result<(Vec<f32>, History), Box<dyn StdError>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    assert_eq!(pool.current_num_threads(), threads);
    Ok(pool.install(|| train_drop_net(init_seed, fit_seed, data))?)
}

#[test]
fn same_seed_gives_bit_identical_weights_on_1_2_and_4_threads() -> TestResult {
    let (train, _) = kerust::datasets::digits()?;
    let (p1, h1) = train_in_pool(1, 7, 3, &train)?;
    let (p2, h2) = train_in_pool(2, 7, 3, &train)?;
    let (p4, h4) = train_in_pool(4, 7, 3, &train)?;
    assert_eq!(p1.len(), DropNet::PARAM_COUNT);
    // Training did something.
    assert_ne!(bits(&p1), bits(DropNet::new(7).params()));
    assert!(bits(&p1) == bits(&p2), "1 and 2 threads give different weights");
    assert!(bits(&p1) == bits(&p4), "1 and 4 threads give different weights");
    assert_eq!(h1.logs.len(), 2);
    assert_eq!(history_bits(&h1), history_bits(&h2));
    assert_eq!(history_bits(&h1), history_bits(&h4));
    assert_eq!(h1, h2);
    Ok(())
}

#[test]
fn fits_started_at_once_from_two_threads_give_the_weights_of_fits_run_alone() -> TestResult {
    // Each `fit` runs its loop as one job of the global pool; two at once must both finish
    // (one may wait inside the other's job) with the bits each gives alone.
    let data = digits_head(600);
    let (alone_a, _) = train_in_pool(2, 7, 3, &data)?;
    let (alone_b, _) = train_in_pool(2, 8, 4, &data)?;
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| train_drop_net(7, 3, &data));
        let b = s.spawn(|| train_drop_net(8, 4, &data));
        (a.join(), b.join())
    });
    let (a, b) = (
        a.map_err(|_| "fit A panicked")??.0,
        b.map_err(|_| "fit B panicked")??.0,
    );
    assert!(bits(&a) == bits(&alone_a), "fit A's weights changed");
    assert!(bits(&b) == bits(&alone_b), "fit B's weights changed");
    Ok(())
}

#[test]
fn a_different_seed_gives_different_weights() -> TestResult {
    let data = digits_head(600);
    let (a, ha) = train_in_pool(2, 7, 3, &data)?;
    let (b, hb) = train_in_pool(2, 7, 4, &data)?; // other shuffles and dropout masks
    let (c, _) = train_in_pool(2, 8, 3, &data)?; // other initial weights
    let differing = |x: &[f32], y: &[f32]| x.iter().zip(y).filter(|(p, q)| (*p - *q).abs() > 1e-6).count();
    assert!(
        differing(&a, &b) > a.len() / 2,
        "fit seed barely changes the weights"
    );
    assert!(
        differing(&a, &c) > a.len() / 2,
        "init seed barely changes the weights"
    );
    assert_ne!(ha, hb);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. Convergence

#[test]
fn mlp_learns_digits_to_90_percent() -> TestResult {
    let (train, test) = kerust::datasets::digits()?;
    let mut trainer = Mlp::new(42).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    let history = trainer.fit(&train, silent(5, 32))?;
    let loss = history.metric("loss");
    assert_eq!(loss.len(), 5);
    assert!(loss[4] < loss[0], "training loss did not fall: {loss:?}");
    let scores = trainer.evaluate(&test)?;
    let acc = scores.get("accuracy").ok_or("no accuracy")?;
    assert!(acc >= 0.9, "test accuracy {acc} < 0.9 ({scores})");
    // The same from the predicted classes.
    let classes = trainer.model().predict_classes(&test.x, 64)?;
    let Target::Classes(labels) = &test.y else {
        unreachable!()
    };
    let right = classes.iter().zip(labels).filter(|(p, l)| p == l).count();
    assert!(right as f64 / test.len() as f64 >= 0.9);
    Ok(())
}

#[test]
fn linear_regression_fits_a_linear_function() -> TestResult {
    let train = linear_data(256, 1);
    let test = linear_data(64, 2);
    let mut trainer = Linear::new(0).compile(
        Sgd::new(0.1),
        MeanSquaredError::new(),
        [Metric::MeanAbsoluteError],
    );
    let history = trainer.fit(&train, silent(30, 16))?;
    let first = history.logs[0].loss();
    let last = history.last().ok_or("no history")?.loss();
    assert!(
        last < 1e-6 && last < first * 1e-3,
        "loss went from {first} to {last}"
    );
    let scores = trainer.evaluate(&test)?;
    assert!(scores.loss() < 1e-6, "test loss {}", scores.loss());
    assert!(scores.get("mean_absolute_error").ok_or("no mae")? < 1e-3);
    // Kernel `[3, 1]` then bias.
    let p = trainer.model().params();
    for (got, want) in p.iter().zip([2.0, -3.0, 0.5, 1.0]) {
        assert!((got - want).abs() < 1e-3, "weights {p:?}");
    }
    Ok(())
}

#[test]
fn binary_classifier_with_logits_separates_two_half_planes() -> TestResult {
    // Label 1 when x0 - 0.5 x1 > 0, with a margin of 0.1 around the boundary.
    let mut rng = Rng::new(5);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    while y.len() < 400 {
        let (a, b) = (rng.uniform_range(-1.0, 1.0), rng.uniform_range(-1.0, 1.0));
        let s = a - 0.5 * b;
        if s.abs() < 0.1 {
            continue;
        }
        x.extend_from_slice(&[a, b]);
        y.push(if s > 0.0 { 1.0 } else { 0.0 });
    }
    let data = Dataset::new(
        x,
        &[2],
        Target::Values {
            data: y.clone(),
            width: 1,
        },
    )?;
    let mut trainer = Binary::new(3).compile(Adam::new(0.02), BinaryCrossentropy::from_logits(), []);
    let history = trainer.fit(&data, silent(30, 32))?;
    let loss = history.metric("loss");
    assert!(loss[29] < 0.15 && loss[29] < loss[0] / 3.0, "loss {loss:?}");
    // Logit > 0 is probability > 0.5.
    let logits = trainer.model().predict(&data.x, 100)?;
    let right = logits
        .iter()
        .zip(&y)
        .filter(|(z, t)| (**z > 0.0) == (**t > 0.5))
        .count();
    assert!(right >= 392, "{right} of 400 right");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. Bad input: an `Error` naming the problem, never a panic, and no training

#[test]
fn dataset_new_rejects_inconsistent_data() {
    let classes = |n| Target::Classes(vec![0; n]);
    assert_mentions(
        &err_msg(Dataset::new(vec![0.0; 10], &[4], classes(2))),
        &["10 input values", "[4]"],
    );
    assert_mentions(
        &err_msg(Dataset::new(vec![0.0; 8], &[4, 0], classes(2))),
        &["sample_shape", "[4, 0]"],
    );
    assert_mentions(
        &err_msg(Dataset::new(vec![0.0; 8], &[], classes(2))),
        &["sample_shape"],
    );
    assert_mentions(
        &err_msg(Dataset::new(vec![0.0; 8], &[4], classes(3))),
        &["2 samples but 3 labels"],
    );
    let mut x = vec![0.0; 8];
    x[5] = f32::NAN;
    assert_mentions(
        &err_msg(Dataset::new(x, &[4], classes(2))),
        &["input value 1 of sample 1", "NaN", "finite"],
    );
    let mut x = vec![0.0; 8];
    x[2] = f32::NEG_INFINITY;
    assert_mentions(
        &err_msg(Dataset::new(x, &[4], classes(2))),
        &["input value 2 of sample 0", "-inf"],
    );
    let values = |data: Vec<f32>, width| Target::Values { data, width };
    assert_mentions(
        &err_msg(Dataset::new(vec![0.0; 8], &[4], values(vec![], 0))),
        &["width", "at least one value"],
    );
    assert_mentions(
        &err_msg(Dataset::new(vec![0.0; 8], &[4], values(vec![0.0; 5], 2))),
        &["2 samples need 4 target values", "found 5"],
    );
    assert_mentions(
        &err_msg(Dataset::new(
            vec![0.0; 8],
            &[4],
            values(vec![0.0, 1.0, f32::INFINITY, 0.0], 2),
        )),
        &["target value 0 of sample 1", "inf"],
    );
    // An empty dataset is a valid value (fit rejects it, below).
    assert!(Dataset::new(vec![], &[4], classes(0)).is_ok_and(|d| d.is_empty()));
}

/// Asserts that `fit` and `evaluate` reject `bad` with a message mentioning `parts`, and
/// that the failed `fit` left the weights alone.
#[track_caller]
fn assert_rejected(bad: &Dataset, parts: &[&str]) {
    let mut t = drop_net(1);
    let before = t.model().params().to_vec();
    assert_mentions(&err_msg(t.fit(bad, silent(1, 4))), parts);
    assert_eq!(bits(t.model().params()), bits(&before), "a rejected fit trained");
    assert_eq!(t.optimizer().iterations(), 0);
    assert_mentions(&err_msg(t.evaluate(bad)), parts);
}

#[test]
fn fit_and_evaluate_reject_bad_samples() {
    let good = digits_head(8);
    // Wrong sample length, bypassing `Dataset::new` through the public fields.
    let wrong_len = Dataset {
        x: vec![0.5; 8 * 5],
        sample_shape: vec![5],
        y: good.y.clone(),
    };
    assert_rejected(&wrong_len, &["shape [5]", "DropNet", "[64]"]);
    // A valid `Dataset` whose samples do not fit the model.
    let valid_but_wrong = Dataset::new(vec![0.5; 8 * 32], &[32], good.y.clone()).unwrap();
    assert_rejected(&valid_but_wrong, &["shape [32] (32 values)", "[64] (64 values)"]);
    // Not a whole number of samples.
    let ragged = Dataset {
        x: vec![0.5; 64 * 8 + 3],
        ..good.clone()
    };
    assert_rejected(&ragged, &["515 input values", "whole number of samples"]);
    // NaN and infinity in the inputs (in the last sample: nothing may have been trained).
    for (v, shown) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let mut bad = good.clone();
        bad.x[7 * 64 + 10] = v;
        assert_rejected(&bad, &["input value 10 of sample 7", shown, "finite"]);
    }
    // Empty.
    let empty = Dataset::new(vec![], &[64], Target::Classes(vec![])).unwrap();
    assert_rejected(&empty, &["empty"]);
    // Fewer labels than samples.
    let mut short = good.clone();
    short.y = Target::Classes(vec![0; 7]);
    assert_rejected(&short, &["8 samples but 7 labels"]);
}

#[test]
fn fit_rejects_bad_targets() {
    let good = digits_head(8);
    // Label out of range.
    let mut bad = good.clone();
    bad.y = Target::Classes(vec![0, 1, 2, 3, 4, 5, 6, 10]);
    assert_rejected(&bad, &["label 10 of sample 7", "out of range", "0..10"]);
    // Value targets with a sparse loss.
    let mut dense = good.clone();
    dense.y = Target::Values {
        data: vec![0.0; 80],
        width: 10,
    };
    assert_rejected(
        &dense,
        &["class labels", "value targets", "CategoricalCrossentropy"],
    );

    // Class labels with a dense loss.
    let mut t = Linear::new(0).compile(Sgd::default(), MeanSquaredError::new(), []);
    let labels = Dataset::new(vec![0.0; 6], &[3], Target::Classes(vec![0, 0])).unwrap();
    assert_mentions(
        &err_msg(t.fit(&labels, silent(1, 2))),
        &["class labels", "SparseCategoricalCrossentropy"],
    );
    // NaN in the targets, bypassing `Dataset::new`.
    let nan_target = Dataset {
        x: vec![0.0; 6],
        sample_shape: vec![3],
        y: Target::Values {
            data: vec![1.0, f32::NAN],
            width: 1,
        },
    };
    assert_mentions(
        &err_msg(t.fit(&nan_target, silent(1, 2))),
        &["target value 0 of sample 1", "NaN", "finite"],
    );
    assert_mentions(&err_msg(t.evaluate(&nan_target)), &["target value 0 of sample 1"]);
    // Targets of the wrong width.
    let wide = Dataset::new(
        vec![0.0; 6],
        &[3],
        Target::Values {
            data: vec![0.0; 4],
            width: 2,
        },
    )
    .unwrap();
    assert_mentions(
        &err_msg(t.fit(&wide, silent(1, 2))),
        &["2 values per sample", "outputs 1"],
    );
    assert_eq!(bits(t.model().params()), bits(Linear::new(0).params()));
}

#[test]
fn zero_batch_size_is_rejected_everywhere() {
    let data = digits_head(8);
    let mut t = drop_net(0);
    for msg in [
        err_msg(t.fit(&data, silent(1, 0))),
        err_msg(t.evaluate_with(
            &data,
            EvaluateOptions {
                batch_size: 0,
                ..Default::default()
            },
        )),
        err_msg(t.model().predict(&data.x, 0)),
        err_msg(t.model().predict_classes(&data.x, 0)),
    ] {
        assert_mentions(&msg, &["batch_size", "at least 1"]);
    }
    assert_eq!(t.optimizer().iterations(), 0);
}

#[test]
fn predict_rejects_partial_and_non_finite_samples() {
    let model = Mlp::new(0);
    assert_mentions(
        &err_msg(model.predict(&[0.5; 64 + 6], 8)),
        &["70 input values", "whole number of samples", "[64]"],
    );
    assert_mentions(&err_msg(model.predict(&[0.5; 63], 8)), &["63 input values"]);
    assert_mentions(&err_msg(model.predict(&[], 8)), &["empty"]);
    let mut x = vec![0.5; 128];
    x[64 + 3] = f32::NAN;
    assert_mentions(
        &err_msg(model.predict(&x, 8)),
        &["input value 3 of sample 1", "NaN"],
    );
    // Slices are checked as they are computed, on several threads: the first bad value is
    // still the one named, wherever the others are.
    let mut x = vec![0.25; 64 * 5000];
    x[64 * 4321 + 7] = f32::NAN;
    x[64 * 1234 + 5] = f32::NEG_INFINITY;
    x[64 * 77 + 2] = f32::INFINITY;
    for batch_size in [1, 50, 128, 5000] {
        assert_mentions(
            &err_msg(model.predict(&x, batch_size)),
            &["input value 2 of sample 77", "inf"],
        );
    }
}

#[test]
fn validation_split_must_be_in_range_and_leave_samples_on_both_sides() {
    let data = digits_head(10);
    let mut t = drop_net(0);
    for split in [1.0, 1.5, -0.1, f32::NAN, f32::INFINITY] {
        let opts = FitOptions {
            validation_split: split,
            ..silent(1, 4)
        };
        assert_mentions(&err_msg(t.fit(&data, opts)), &["validation_split", "[0, 1)"]);
    }
    // floor(10 * (1 - 0.95)) = 0 samples left for training (Keras raises here too).
    let opts = FitOptions {
        validation_split: 0.95,
        ..silent(1, 4)
    };
    assert_mentions(
        &err_msg(t.fit(&data, opts)),
        &["validation_split", "leaves 0 for training and 10 for validation"],
    );
    assert_eq!(t.optimizer().iterations(), 0);
    // `validation_data` takes precedence over `validation_split`, even a bad one.
    let opts = FitOptions {
        validation_split: 2.0,
        validation_data: Some(&data),
        ..silent(1, 4)
    };
    assert!(t.fit(&data, opts).is_ok());
}

#[test]
fn validation_data_of_the_wrong_shape_is_rejected() {
    let data = digits_head(8);
    let bad_val = Dataset::new(vec![0.5; 4 * 32], &[32], Target::Classes(vec![0; 4])).unwrap();
    let mut t = drop_net(0);
    let opts = FitOptions {
        validation_data: Some(&bad_val),
        ..silent(1, 4)
    };
    let msg = err_msg(t.fit(&data, opts));
    assert_mentions(&msg, &["validation data", "shape [32]", "[64]"]);
    assert_eq!(msg.matches("invalid data").count(), 1, "{msg}");
    assert_eq!(t.optimizer().iterations(), 0);
    // Bad labels in the validation data.
    let mut bad_labels = digits_head(4);
    bad_labels.y = Target::Classes(vec![0, 11, 0, 0]);
    let opts = FitOptions {
        validation_data: Some(&bad_labels),
        ..silent(1, 4)
    };
    assert_mentions(
        &err_msg(t.fit(&data, opts)),
        &["validation data", "label 11 of sample 1"],
    );
}

// ---------------------------------------------------------------------------------------
// 4. Keras semantics

#[test]
fn split_last_counts_as_keras() -> TestResult {
    // Keras: the first floor(n * (1 - split)) samples train, the rest validate.
    let ds = |n: usize| {
        Dataset::new(
            (0..n).map(|i| i as f32).collect(),
            &[1],
            Target::Classes((0..n as u32).collect()),
        )
    };
    for (n, split, val) in [
        (10, 0.1, 1),
        (10, 0.25, 3),
        (10, 0.3, 3),
        (100, 0.2, 20),
        (100, 0.3, 30),
        (1437, 0.1, 144),
        (1437, 0.2, 288),
        (7, 0.5, 4),
        (10, 0.0, 0),
    ] {
        let (first, last) = ds(n)?.split_last(split)?;
        assert_eq!(
            (first.len(), last.len()),
            (n - val, val),
            "{n} samples split {split}"
        );
        let tail: Vec<f32> = (n - val..n).map(|i| i as f32).collect();
        assert_eq!(last.x, tail);
        assert_eq!(last.y, Target::Classes((n - val..n).map(|i| i as u32).collect()));
        assert_eq!(first.x.len() + last.x.len(), n);
    }
    assert!(ds(10)?.split_last(1.0).is_err());
    Ok(())
}

#[test]
fn validation_split_holds_out_the_last_samples_before_shuffling() -> TestResult {
    let data = digits_head(10);
    let mut t = drop_net(2);
    let history = t.fit(
        &data,
        FitOptions {
            validation_split: 0.25, // Keras: 7 samples train, the last 3 validate
            shuffle: true,
            ..silent(1, 4)
        },
    )?;
    // Two steps: 7 training samples in batches of 4.
    assert_eq!(t.optimizer().iterations(), 2);
    let logs = history.last().ok_or("no history")?;
    let tail = t.evaluate_with(
        &data.select(&[7, 8, 9]),
        EvaluateOptions {
            batch_size: 32,
            ..Default::default()
        },
    )?;
    assert_eq!(logs.get("val_loss"), Some(tail.loss()));
    assert_eq!(logs.get("val_accuracy"), tail.get("accuracy"));
    for other in [vec![8, 9], vec![0, 1, 2], vec![6, 7, 8]] {
        let wrong = t.evaluate_with(
            &data.select(&other),
            EvaluateOptions {
                batch_size: 32,
                ..Default::default()
            },
        )?;
        assert_ne!(
            logs.get("val_loss"),
            Some(wrong.loss()),
            "validated on {other:?}?"
        );
    }
    Ok(())
}

#[test]
fn history_has_one_logs_per_epoch_with_keras_keys() -> TestResult {
    let data = digits_head(200);
    let mut t = drop_net(0);
    let history = t.fit(
        &data,
        FitOptions {
            validation_split: 0.2,
            ..silent(3, 32)
        },
    )?;
    assert_eq!(history.epochs, [0, 1, 2]);
    assert_eq!(history.logs.len(), 3);
    for logs in &history.logs {
        let keys: Vec<&str> = logs.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["accuracy", "loss", "val_accuracy", "val_loss"]);
        for (k, v) in logs.iter() {
            assert!(v.is_finite(), "{k} = {v}");
            if k.ends_with("accuracy") {
                assert!((0.0..=1.0).contains(&v));
            }
        }
    }
    assert_eq!(history.metric("val_loss").len(), 3);
    assert_eq!(history.last(), history.logs.get(2));
    // 160 training samples in batches of 32.
    assert_eq!(t.optimizer().iterations(), 15);
    // Without validation, no `val_` keys; without metrics, only the loss.
    let mut bare = DropNet::new(0).compile(Sgd::default(), SparseCategoricalCrossentropy::from_logits(), []);
    let h = bare.fit(&data, silent(1, 64))?;
    assert_eq!(h.logs[0].iter().map(|(k, _)| k).collect::<Vec<_>>(), ["loss"]);
    Ok(())
}

/// Sparse categorical crossentropy from logits, by hand, in f64.
fn manual_scce(logits: &[f32], labels: &[u32]) -> f64 {
    let mut total = 0.0;
    for (row, &label) in logits.chunks(10).zip(labels) {
        let m = row.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(f64::from(z)));
        let lse = m + row.iter().map(|&z| (f64::from(z) - m).exp()).sum::<f64>().ln();
        total += lse - f64::from(row[label as usize]);
    }
    total / labels.len() as f64
}

#[test]
fn evaluate_agrees_with_a_manual_computation_from_predict() -> TestResult {
    let (train, test) = kerust::datasets::digits()?;
    let mut t = Mlp::new(1).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy, Metric::MeanSquaredError],
    );
    t.fit(&train.select(&(0..300).collect::<Vec<_>>()), silent(1, 32))?;
    let Target::Classes(labels) = &test.y else {
        unreachable!()
    };
    let scores = t.evaluate(&test)?;
    let logits = t.model().predict(&test.x, 64)?;
    assert_eq!(logits.len(), test.len() * 10);
    let loss = manual_scce(&logits, labels);
    assert!(
        (scores.loss() - loss).abs() < 1e-4,
        "evaluate {} vs manual {loss}",
        scores.loss()
    );
    let classes = t.model().predict_classes(&test.x, 64)?;
    let acc = classes.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / test.len() as f64;
    assert!((scores.get("accuracy").ok_or("no accuracy")? - acc).abs() < 1e-12);
    // Mean squared error of the logits against the one-hot labels.
    let mse = logits
        .chunks(10)
        .zip(labels)
        .map(|(row, &l)| {
            row.iter()
                .enumerate()
                .map(|(i, &z)| (f64::from(z) - f64::from(u8::from(i == l as usize))).powi(2))
                .sum::<f64>()
                / 10.0
        })
        .sum::<f64>()
        / test.len() as f64;
    let got = scores.get("mean_squared_error").ok_or("no mse")?;
    assert!((got - mse).abs() < 1e-4 * mse.max(1.0), "{got} vs {mse}");
    // The batch size changes neither.
    let other = t.evaluate_with(
        &test,
        EvaluateOptions {
            batch_size: 7,
            ..Default::default()
        },
    )?;
    assert!((other.loss() - scores.loss()).abs() < 1e-5);
    assert_eq!(other.get("accuracy"), scores.get("accuracy"));
    // Evaluation does not train.
    let before = t.model().params().to_vec();
    t.evaluate(&train)?;
    assert_eq!(bits(t.model().params()), bits(&before));
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    TrainBegin,
    EpochBegin(usize),
    BatchBegin(usize),
    BatchEnd(usize),
    EpochEnd(usize, Vec<String>),
    TrainEnd(Logs),
}

/// Records every hook; asks to stop at the end of epoch `stop_epoch` or of batch
/// `stop_batch` (of any epoch).
struct Recorder {
    events: Vec<Event>,
    stop_epoch: Option<usize>,
    stop_batch: Option<usize>,
}

impl Recorder {
    fn new(stop_epoch: Option<usize>, stop_batch: Option<usize>) -> Self {
        Recorder {
            events: Vec::new(),
            stop_epoch,
            stop_batch,
        }
    }
}

impl Callback for Recorder {
    fn on_train_begin(&mut self, _ctx: &mut Context<'_>) {
        self.events.push(Event::TrainBegin);
    }
    fn on_train_end(&mut self, logs: &Logs, _ctx: &mut Context<'_>) {
        self.events.push(Event::TrainEnd(logs.clone()));
    }
    fn on_epoch_begin(&mut self, epoch: usize, _ctx: &mut Context<'_>) {
        self.events.push(Event::EpochBegin(epoch));
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        let keys = logs.iter().map(|(k, _)| k.to_string()).collect();
        self.events.push(Event::EpochEnd(epoch, keys));
        if self.stop_epoch == Some(epoch) {
            Control::Stop
        } else {
            Control::Continue
        }
    }
    fn on_train_batch_begin(&mut self, step: usize, _ctx: &mut Context<'_>) {
        self.events.push(Event::BatchBegin(step));
    }
    fn on_train_batch_end(&mut self, step: usize, logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        assert!(logs.loss().is_finite() && logs.get("accuracy").is_some());
        self.events.push(Event::BatchEnd(step));
        if self.stop_batch == Some(step) {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

#[test]
fn callback_stop_at_epoch_end_and_hook_order() -> TestResult {
    let data = digits_head(40);
    let mut rec = Recorder::new(Some(2), None);
    let mut t = drop_net(0);
    let history = t.fit(
        &data,
        FitOptions {
            validation_split: 0.25, // 30 training samples: batches of 16 and 14
            callbacks: vec![&mut rec],
            ..silent(10, 16)
        },
    )?;
    assert_eq!(history.logs.len(), 3);
    assert_eq!(history.epochs, [0, 1, 2]);
    assert_eq!(t.optimizer().iterations(), 6);
    let keys: Vec<String> = ["accuracy", "loss", "val_accuracy", "val_loss"]
        .map(String::from)
        .into();
    let mut expected = vec![Event::TrainBegin];
    for epoch in 0..3 {
        expected.push(Event::EpochBegin(epoch));
        for step in 0..2 {
            expected.extend([Event::BatchBegin(step), Event::BatchEnd(step)]);
        }
        expected.push(Event::EpochEnd(epoch, keys.clone()));
    }
    expected.push(Event::TrainEnd(history.logs[2].clone()));
    assert_eq!(rec.events, expected);
    Ok(())
}

#[test]
fn callback_stop_at_batch_end_ends_the_epoch_after_that_batch() -> TestResult {
    let data = digits_head(64);
    let mut rec = Recorder::new(None, Some(1));
    let mut t = drop_net(0);
    let history = t.fit(
        &data,
        FitOptions {
            validation_split: 0.25, // 48 training samples: 6 batches of 8
            callbacks: vec![&mut rec],
            ..silent(5, 8)
        },
    )?;
    // As Keras's `stop_training` set in `on_train_batch_end`: the epoch ends after batch 1,
    // with its validation and `on_epoch_end`, and training stops.
    assert_eq!(t.optimizer().iterations(), 2);
    assert_eq!(history.logs.len(), 1);
    let keys: Vec<String> = ["accuracy", "loss", "val_accuracy", "val_loss"]
        .map(String::from)
        .into();
    let expected = vec![
        Event::TrainBegin,
        Event::EpochBegin(0),
        Event::BatchBegin(0),
        Event::BatchEnd(0),
        Event::BatchBegin(1),
        Event::BatchEnd(1),
        Event::EpochEnd(0, keys),
        Event::TrainEnd(history.logs[0].clone()),
    ];
    assert_eq!(rec.events, expected);
    Ok(())
}

#[test]
fn zero_epochs_do_nothing() -> TestResult {
    let data = digits_head(16);
    let mut rec = Recorder::new(None, None);
    let mut t = drop_net(4);
    let history = t.fit(
        &data,
        FitOptions {
            callbacks: vec![&mut rec],
            validation_split: 0.5,
            ..silent(0, 4)
        },
    )?;
    assert!(history.logs.is_empty() && history.epochs.is_empty());
    assert_eq!(t.optimizer().iterations(), 0);
    assert_eq!(bits(t.model().params()), bits(DropNet::new(4).params()));
    assert_eq!(rec.events, [Event::TrainBegin, Event::TrainEnd(Logs::default())]);
    Ok(())
}

#[test]
fn summary_lists_layers_shapes_and_parameter_counts() {
    let s = summary_string::<Mlp>();
    for part in [
        "Model: \"Mlp\"",
        "hidden (Dense)",
        "drop (Dropout)",
        "out (Dense)",
        "(None, 128)",
        "(None, 10)",
        "8,320", // 64 * 128 + 128
        "1,290", // 128 * 10 + 10
        "Total params: 9,610",
        "Trainable params: 9,610",
        "Non-trainable params: 0",
    ] {
        assert!(s.contains(part), "summary lacks {part:?}:\n{s}");
    }
    // Layers in order, one row each.
    let pos = |p: &str| s.find(p).unwrap();
    assert!(pos("hidden (Dense)") < pos("drop (Dropout)") && pos("drop (Dropout)") < pos("out (Dense)"));
    assert_eq!(s.matches("(None, 128)").count(), 2, "{s}");
}

#[test]
fn param_count_matches_the_hand_count() {
    assert_eq!(Mlp::PARAM_COUNT, 64 * 128 + 128 + 128 * 10 + 10);
    assert_eq!(Mlp::PARAM_COUNT, 9610);
    assert_eq!(Mlp::new(0).params().len(), Mlp::PARAM_COUNT);
    assert_eq!(DropNet::PARAM_COUNT, 64 * 32 + 32 + 32 * 10 + 10);
    assert_eq!(Linear::PARAM_COUNT, 4);
    assert_eq!(Tiny::PARAM_COUNT, 3 * 4 + 4 + 4 * 2 + 2);
    assert_eq!(Binary::PARAM_COUNT, 2 * 8 + 8 + 8 + 1);
}

#[test]
fn predict_equals_a_loop_over_forward() -> TestResult {
    let (_, test) = kerust::datasets::digits()?;
    let model = Mlp::new(9);
    let n = 50;
    let x = &test.x[..n * 64];
    let batched = model.predict(x, 7)?;
    assert_eq!(batched.len(), n * 10);
    for (i, sample) in x.chunks(64).enumerate() {
        let y = model.forward(sample.try_into()?);
        let row = &batched[i * 10..(i + 1) * 10];
        for (a, b) in y.iter().zip(row) {
            assert!(
                (a - b).abs() <= 1e-6 * a.abs().max(1.0),
                "sample {i}: {y:?} vs {row:?}"
            );
        }
    }
    // With batches of one sample, `predict` runs exactly what `forward` runs.
    let one = model.predict(x, 1)?;
    let looped: Vec<f32> = x
        .chunks(64)
        .flat_map(|s| model.forward(s.try_into().unwrap()))
        .collect();
    assert_eq!(bits(&one), bits(&looped));
    // The number of threads does not change the result.
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
        let threaded = pool.install(|| model.predict(x, 7))?;
        assert_eq!(bits(&batched), bits(&threaded), "{threads} threads");
    }
    let classes = model.predict_classes(x, 7)?;
    for (i, row) in batched.chunks(10).enumerate() {
        let best = row
            .iter()
            .enumerate()
            .fold(0, |b, (j, v)| if *v > row[b] { j } else { b });
        assert_eq!(classes[i] as usize, best);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 5. One optimizer step through `fit`

#[test]
fn one_sgd_step_on_a_linear_model_matches_the_hand_gradient() -> TestResult {
    let data = linear_data(8, 11);
    let lr = 0.05_f32;
    let mut t = Linear::new(3).compile(Sgd::new(lr), MeanSquaredError::new(), []);
    let p0: Vec<f64> = t.model().params().iter().map(|&v| f64::from(v)).collect();
    // One epoch, one batch holding the whole dataset: exactly one step.
    let history = t.fit(
        &data,
        FitOptions {
            shuffle: false,
            ..silent(1, 8)
        },
    )?;
    assert_eq!(t.optimizer().iterations(), 1);

    // MSE = mean_i (x_i · w + b - y_i)^2; dMSE/dw = 2/n Σ r_i x_i, dMSE/db = 2/n Σ r_i.
    let Target::Values { data: y, .. } = &data.y else {
        unreachable!()
    };
    let (mut grad, mut loss) = ([0.0_f64; 4], 0.0);
    for (x, &y) in data.x.chunks(3).zip(y) {
        let r = x.iter().zip(&p0).map(|(&x, w)| f64::from(x) * w).sum::<f64>() + p0[3] - f64::from(y);
        loss += r * r / 8.0;
        for j in 0..3 {
            grad[j] += 2.0 * r * f64::from(x[j]) / 8.0;
        }
        grad[3] += 2.0 * r / 8.0;
    }
    // The loss reported is the one before the step.
    assert!((history.logs[0].loss() - loss).abs() < 1e-5 * loss.max(1.0));
    let p1 = t.model().params();
    for j in 0..4 {
        let want = p0[j] - f64::from(lr) * grad[j];
        assert!(
            (f64::from(p1[j]) - want).abs() < 1e-6,
            "param {j}: {} after the step, {want} by hand",
            p1[j]
        );
    }
    Ok(())
}

#[test]
fn one_sgd_step_on_a_hidden_layer_model_matches_finite_differences() -> TestResult {
    let mut rng = Rng::new(21);
    let n = 6;
    let x: Vec<f32> = (0..n * 3).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
    let y: Vec<f32> = (0..n * 2).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
    let data = Dataset::new(
        x.clone(),
        &[3],
        Target::Values {
            data: y.clone(),
            width: 2,
        },
    )?;
    let start = Tiny::new(8);

    // The mean squared error of `model` on the data, in f64 from `predict`.
    let mse = |model: &Tiny| -> f64 {
        let out = model.predict(&x, 64).unwrap();
        out.iter()
            .zip(&y)
            .map(|(&p, &t)| (f64::from(p) - f64::from(t)).powi(2))
            .sum::<f64>()
            / out.len() as f64
    };
    let mut probe = Tiny::new(8);
    let eps = 1e-2_f32;
    let numeric: Vec<f64> = (0..Tiny::PARAM_COUNT)
        .map(|k| {
            let orig = probe.params()[k];
            probe.params_mut()[k] = orig + eps;
            let up = mse(&probe);
            probe.params_mut()[k] = orig - eps;
            let down = mse(&probe);
            probe.params_mut()[k] = orig;
            (up - down) / (2.0 * f64::from(eps))
        })
        .collect();

    let lr = 0.1_f32;
    let mut t = start.compile(Sgd::new(lr), MeanSquaredError::new(), []);
    t.fit(&data, silent(1, n))?;
    assert_eq!(t.optimizer().iterations(), 1);
    let p0 = Tiny::new(8);
    for (k, num) in numeric.iter().enumerate() {
        let step = f64::from(p0.params()[k] - t.model().params()[k]) / f64::from(lr);
        assert!(
            (step - num).abs() <= 1e-3 + 1e-2 * num.abs(),
            "param {k}: step / lr = {step}, finite difference {num}"
        );
    }
    Ok(())
}
