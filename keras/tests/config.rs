//! `config.json` files written by Keras 3.15 (`configs/make_configs.py`): shapes and
//! parameter counts against Keras's own, and the errors for what kerust does not support.

use kerust_keras::config::{Architecture, LayerKind, Padding};

fn configs() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs")
}

fn arch(name: &str) -> Architecture {
    Architecture::from_file(configs().join(format!("{name}.json"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn error(name: &str) -> String {
    let json = std::fs::read_to_string(configs().join(format!("{name}.json"))).unwrap();
    Architecture::from_json(&json).unwrap_err().to_string()
}

const SUPPORTED: &[&str] = &["mlp", "cnn", "conv_zoo", "seq1d", "gap2d", "functional_chain"];

#[test]
fn shapes_and_params_match_keras() {
    for &name in SUPPORTED {
        let arch = arch(name);
        let text = std::fs::read_to_string(configs().join(format!("{name}.expected.json"))).unwrap();
        let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(arch.name, expected["name"], "{name}");
        let input: Vec<usize> = serde_json::from_value(expected["input_shape"].clone()).unwrap();
        assert_eq!(arch.input_shape, input, "{name}");
        let layers = expected["layers"].as_array().unwrap();
        assert_eq!(arch.layers.len(), layers.len(), "{name}");
        for (layer, want) in arch.layers.iter().zip(layers) {
            let shape: Vec<usize> = serde_json::from_value(want["output_shape"].clone()).unwrap();
            assert_eq!(layer.name, want["name"], "{name}");
            assert_eq!(layer.class_name, want["class_name"], "{name}");
            assert_eq!(layer.output_shape, shape, "{name}/{}", layer.name);
            assert_eq!(
                layer.param_count() as u64,
                want["params"],
                "{name}/{}",
                layer.name
            );
        }
    }
}

#[test]
fn arguments_are_read() {
    let zoo = arch("conv_zoo");
    assert_eq!(
        zoo.layers[1].kind,
        LayerKind::Conv {
            filters: 8,
            kernel_size: vec![3, 2],
            strides: vec![2, 1],
            padding: Padding::Same,
            dilation_rate: vec![1, 1],
            activation: "linear",
            use_bias: false,
        }
    );
    assert_eq!(
        zoo.layers[0].kind,
        LayerKind::ZeroPadding2D {
            padding: [[1, 0], [2, 1]]
        }
    );
    assert!(matches!(
        zoo.layers[4].kind,
        LayerKind::Conv2DTranspose {
            output_padding: Some([1, 1]),
            strides: [2, 2],
            ..
        }
    ));
    let seq = arch("seq1d");
    assert_eq!(seq.layers[10].kind, LayerKind::LeakyReLU { negative_slope: 0.1 });
    assert_eq!(
        seq.layers[4].kind,
        LayerKind::BatchNormalization {
            momentum: 0.9,
            epsilon: 1e-4,
            center: true,
            scale: false
        }
    );
    // Keras writes `swish` as `silu`.
    assert!(matches!(
        seq.layers[9].kind,
        LayerKind::Dense {
            activation: "silu",
            ..
        }
    ));
    assert_eq!(arch("cnn").layers[2].params()[2], ("moving_mean", vec![4]));
}

#[test]
fn unsupported_layers_and_options_are_named() {
    let cases = [
        ("lstm", "layer `rnn` (LSTM): the layer class `LSTM` is not supported by kerust; the supported layers are Dense,"),
        ("lambda", "layer `double` (Lambda): refused: Lambda layers hold Python code, which kerust never runs"),
        ("channels_first", "layer `conv` (Conv2D): `data_format` = \"channels_first\" is not supported; kerust supports \"channels_last\" only"),
        ("groups", "layer `grouped` (Conv2D): `groups` = 2 is not supported; kerust supports `groups` = 1 only"),
        ("bfloat16", "layer `half` (Dense): `dtype` = {"),
        ("relu_max_value", "layer `capped` (ReLU): `max_value` = 6.0 is not supported"),
        ("branches", "model `branches`: layer `b` takes its input from `x`, not from the layer before it (`a`); kerust imports functional models whose layers form one chain"),
    ];
    for (name, start) in cases {
        let err = error(name);
        assert!(err.starts_with(start), "{name}: {err}");
    }
    assert!(
        error("bfloat16").contains("\"bfloat16\""),
        "{}",
        error("bfloat16")
    );
    assert!(error("branches").contains("general functional graphs (branches, merges, several inputs or outputs, shared layers) are not supported yet"));
}

/// `mlp.json` with its `out` layer's config edited by `edit`.
fn edited(edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> String {
    let text = std::fs::read_to_string(configs().join("mlp.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    edit(layers.last_mut().unwrap()["config"].as_object_mut().unwrap());
    match Architecture::from_json(&v.to_string()) {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn hand_edited_configs_give_errors_not_panics() {
    assert_eq!(edited(|_| {}), "ok");
    assert_eq!(
        edited(|c| drop(c.insert("activation".into(), "mish".into()))),
        "layer `out` (Dense): `activation` = \"mish\" is not supported; kerust's activations are linear, relu, sigmoid, tanh, softmax, gelu, silu, swish, elu, leaky_relu, softplus, softsign, selu, relu6"
    );
    assert_eq!(
        edited(|c| drop(c.insert("units".into(), (-3).into()))),
        "layer `out` (Dense): `units` must be a non-negative integer, found -3"
    );
    assert_eq!(
        edited(|c| drop(c.insert("units".into(), 0.into()))),
        "layer `out` (Dense): `units` must be at least 1, found 0"
    );
    assert_eq!(
        edited(|c| drop(c.remove("units"))),
        "layer `out` (Dense): the config has no `units`"
    );
    assert_eq!(
        edited(|c| drop(c.insert("kernel_regularizer".into(), "l2".into()))),
        "ok"
    );
    let err = Architecture::from_json("[1, 2]").unwrap_err().to_string();
    assert_eq!(err, "config.json has no model `config` object");
    let err = Architecture::from_json(
        "{\"class_name\": \"MyModel\", \"config\": {\"name\": \"m\", \"layers\": []}}",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("model `m`: the model class `MyModel` is not supported"),
        "{err}"
    );
    // A huge unit count: an error, not an overflow.
    let err = edited(|c| drop(c.insert("units".into(), u64::MAX.into())));
    assert!(err.contains("too large") || err.contains("too many"), "{err}");
}

#[test]
fn variable_input_sizes_are_refused() {
    let json = r#"{"class_name": "Sequential", "config": {"name": "v", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, null, 3], "name": "in"}},
        {"class_name": "Flatten", "config": {"name": "f"}}]}}"#;
    let err = Architecture::from_json(json).unwrap_err().to_string();
    assert_eq!(
        err,
        "input layer `in`: the input shape [null,null,3] is not supported; kerust needs a fixed size for every dimension but the batch"
    );
    let dense_on_image = r#"{"class_name": "Sequential", "config": {"name": "v", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 1], "name": "in"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}"#;
    let err = Architecture::from_json(dense_on_image).unwrap_err().to_string();
    assert_eq!(
        err,
        "layer `d` (Dense): kerust's Dense needs a rank-1 input, but receives shape [4, 4, 1]; add a Flatten layer before it"
    );
}

#[test]
fn swish_reads_as_silu() {
    let text = std::fs::read_to_string(configs().join("mlp.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let layers = v["config"]["layers"].as_array_mut().unwrap();
    layers.last_mut().unwrap()["config"]["activation"] = "swish".into();
    let arch = Architecture::from_json(&v.to_string()).unwrap();
    let call = kerust_keras::codegen::layer_call(arch.layers.last().unwrap());
    // As `model!` describes `activation = swish`, and as Keras 3 saves it.
    assert!(call.ends_with(", activation = silu)"), "{call}");
}
