//! The `kerust` binary on Keras 3 files (`keras/tests/configs`) and kerust's own weights.

mod common;

use std::path::{Path, PathBuf};

use common::{path, row, run};

fn configs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../keras/tests/configs")
        .join(name)
}

#[test]
fn inspect_keras_prints_kerass_shapes_and_counts() {
    let (ok, out, err) = run(&["inspect", path(&configs("cnn.keras"))]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Model: \"cnn\" (input (None, 12, 12, 1))\n"),
        "{out}"
    );
    // Keras 3.15's summary of the same model: shapes and counts.
    assert_eq!(
        row(&out, "conv (Conv2D)"),
        ["conv (Conv2D)", "(None, 10, 10, 4)", "40"]
    );
    assert_eq!(
        row(&out, "pool (MaxPooling2D)"),
        ["pool (MaxPooling2D)", "(None, 5, 5, 4)", "0"]
    );
    assert_eq!(row(&out, "norm (BatchNormalization)")[2], "16");
    assert_eq!(
        row(&out, "logits (Dense)"),
        ["logits (Dense)", "(None, 5)", "505"]
    );
    assert!(
        out.contains(" Total params: 561\n Trainable params: 553\n Non-trainable params: 8\n"),
        "{out}"
    );
}

#[test]
fn codegen_prints_the_model_declaration() {
    let (ok, out, err) = run(&["codegen", path(&configs("cnn.keras"))]);
    assert!(ok, "{err}");
    assert!(out.contains("pub struct Cnn: Input<12, 12, 1> {\n"), "{out}");
    for line in [
        "        conv: Conv2D(4, (3, 3), activation = relu),\n",
        "        pool: MaxPooling2D((2, 2)),\n",
        "        norm: BatchNormalization,\n",
        "        flat: Flatten,\n",
        "        logits: Dense(5),\n",
        "        probs: Softmax,\n",
    ] {
        assert!(out.contains(line), "{line} in\n{out}");
    }
    let (ok, out, _) = run(&["codegen", path(&configs("mlp.keras")), "--name", "Classifier"]);
    assert!(ok);
    assert!(out.contains("pub struct Classifier: Input<8> {"), "{out}");
    let (ok, _, err) = run(&["codegen", path(&configs("mlp.keras")), "--name", "not a name"]);
    assert!(!ok);
    assert_eq!(
        err,
        "error: `--name not a name` is not a Rust type name; use letters, digits and `_`, such as `Mnist`\n"
    );
}

#[test]
fn unsupported_layers_are_named() {
    for command in ["inspect", "codegen"] {
        let (ok, out, err) = run(&[command, path(&configs("lstm.json"))]);
        assert!(!ok && out.is_empty());
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            err.contains("layer `rnn` (LSTM): the layer class `LSTM` is not supported by kerust"),
            "{err}"
        );
    }
    let (ok, _, err) = run(&["codegen", path(&configs("lambda.json"))]);
    assert!(!ok);
    assert!(
        err.contains("refused: Lambda layers hold Python code, which kerust never runs"),
        "{err}"
    );
}

#[test]
fn bad_files_are_errors() {
    let (ok, _, err) = run(&["inspect", "no/such/model.keras"]);
    assert!(!ok);
    assert!(err.starts_with("error: no/such/model.keras: "), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.keras");
    std::fs::write(&fake, b"PK\x03\x04 not really a zip").unwrap();
    let (ok, _, err) = run(&["inspect", path(&fake)]);
    assert!(!ok);
    assert!(err.contains("invalid .keras archive"), "{err}");
    let odd = dir.path().join("weights.bin");
    std::fs::write(&odd, b"").unwrap();
    let (ok, _, err) = run(&["inspect", path(&odd)]);
    assert!(!ok);
    assert!(err.contains("unknown file type `.bin`"), "{err}");
    let (ok, _, err) = run(&["frobnicate"]);
    assert!(!ok);
    assert!(err.contains("unrecognized subcommand 'frobnicate'"), "{err}");
}

kerust::model! {
    struct Net: Input<4> {
        hidden: Dense(8, activation = relu),
        norm: BatchNormalization,
        out: Dense(2),
    }
}

#[test]
fn inspect_safetensors_lists_the_tensors() {
    use kerust::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("net.safetensors");
    Net::new(1).save_weights(&file).unwrap();
    let (ok, out, err) = run(&["inspect", path(&file)]);
    assert!(ok, "{err}");
    assert_eq!(
        row(&out, "hidden/kernel"),
        ["hidden/kernel", "F32", "(4, 8)", "32"]
    );
    assert_eq!(
        row(&out, "norm/moving_variance"),
        ["norm/moving_variance", "F32", "(8,)", "8"]
    );
    assert_eq!(row(&out, "out/bias"), ["out/bias", "F32", "(2,)", "2"]);
    assert!(out.contains(" Tensors: 8\n"), "{out}");
    assert!(
        out.contains(&format!(" Total params: {}\n", Net::PARAM_COUNT)),
        "{out}"
    );
    assert!(out.contains(" Metadata model: Net\n"), "{out}");
    // A header length beyond the file.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&file, &bytes).unwrap();
    let (ok, _, err) = run(&["inspect", path(&file)]);
    assert!(!ok);
    assert!(
        err.contains("not a safetensors file: a header of 18446744073709551615 bytes"),
        "{err}"
    );
}
