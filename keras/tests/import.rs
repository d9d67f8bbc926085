//! Keras 3 models (`tests/fixtures/*.keras` and `*.weights.h5`, written by Keras 3.15.1 on
//! JAX with `make_fixtures.py`) loaded into the matching `model!` declarations: the
//! outputs on the fixed inputs must equal Keras's to within [`TOLERANCE`].

use kerust::io::npy::read_npy;
use kerust::{model, Model};
use kerust_keras::load::{load_keras_file, load_weights_h5_file};

/// The largest difference accepted between kerust's and Keras's outputs.
const TOLERANCE: f32 = 1e-5;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads `name` both ways and returns the largest difference from Keras's outputs.
fn check<M: Model>(name: &str) -> f32 {
    let x = read_npy(fixture(&format!("{name}.input.npy"))).unwrap();
    let y = read_npy(fixture(&format!("{name}.output.npy"))).unwrap();
    let batch = x.shape[0];
    assert_eq!(x.len(), batch * <M::Input as kerust::Shape>::LEN);
    let expected = y.to_f32();
    let mut worst = 0f32;
    for file in [format!("{name}.keras"), format!("{name}.weights.h5")] {
        let mut model = kerust::params::boxed_zeroed::<M>();
        if file.ends_with(".keras") {
            load_keras_file(&mut *model, fixture(&file)).unwrap();
        } else {
            load_weights_h5_file(&mut *model, fixture(&file)).unwrap();
        }
        assert!(model.flat().iter().any(|&v| v != 0.0), "{file}: nothing loaded");
        let mut out = vec![0f32; batch * <M::Output as kerust::Shape>::LEN];
        let mut scratch = vec![0f32; batch * M::SCRATCH];
        model.forward_batch(&x.to_f32(), &mut out, batch, &mut scratch);
        assert_eq!(out.len(), expected.len());
        let diff = out
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff <= TOLERANCE, "{file}: max |kerust - keras| = {diff:e}");
        worst = worst.max(diff);
    }
    eprintln!("{name}: max abs difference {worst:e}");
    worst
}

model! {
    struct Mlp: Input<64> {
        hidden: Dense(32, activation = relu),
        out:    Dense(10, activation = softmax),
    }
}

model! {
    struct MlpNoBias: Input<64> {
        hidden: Dense(32, activation = tanh, use_bias = false),
        out:    Dense(10, use_bias = false),
    }
}

model! {
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
    struct Seq1D: Input<16, 3> {
        c1:   Conv1D(8, 3, activation = relu),
        c2:   Conv1D(8, 3, strides = 2, padding = same, activation = tanh),
        gap:  GlobalAveragePooling1D,
        out:  Dense(4),
    }
}

model! {
    struct Norm: Input<20> {
        hidden: Dense(16, activation = gelu),
        ln:     LayerNormalization,
        out:    Dense(3),
    }
}

model! {
    struct Convs: Input<9, 9, 2> {
        dw:   DepthwiseConv2D(3, depth_multiplier = 2, activation = relu),
        sep:  SeparableConv2D(5, 3, padding = same, activation = tanh),
        up:   Conv2DTranspose(3, 3, strides = 2),
        gap:  GlobalAveragePooling2D,
        out:  Dense(2),
    }
}

#[test]
fn dense_mlp() {
    check::<Mlp>("mlp");
}

#[test]
fn dense_without_bias() {
    check::<MlpNoBias>("mlp_nobias");
}

#[test]
fn conv2d_pooling_batch_normalization() {
    check::<Cnn>("cnn");
}

#[test]
fn conv1d_global_pooling() {
    check::<Seq1D>("conv1d");
}

#[test]
fn layer_normalization() {
    check::<Norm>("layernorm");
}

#[test]
fn depthwise_separable_transpose() {
    check::<Convs>("convs2d");
}
