// Convolutions in Keras's spellings: positional and keyword arguments, integers and
// tuples, identifiers and strings, every padding, strides, dilations, no bias; the
// generated types carry the output sizes Keras computes.
use kerust::activations::{Linear, Relu, Tanh};
use kerust::layers::{Causal, Conv1D, Conv2D, NoBias, Same, Valid};
use kerust::prelude::*;

model! {
    /// A small image classifier.
    struct Cnn: Input<28, 28, 1> {
        conv1: Conv2D(8, (3, 3), activation = relu),
        conv2: Conv2D(16, 3, strides = 2, padding = same, activation = "relu"),
        conv3: Conv2D(16, (3, 1), (1, 1), "same", "channels_last", (2, 1), 1, tanh, false),
        conv4: Conv2D(filters = 4, kernel_size = [2, 4], padding = "valid"),
        flat: Flatten,
        out: Dense(10),
    }
}

model! {
    /// Images arriving flat, reshaped first.
    struct Reshaped: Input<784> {
        image: Reshape((28, 28, 1)),
        conv: Conv2D(4, 5, strides = (3, 3)),
        flat: Flatten,
        out: Dense(10),
    }
}

model! {
    /// Sequences.
    struct Seq: Input<50, 3> {
        causal: Conv1D(8, 3, padding = causal, dilation_rate = 2, activation = relu),
        same: Conv1D(8, (5,), strides = 2, padding = "same"),
        valid: Conv1D(4, 3, use_bias = false),
        flat: Flatten,
        out: Dense(2),
    }
}

fn main() {
    let _: Conv2D<28, 28, 1, 8, 3, 3, 1, 1, 1, 1, 26, 26, Valid, Relu> = Cnn::ZERO.conv1;
    let _: Conv2D<26, 26, 8, 16, 3, 3, 2, 2, 1, 1, 13, 13, Same, Relu> = Cnn::ZERO.conv2;
    let _: Conv2D<13, 13, 16, 16, 3, 1, 1, 1, 2, 1, 13, 13, Same, Tanh, NoBias> = Cnn::ZERO.conv3;
    let _: Conv2D<13, 13, 16, 4, 2, 4, 1, 1, 1, 1, 12, 10, Valid, Linear> = Cnn::ZERO.conv4;
    let _: Conv2D<28, 28, 1, 4, 5, 5, 3, 3, 1, 1, 8, 8> = Reshaped::ZERO.conv;
    let _: Conv1D<50, 3, 8, 3, 1, 2, 50, Causal, Relu> = Seq::ZERO.causal;
    let _: Conv1D<50, 8, 8, 5, 2, 1, 25, Same> = Seq::ZERO.same;
    let _: Conv1D<25, 8, 4, 3, 1, 1, 23, Valid, Linear, NoBias> = Seq::ZERO.valid;

    assert_eq!(Cnn::LAYERS[1].kind, "Conv2D");
    assert_eq!(Cnn::LAYERS[1].output_shape, &[13, 13, 16]);
    assert_eq!(Seq::LAYERS[0].kind, "Conv1D");

    let y = Cnn::new(1).forward(&[[[0.5]; 28]; 28]);
    assert!(y.iter().all(|v| v.is_finite()));
    let y = Reshaped::new(2).forward(&[0.25; 784]);
    assert!(y.iter().all(|v| v.is_finite()));
    let y = Seq::new(3).forward(&[[0.1, -0.2, 0.3]; 50]);
    assert!(y.iter().all(|v| v.is_finite()));
}
