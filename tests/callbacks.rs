//! The built-in callbacks: scripted logs run through the hooks, checked against Keras 3's
//! rules, then a few end-to-end `fit`s.
//!
//! The scripted expectations were also obtained by running Keras 3.15.1's callbacks on the
//! same sequences; each test's comments derive them from Keras's rules.

use std::error::Error as StdError;
use std::path::PathBuf;

use kerust::data::{Dataset, Target};
use kerust::optim::schedules::ExponentialDecay;
use kerust::prelude::*;
use kerust::train::callbacks::{Mode, SaveFreq};

type TestResult = std::result::Result<(), Box<dyn StdError>>;

model! {
    /// `y = x · w + b`.
    struct Linear: Input<3> {
        out: Dense(1),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

/// Logs holding `entries`.
fn logs(entries: &[(&str, f64)]) -> Logs {
    let mut l = Logs::default();
    for &(k, v) in entries {
        l.set(k, v);
    }
    l
}

/// What a scripted run did.
#[derive(Debug)]
struct Run {
    /// Epochs whose `on_epoch_end` ran.
    epochs: usize,
    /// The epoch whose hook returned `Stop`.
    stopped: Option<usize>,
    /// The learning rate after each epoch.
    lrs: Vec<f32>,
    /// The parameters after `on_train_end`: every parameter equals the number of the epoch
    /// whose weights they are.
    params: Vec<f32>,
}

/// Runs `cb` through one scripted `fit`: before each epoch's end the parameters are set to
/// the epoch number, and the logs hold `key` with the scripted value (`None`: absent).
fn run(cb: &mut dyn Callback, key: &str, values: &[Option<f64>], lr: f32) -> Run {
    let mut params = vec![-1.0f32; 3];
    let mut sgd = Sgd::new(lr);
    let mut ctx = Context::new(&mut params, &mut sgd);
    cb.on_train_begin(&mut ctx);
    let (mut epochs, mut stopped, mut lrs, mut last) = (0, None, Vec::new(), Logs::default());
    for (epoch, v) in values.iter().enumerate() {
        cb.on_epoch_begin(epoch, &mut ctx);
        ctx.params_mut().fill(epoch as f32);
        last = match v {
            Some(v) => logs(&[(key, *v)]),
            None => logs(&[("other", 0.0)]),
        };
        epochs += 1;
        let control = cb.on_epoch_end(epoch, &last, &mut ctx);
        lrs.push(ctx.learning_rate());
        if control == Control::Stop {
            stopped = Some(epoch);
            break;
        }
    }
    cb.on_train_end(&last, &mut ctx);
    Run {
        epochs,
        stopped,
        lrs,
        params: params.clone(),
    }
}

fn some(values: &[f64]) -> Vec<Option<f64>> {
    values.iter().copied().map(Some).collect()
}

/// `f32` learning rates given as the `f64` values Keras prints for them.
fn f32s(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&v| v as f32).collect()
}

fn silent<'a>(epochs: usize, batch_size: usize) -> FitOptions<'a> {
    FitOptions {
        epochs,
        batch_size,
        verbose: Verbosity::Silent,
        ..Default::default()
    }
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

/// A file in the temporary directory, unique to this process and `name`, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("kerust-callbacks-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }

    fn read(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Records the parameters and learning rate at the end of every epoch.
#[derive(Default)]
struct Recorder {
    params: Vec<Vec<f32>>,
    lrs: Vec<f32>,
}

impl Callback for Recorder {
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs, ctx: &mut Context<'_>) -> Control {
        self.params.push(ctx.params().to_vec());
        self.lrs.push(ctx.learning_rate());
        Control::Continue
    }
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|v| v.to_bits()).collect()
}

// ---------------------------------------------------------------------------------------
// EarlyStopping

#[test]
fn early_stopping_defaults_are_keras() {
    let e = EarlyStopping::default();
    assert_eq!(e.monitor, "val_loss");
    assert_eq!((e.min_delta, e.patience, e.mode), (0.0, 0, Mode::Auto));
    assert_eq!(
        (e.baseline, e.restore_best_weights, e.start_from_epoch),
        (None, false, 0)
    );
    let e = EarlyStopping::new("loss")
        .patience(3)
        .min_delta(0.1)
        .mode(Mode::Min)
        .baseline(0.5)
        .restore_best_weights(true)
        .start_from_epoch(2);
    assert_eq!(
        (e.patience, e.min_delta, e.mode, e.baseline),
        (3, 0.1, Mode::Min, Some(0.5))
    );
    assert!(e.restore_best_weights);
    assert_eq!(e.start_from_epoch, 2);
}

#[test]
fn early_stopping_patience_matches_keras() {
    // Keras's own test: losses fall to 8.0 at epoch 2, then never beat it. Epoch 3 makes
    // `wait` 1, epoch 4 makes it 2, ...; training stops once `wait >= patience`, so at
    // epoch 3 for patience 0 and 1, epoch 4 for 2, epoch 5 for 3: `max(patience, 1) + 2`.
    let losses = some(&[10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]);
    for patience in 0..4 {
        let mut e = EarlyStopping::new("loss").patience(patience);
        let r = run(&mut e, "loss", &losses, 0.1);
        assert_eq!(r.stopped, Some(patience.max(1) + 2), "patience {patience}");
        assert_eq!(e.stopped_epoch(), r.stopped);
        assert_eq!((e.best(), e.best_epoch()), (Some(8.0), Some(2)));
        assert_eq!(e.wait(), patience.max(1));
        // Without restore_best_weights the last epoch's weights stay.
        assert_eq!(r.params[0], r.stopped.unwrap() as f32);
    }
}

#[test]
fn early_stopping_never_stops_at_epoch_0() {
    // With patience 0 a flat loss stops at the first epoch without improvement: epoch 1
    // (epoch 0 always improves on "no best yet").
    let r = run(
        &mut EarlyStopping::new("loss"),
        "loss",
        &some(&[1.0, 1.0, 1.0]),
        0.1,
    );
    assert_eq!((r.epochs, r.stopped), (2, Some(1)));
}

#[test]
fn early_stopping_min_delta() {
    // min_delta 0.3 in min mode: a value improves when `value + 0.3 < best`. Best 1.0 at
    // epoch 0; 0.7 (1.0 is not < 1.0) waits 1; 0.6 improves (0.9 < 1.0); 0.55 waits 1;
    // 0.1 improves; 0.09 and 0.08 wait 1 and 2: stop at epoch 6. The sign of min_delta is
    // ignored (Keras takes its absolute value).
    let values = some(&[1.0, 0.7, 0.6, 0.55, 0.1, 0.09, 0.08]);
    for delta in [0.3, -0.3] {
        let mut e = EarlyStopping::new("loss").min_delta(delta).patience(2);
        let r = run(&mut e, "loss", &values, 0.1);
        assert_eq!(r.stopped, Some(6));
        assert_eq!((e.best(), e.best_epoch()), (Some(0.1), Some(4)));
    }
}

#[test]
fn early_stopping_auto_mode_maximizes_accuracy() {
    // "val_accuracy" goes up in auto mode. Best 0.6 at epoch 1; the tie at epoch 2 is no
    // improvement (wait 1), 0.59 at epoch 3 makes wait 2 = patience: stop at epoch 3.
    let values = some(&[0.5, 0.6, 0.6, 0.59, 0.7, 0.7, 0.69, 0.68]);
    let mut e = EarlyStopping::new("val_accuracy").patience(2);
    let r = run(&mut e, "val_accuracy", &values, 0.1);
    assert_eq!(r.stopped, Some(3));
    assert_eq!((e.best(), e.best_epoch()), (Some(0.6), Some(1)));

    // In max mode with min_delta 0.05, `value - 0.05 > best`: 0.65 - 0.05 is not above 0.6
    // (in f64 it rounds to 0.6), so epoch 2 waits 1 = patience: stop at epoch 2.
    let values = some(&[0.5, 0.6, 0.65, 0.66, 0.7, 0.71]);
    let mut e = EarlyStopping::new("val_accuracy")
        .mode(Mode::Max)
        .patience(1)
        .min_delta(0.05);
    assert_eq!(run(&mut e, "val_accuracy", &values, 0.1).stopped, Some(2));
}

#[test]
fn early_stopping_baseline() {
    // Keras's test: nothing beats the baseline 0.5, so the wait is never reset: it grows
    // 1..5 over epochs 0..4 and training stops at epoch 4 (5 epochs), restoring the best
    // epoch among them, epoch 2 (0.7).
    let values = some(&[0.9, 0.8, 0.7, 0.71, 0.72, 0.73]);
    let mut e = EarlyStopping::new("val_loss")
        .patience(5)
        .baseline(0.5)
        .restore_best_weights(true);
    let r = run(&mut e, "val_loss", &values, 0.1);
    assert_eq!((r.epochs, r.stopped), (5, Some(4)));
    assert_eq!(r.params, [2.0; 3]);

    // Once a value beats the baseline (0.4 at epoch 2) the wait resets as usual: 0.45 waits
    // 1, 0.3 improves at epoch 4, 0.5 and 0.5 wait 1 and 2: stop at epoch 6, restore 4.
    let values = some(&[0.9, 0.6, 0.4, 0.45, 0.3, 0.5, 0.5]);
    let mut e = EarlyStopping::new("val_loss")
        .patience(2)
        .baseline(0.5)
        .restore_best_weights(true);
    let r = run(&mut e, "val_loss", &values, 0.1);
    assert_eq!(r.stopped, Some(6));
    assert_eq!(r.params, [4.0; 3]);
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    // Keras's test: best 0.1 at epoch 2, then two epochs without improvement: stop at epoch
    // 4 and restore epoch 2's weights.
    let values = some(&[0.2, 0.15, 0.1, 0.11, 0.12]);
    let mut e = EarlyStopping::new("val_loss")
        .patience(2)
        .restore_best_weights(true);
    let r = run(&mut e, "val_loss", &values, 0.1);
    assert_eq!(r.stopped, Some(4));
    assert_eq!(r.params, [2.0; 3]);
}

#[test]
fn early_stopping_restores_even_without_stopping() {
    // Keras 3 restores at the end of training whether or not it stopped it: patience 5
    // never runs out over 4 epochs, and epoch 1 (0.3) is restored.
    let values = some(&[0.5, 0.3, 0.4, 0.35]);
    let mut e = EarlyStopping::new("val_loss")
        .patience(5)
        .restore_best_weights(true);
    let r = run(&mut e, "val_loss", &values, 0.1);
    assert_eq!((r.epochs, r.stopped, e.stopped_epoch()), (4, None, None));
    assert_eq!(r.params, [1.0; 3]);
}

#[test]
fn early_stopping_start_from_epoch() {
    // Epochs before 2 are ignored; epoch 2 is the first value (best 3.0), epoch 3 waits 1
    // >= patience 0: stop at epoch 3.
    let mut e = EarlyStopping::new("loss").start_from_epoch(2);
    let r = run(&mut e, "loss", &some(&[1.0, 2.0, 3.0, 4.0, 5.0]), 0.1);
    assert_eq!(r.stopped, Some(3));
    assert_eq!((e.best(), e.best_epoch()), (Some(3.0), Some(2)));

    // The low values of the warm-up do not count: best 2.0 at epoch 3, stop at 4, and the
    // restored weights are epoch 3's.
    let values = some(&[0.1, 0.2, 3.0, 2.0, 2.5, 2.6]);
    let mut e = EarlyStopping::new("loss")
        .patience(1)
        .start_from_epoch(2)
        .restore_best_weights(true);
    let r = run(&mut e, "loss", &values, 0.1);
    assert_eq!(r.stopped, Some(4));
    assert_eq!(r.params, [3.0; 3]);
}

#[test]
fn early_stopping_nan_and_missing_values() {
    // A NaN first value still becomes the best (anything beats "no best yet"), and then
    // nothing beats NaN: stop at epoch 1.
    let mut e = EarlyStopping::new("loss").patience(1);
    let r = run(&mut e, "loss", &some(&[f64::NAN, 1.0, 0.5]), 0.1);
    assert_eq!(r.stopped, Some(1));
    assert!(e.best().is_some_and(f64::is_nan));
    // A later NaN is no improvement: stop at epoch 1.
    let values = some(&[1.0, f64::NAN, 0.5, 0.6, 0.7]);
    assert_eq!(run(&mut e, "loss", &values, 0.1).stopped, Some(1));
    // Epochs without the value are skipped entirely: the first value is at epoch 2, epoch 3
    // waits 1: stop at epoch 3, restoring epoch 2.
    let values = [None, None, Some(1.0), Some(2.0), Some(3.0)];
    let mut e = EarlyStopping::new("loss").patience(1).restore_best_weights(true);
    let r = run(&mut e, "loss", &values, 0.1);
    assert_eq!(r.stopped, Some(3));
    assert_eq!(r.params, [2.0; 3]);
}

#[test]
fn early_stopping_resets_between_fits() {
    let mut e = EarlyStopping::new("loss").patience(1).restore_best_weights(true);
    let values = some(&[0.2, 0.15, 0.1, 0.11, 0.12]);
    let first = run(&mut e, "loss", &values, 0.1);
    let second = run(&mut e, "loss", &values, 0.1);
    assert_eq!((first.stopped, second.stopped), (Some(3), Some(3)));
    assert_eq!(first.params, second.params);
}

#[test]
#[should_panic(expected = "isn't able to automatically determine whether that metric should be maximized")]
fn early_stopping_auto_mode_rejects_an_unknown_name() {
    run(
        &mut EarlyStopping::new("val_my_score"),
        "val_my_score",
        &some(&[1.0]),
        0.1,
    );
}

#[test]
fn auto_mode_follows_keras_metric_directions() {
    for name in [
        "loss",
        "val_loss",
        "mean_squared_error",
        "val_mse",
        "hinge",
        "root_mean_squared_error",
    ] {
        assert_eq!(Mode::Auto.resolve(name), Some(Mode::Min), "{name}");
    }
    for name in [
        "accuracy",
        "val_acc",
        "sparse_categorical_accuracy",
        "auc",
        "val_f1_score",
        "r2_score",
    ] {
        assert_eq!(Mode::Auto.resolve(name), Some(Mode::Max), "{name}");
    }
    for metric in [
        Metric::Accuracy,
        Metric::BinaryAccuracy { threshold: 0.5 },
        Metric::SparseTopKCategoricalAccuracy { k: 5 },
    ] {
        assert_eq!(Mode::Auto.resolve(metric.name()), Some(Mode::Max), "{metric:?}");
    }
    for metric in [
        Metric::MeanSquaredError,
        Metric::MeanAbsoluteError,
        Metric::RootMeanSquaredError,
    ] {
        assert_eq!(Mode::Auto.resolve(metric.name()), Some(Mode::Min), "{metric:?}");
    }
    // Only one `val_` prefix comes off.
    assert_eq!(Mode::Auto.resolve("val_val_loss"), None);
    assert_eq!(Mode::Min.resolve("accuracy"), Some(Mode::Min));
}

// ---------------------------------------------------------------------------------------
// ReduceLrOnPlateau

#[test]
fn reduce_lr_defaults_are_keras() {
    let r = ReduceLrOnPlateau::default();
    assert_eq!(r.monitor, "val_loss");
    assert_eq!((r.factor, r.patience, r.mode), (0.1, 10, Mode::Auto));
    assert_eq!((r.min_delta, r.cooldown, r.min_lr), (1e-4, 0, 0.0));
    // Patience 10: ten epochs without improvement (1..=10) before the first reduction.
    let out = run(
        &mut ReduceLrOnPlateau::new("loss"),
        "loss",
        &some(&[1.0; 12]),
        1.0,
    );
    assert_eq!(
        out.lrs,
        f32s(
            &[1.0; 10]
                .into_iter()
                .chain([0.10000000149011612; 2])
                .collect::<Vec<_>>()
        )
    );
}

#[test]
fn reduce_lr_patience() {
    // Epochs 1 and 2 do not improve on 1.0: reduce at epoch 2. 0.5 improves at epoch 3;
    // epochs 4 and 5 do not: reduce at 5; epochs 6 and 7: reduce at 7.
    let values = some(&[1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let mut r = ReduceLrOnPlateau::new("loss").factor(0.5).patience(2);
    let out = run(&mut r, "loss", &values, 1.0);
    assert_eq!(out.lrs, [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125]);
    assert_eq!(out.stopped, None);
    assert_eq!((r.wait(), r.best()), (0, Some(0.5)));

    // Patience 0 reduces at every epoch without improvement (1 and 3), computing in f64:
    // f32(0.1f32 as f64 * 0.1) is 0.009999999776482582, not 0.1f32 * 0.1f32.
    let mut r = ReduceLrOnPlateau::new("loss").patience(0);
    let out = run(&mut r, "loss", &some(&[1.0, 2.0, 0.5, 0.5]), 1.0);
    assert_eq!(
        bits(&out.lrs),
        bits(&f32s(&[
            1.0,
            0.10000000149011612,
            0.10000000149011612,
            0.009999999776482582
        ]))
    );
}

#[test]
fn reduce_lr_cooldown() {
    // Cooldown 2, patience 1, a flat loss: epoch 1 reduces and starts the cooldown (2).
    // Epoch 2 counts it down to 1 (still cooling: no wait). Epoch 3 counts it down to 0
    // first, so it counts: wait 1 >= 1, reduce. Reductions land every other epoch.
    let mut r = ReduceLrOnPlateau::new("loss").factor(0.5).patience(1).cooldown(2);
    let out = run(&mut r, "loss", &some(&[1.0; 10]), 1.0);
    assert_eq!(
        out.lrs,
        [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625, 0.03125]
    );
    assert_eq!((r.cooldown_counter(), r.in_cooldown()), (2, true));

    // Improvements during a cooldown still update the best (0.5 at epoch 2, 0.4 at 4).
    let values = some(&[1.0, 1.0, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4]);
    let mut r = ReduceLrOnPlateau::new("loss").factor(0.5).patience(1).cooldown(2);
    let out = run(&mut r, "loss", &values, 1.0);
    assert_eq!(out.lrs, [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625]);
    assert_eq!(r.best(), Some(0.4));
}

#[test]
fn reduce_lr_min_lr() {
    // From 0.01 by 0.1 each epoch: 1e-3, 1e-4 (as f32 products), then max(1e-5, 5e-5) =
    // 5e-5; from then on the rate is not above f32(min_lr) and stays.
    let mut r = ReduceLrOnPlateau::new("loss").patience(1).min_lr(5e-5);
    let out = run(&mut r, "loss", &some(&[1.0; 8]), 0.01);
    let expected = [
        0.009999999776482582,
        0.0009999999310821295,
        9.99999901978299e-05,
        4.999999873689376e-05,
        4.999999873689376e-05,
        4.999999873689376e-05,
        4.999999873689376e-05,
        4.999999873689376e-05,
    ];
    assert_eq!(bits(&out.lrs), bits(&f32s(&expected)));
    // The wait keeps growing once no reduction is possible.
    assert_eq!(r.wait(), 4);
}

#[test]
fn reduce_lr_min_delta() {
    // Default min_delta 1e-4: `value + 1e-4 < best`. 0.99995 does not beat 1.0 (reduce);
    // 0.9999 + 1e-4 is not below 1.0 either (reduce); 0.99985 is (new best); 0.9998 is
    // not below 0.99985 (reduce); 0.9 is; 0.89995 is not (reduce).
    let values = some(&[1.0, 0.99995, 0.9999, 0.99985, 0.9998, 0.9, 0.89995]);
    let mut r = ReduceLrOnPlateau::new("loss").patience(1);
    let out = run(&mut r, "loss", &values, 1.0);
    let expected = [
        1.0,
        0.10000000149011612,
        0.009999999776482582,
        0.009999999776482582,
        0.0009999999310821295,
        0.0009999999310821295,
        9.99999901978299e-05,
    ];
    assert_eq!(bits(&out.lrs), bits(&f32s(&expected)));
}

#[test]
fn reduce_lr_max_mode_and_nan() {
    // "val_accuracy" goes up: 0.6 at epoch 1 is the best, epochs 2 and 3 tie: reduce at 3.
    let values = some(&[0.5, 0.6, 0.6, 0.6, 0.7, 0.69]);
    let mut r = ReduceLrOnPlateau::new("val_accuracy").factor(0.5).patience(2);
    assert_eq!(
        run(&mut r, "val_accuracy", &values, 1.0).lrs,
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    );
    // A NaN first value is the best; nothing beats it: reduce at epoch 2.
    let mut r = ReduceLrOnPlateau::new("loss").factor(0.5).patience(2);
    assert_eq!(
        run(&mut r, "loss", &some(&[f64::NAN, 1.0, 1.0, 1.0]), 1.0).lrs,
        [1.0, 1.0, 0.5, 0.5]
    );
    // A missing value changes nothing.
    let mut r = ReduceLrOnPlateau::new("loss").patience(0);
    assert_eq!(run(&mut r, "loss", &[Some(1.0), None, None], 1.0).lrs, [1.0; 3]);
}

#[test]
#[should_panic(expected = "does not support a factor >= 1.0")]
fn reduce_lr_rejects_a_factor_of_one() {
    let _ = ReduceLrOnPlateau::new("loss").factor(1.0);
}

// ---------------------------------------------------------------------------------------
// LearningRateScheduler

#[test]
fn learning_rate_scheduler_matches_keras_example() {
    // Keras's docstring: keep the rate for ten epochs, then multiply it by exp(-0.1) each
    // epoch; after 15 epochs from 0.01, round(lr, 5) == 0.00607.
    let mut s = LearningRateScheduler::new(|epoch, lr| if epoch < 10 { lr } else { lr * (-0.1f32).exp() });
    let mut params = vec![0.0f32];
    let mut sgd = Sgd::new(0.01);
    let mut ctx = Context::new(&mut params, &mut sgd);
    let mut seen = Vec::new();
    for epoch in 0..15 {
        s.on_epoch_begin(epoch, &mut ctx);
        seen.push(ctx.learning_rate());
    }
    assert_eq!(seen[..10], [0.01; 10]);
    assert!(
        (ctx.learning_rate() - 0.00607).abs() < 5e-6,
        "{}",
        ctx.learning_rate()
    );
}

#[test]
fn learning_rate_scheduler_sets_the_rate_before_each_epoch() -> TestResult {
    let data = linear_data(32, 1);
    let mut calls = Vec::new();
    let mut scheduler = LearningRateScheduler::new(|epoch, lr| {
        calls.push((epoch, lr));
        lr * 0.5
    });
    let mut recorder = Recorder::default();
    let mut t = Linear::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
    t.fit(
        &data,
        FitOptions {
            callbacks: vec![&mut scheduler, &mut recorder],
            ..silent(3, 8)
        },
    )?;
    assert_eq!(calls, [(0, 0.1), (1, 0.05), (2, 0.025)]);
    // The epochs trained with the new rates.
    assert_eq!(recorder.lrs, [0.05, 0.025, 0.0125]);
    assert_eq!(t.optimizer().learning_rate(), 0.0125);

    // A step schedule evaluated per epoch, from `initial_epoch`.
    let mut scheduler = LearningRateScheduler::from_schedule(ExponentialDecay::new(0.1, 1, 0.5));
    let mut recorder = Recorder::default();
    t.fit(
        &data,
        FitOptions {
            initial_epoch: 1,
            callbacks: vec![&mut scheduler, &mut recorder],
            ..silent(3, 8)
        },
    )?;
    assert_eq!(recorder.lrs, [0.05, 0.025]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// TerminateOnNan

#[test]
fn terminate_on_nan_checks_every_batch_loss() {
    let mut t = TerminateOnNan::new();
    let mut params = vec![0.0f32];
    let mut sgd = Sgd::new(0.1);
    let mut ctx = Context::new(&mut params, &mut sgd);
    t.on_train_begin(&mut ctx);
    t.on_epoch_begin(3, &mut ctx);
    // No loss, a finite loss: go on.
    assert_eq!(
        t.on_train_batch_end(0, &logs(&[("accuracy", f64::NAN)]), &mut ctx),
        Control::Continue
    );
    assert_eq!(
        t.on_train_batch_end(1, &logs(&[("loss", 1e300)]), &mut ctx),
        Control::Continue
    );
    assert_eq!(t.stopped_at(), None);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            t.on_train_batch_end(2, &logs(&[("loss", bad)]), &mut ctx),
            Control::Stop
        );
    }
    assert_eq!(t.stopped_at(), Some((3, 2)));
    // Epoch ends are not checked.
    assert_eq!(
        t.on_epoch_end(3, &logs(&[("loss", f64::NAN)]), &mut ctx),
        Control::Continue
    );
}

#[test]
fn terminate_on_nan_stops_a_diverging_fit() -> TestResult {
    // A huge learning rate multiplies the weights by about 1e6 per step: the loss overflows
    // within a few batches of the first epoch, which then ends.
    let data = linear_data(64, 3);
    let csv = TempFile::new("terminate.csv");
    let mut guard = TerminateOnNan::new();
    let mut logger = CsvLogger::new(&csv.0);
    let mut t = Linear::new(0).compile(Sgd::new(1e6), MeanSquaredError::new(), []);
    let history = t.fit(
        &data,
        FitOptions {
            callbacks: vec![&mut guard, &mut logger],
            ..silent(20, 4)
        },
    )?;
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(!history.logs[0].loss().is_finite());
    let (epoch, batch) = guard.stopped_at().ok_or("did not stop")?;
    assert!(epoch == 0 && batch < 15, "stopped at {:?}", guard.stopped_at());
    // As in Keras's test, the CSV holds the last, non-finite epoch.
    assert!(logger.error().is_none());
    let text = csv.read();
    let last = text.lines().last().ok_or("empty CSV")?;
    assert!(
        last.starts_with("0,") && (last.contains("nan") || last.contains("inf")),
        "{text:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// CsvLogger

/// Runs `logger` through one scripted `fit` over `epochs`.
fn log_epochs(logger: &mut CsvLogger, epochs: &[Logs]) {
    let mut params = vec![0.0f32];
    let mut sgd = Sgd::new(0.1);
    let mut ctx = Context::new(&mut params, &mut sgd);
    logger.on_train_begin(&mut ctx);
    for (epoch, l) in epochs.iter().enumerate() {
        logger.on_epoch_end(epoch, l, &mut ctx);
    }
    logger.on_train_end(&Logs::default(), &mut ctx);
}

#[test]
fn csv_logger_writes_keras_format() {
    // The exact bytes Keras 3.15.1's CSVLogger writes for these logs: sorted names, values
    // as Python's repr, "\r\n" line ends.
    let file = TempFile::new("format.csv");
    let mut logger = CsvLogger::new(&file.0);
    log_epochs(
        &mut logger,
        &[
            logs(&[
                ("accuracy", 0.8),
                ("loss", 0.5),
                ("val_accuracy", 1e-5),
                ("val_loss", 0.25),
            ]),
            logs(&[
                ("accuracy", f64::NAN),
                ("loss", 1e16),
                ("val_accuracy", 123456789.0),
                ("val_loss", f64::INFINITY),
            ]),
        ],
    );
    assert!(logger.error().is_none());
    assert_eq!(
        file.read(),
        "epoch,accuracy,loss,val_accuracy,val_loss\r\n0,0.8,0.5,1e-05,0.25\r\n1,nan,1e+16,123456789.0,inf\r\n"
    );
}

#[test]
fn csv_logger_adds_val_columns_and_appends() {
    // Without `val_` names in the first epoch Keras adds one per name, left "NA".
    let file = TempFile::new("append.csv");
    let epochs = [
        logs(&[("loss", 0.1), ("accuracy", 0.2)]),
        logs(&[("loss", 1.0 / 3.0), ("accuracy", 2.0 / 3.0)]),
    ];
    let mut logger = CsvLogger::new(&file.0).separator(';');
    log_epochs(&mut logger, &epochs);
    let first = "epoch;accuracy;loss;val_accuracy;val_loss\r\n0;0.2;0.1;NA;NA\r\n\
                 1;0.6666666666666666;0.3333333333333333;NA;NA\r\n";
    assert_eq!(file.read(), first);

    // Appending to a non-empty file writes no header.
    let mut appender = CsvLogger::new(&file.0).separator(';').append(true);
    log_epochs(&mut appender, &epochs[..1]);
    assert_eq!(file.read(), format!("{first}0;0.2;0.1;NA;NA\r\n"));

    // Without append, a new fit starts the file over, header included.
    log_epochs(&mut logger, &epochs[..1]);
    assert_eq!(
        file.read(),
        "epoch;accuracy;loss;val_accuracy;val_loss\r\n0;0.2;0.1;NA;NA\r\n"
    );
}

#[test]
fn csv_logger_quotes_and_drops_late_names() {
    // Fields holding the separator are quoted (Python's csv); names first seen after the
    // first epoch ("extra") are not written.
    let file = TempFile::new("quote.csv");
    let mut logger = CsvLogger::new(&file.0).separator('l');
    log_epochs(
        &mut logger,
        &[
            logs(&[("loss", 0.1)]),
            logs(&[("loss", 0.2), ("val_loss", 0.3), ("extra", 1.0)]),
        ],
    );
    assert_eq!(
        file.read(),
        "epochl\"loss\"l\"val_loss\"\r\n0l0.1lNA\r\n1l0.2l0.3\r\n"
    );
}

#[test]
fn csv_logger_records_io_errors_instead_of_panicking() {
    let dir = TempFile::new("missing-dir");
    let mut logger = CsvLogger::new(dir.0.join("log.csv"));
    log_epochs(&mut logger, &[logs(&[("loss", 0.1)]), logs(&[("loss", 0.2)])]);
    let err = logger.error().ok_or("no error recorded").unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(logger.take_error().is_some());
    assert!(logger.error().is_none());
}

#[test]
fn csv_logger_logs_a_fit() -> TestResult {
    let data = linear_data(64, 1);
    let file = TempFile::new("fit.csv");
    let mut logger = CsvLogger::new(&file.0);
    let mut t = Linear::new(0).compile(
        Sgd::new(0.05),
        MeanSquaredError::new(),
        [Metric::MeanAbsoluteError],
    );
    let history = t.fit(
        &data,
        FitOptions {
            validation_split: 0.25,
            callbacks: vec![&mut logger],
            ..silent(3, 16)
        },
    )?;
    assert!(logger.error().is_none());
    let text = file.read();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("epoch,loss,mean_absolute_error,val_loss,val_mean_absolute_error")
    );
    for (epoch, l) in history.logs.iter().enumerate() {
        let line = lines.next().ok_or("missing row")?;
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0], epoch.to_string());
        // Python's repr is exact: each value reads back to the history's bits.
        for (field, name) in fields[1..].iter().zip([
            "loss",
            "mean_absolute_error",
            "val_loss",
            "val_mean_absolute_error",
        ]) {
            let v: f64 = field.parse()?;
            assert_eq!(v.to_bits(), l.get(name).ok_or(name)?.to_bits(), "{name}: {line}");
        }
    }
    assert_eq!(lines.collect::<Vec<_>>(), [""]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ModelCheckpoint

#[test]
fn model_checkpoint_saves_every_epoch_by_default() {
    let mut saved = Vec::new();
    let mut c = ModelCheckpoint::new(|epoch, params: &[f32], logs: &Logs| {
        saved.push((epoch, params[0], logs.get("val_loss")))
    });
    let r = run(&mut c, "val_loss", &[Some(0.5), Some(0.7), None], 0.1);
    assert_eq!(r.stopped, None);
    assert_eq!(saved, [(0, 0.0, Some(0.5)), (1, 1.0, Some(0.7)), (2, 2.0, None)]);
}

#[test]
fn model_checkpoint_save_best_only() {
    // Saves when `val_loss` beats the best so far: 0.5 (first), 0.4, 0.3; not 0.45 nor the
    // tie 0.3. A missing value saves anyway (Keras warns).
    let mut saved = Vec::new();
    let mut c = ModelCheckpoint::new(|epoch, params: &[f32], _: &Logs| saved.push((epoch, params[0])))
        .save_best_only(true);
    run(
        &mut c,
        "val_loss",
        &[Some(0.5), Some(0.4), Some(0.45), Some(0.3), Some(0.3), None],
        0.1,
    );
    assert_eq!(c.best(), Some(0.3));
    // The best carries over to the next fit (Keras does not reset it): only 0.2 beats it.
    run(&mut c, "val_loss", &some(&[0.35, 0.2]), 0.1);
    assert_eq!(saved, [(0, 0.0), (1, 1.0), (3, 3.0), (5, 5.0), (1, 1.0)]);

    // Accuracy goes up; an initial threshold must be beaten first.
    let mut saved = Vec::new();
    let mut c = ModelCheckpoint::new(|epoch, _: &[f32], _: &Logs| saved.push(epoch))
        .monitor("val_accuracy")
        .save_best_only(true)
        .initial_value_threshold(0.6);
    run(&mut c, "val_accuracy", &some(&[0.5, 0.6, 0.7, 0.65, 0.8]), 0.1);
    assert_eq!(saved, [2, 4]);
}

#[test]
fn model_checkpoint_saves_every_n_batches() {
    // Keras counts batches across epochs: with 4 batches per epoch and a save every 3,
    // epoch 0 saves after batch 2, and epoch 1 after batch 1 (batch 3 of epoch 0 plus
    // batches 0 and 1). Nothing is saved at epoch ends.
    let mut saved = Vec::new();
    let mut c = ModelCheckpoint::new(|epoch, _: &[f32], logs: &Logs| saved.push((epoch, logs.loss())))
        .save_freq(SaveFreq::Batches(3));
    let mut params = vec![0.0f32];
    let mut sgd = Sgd::new(0.1);
    let mut ctx = Context::new(&mut params, &mut sgd);
    c.on_train_begin(&mut ctx);
    for epoch in 0..2 {
        c.on_epoch_begin(epoch, &mut ctx);
        for step in 0..4 {
            let l = logs(&[("loss", (10 * epoch + step) as f64)]);
            c.on_train_batch_end(step, &l, &mut ctx);
        }
        c.on_epoch_end(epoch, &logs(&[("loss", -1.0)]), &mut ctx);
    }
    assert_eq!(saved, [(0, 2.0), (1, 11.0)]);
}

#[test]
fn model_checkpoint_keeps_the_best_weights_of_a_fit() -> TestResult {
    let (train, val) = (linear_data(64, 1), linear_data(32, 2));
    let mut saved: Vec<(usize, Vec<f32>)> = Vec::new();
    let mut checkpoint =
        ModelCheckpoint::new(|epoch, params: &[f32], _: &Logs| saved.push((epoch, params.to_vec())))
            .save_best_only(true);
    let mut recorder = Recorder::default();
    let mut t = Linear::new(0).compile(Sgd::new(1.1), MeanSquaredError::new(), []);
    let history = t.fit(
        &train,
        FitOptions {
            validation_data: Some(&val),
            callbacks: vec![&mut checkpoint, &mut recorder],
            ..silent(8, 64)
        },
    )?;
    // Saved: the epochs whose val_loss beats every earlier one, with that epoch's weights.
    let mut best = f64::INFINITY;
    let mut expected = Vec::new();
    for (epoch, v) in history.metric("val_loss").into_iter().enumerate() {
        if v < best {
            best = v;
            expected.push((epoch, recorder.params[epoch].clone()));
        }
    }
    assert_eq!(saved, expected);
    assert!(
        expected.len() < history.len(),
        "val_loss never rose: {:?}",
        history.metric("val_loss")
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// EarlyStopping end to end

#[test]
fn early_stopping_restores_the_best_weights_of_a_fit() -> TestResult {
    // Full-batch SGD at 1.1 on a linear model: the kernel converges but the bias overshoots
    // further each step (its curvature is 2, and |1 - 2 * 1.1| > 1), so the validation loss
    // falls, then rises.
    let (train, val) = (linear_data(64, 1), linear_data(32, 2));
    let mut early = EarlyStopping::new("val_loss")
        .patience(2)
        .restore_best_weights(true);
    let mut recorder = Recorder::default();
    let mut t = Linear::new(0).compile(Sgd::new(1.1), MeanSquaredError::new(), []);
    let history = t.fit(
        &train,
        FitOptions {
            validation_data: Some(&val),
            callbacks: vec![&mut recorder, &mut early],
            ..silent(50, 64)
        },
    )?;
    let val_loss = history.metric("val_loss");
    let best = (0..val_loss.len())
        .reduce(|b, e| if val_loss[e] < val_loss[b] { e } else { b })
        .ok_or("no epochs")?;
    // Stopped two epochs after the best, with the best epoch's weights.
    assert_eq!(early.best_epoch(), Some(best));
    assert_eq!(early.stopped_epoch(), Some(best + 2), "{val_loss:?}");
    assert_eq!(history.len(), best + 3);
    assert_eq!(bits(t.model().params()), bits(&recorder.params[best]));
    assert_ne!(bits(t.model().params()), bits(&recorder.params[best + 2]));
    let restored = t.evaluate(&val)?.loss();
    assert!(
        (restored - val_loss[best]).abs() <= 1e-6 * val_loss[best],
        "{restored} vs {}",
        val_loss[best]
    );
    Ok(())
}

#[test]
fn reduce_lr_on_plateau_lowers_the_rate_of_a_fit() -> TestResult {
    // The same oscillating setup: once the validation loss stops falling, the rate drops
    // by half, each epoch of the plateau (patience 0), and the loss comes back down.
    let (train, val) = (linear_data(64, 1), linear_data(32, 2));
    let mut plateau = ReduceLrOnPlateau::new("val_loss").factor(0.5).patience(0);
    let mut recorder = Recorder::default();
    let mut t = Linear::new(0).compile(Sgd::new(1.1), MeanSquaredError::new(), []);
    let history = t.fit(
        &train,
        FitOptions {
            validation_data: Some(&val),
            callbacks: vec![&mut plateau, &mut recorder],
            ..silent(30, 64)
        },
    )?;
    let val_loss = history.metric("val_loss");
    // Each epoch halves the rate exactly when it did not improve on the best so far.
    let mut best = f64::INFINITY;
    let mut lr = 1.1f32;
    for (epoch, &v) in val_loss.iter().enumerate() {
        if v + 1e-4 < best {
            best = v;
        } else {
            lr = (f64::from(lr) * 0.5) as f32;
        }
        assert_eq!(recorder.lrs[epoch], lr, "epoch {epoch}: {val_loss:?}");
    }
    assert!(lr < 1.1, "never reduced: {val_loss:?}");
    assert!(*val_loss.last().unwrap() < 1e-3, "{val_loss:?}");
    Ok(())
}

/// Records which rayon thread ran each hook.
#[derive(Default)]
struct Threads {
    begin: Option<Option<usize>>,
    batches: Vec<Option<usize>>,
}

impl Callback for Threads {
    fn on_train_begin(&mut self, _ctx: &mut Context<'_>) {
        self.begin = Some(rayon::current_thread_index());
    }
    fn on_train_batch_end(&mut self, _step: usize, _logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        self.batches.push(rayon::current_thread_index());
        Control::Continue
    }
}

#[test]
fn fit_runs_its_loop_and_hooks_on_rayons_pool() -> TestResult {
    // Called from the test's own thread (outside the pool), the loop moves onto one of the
    // pool's threads for the whole fit; the results are those of a fit started inside it.
    assert_eq!(rayon::current_thread_index(), None);
    let data = linear_data(256, 3);
    let mut threads = Threads::default();
    let mut outside = Linear::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
    let from_outside = outside.fit(
        &data,
        FitOptions {
            callbacks: vec![&mut threads],
            ..silent(3, 32)
        },
    )?;
    let pool = rayon::current_num_threads();
    let first = threads.begin.ok_or("on_train_begin did not run")?;
    let first = first.ok_or("the loop ran outside rayon's pool")?;
    assert!(first < pool, "{first} of {pool}");
    assert_eq!(threads.batches.len(), 3 * 8);
    assert!(
        threads.batches.iter().all(|&t| t == Some(first)),
        "{:?}",
        threads.batches
    );

    let mut inside = Linear::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
    let from_inside = rayon::scope(|_| inside.fit(&data, silent(3, 32)))?;
    assert_eq!(from_outside.metric("loss"), from_inside.metric("loss"));
    assert_eq!(bits(outside.model().params()), bits(inside.model().params()));
    Ok(())
}

#[test]
fn fit_inside_a_pool_runs_on_the_calling_thread() -> TestResult {
    // Under `install`, the caller is already one of the pool's threads: the loop stays there.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
    let data = linear_data(128, 5);
    let (caller, threads) = pool.install(|| -> Result<_, kerust::Error> {
        let mut threads = Threads::default();
        let mut t = Linear::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
        t.fit(
            &data,
            FitOptions {
                callbacks: vec![&mut threads],
                ..silent(2, 32)
            },
        )?;
        Ok((rayon::current_thread_index(), threads))
    })?;
    assert!(caller.is_some());
    assert_eq!(threads.begin, Some(caller));
    assert!(
        threads.batches.iter().all(|&t| t == caller),
        "{:?}",
        threads.batches
    );
    Ok(())
}

/// Half the smallest normal float: subnormal, or zero where subnormals are flushed.
fn half_min() -> f32 {
    std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5)
}

/// Records, at every batch's end, whether its thread flushes subnormals.
#[derive(Default)]
struct Flushing(Vec<bool>);

impl Callback for Flushing {
    fn on_train_batch_end(&mut self, _step: usize, _logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        self.0.push(half_min() == 0.0);
        Control::Continue
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
fn hooks_run_where_subnormals_flush_and_the_caller_is_left_as_it_was() -> TestResult {
    let data = linear_data(128, 6);
    for flush in [true, false] {
        let mut seen = Flushing::default();
        let mut t = Linear::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
        t.fit(
            &data,
            FitOptions {
                callbacks: vec![&mut seen],
                flush_denormals: flush,
                ..silent(2, 32)
            },
        )?;
        assert_eq!(seen.0.len(), 8);
        // Other tests' fits may flush the pool's threads too, so only `true` is exact.
        if flush {
            assert!(seen.0.iter().all(|&f| f), "{:?}", seen.0);
        }
        assert!(half_min() > 0.0, "fit left the calling thread flushing");
    }
    Ok(())
}

/// Panics at the end of the given epoch.
struct PanicAt(usize);

impl Callback for PanicAt {
    fn on_epoch_end(&mut self, epoch: usize, _logs: &Logs, _ctx: &mut Context<'_>) -> Control {
        assert_ne!(epoch, self.0, "callback panicked on purpose");
        Control::Continue
    }
}

#[test]
fn a_panicking_callback_reaches_the_caller() {
    // The hook runs on a pool thread; its panic comes back to `fit`'s caller, not a hang.
    let data = linear_data(64, 4);
    let mut t = Linear::new(0).compile(Sgd::new(0.1), MeanSquaredError::new(), []);
    let mut panics = PanicAt(1);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.fit(
            &data,
            FitOptions {
                callbacks: vec![&mut panics],
                ..silent(3, 32)
            },
        )
    }));
    let payload = caught.expect_err("the callback's panic was lost");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("callback panicked on purpose"), "{message}");
}
