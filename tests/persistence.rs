//! Persistence: weights, checkpoints and resume, NumPy files, atomic writes, and loaders
//! fed damaged or hostile files.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};

use kerust::data::{Dataset, Target};
use kerust::io::checkpoint::{checkpoint_to_bytes, read_checkpoint, CheckpointInfo};
use kerust::io::npy::{npy_to_bytes, read_npy, read_npy_bytes, write_npy, NpyArray, NpyData};
use kerust::io::npz::{
    npz_to_bytes, read_npz, read_npz_bytes, read_npz_with_limit, write_npz, write_npz_compressed,
};
use kerust::io::safetensors::TensorLayout;
use kerust::io::write_atomic;
use kerust::optim::OptimizerState;
use kerust::prelude::*;
use kerust::train::callbacks::SaveFreq;

type TestResult = std::result::Result<(), Box<dyn StdError>>;

model! {
    /// A digits classifier with batch statistics and dropout: the state a resume must carry.
    struct Net: Input<64> {
        hidden: Dense(24, activation = relu),
        bn:     BatchNormalization,
        drop:   Dropout(0.3),
        out:    Dense(10),
    }
}

model! {
    /// `Net` with a wider hidden layer.
    struct Wider: Input<64> {
        hidden: Dense(32, activation = relu),
        bn:     BatchNormalization,
        drop:   Dropout(0.3),
        out:    Dense(10),
    }
}

model! {
    /// `Net` without its batch normalisation.
    struct NoBn: Input<64> {
        hidden: Dense(24, activation = relu),
        drop:   Dropout(0.3),
        out:    Dense(10),
    }
}

model! {
    /// `Net` with one more layer.
    struct Deeper: Input<64> {
        hidden: Dense(24, activation = relu),
        bn:     BatchNormalization,
        drop:   Dropout(0.3),
        extra:  Dense(24, activation = relu),
        out:    Dense(10),
    }
}

model! {
    /// A two-tensor model, small enough to corrupt byte by byte.
    struct Tiny: Input<3> {
        out: Dense(2),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kerust-persistence-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names of the files in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|v| v.to_bits()).collect()
}

#[track_caller]
fn err_msg<T>(r: kerust::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error, got Ok"),
        Err(e) => e.to_string(),
    }
}

#[track_caller]
fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "error message {msg:?} does not mention {p:?}");
    }
}

/// safetensors bytes written by hand: `(name, dtype, shape, data)` tensors, one after
/// another, and a JSON metadata object (or none).
fn safetensors_bytes(tensors: &[(&str, &str, &[usize], &[u8])], metadata: Option<&str>) -> Vec<u8> {
    let mut header = String::from("{");
    if let Some(m) = metadata {
        header += &format!("\"__metadata__\":{m},");
    }
    let mut offset = 0;
    let mut data = Vec::new();
    for (i, (name, dtype, shape, bytes)) in tensors.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        header += &format!(
            "{sep}\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[{offset},{}]}}",
            offset + bytes.len()
        );
        offset += bytes.len();
        data.extend_from_slice(bytes);
    }
    header.push('}');
    while !header.len().is_multiple_of(8) {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

fn le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The first `n` digits.
fn digits(n: usize) -> Dataset {
    let (train, _) = kerust::datasets::digits().unwrap();
    train.select(&(0..n).collect::<Vec<_>>())
}

fn trainer(seed: u64) -> Trainer<Net, Adam, SparseCategoricalCrossentropy> {
    Net::new(seed).compile(
        Adam::default(),
        SparseCategoricalCrossentropy::from_logits(),
        [Metric::Accuracy],
    )
}

/// Shuffled, with dropout, a validation split and batches that leave a partial last one.
fn opts<'a>(initial_epoch: usize, epochs: usize) -> FitOptions<'a> {
    FitOptions {
        epochs,
        initial_epoch,
        batch_size: 48,
        shuffle: true,
        seed: 11,
        validation_split: 0.1,
        verbose: Verbosity::Silent,
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------
// 1. Weights

#[test]
fn weights_round_trip_through_a_file_with_keras_names() -> TestResult {
    let dir = scratch("weights");
    let path = dir.join("net.safetensors");
    let mut t = trainer(1);
    t.fit(&digits(200), opts(0, 1))?; // moving statistics differ from their initial values
    t.model().save_weights(&path)?;
    assert_eq!(entries(&dir), ["net.safetensors"]);

    let mut loaded = Net::new(2);
    assert_ne!(bits(loaded.params()), bits(t.model().params()));
    loaded.load_weights(&path)?;
    assert_eq!(bits(loaded.params()), bits(t.model().params()));
    let x = &digits(5).x;
    assert_eq!(bits(&loaded.predict(x, 8)?), bits(&t.model().predict(x, 8)?));

    // Bytes and file agree; the header names every tensor with its shape.
    let bytes = t.model().weights_to_bytes()?;
    assert_eq!(std::fs::read(&path)?, bytes);
    let n = u64::from_le_bytes(bytes[..8].try_into()?) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n])?;
    for (name, shape) in [
        ("hidden/kernel", "[64,24]"),
        ("hidden/bias", "[24]"),
        ("bn/gamma", "[24]"),
        ("bn/beta", "[24]"),
        ("bn/moving_mean", "[24]"),
        ("bn/moving_variance", "[24]"),
        ("out/kernel", "[24,10]"),
        ("out/bias", "[10]"),
    ] {
        assert_mentions(
            header,
            &[&format!("\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape}")],
        );
    }
    assert_mentions(header, &["\"kerust\":\"weights\"", "\"model\":\"Net\""]);
    let layout = TensorLayout::of::<Net>();
    assert_eq!(layout.tensors().len(), 8);
    assert_eq!(layout.param_count(), Net::PARAM_COUNT);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn weights_of_another_tool_load_in_any_order_without_metadata() -> TestResult {
    // Tensors in reverse order, no `__metadata__`: only names, shapes and dtypes count.
    let kernel = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let bytes = safetensors_bytes(
        &[
            ("out/bias", "F32", &[2], &le(&[0.5, -0.5])),
            ("out/kernel", "F32", &[3, 2], &le(&kernel)),
        ],
        None,
    );
    let mut m = Tiny::new(0);
    m.load_weights_from_bytes(&bytes)?;
    assert_eq!(m.params(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, -0.5]);
    assert_eq!(m.forward(&[1.0, 0.0, 0.0]), [1.5, 1.5]);
    Ok(())
}

#[test]
fn every_mismatch_names_the_tensor_and_both_shapes() -> TestResult {
    let net = Net::new(1).weights_to_bytes()?;

    // Another shape.
    let mut wider = Wider::new(0);
    let before = bits(wider.params());
    assert_eq!(
        err_msg(wider.load_weights_from_bytes(&net)),
        "shape mismatch for `hidden/kernel`: expected [64, 32], found [64, 24]"
    );
    assert_eq!(bits(wider.params()), before);

    // A tensor the model lacks in the file.
    assert_eq!(
        err_msg(Deeper::new(0).load_weights_from_bytes(&net)),
        "missing tensor `extra/kernel`: the model expects shape [24, 24] (F32), the file has no such tensor"
    );

    // A tensor in the file the model lacks.
    assert_eq!(
        err_msg(NoBn::new(0).load_weights_from_bytes(&net)),
        "unexpected tensor `bn/beta` with shape [24]: the model has no such parameter"
    );

    // Another dtype.
    let f64_kernel = safetensors_bytes(
        &[
            ("out/kernel", "F64", &[3, 2], &[0u8; 48]),
            ("out/bias", "F32", &[2], &[0u8; 8]),
        ],
        None,
    );
    assert_eq!(
        err_msg(Tiny::new(0).load_weights_from_bytes(&f64_kernel)),
        "dtype mismatch for `out/kernel`: expected F32 with shape [3, 2], found F64"
    );

    // Through a file, the error is the same and the model is unchanged.
    let dir = scratch("mismatch");
    let path = dir.join("net.safetensors");
    Net::new(1).save_weights(&path)?;
    let mut wider = Wider::new(0);
    let before = bits(wider.params());
    let e = wider.load_weights(&path).unwrap_err();
    assert!(
        matches!(&e, Error::ShapeMismatch { name, expected, found }
            if name == "hidden/kernel" && expected == &[64, 32] && found == &[64, 24]),
        "{e}"
    );
    assert_eq!(bits(wider.params()), before);
    // A missing file is an I/O error naming it.
    let e = Net::new(0)
        .load_weights(dir.join("none.safetensors"))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Io { path, .. } if path.ends_with("none.safetensors")),
        "{e}"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn damaged_weights_files_are_errors_never_panics() -> TestResult {
    let good = Tiny::new(3).weights_to_bytes()?;
    // Every truncation.
    for len in 0..good.len() {
        let mut m = Tiny::new(0);
        let before = bits(m.params());
        assert!(
            m.load_weights_from_bytes(&good[..len]).is_err(),
            "truncated to {len}"
        );
        assert_eq!(bits(m.params()), before);
    }
    // Trailing bytes.
    let mut long = good.clone();
    long.push(0);
    assert_mentions(
        &err_msg(Tiny::new(0).load_weights_from_bytes(&long)),
        &["safetensors"],
    );
    // Every single-byte change of the header, several values each: an error or, where the
    // change is harmless (spaces, digits of data), a load; never a panic.
    let n = 8 + u64::from_le_bytes(good[..8].try_into()?) as usize;
    for i in 0..n {
        for v in [0u8, b'"', b'9', b'{', 0xFF] {
            let mut bad = good.clone();
            bad[i] = v;
            let _ = Tiny::new(0).load_weights_from_bytes(&bad);
        }
    }
    // Hostile sizes.
    let huge_header = [u64::MAX.to_le_bytes().to_vec(), vec![b'{'; 8]].concat();
    assert_mentions(
        &err_msg(Tiny::new(0).load_weights_from_bytes(&huge_header)),
        &["more than the limit"],
    );
    let huge_shape = safetensors_bytes(&[("out/kernel", "F32", &[1 << 40, 1 << 40], &[])], None);
    assert_mentions(
        &err_msg(Tiny::new(0).load_weights_from_bytes(&huge_shape)),
        &["invalid safetensors data"],
    );
    let lying_offsets = b"\x40\x00\x00\x00\x00\x00\x00\x00{\"out/kernel\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}}";
    assert!(Tiny::new(0).load_weights_from_bytes(lying_offsets).is_err());
    Ok(())
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() -> TestResult {
    let dir = scratch("oversized");
    let path = dir.join("big.safetensors");
    // Sparse: 1 GiB long, no disk used.
    let f = std::fs::File::create(&path)?;
    f.set_len(1 << 30)?;
    drop(f);
    assert_mentions(
        &err_msg(Tiny::new(0).load_weights(&path)),
        &["big.safetensors", "1073741824 bytes", "at most"],
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. Checkpoints and resume

#[test]
fn resumed_training_is_bit_identical_to_uninterrupted_training() -> TestResult {
    let data = digits(300);
    let dir = scratch("resume");
    let path = dir.join("ckpt.safetensors");

    let mut straight = trainer(5);
    let h_straight = straight.fit(&data, opts(0, 4))?;

    let mut first = trainer(5);
    first.fit(&data, opts(0, 2))?;
    first.save_checkpoint(&path, 2)?;
    // A fresh trainer from other initial weights.
    let mut resumed = trainer(99);
    let info = resumed.load_checkpoint(&path)?;
    assert_eq!((info.epoch, info.seed, info.optimizer.as_str()), (2, 11, "adam"));
    assert_eq!(info.steps, first.steps_done());
    assert_eq!(info.steps, 2 * 6); // 270 training samples in batches of 48
    assert_eq!(resumed.optimizer().state(), first.optimizer().state());
    let h_resumed = resumed.fit(
        &data,
        FitOptions {
            seed: info.seed,
            ..opts(info.epoch, 4)
        },
    )?;

    assert_eq!(bits(resumed.model().params()), bits(straight.model().params()));
    assert_eq!(resumed.optimizer().state(), straight.optimizer().state());
    assert_eq!(resumed.steps_done(), straight.steps_done());
    assert_eq!(h_resumed.epochs, [2, 3]);
    assert_eq!(h_resumed.logs, h_straight.logs[2..]);

    // Without the step count the dropout masks differ: the resume would not be exact.
    let mut no_steps = trainer(99);
    let bytes = std::fs::read(&path)?;
    let ckpt = read_checkpoint(&TensorLayout::of::<Net>(), &bytes)?;
    no_steps.model_mut().params_mut().copy_from_slice(&ckpt.params);
    no_steps.optimizer_mut().load_state(ckpt.optimizer)?;
    no_steps.fit(&data, opts(2, 4))?;
    assert_ne!(bits(no_steps.model().params()), bits(straight.model().params()));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn model_checkpoint_writes_resumable_checkpoints() -> TestResult {
    let data = digits(300);
    let dir = scratch("callback");
    let mut straight = trainer(5);
    straight.fit(&data, opts(0, 4))?;

    // Every epoch, through the callback, with `{epoch}` from 1 as in Keras.
    let template = dir.join("run/ckpt-{epoch:02d}.safetensors");
    let mut checkpoint = ModelCheckpoint::to_path::<Net>(template.to_str().ok_or("path")?);
    let mut first = trainer(5);
    first.fit(
        &data,
        FitOptions {
            callbacks: vec![&mut checkpoint],
            ..opts(0, 2)
        },
    )?;
    assert_eq!(checkpoint.error().map(ToString::to_string), None);
    assert_eq!(
        entries(&dir.join("run")),
        ["ckpt-01.safetensors", "ckpt-02.safetensors"]
    );
    assert_eq!(
        checkpoint.last_path(),
        Some(dir.join("run/ckpt-02.safetensors").as_path())
    );
    // The callback's file is the trainer's own checkpoint.
    assert_eq!(
        std::fs::read(dir.join("run/ckpt-02.safetensors"))?,
        first.checkpoint_to_bytes(2)?
    );

    let mut resumed = trainer(0);
    let info = resumed.load_checkpoint(dir.join("run/ckpt-02.safetensors"))?;
    assert_eq!(info.epoch, 2);
    resumed.fit(&data, opts(info.epoch, 4))?;
    assert_eq!(bits(resumed.model().params()), bits(straight.model().params()));

    // A checkpoint's weights load as weights.
    let mut m = Net::new(0);
    m.load_weights(dir.join("run/ckpt-02.safetensors"))?;
    assert_eq!(bits(m.params()), bits(first.model().params()));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn model_checkpoint_save_best_only_with_log_fields_and_weights_only() -> TestResult {
    let data = digits(200);
    let dir = scratch("best");
    let template = dir.join("w-{epoch}-{val_loss:.4f}.safetensors");
    let mut checkpoint = ModelCheckpoint::to_path::<Net>(template.to_str().ok_or("path")?)
        .monitor("val_loss")
        .save_best_only(true)
        .save_weights_only(true);
    let mut t = trainer(3);
    let history = t.fit(
        &data,
        FitOptions {
            validation_split: 0.2,
            callbacks: vec![&mut checkpoint],
            ..opts(0, 5)
        },
    )?;
    // One file per improvement of val_loss, named with its value.
    let mut best = f64::INFINITY;
    let mut expected = Vec::new();
    for (epoch, v) in history.metric("val_loss").into_iter().enumerate() {
        if v < best {
            best = v;
            expected.push(format!("w-{}-{v:.4}.safetensors", epoch + 1));
        }
    }
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(entries(&dir), expected);
    assert_eq!(checkpoint.best(), Some(best));
    // Weights only: `load_weights` takes them, `load_checkpoint` refuses them.
    let last = checkpoint.last_path().ok_or("no file")?.to_path_buf();
    Net::new(0).load_weights(&last)?;
    assert_mentions(
        &err_msg(trainer(0).load_checkpoint(&last)),
        &["weights file, not a checkpoint", "load_weights"],
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn model_checkpoint_stops_training_when_it_cannot_save() -> TestResult {
    let data = digits(100);
    let dir = scratch("cannot");
    // A field that is not in the logs.
    let mut checkpoint = ModelCheckpoint::to_path::<Net>(format!("{}/c-{{nope}}.safetensors", dir.display()));
    let history = trainer(0).fit(
        &data,
        FitOptions {
            callbacks: vec![&mut checkpoint],
            ..opts(0, 3)
        },
    )?;
    assert_eq!(history.epochs, [0]);
    assert_mentions(
        &checkpoint.error().ok_or("no error")?.to_string(),
        &["filepath", "{nope}", "neither epoch, batch nor in the logs"],
    );
    // A directory where the file should be.
    std::fs::create_dir_all(dir.join("c-1.safetensors"))?;
    let mut checkpoint =
        ModelCheckpoint::to_path::<Net>(format!("{}/c-{{epoch}}.safetensors", dir.display()));
    trainer(0).fit(
        &data,
        FitOptions {
            callbacks: vec![&mut checkpoint],
            ..opts(0, 2)
        },
    )?;
    assert!(
        matches!(checkpoint.error(), Some(Error::Io { .. })),
        "{:?}",
        checkpoint.error()
    );
    assert_eq!(entries(&dir), ["c-1.safetensors"]); // no temporary file left
                                                    // Batch saves fill `{batch}` and record the epoch they are inside as not done.
    let mut checkpoint =
        ModelCheckpoint::to_path::<Net>(format!("{}/b-{{epoch}}-{{batch:03d}}.safetensors", dir.display()))
            .save_freq(SaveFreq::Batches(2));
    let mut t = trainer(0);
    t.fit(
        &data,
        FitOptions {
            callbacks: vec![&mut checkpoint],
            ..opts(0, 1)
        },
    )?;
    assert_eq!(
        checkpoint.last_path(),
        Some(dir.join("b-1-002.safetensors").as_path())
    );
    let info = trainer(0).load_checkpoint(dir.join("b-1-002.safetensors"))?;
    assert_eq!((info.epoch, info.steps), (0, 2));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn checkpoint_round_trip_keeps_every_field() -> TestResult {
    let layout = TensorLayout::of::<Tiny>();
    let params: Vec<f32> = (0..8).map(|i| i as f32 * 0.5).collect();
    let state = OptimizerState {
        iterations: 7,
        slots: vec![
            ("momentum".into(), vec![1.0; 8]),
            ("velocity".into(), vec![2.0; 8]),
        ],
    };
    let info = CheckpointInfo {
        epoch: 3,
        steps: 21,
        seed: u64::MAX,
        optimizer: "adam".into(),
        iterations: 7,
        learning_rate: 0.1 + 0.2,
        model: "Tiny".into(),
    };
    let bytes = checkpoint_to_bytes(&layout, &params, &state, &info)?;
    let c = read_checkpoint(&layout, &bytes)?;
    assert_eq!(c.info, info);
    assert_eq!(c.info.learning_rate.to_bits(), info.learning_rate.to_bits());
    assert_eq!(c.params, params);
    assert_eq!(c.optimizer, state);
    Ok(())
}

#[test]
fn checkpoint_errors_leave_the_trainer_as_it_was() -> TestResult {
    let data = digits(100);
    let mut adam = trainer(1);
    adam.fit(&data, opts(0, 1))?;
    let ckpt = adam.checkpoint_to_bytes(1)?;

    // Another optimizer.
    let mut sgd = Net::new(0).compile(Sgd::new(0.1), SparseCategoricalCrossentropy::from_logits(), []);
    let before = bits(sgd.model().params());
    assert_eq!(
        err_msg(sgd.load_checkpoint_from_bytes(&ckpt)),
        "invalid argument `checkpoint`: saved with optimizer `adam`, the trainer has `SGD`"
    );
    assert_eq!(bits(sgd.model().params()), before);
    assert_eq!(sgd.steps_done(), 0);

    // Another optimizer configuration (amsgrad keeps a third slot).
    let mut ams = Net::new(0).compile(
        Adam::default().amsgrad(true),
        SparseCategoricalCrossentropy::from_logits(),
        [],
    );
    assert_mentions(
        &err_msg(ams.load_checkpoint_from_bytes(&ckpt)),
        &["adam", "velocity_hat"],
    );

    // Another model.
    assert_eq!(
        err_msg(
            Wider::new(0)
                .compile(Adam::default(), SparseCategoricalCrossentropy::from_logits(), [])
                .load_checkpoint_from_bytes(&ckpt)
        ),
        "shape mismatch for `hidden/kernel`: expected [64, 32], found [64, 24]"
    );

    // Hand-made checkpoints of `Tiny`: wrong slot shape, wrong slot dtype, extra tensors,
    // missing or bad metadata.
    let meta = r#"{"kerust":"checkpoint","version":"1","epoch":"1","steps":"2","seed":"3","optimizer":"SGD","iterations":"2","learning_rate":"0.1"}"#;
    let k = le(&[0.0; 6]);
    let b = le(&[0.0; 2]);
    let tiny = |extra: &[(&str, &str, &[usize], &[u8])], meta: &str| {
        let mut t: Vec<(&str, &str, &[usize], &[u8])> =
            vec![("out/kernel", "F32", &[3, 2], &k), ("out/bias", "F32", &[2], &b)];
        t.extend_from_slice(extra);
        let mut tr = Tiny::new(0).compile(Sgd::new(0.1).momentum(0.9), MeanSquaredError::new(), []);
        let before = bits(tr.model().params());
        let r = tr.load_checkpoint_from_bytes(&safetensors_bytes(&t, Some(meta)));
        if r.is_err() {
            assert_eq!(bits(tr.model().params()), before);
            assert_eq!(tr.steps_done(), 0);
        }
        r
    };
    let slot = le(&[1.0; 8]);
    let info = tiny(&[("optimizer/momentum", "F32", &[8], &slot)], meta)?;
    assert_eq!((info.epoch, info.steps, info.seed, info.iterations), (1, 2, 3, 2));
    assert_eq!(
        err_msg(tiny(&[("optimizer/momentum", "F32", &[4], &slot[..16])], meta)),
        "shape mismatch for `optimizer/momentum`: expected [8], found [4]"
    );
    assert_eq!(
        err_msg(tiny(&[("optimizer/momentum", "I32", &[8], &slot)], meta)),
        "dtype mismatch for `optimizer/momentum`: expected F32 with shape [8], found I32"
    );
    assert_eq!(
        err_msg(tiny(&[("rng/state", "F32", &[2], &b)], meta)),
        "unexpected tensor `rng/state` with shape [2]: the model has no such parameter"
    );
    assert_mentions(
        &err_msg(tiny(&[("optimizer/velocity", "F32", &[8], &slot)], meta)),
        &["SGD", "momentum", "velocity"],
    );
    let many: Vec<String> = (0..9).map(|i| format!("optimizer/s{i}")).collect();
    let many: Vec<(&str, &str, &[usize], &[u8])> = many
        .iter()
        .map(|n| (n.as_str(), "F32", &[8][..], &slot[..]))
        .collect();
    assert_mentions(&err_msg(tiny(&many, meta)), &["9 optimizer slots, at most 8"]);
    assert_mentions(
        &err_msg(tiny(&[], r#"{"kerust":"weights"}"#)),
        &["weights file, not a checkpoint"],
    );
    assert_mentions(
        &err_msg(tiny(&[], r#"{"format":"pt"}"#)),
        &["no kerust checkpoint"],
    );
    for (key, bad, want) in [
        (
            "\"version\":\"1\"",
            "\"version\":\"2\"",
            "version \"2\" is not supported",
        ),
        (
            "\"epoch\":\"1\"",
            "\"epoch\":\"-1\"",
            "`epoch` is not a whole number",
        ),
        ("\"steps\":\"2\",", "", "lacks `steps`"),
        (
            "\"learning_rate\":\"0.1\"",
            "\"learning_rate\":\"fast\"",
            "`learning_rate` is not a number",
        ),
        (
            "\"optimizer\":\"SGD\"",
            "\"optimizer\":\"\"",
            "`optimizer` is empty",
        ),
    ] {
        assert_mentions(&err_msg(tiny(&[], &meta.replace(key, bad))), &[want]);
    }
    Ok(())
}

#[test]
fn damaged_checkpoints_are_errors_never_panics() -> TestResult {
    let mut t = Tiny::new(0).compile(Adam::default(), MeanSquaredError::new(), []);
    let data = Dataset::new(
        vec![0.5; 12],
        &[3],
        Target::Values {
            data: vec![1.0; 8],
            width: 2,
        },
    )?;
    t.fit(
        &data,
        FitOptions {
            verbose: Verbosity::Silent,
            ..Default::default()
        },
    )?;
    let good = t.checkpoint_to_bytes(1)?;
    for len in 0..good.len() {
        assert!(
            t.load_checkpoint_from_bytes(&good[..len]).is_err(),
            "truncated to {len}"
        );
    }
    let mut rng = Rng::new(1);
    for _ in 0..2000 {
        let mut bad = good.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bad.len() as u64) as usize;
            bad[i] = rng.next_u64() as u8;
        }
        let _ = t.load_checkpoint_from_bytes(&bad);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. Atomic writes

#[test]
fn a_failed_save_leaves_the_previous_checkpoint_intact() -> TestResult {
    let data = digits(100);
    let dir = scratch("atomic");
    let path = dir.join("ckpt.safetensors");
    let mut t = trainer(1);
    t.fit(&data, opts(0, 1))?;
    t.save_checkpoint(&path, 1)?;
    let saved = std::fs::read(&path)?;
    let params_at_1 = t.model().params().to_vec();

    t.fit(&data, opts(1, 2))?;
    let newer = t.checkpoint_to_bytes(2)?;
    // The disk fills up halfway through the newer checkpoint.
    let e = write_atomic(&path, |f| {
        std::io::Write::write_all(f, &newer[..newer.len() / 2])?;
        Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "no space left on device",
        ))
    })
    .unwrap_err();
    assert_mentions(&e.to_string(), &["ckpt.safetensors", "no space left"]);
    assert_eq!(std::fs::read(&path)?, saved);
    assert_eq!(entries(&dir), ["ckpt.safetensors"]);
    let mut back = trainer(0);
    assert_eq!(back.load_checkpoint(&path)?.epoch, 1);
    assert_eq!(bits(back.model().params()), bits(&params_at_1));

    // A save that cannot even create its temporary file (no such directory) changes nothing.
    let e = t
        .save_checkpoint(dir.join("missing/ckpt.safetensors"), 2)
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    // A save whose rename fails (a directory is in the way) leaves no temporary file.
    std::fs::create_dir(dir.join("taken"))?;
    assert!(t.save_checkpoint(dir.join("taken"), 2).is_err());
    assert_eq!(entries(&dir), ["ckpt.safetensors", "taken"]);

    // A save that succeeds replaces the file whole.
    t.save_checkpoint(&path, 2)?;
    assert_eq!(std::fs::read(&path)?, newer);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. NumPy

#[test]
fn npy_round_trips_every_dtype() -> TestResult {
    let dir = scratch("npy");
    let arrays = [
        NpyArray::new(
            &[2, 3],
            vec![1.5f32, -2.0, 0.0, f32::MAX, f32::MIN_POSITIVE, -0.0],
        )?,
        NpyArray::new(&[3], vec![1e300f64, -1.0, 0.5])?,
        NpyArray::new(&[2, 1, 2], vec![i32::MIN, -1, 0, i32::MAX])?,
        NpyArray::new(&[2], vec![i64::MIN, i64::MAX])?,
        NpyArray::new(&[4, 2], (0u8..8).collect::<Vec<_>>())?,
        NpyArray::new(&[], vec![42i64])?,
        NpyArray::new(&[0, 5], Vec::<f32>::new())?,
    ];
    for (i, a) in arrays.iter().enumerate() {
        let path = dir.join(format!("a{i}.npy"));
        write_npy(&path, a)?;
        let bytes = std::fs::read(&path)?;
        assert_eq!(bytes, npy_to_bytes(a)?);
        // NumPy's layout: the values start at a multiple of 64 bytes.
        assert_eq!(
            (10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))) % 64,
            0
        );
        assert_eq!(&read_npy(&path)?, a);
        assert_eq!(&read_npy_bytes(&bytes)?, a);
    }
    // Conversions.
    assert_eq!(arrays[1].to_f32(), [f32::INFINITY, -1.0, 0.5]);
    assert_eq!(arrays[4].to_labels()?, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert_mentions(
        &err_msg(arrays[0].to_labels()),
        &["float32 values are not class labels"],
    );
    assert_mentions(&err_msg(arrays[2].to_labels()), &["label 0 is -2147483648"]);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// `.npy` bytes with a literal header (padded as NumPy pads it) and values.
fn npy_literal(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn npy_reads_big_endian_and_rejects_fortran_order_and_damage() -> TestResult {
    let be = npy_literal(
        "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }",
        &[
            0, 0, 0, 0, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        ],
    );
    assert_eq!(read_npy_bytes(&be)?.data, NpyData::I64(vec![7, -2]));
    let be_f8 = npy_literal(
        "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
        &2.5f64.to_be_bytes(),
    );
    assert_eq!(read_npy_bytes(&be_f8)?.data, NpyData::F64(vec![2.5]));

    let fortran = npy_literal(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
        &[0; 16],
    );
    assert_mentions(
        &err_msg(read_npy_bytes(&fortran)),
        &["invalid NPY data", "Fortran-ordered", "C-ordered"],
    );
    let pickled = npy_literal(
        "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
        &[0; 8],
    );
    assert_mentions(
        &err_msg(read_npy_bytes(&pickled)),
        &["dtype \"|O\" is not supported"],
    );

    let good = npy_to_bytes(&NpyArray::new(&[3, 2], vec![1.0f32; 6])?)?;
    for len in 0..good.len() {
        assert!(read_npy_bytes(&good[..len]).is_err(), "truncated to {len}");
    }
    let mut rng = Rng::new(2);
    for _ in 0..3000 {
        let mut bad = good[..good.len() - 8].to_vec();
        let i = rng.below(bad.len() as u64) as usize;
        bad[i] = rng.next_u64() as u8;
        let _ = read_npy_bytes(&bad);
    }
    // A header declaring far more than the file holds: refused before allocation.
    let liar = npy_literal(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (10000, 10000), }",
        &[0; 8],
    );
    assert_mentions(
        &err_msg(read_npy_bytes(&liar)),
        &["800000000 bytes) but 8 bytes follow"],
    );
    Ok(())
}

#[test]
fn dataset_from_npy_files() -> TestResult {
    let dir = scratch("dataset");
    let (x, y, yv) = (dir.join("x.npy"), dir.join("y.npy"), dir.join("yv.npy"));
    write_npy(&x, &NpyArray::new(&[3, 2, 2], (0u8..12).collect::<Vec<_>>())?)?;
    write_npy(&y, &NpyArray::new(&[3], vec![2i32, 0, 1])?)?;
    write_npy(
        &yv,
        &NpyArray::new(&[3, 2], vec![0.5f64, 1.0, 1.5, 2.0, 2.5, 3.0])?,
    )?;
    let ds = Dataset::from_npy(&x, &y)?;
    assert_eq!(ds.sample_shape, [2, 2]);
    assert_eq!(ds.x, (0..12).map(|v| v as f32).collect::<Vec<_>>());
    assert_eq!(ds.y, Target::Classes(vec![2, 0, 1]));
    let ds = Dataset::from_npy(&x, &yv)?;
    assert_eq!(
        ds.y,
        Target::Values {
            data: vec![0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
            width: 2
        }
    );
    let short = dir.join("short.npy");
    write_npy(&short, &NpyArray::new(&[2], vec![0u8, 1])?)?;
    assert_mentions(
        &err_msg(Dataset::from_npy(&x, &short)),
        &["x holds 3 samples but y 2"],
    );
    let neg = dir.join("neg.npy");
    write_npy(&neg, &NpyArray::new(&[3], vec![0i64, -1, 1])?)?;
    assert_mentions(&err_msg(Dataset::from_npy(&x, &neg)), &["label 1 is -1"]);
    assert!(matches!(
        Dataset::from_npy(dir.join("none.npy"), &y),
        Err(Error::Io { .. })
    ));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn npz_round_trips_stored_and_compressed_and_carries_weights() -> TestResult {
    let dir = scratch("npz");
    let x = NpyArray::new(&[2, 3], vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    let y = NpyArray::new(&[2], vec![1u8, 0])?;
    for compressed in [false, true] {
        let path = dir.join(format!("d{compressed}.npz"));
        if compressed {
            write_npz_compressed(&path, [("x", &x), ("y", &y)])?;
        } else {
            write_npz(&path, [("x", &x), ("y", &y)])?;
        }
        let arrays = read_npz(&path)?;
        assert_eq!(arrays.keys().collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!((&arrays["x"], &arrays["y"]), (&x, &y));
        assert_eq!(read_npz_bytes(&std::fs::read(&path)?)?, arrays);
    }

    // A model's weights as an .npz of `layer/param` arrays, and back.
    let model = Net::new(4);
    let layout = TensorLayout::of::<Net>();
    let arrays: Vec<(String, NpyArray)> = layout
        .tensors()
        .iter()
        .map(|t| {
            let a = NpyArray::new(&t.shape, model.params()[t.range.clone()].to_vec());
            (t.name.clone(), a.unwrap())
        })
        .collect();
    let path = dir.join("weights.npz");
    write_npz(&path, arrays.iter().map(|(n, a)| (n.as_str(), a)))?;
    let back = read_npz(&path)?;
    let mut restored = Net::new(0);
    for t in layout.tensors() {
        assert_eq!(back[&t.name].shape, t.shape);
        restored.params_mut()[t.range.clone()].copy_from_slice(&back[&t.name].to_f32());
    }
    assert_eq!(bits(restored.params()), bits(model.params()));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn npz_zip_bombs_and_damage_are_errors() -> TestResult {
    let dir = scratch("bomb");
    // 64 MiB of zeros deflate to about 64 KiB.
    let zeros = NpyArray::new(&[1 << 24], vec![0.0f32; 1 << 24])?;
    let path = dir.join("bomb.npz");
    write_npz_compressed(&path, [("zeros", &zeros)])?;
    assert!(std::fs::metadata(&path)?.len() < 1 << 20);
    assert_mentions(
        &err_msg(read_npz_with_limit(&path, 1 << 20)),
        &[
            "bomb.npz",
            "entry `zeros.npy` holds 67108992 bytes",
            "at most 1048576",
        ],
    );
    assert_eq!(read_npz_with_limit(&path, 1 << 27)?["zeros"].len(), 1 << 24);

    // An entry whose .npy header claims more than the entry holds.
    let liar = npy_literal(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }",
        &[0; 4],
    );
    let mut zip_bytes = npz_to_bytes([("a", &NpyArray::new(&[1], vec![0.0f32])?)], false)?;
    let at = zip_bytes
        .windows(6)
        .position(|w| w == b"\x93NUMPY")
        .ok_or("no npy")?;
    zip_bytes.splice(at..at + liar.len(), liar.iter().copied());
    assert_mentions(&err_msg(read_npz_bytes(&zip_bytes)), &["entry `a.npy`"]);

    // Truncations and byte changes of a compressed archive.
    let good = npz_to_bytes([("x", &NpyArray::new(&[4], vec![1i32, 2, 3, 4])?)], true)?;
    for len in 0..good.len() {
        assert!(read_npz_bytes(&good[..len]).is_err(), "truncated to {len}");
    }
    let mut rng = Rng::new(3);
    for _ in 0..3000 {
        let mut bad = good.clone();
        let i = rng.below(bad.len() as u64) as usize;
        bad[i] ^= 1 << rng.below(8);
        let _ = read_npz_bytes(&bad);
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
