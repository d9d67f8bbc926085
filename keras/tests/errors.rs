//! What the Keras loader refuses, and how it says so: models that differ from the file,
//! `Lambda` layers, damaged files. On every error the model keeps its values.

use kerust::{model, Error, Model};
use kerust_keras::archive::KerasArchive;
use kerust_keras::load::{load_keras, load_keras_parts, load_weights_h5};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(path).unwrap()
}

/// The error's message, after checking that the model was left as it was.
fn refused<M: Model>(load: impl Fn(&mut M) -> kerust::Result<()>) -> String {
    let mut model = kerust::params::boxed_zeroed::<M>();
    model.init_with(&mut kerust::Rng::new(7));
    let before = model.flat().to_vec();
    let err = load(&mut model).expect_err("the load should fail");
    assert_eq!(model.flat(), &before[..], "the model changed on error: {err}");
    err.to_string()
}

model! {
    /// `mlp`'s architecture with 16 hidden units instead of 32.
    struct Narrow: Input<64> {
        hidden: Dense(16, activation = relu),
        out:    Dense(10, activation = softmax),
    }
}

model! {
    /// `mlp`'s architecture with another activation.
    struct Tanh: Input<64> {
        hidden: Dense(32, activation = tanh),
        out:    Dense(10, activation = softmax),
    }
}

model! {
    /// `mlp` with an extra layer.
    struct Deeper: Input<64> {
        hidden: Dense(32, activation = relu),
        mid:    Dense(10, activation = softmax),
        out:    Dense(10, activation = softmax),
    }
}

model! {
    /// `cnn` without its Dropout layer.
    struct CnnNoDropout: Input<12, 12, 1> {
        conv1: Conv2D(4, (3, 3), activation = relu),
        pool:  MaxPooling2D((2, 2)),
        bn:    BatchNormalization,
        conv2: Conv2D(6, (3, 3), padding = same, activation = relu),
        flat:  Flatten,
        out:   Dense(5, activation = softmax),
    }
}

model! {
    /// `mlp_nobias`'s architecture, with biases.
    struct WithBias: Input<64> {
        hidden: Dense(32, activation = tanh),
        out:    Dense(10),
    }
}

model! {
    /// `cnn`, as it is in the file.
    struct Cnn: Input<12, 12, 1> {
        conv1: Conv2D(4, (3, 3), activation = relu),
        pool:  MaxPooling2D((2, 2)),
        bn:    BatchNormalization,
        conv2: Conv2D(6, (3, 3), padding = same, activation = relu),
        flat:  Flatten,
        drop:  Dropout(0.5),
        out:   Dense(5, activation = softmax),
    }
}

model! {
    /// `mlp`, as it is in the file.
    struct Mlp: Input<64> {
        hidden: Dense(32, activation = relu),
        out:    Dense(10, activation = softmax),
    }
}

#[test]
fn wrong_units_name_the_layer_and_both_shapes() {
    let h5 = fixture("mlp.weights.h5");
    let msg = refused::<Narrow>(|m| load_weights_h5(m, &h5));
    for part in [
        "hidden/kernel",
        "layers/dense/vars/0",
        "Narrow",
        "[64, 16]",
        "[64, 32]",
    ] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
    let keras = fixture("mlp.keras");
    let msg = refused::<Narrow>(|m| load_keras(m, &keras));
    for part in [
        "layer 1 differs",
        "Keras's `dense` is `Dense(32, activation = relu)`",
        "model `Narrow`'s `hidden` is `Dense(16, activation = relu)`",
        "units: 32 in the file, 16 in the model",
    ] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
}

#[test]
fn activation_is_checked_from_the_config() {
    let keras = fixture("mlp.keras");
    let msg = refused::<Tanh>(|m| load_keras(m, &keras));
    assert!(
        msg.contains("`hidden` is `Dense(32, activation = tanh)`")
            && msg.contains("activation: relu in the file, tanh in the model"),
        "{msg}"
    );
    // A bare weights file has no architecture: the same tensors load.
    let mut model = kerust::params::boxed_zeroed::<Tanh>();
    load_weights_h5(&mut *model, &fixture("mlp.weights.h5")).unwrap();
}

#[test]
fn extra_and_missing_layers() {
    let msg = refused::<Deeper>(|m| load_weights_h5(m, &fixture("mlp.weights.h5")));
    assert!(msg.contains("`out`") && msg.contains("layers/dense_2"), "{msg}");
    let msg = refused::<Deeper>(|m| load_keras(m, &fixture("mlp.keras")));
    assert!(
        msg.contains("has 3") && msg.contains("`out`") && msg.contains("no Keras"),
        "{msg}"
    );

    let msg = refused::<CnnNoDropout>(|m| load_weights_h5(m, &fixture("cnn.weights.h5")));
    assert!(msg.contains("layers/dropout") && msg.contains("lacks"), "{msg}");
    let msg = refused::<CnnNoDropout>(|m| load_keras(m, &fixture("cnn.keras")));
    assert!(
        msg.contains("layer 6 differs")
            && msg.contains("`Dropout(0.5)`")
            && msg.contains("`out` is `Dense(5, activation = softmax)`")
            && msg.contains("Dropout in the file, Dense in the model"),
        "{msg}"
    );
}

#[test]
fn missing_bias_tensors_are_counted() {
    let msg = refused::<WithBias>(|m| load_weights_h5(m, &fixture("mlp_nobias.weights.h5")));
    assert!(msg.contains("1 tensors") && msg.contains("kernel, bias"), "{msg}");
}

#[test]
fn wrong_input_shape() {
    model! {
        struct Wide: Input<65> {
            hidden: Dense(32, activation = relu),
            out:    Dense(10, activation = softmax),
        }
    }
    let msg = refused::<Wide>(|m| load_keras(m, &fixture("mlp.keras")));
    assert!(msg.contains("[64]") && msg.contains("[65]"), "{msg}");
}

#[test]
fn lambda_layers_are_refused() {
    let config = r#"{"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 64], "name": "in"}},
        {"class_name": "Lambda", "config": {"name": "evil", "function": "..."}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 32, "activation": "relu"}}
    ]}}"#;
    let h5 = fixture("mlp.weights.h5");
    let msg = refused::<Mlp>(|m| load_keras_parts(m, config, &h5));
    assert!(
        msg.contains("layer `evil` (Lambda)") && msg.contains("never runs"),
        "{msg}"
    );
}

#[test]
fn not_json_and_not_zip() {
    let h5 = fixture("mlp.weights.h5");
    let msg = refused::<Mlp>(|m| load_keras_parts(m, "{", &h5));
    assert!(msg.contains("not valid JSON"), "{msg}");
    let msg = refused::<Mlp>(|m| load_keras(m, &h5));
    assert!(msg.contains("zip"), "{msg}");
    let msg = refused::<Mlp>(|m| load_weights_h5(m, &fixture("mlp.keras")));
    assert!(msg.contains("not an HDF5 file"), "{msg}");
}

#[test]
fn truncated_files_fail_cleanly() {
    let h5 = fixture("mlp.weights.h5");
    for len in (0..h5.len()).step_by(131) {
        let err = refused::<Mlp>(|m| load_weights_h5(m, &h5[..len]));
        assert!(!err.is_empty());
    }
    let keras = fixture("mlp.keras");
    for len in (0..keras.len()).step_by(997) {
        refused::<Mlp>(|m| load_keras(m, &keras[..len]));
    }
}

#[test]
fn corrupted_bytes_fail_cleanly_or_load_checked_values() {
    let h5 = fixture("cnn.weights.h5");
    let mut copy = h5.clone();
    let (mut failed, mut loaded) = (0, 0);
    for i in (0..h5.len()).step_by(7) {
        copy[i] ^= 0x5a;
        let mut model = kerust::params::boxed_zeroed::<Cnn>();
        match load_weights_h5(&mut *model, &copy) {
            Err(Error::Format { .. } | Error::ShapeMismatch { .. }) => failed += 1,
            Err(e) => panic!("unexpected error kind: {e}"),
            // A flipped byte in a tensor's values, or in metadata nobody reads.
            Ok(()) => loaded += 1,
        }
        copy[i] = h5[i];
    }
    // Flips in the metadata fail; flips in the values (most of the file) load.
    assert!(failed > 50 && loaded > 50, "{failed} failed, {loaded} loaded");
    let mut copy = fixture("mlp.weights.h5");
    let pristine = copy.clone();
    let mut errors = 0;
    for i in (0..copy.len()).step_by(5) {
        copy[i] ^= 0xa5;
        let mut model = kerust::params::boxed_zeroed::<Mlp>();
        errors += usize::from(load_weights_h5(&mut *model, &copy).is_err());
        copy[i] = pristine[i];
    }
    assert!(errors > 100, "only {errors} of the corrupted copies were refused");
}

/// `cnn.keras`'s config.json with `edit` applied to the layer `max_pooling2d`.
fn cnn_config_with(edit: impl Fn(&mut serde_json::Value)) -> String {
    let archive = KerasArchive::from_bytes(&fixture("cnn.keras")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&archive.config_json).unwrap();
    let layers = config["config"]["layers"].as_array_mut().unwrap();
    let pool = layers
        .iter_mut()
        .find(|l| l["class_name"] == "MaxPooling2D")
        .unwrap();
    edit(&mut pool["config"]);
    config.to_string()
}

#[test]
fn pooling_arguments_are_compared() {
    let h5 = fixture("cnn.weights.h5");
    let config = cnn_config_with(|_| {});
    let mut model = kerust::params::boxed_zeroed::<Cnn>();
    load_keras_parts(&mut *model, &config, &h5).unwrap();

    let config = cnn_config_with(|c| c["pool_size"] = serde_json::json!([3, 3]));
    let msg = refused::<Cnn>(|m| load_keras_parts(m, &config, &h5));
    for part in [
        "layer 2 differs",
        "Keras's `max_pooling2d` is `MaxPooling2D((3, 3), strides = (2, 2))`",
        "model `Cnn`'s `pool` is `MaxPooling2D((2, 2))`",
        "pool_size: (3, 3) in the file, (2, 2) in the model",
    ] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
    let config = cnn_config_with(|c| c["strides"] = serde_json::json!([1, 1]));
    let msg = refused::<Cnn>(|m| load_keras_parts(m, &config, &h5));
    assert!(
        msg.contains("strides: (1, 1) in the file, the default in the model"),
        "{msg}"
    );
}
