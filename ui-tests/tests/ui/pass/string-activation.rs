// Activations may be written as strings, as in Keras.
use kerust::prelude::*;

model! {
    struct Net: Input<4> {
        hidden: Dense(8, activation = "relu"),
        act: Activation("tanh"),
        out: Dense(2, activation = "softmax"),
    }
}

fn main() {
    let _: kerust::layers::Dense<4, 8, kerust::activations::Relu> = Net::ZERO.hidden;
    let y = Net::new(0).forward(&[1.0, -1.0, 0.5, 0.0]);
    assert!((y[0] + y[1] - 1.0).abs() < 1e-6);
}
