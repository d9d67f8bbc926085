use kerust::Model;
use kerust::keras_model;

// `keras/tests/configs/mlp.json`: Dense(16, relu), Dropout(0.25), Dense(3, softmax).
keras_model!(
    /// Read from Keras's config.json.
    pub struct Mlp = "keras-mlp.json"
);

fn main() {
    let model = Mlp::new(0);
    let y: [f32; 3] = model.forward(&[0.5; 8]);
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let calls: Vec<&str> = Mlp::LAYERS.iter().map(|l| l.describe).collect();
    assert_eq!(calls, ["Dense(16, activation = relu)", "Dropout(0.25)", "Dense(3, activation = softmax)"]);
    assert_eq!(Mlp::LAYERS[1].name, "drop");
}
