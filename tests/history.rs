//! `History` export (CSV, PNG) and the custom-loop `Workspace`.

use std::path::{Path, PathBuf};

use kerust::data::{Dataset, Target};
use kerust::losses::Targets;
use kerust::prelude::*;
use kerust::train::Workspace;

model! {
    /// A digits classifier without dropout: its steps are deterministic.
    struct Plain: Input<64> {
        hidden: Dense(32, activation = relu),
        out:    Dense(10),
    }
}

model! {
    /// A tiny regressor for the finite-difference check.
    struct Tiny: Input<3> {
        hidden: Dense(4, activation = tanh),
        out:    Dense(2),
    }
}

model! {
    /// A classifier with dropout.
    struct Dropped: Input<64> {
        hidden: Dense(16, activation = relu),
        drop:   Dropout(0.5),
        out:    Dense(10),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

fn logs(entries: &[(&str, f64)]) -> Logs {
    let mut l = Logs::default();
    for &(name, value) in entries {
        l.set(name, value);
    }
    l
}

/// Three epochs as `fit(validation_freq = 2)` records them: no validation in epoch 0.
fn synthetic() -> History {
    History {
        epochs: vec![0, 1, 2],
        logs: vec![
            logs(&[("accuracy", 0.5), ("loss", 1.25)]),
            logs(&[
                ("accuracy", 0.75),
                ("loss", 0.1),
                ("val_accuracy", 0.625),
                ("val_loss", 1e-5),
            ]),
            logs(&[
                ("accuracy", 1.0),
                ("loss", f64::NAN),
                ("val_accuracy", 2.0 / 3.0),
                ("val_loss", 3e16),
            ]),
        ],
    }
}

/// A fresh, empty directory for one test.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kerust-history-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The error's message, failing the test when there is none.
#[track_caller]
fn err_msg<T>(r: kerust::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error, got Ok"),
        Err(e) => e.to_string(),
    }
}

/// Asserts an `Error::Io` naming `path`.
#[track_caller]
fn assert_io_error<T>(r: kerust::Result<T>, path: &Path) {
    match r {
        Err(kerust::Error::Io { path: p, .. }) => assert_eq!(p, path),
        Err(e) => panic!("expected an I/O error on {}, got {e}", path.display()),
        Ok(_) => panic!("expected an I/O error on {}, got Ok", path.display()),
    }
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|v| v.to_bits()).collect()
}

// ---------------------------------------------------------------------------------------
// CSV

const SYNTHETIC_CSV: &str = "\
epoch,accuracy,loss,val_accuracy,val_loss
0,0.5,1.25,NA,NA
1,0.75,0.1,0.625,1e-05
2,1.0,nan,0.6666666666666666,3e+16
";

#[test]
fn csv_is_keras_csv_logger_format() {
    let history = synthetic();
    assert_eq!(history.names(), ["accuracy", "loss", "val_accuracy", "val_loss"]);
    let mut out = Vec::new();
    history.write_csv(&mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), SYNTHETIC_CSV);
}

#[test]
fn csv_file_matches_the_writer() {
    let dir = scratch_dir("csv");
    let path = dir.join("history.csv");
    synthetic().save_csv(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SYNTHETIC_CSV);
    // Overwrites an existing file.
    let mut one = synthetic();
    one.epochs.truncate(1);
    one.logs.truncate(1);
    one.save_csv(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "epoch,accuracy,loss\n0,0.5,1.25\n"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn csv_uses_the_epoch_numbers_of_a_resumed_fit() {
    let history = History {
        epochs: vec![5, 6],
        logs: vec![logs(&[("loss", 2.0)]), logs(&[("loss", 0.0009765625)])],
    };
    let mut out = Vec::new();
    history.write_csv(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "epoch,loss\n5,2.0\n6,0.0009765625\n"
    );
}

#[test]
fn csv_of_a_real_fit_has_one_row_per_epoch() {
    let (train, _) = kerust::datasets::digits().unwrap();
    let mut trainer = Plain::new(1).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    );
    let history = trainer
        .fit(
            &train,
            FitOptions {
                epochs: 3,
                validation_split: 0.2,
                verbose: Verbosity::Silent,
                ..Default::default()
            },
        )
        .unwrap();
    let mut out = Vec::new();
    history.write_csv(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,accuracy,loss,val_accuracy,val_loss");
    assert_eq!(lines.len(), 4);
    for (epoch, line) in lines[1..].iter().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0], epoch.to_string());
        // Every value reads back to the logged f64, bit for bit.
        for (name, field) in lines[0].split(',').zip(&fields).skip(1) {
            let logged = history.logs[epoch].get(name).unwrap();
            assert_eq!(
                field.parse::<f64>().unwrap().to_bits(),
                logged.to_bits(),
                "{name}"
            );
        }
    }
}

#[test]
fn empty_or_inconsistent_history_is_an_error() {
    let dir = scratch_dir("empty");
    let path = dir.join("empty.csv");
    let empty = History::default();
    let msg = err_msg(empty.write_csv(Vec::new()));
    assert!(msg.contains("history") && msg.contains("no epochs"), "{msg}");
    let msg = err_msg(empty.save_csv(&path));
    assert!(msg.contains("no epochs"), "{msg}");
    assert!(!path.exists(), "no file is created for an empty history");

    let mut skewed = synthetic();
    skewed.epochs.pop();
    let msg = err_msg(skewed.write_csv(Vec::new()));
    assert!(msg.contains("2 epoch numbers but 3 logs"), "{msg}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unwritable_csv_path_is_an_io_error_naming_it() {
    let dir = scratch_dir("csv-unwritable");
    let path = dir.join("missing").join("history.csv");
    assert_io_error(synthetic().save_csv(&path), &path);
    // A directory is not a file.
    assert_io_error(synthetic().save_csv(&dir), &dir);
    let msg = err_msg(synthetic().save_csv(&path));
    assert!(msg.contains("history.csv"), "{msg}");
    std::fs::remove_dir_all(dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// PNG

#[cfg(feature = "plot")]
mod png {
    use super::*;
    use kerust::train::PlotOptions;

    const TRAIN_BLUE: [u8; 3] = [31, 119, 180];
    const VAL_ORANGE: [u8; 3] = [255, 127, 14];

    /// Decodes a PNG: `(width, height, RGB pixels)`.
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG signature");
        let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, ::png::ColorType::Rgb);
        assert_eq!(info.bit_depth, ::png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn count(rgb: &[u8], color: [u8; 3]) -> usize {
        rgb.chunks_exact(3).filter(|p| *p == color).count()
    }

    #[test]
    fn png_is_written_and_decodes() {
        let dir = scratch_dir("png");
        let path = dir.join("history.png");
        synthetic().save_png(&path, &PlotOptions::default()).unwrap();
        let (w, h, rgb) = decode(&std::fs::read(&path).unwrap());
        // Two panels (loss, accuracy) side by side under an 84-pixel header.
        assert_eq!((w, h), (2 * 560, 400 + 84));
        // Both curves and the legend are drawn, on a mostly white figure.
        assert!(count(&rgb, TRAIN_BLUE) > 100, "training curves missing");
        assert!(count(&rgb, VAL_ORANGE) > 100, "validation curves missing");
        assert!(count(&rgb, [255, 255, 255]) > (w * h) as usize / 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn png_layout_follows_the_options() {
        let mut history = synthetic();
        for (i, l) in history.logs.iter_mut().enumerate() {
            l.set("mean_absolute_error", 1.0 / (i + 1) as f64);
        }
        let opts = PlotOptions {
            title: "three panels".into(),
            panel_size: (300, 200),
            columns: 2,
        };
        let mut bytes = Vec::new();
        history.write_png(&mut bytes, &opts).unwrap();
        assert_eq!(decode(&bytes).0, 600);
        assert_eq!(decode(&bytes).1, 2 * 200 + 84);

        // A single epoch without validation: one panel, still drawn.
        let one = History {
            epochs: vec![0],
            logs: vec![logs(&[("loss", 0.5)])],
        };
        let mut bytes = Vec::new();
        one.write_png(&mut bytes, &PlotOptions::default()).unwrap();
        let (w, h, rgb) = decode(&bytes);
        assert_eq!((w, h), (560, 484));
        assert!(count(&rgb, TRAIN_BLUE) > 10);
        assert_eq!(count(&rgb, VAL_ORANGE), 0, "no validation, no orange");

        // Only non-finite values: the panel says so instead of failing.
        let nan = History {
            epochs: vec![0, 1],
            logs: vec![logs(&[("loss", f64::NAN)]), logs(&[("loss", f64::INFINITY)])],
        };
        nan.write_png(Vec::new(), &PlotOptions::default()).unwrap();
    }

    #[test]
    fn png_errors() {
        let dir = scratch_dir("png-errors");
        let path = dir.join("empty.png");
        let msg = err_msg(History::default().save_png(&path, &PlotOptions::default()));
        assert!(msg.contains("history") && msg.contains("no epochs"), "{msg}");
        assert!(!path.exists(), "no file is created for an empty history");

        let missing = dir.join("missing").join("history.png");
        assert_io_error(synthetic().save_png(&missing, &PlotOptions::default()), &missing);

        let tiny = PlotOptions {
            panel_size: (10, 10),
            ..Default::default()
        };
        assert!(err_msg(synthetic().write_png(Vec::new(), &tiny)).contains("panel_size"));
        let no_columns = PlotOptions {
            columns: 0,
            ..Default::default()
        };
        assert!(err_msg(synthetic().write_png(Vec::new(), &no_columns)).contains("columns"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Workspace

/// The first `n` digits training samples.
fn digits_head(n: usize) -> Dataset {
    let (train, _) = kerust::datasets::digits().unwrap();
    train.select(&(0..n).collect::<Vec<_>>())
}

fn classes(data: &Dataset) -> &[u32] {
    match &data.y {
        Target::Classes(c) => c,
        _ => panic!("expected class labels"),
    }
}

#[test]
fn workspace_step_equals_train_on_batch_bit_for_bit() {
    // Batches below 64 samples run as one shard in the trainer (from 64 on, as two).
    for (n, seed) in [(32, 3), (63, 4), (1, 5)] {
        let batch = digits_head(n);
        let loss = SparseCategoricalCrossentropy::from_logits();
        let mut trainer = Plain::new(seed).compile(
            Sgd::new(0.1).momentum(0.9),
            SparseCategoricalCrossentropy::from_logits(),
            [],
        );
        let mut model = Plain::new(seed);
        let mut optimizer = Sgd::new(0.1).momentum(0.9);
        let mut ws = Workspace::<Plain>::new(n);
        let mut rng = Rng::new(0);
        for step in 0..3 {
            let logs = trainer.train_on_batch(&batch, None).unwrap();
            let value = ws.step(
                &model,
                &batch.x,
                Targets::Sparse(classes(&batch)),
                &loss,
                &mut rng,
            );
            assert_eq!(
                value.to_bits(),
                (logs.loss() as f32).to_bits(),
                "loss, n = {n}, step {step}"
            );
            ws.apply_gradients(&mut model, &mut optimizer);
            assert_eq!(
                bits(model.params()),
                bits(trainer.model().params()),
                "parameters after step {step}, n = {n}"
            );
        }
    }
}

#[test]
fn workspace_gradients_match_finite_differences() {
    let model = Tiny::new(7);
    let x = [0.5, -1.0, 0.25, 1.5, 0.0, -0.75, -0.2, 0.9, 0.4];
    let y = [1.0, -0.5, 0.25, 0.0, -1.0, 2.0];
    let loss = MeanSquaredError;
    let mut ws = Workspace::<Tiny>::new(3);
    let mut rng = Rng::new(0);
    ws.step(&model, &x, Targets::Dense(&y), &loss, &mut rng);
    let grads = ws.grads().params().to_vec();
    assert!(grads.iter().any(|&g| g != 0.0));

    let mut probe = Tiny::new(7);
    let eps = 1e-2_f32;
    for (k, &analytic) in grads.iter().enumerate() {
        let orig = probe.params()[k];
        probe.params_mut()[k] = orig + eps;
        let up = ws.step(&probe, &x, Targets::Dense(&y), &loss, &mut rng);
        probe.params_mut()[k] = orig - eps;
        let down = ws.step(&probe, &x, Targets::Dense(&y), &loss, &mut rng);
        probe.params_mut()[k] = orig;
        let numeric = (up - down) / (2.0 * eps);
        let tol = 2e-3 + 2e-2 * numeric.abs().max(analytic.abs());
        assert!(
            (numeric - analytic).abs() <= tol,
            "parameter {k}: backward gives {analytic}, central difference {numeric}"
        );
    }
}

#[test]
fn workspace_grows_reports_outputs_and_replaces_gradients() {
    let data = digits_head(40);
    let labels = classes(&data);
    let loss = SparseCategoricalCrossentropy::from_logits();
    let model = Plain::new(2);
    let mut ws = Workspace::<Plain>::new(4);
    assert!(ws.output().is_empty());
    let mut rng = Rng::new(0);
    // Larger than reserved: the buffers grow.
    ws.step(&model, &data.x, Targets::Sparse(labels), &loss, &mut rng);
    assert_eq!(ws.output().len(), 40 * 10);
    let predicted = model.predict(&data.x, 40).unwrap();
    for (a, b) in ws.output().iter().zip(&predicted) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
    let full = ws.grads().params().to_vec();
    // A smaller batch after it: gradients are replaced, not accumulated.
    ws.step(
        &model,
        &data.x[..64],
        Targets::Sparse(&labels[..1]),
        &loss,
        &mut rng,
    );
    let single = ws.grads().params().to_vec();
    ws.step(
        &model,
        &data.x[..64],
        Targets::Sparse(&labels[..1]),
        &loss,
        &mut rng,
    );
    assert_eq!(bits(ws.grads().params()), bits(&single));
    assert_ne!(bits(&single), bits(&full));
    assert_eq!(ws.output().len(), 10);
}

#[test]
fn workspace_dropout_follows_the_rng() {
    let data = digits_head(16);
    let labels = classes(&data);
    let loss = SparseCategoricalCrossentropy::from_logits();
    let model = Dropped::new(0);
    let mut ws = Workspace::<Dropped>::new(16);
    let a = ws.step(&model, &data.x, Targets::Sparse(labels), &loss, &mut Rng::new(9));
    let b = ws.step(&model, &data.x, Targets::Sparse(labels), &loss, &mut Rng::new(9));
    let c = ws.step(&model, &data.x, Targets::Sparse(labels), &loss, &mut Rng::new(10));
    assert_eq!(a.to_bits(), b.to_bits());
    assert_ne!(a.to_bits(), c.to_bits());
}

#[test]
#[should_panic(expected = "whole number of samples")]
fn workspace_rejects_partial_samples() {
    let mut ws = Workspace::<Tiny>::new(1);
    let loss = MeanSquaredError;
    ws.step(
        &Tiny::new(0),
        &[1.0, 2.0],
        Targets::Dense(&[0.0, 0.0]),
        &loss,
        &mut Rng::new(0),
    );
}

#[test]
#[should_panic(expected = "class labels must be below")]
fn workspace_rejects_out_of_range_labels() {
    let mut ws = Workspace::<Plain>::new(1);
    let loss = SparseCategoricalCrossentropy::from_logits();
    ws.step(
        &Plain::new(0),
        &[0.0; 64],
        Targets::Sparse(&[10]),
        &loss,
        &mut Rng::new(0),
    );
}
