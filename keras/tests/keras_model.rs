//! `keras_model!` on Keras files: the compiled model's layers read as `codegen::layer_call`
//! of the file's layers, with the output shapes and parameter counts Keras reports.

use kerust::keras_model;
use kerust::Model;
use kerust_keras::codegen;
use kerust_keras::config::Architecture;

keras_model!(struct Cnn = "tests/configs/cnn.keras");
keras_model!(
    /// Every 2-D layer kind kerust imports.
    pub(crate) struct ConvZoo = "tests/configs/conv_zoo.json"
);
keras_model!(struct Seq1d = "tests/configs/seq1d.json");
keras_model!(struct Gap = "tests/configs/gap2d.json");
keras_model!(struct Chain = "tests/configs/functional_chain.json");
// The short form: `pub struct Mlp`, named after the Keras model `mlp`.
keras_model!("tests/configs/mlp.keras");

fn config(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(name)
}

/// Checks `M` against the architecture in `file` and the shapes in `<name>.expected.json`.
fn check<M: Model>(file: &str, name: &str) {
    let arch = Architecture::from_file(config(file)).unwrap();
    let text = std::fs::read_to_string(config(&format!("{name}.expected.json"))).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keras_layers = expected["layers"].as_array().unwrap();
    assert_eq!(M::LAYERS.len(), arch.layers.len(), "{name}");
    let fields = codegen::field_names(&arch);
    for (i, info) in M::LAYERS.iter().enumerate() {
        let layer = &arch.layers[i];
        assert_eq!(info.describe, codegen::layer_call(layer), "{name}: layer {i}");
        assert_eq!(info.name, fields[i], "{name}: layer {i}");
        assert_eq!(info.kind, layer.class_name, "{name}: layer {i}");
        let keras_shape: Vec<usize> =
            serde_json::from_value(keras_layers[i]["output_shape"].clone()).unwrap();
        assert_eq!(
            info.output_shape,
            keras_shape.as_slice(),
            "{name}: `{}`",
            info.name
        );
        assert_eq!(
            info.params as u64, keras_layers[i]["params"],
            "{name}: `{}`",
            info.name
        );
    }
}

#[test]
fn compiled_layers_match_the_files() {
    check::<Cnn>("cnn.keras", "cnn");
    check::<ConvZoo>("conv_zoo.json", "conv_zoo");
    check::<Seq1d>("seq1d.json", "seq1d");
    check::<Gap>("gap2d.json", "gap2d");
    check::<Chain>("functional_chain.json", "functional_chain");
    check::<Mlp>("mlp.keras", "mlp");
}

#[test]
fn the_struct_has_the_files_shapes() {
    let model = Cnn::new(0);
    let probs: [f32; 5] = model.forward(&[[[0.5; 1]; 12]; 12]);
    let sum: f32 = probs.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5, "softmax output sums to {sum}");
    let x = [0.25f32; 8];
    let y: [f32; 3] = Mlp::new(1).forward(&x);
    assert!(y.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_eq!(Mlp::PARAM_COUNT, 8 * 16 + 16 + 16 * 3 + 3);
    assert_eq!(<Mlp as Model>::NAME, "Mlp");
}
