//! `kerust convert` and `kerust inspect` on the Keras 3 fixtures of kerust-keras
//! (`keras/tests/fixtures`, written by Keras 3.15.1 with `make_fixtures.py`): the converted
//! safetensors file loads with kerust's own loader into the model that `keras_model!`
//! declares from the same `.keras` file, and reproduces Keras's outputs to within
//! [`TOLERANCE`].

mod common;

use std::path::Path;

use common::{path, row, run};

use kerust::io::npy::read_npy;
use kerust::prelude::*;
use kerust::{keras_model, Model};

/// The largest difference accepted between kerust's and Keras's outputs.
const TOLERANCE: f32 = 1e-5;

/// The path of a kerust-keras fixture, as an argument.
fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../keras/tests/fixtures");
    path(&p.join(name)).to_string()
}

/// Runs `kerust args...`, which must fail, and returns its error message.
fn refused(args: &[&str]) -> String {
    let (ok, out, err) = run(args);
    assert!(!ok && out.is_empty(), "{args:?} succeeded: {out}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

keras_model!(struct Mlp = "../keras/tests/fixtures/mlp.keras");
keras_model!(struct MlpNoBias = "../keras/tests/fixtures/mlp_nobias.keras");
keras_model!(struct Cnn = "../keras/tests/fixtures/cnn.keras");
keras_model!(struct Conv1d = "../keras/tests/fixtures/conv1d.keras");
keras_model!(struct LayerNorm = "../keras/tests/fixtures/layernorm.keras");
keras_model!(struct Convs2d = "../keras/tests/fixtures/convs2d.keras");

/// Converts `<name>.keras` (and `<name>.weights.h5` with `--config`), loads the result into
/// `M` and returns the largest difference from Keras's outputs.
fn convert_and_compare<M: Model>(name: &str) -> f32 {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{name}.safetensors"));
    let keras = fixture(&format!("{name}.keras"));
    let (ok, stdout, err) = run(&["convert", &keras, path(&out)]);
    assert!(ok, "{name}: {err}");
    let params = M::COUNT.to_string();
    let printed = stdout
        .lines()
        .find_map(|l| l.strip_prefix(" Total params: "))
        .map(|n| n.replace(',', ""));
    assert_eq!(printed.as_deref(), Some(params.as_str()), "{stdout}");
    assert!(
        stdout.ends_with(&format!(" Wrote {}\n", out.display())),
        "{stdout}"
    );

    // The bare weights file with the archive as its architecture: the same bytes.
    let from_h5 = dir.path().join("from_h5.safetensors");
    let h5 = fixture(&format!("{name}.weights.h5"));
    let (ok, _, err) = run(&["convert", &h5, path(&from_h5), "--config", &keras]);
    assert!(ok, "{name}: {err}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&from_h5).unwrap(),
        "{name}"
    );

    let mut model = kerust::params::boxed_zeroed::<M>();
    model.load_weights(&out).unwrap();
    assert!(model.flat().iter().any(|&v| v != 0.0), "{name}: nothing loaded");
    let x = read_npy(fixture(&format!("{name}.input.npy"))).unwrap();
    let expected = read_npy(fixture(&format!("{name}.output.npy"))).unwrap().to_f32();
    let batch = x.shape[0];
    let mut y = vec![0f32; batch * <M::Output as kerust::Shape>::LEN];
    let mut scratch = vec![0f32; batch * M::SCRATCH];
    model.forward_batch(&x.to_f32(), &mut y, batch, &mut scratch);
    assert_eq!(y.len(), expected.len(), "{name}");
    let diff = y
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(diff <= TOLERANCE, "{name}: max |kerust - keras| = {diff:e}");
    eprintln!("{name}: max abs difference {diff:e}");
    diff
}

#[test]
fn converted_weights_reproduce_keras() {
    convert_and_compare::<Mlp>("mlp");
    convert_and_compare::<MlpNoBias>("mlp_nobias");
    convert_and_compare::<Cnn>("cnn");
    convert_and_compare::<Conv1d>("conv1d");
    convert_and_compare::<LayerNorm>("layernorm");
    convert_and_compare::<Convs2d>("convs2d");
}

#[test]
fn convert_refuses_mismatched_or_missing_architectures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let out = path(&out);
    let err = refused(&["convert", &fixture("mlp.weights.h5"), out]);
    assert!(
        err.contains("holds no architecture") && err.contains("--config"),
        "{err}"
    );
    let (mlp, cnn) = (fixture("mlp.keras"), fixture("cnn.keras"));
    let err = refused(&["convert", &mlp, out, "--config", &cnn]);
    assert!(err.contains("`--config` is for `.weights.h5` files"), "{err}");
    // `mlp_nobias`'s weights under `mlp`'s architecture: the biases are missing.
    let err = refused(&[
        "convert",
        &fixture("mlp_nobias.weights.h5"),
        out,
        "--config",
        &mlp,
    ]);
    assert!(
        err.contains("the file has 1 tensors") && err.contains("kernel, bias"),
        "{err}"
    );
    // `cnn`'s weights under `mlp`'s architecture: other layers.
    let err = refused(&["convert", &fixture("cnn.weights.h5"), out, "--config", &mlp]);
    assert!(
        err.contains("layer `dense_1` (Dense) of the Keras model `sequential` would be stored as `layers/dense_1`, which the file lacks"),
        "{err}"
    );
    assert!(!Path::new(out).exists(), "nothing is written on error");
}

#[test]
fn inspect_weights_h5_lists_the_datasets() {
    let (ok, out, err) = run(&["inspect", &fixture("cnn.weights.h5")]);
    assert!(ok, "{err}");
    assert!(out.starts_with("HDF5: \"cnn.weights.h5\"\n"), "{out}");
    // As h5py lists them.
    assert_eq!(
        row(&out, "layers/conv2d/vars/0"),
        ["layers/conv2d/vars/0", "float32", "(3, 3, 1, 4)", "36"]
    );
    assert_eq!(
        row(&out, "layers/batch_normalization/vars/3"),
        ["layers/batch_normalization/vars/3", "float32", "(4,)", "4"]
    );
    assert_eq!(
        row(&out, "layers/dense/vars/0"),
        ["layers/dense/vars/0", "float32", "(150, 5)", "750"]
    );
    // Keras's count for the model, BatchNormalization's statistics included.
    assert!(out.ends_with(" Tensors: 10\n Total params: 1,033\n"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.weights.h5");
    std::fs::write(&bad, b"\x89HDF\r\n\x1a\n truncated").unwrap();
    let err = refused(&["inspect", path(&bad)]);
    assert!(
        err.starts_with(&format!("error: {}: invalid HDF5 data", bad.display())),
        "{err}"
    );
}
