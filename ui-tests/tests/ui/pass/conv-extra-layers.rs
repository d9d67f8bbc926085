// Depthwise, separable and transposed convolutions in Keras's spellings: positional
// arguments in Keras's order, keyword arguments, integers and tuples, identifiers and
// strings, depth multipliers, output padding, no bias; the generated types carry the output
// sizes Keras computes.
use kerust::activations::{Linear, Relu, Sigmoid, Tanh};
use kerust::layers::{Conv2DTranspose, DepthwiseConv2D, NoBias, Same, SeparableConv2D, Valid};
use kerust::prelude::*;

model! {
    /// A small MobileNet-style encoder.
    struct Encoder: Input<28, 28, 1> {
        dw1: DepthwiseConv2D(3, depth_multiplier = 8, activation = relu),
        dw2: DepthwiseConv2D((3, 3), (2, 2), "same", 1, "channels_last", (1, 1), relu, false),
        sep1: SeparableConv2D(16, 3, padding = same, activation = "relu"),
        sep2: SeparableConv2D(16, (3, 1), (1, 1), valid, channels_last, (2, 1), 2, tanh, false),
        sep3: SeparableConv2D(filters = 8, kernel_size = [2, 2], strides = 2, depth_multiplier = 1),
        flat: Flatten,
        out: Dense(10),
    }
}

model! {
    /// A decoder from a flat code to a 28x28 image.
    struct Decoder: Input<49> {
        image: Reshape((7, 7, 1)),
        up1: Conv2DTranspose(8, 3, strides = 2, padding = same, activation = relu),
        up2: Conv2DTranspose(4, (3, 3), (2, 2), "same", (1, 1), "channels_last", 1, relu, true),
        up3: Conv2DTranspose(filters = 1, kernel_size = 3, padding = "same", activation = sigmoid),
        valid: Conv2DTranspose(2, 3, strides = 2, use_bias = false),
        odd: Conv2DTranspose(1, 2, strides = 3),
    }
}

fn main() {
    let _: DepthwiseConv2D<28, 28, 1, 3, 3, 1, 1, 1, 1, 26, 26, 8, 8, Valid, Relu> = Encoder::ZERO.dw1;
    let _: DepthwiseConv2D<26, 26, 8, 3, 3, 2, 2, 1, 1, 13, 13, 1, 8, Same, Relu, NoBias> = Encoder::ZERO.dw2;
    let _: SeparableConv2D<13, 13, 8, 16, 3, 3, 1, 1, 1, 1, 13, 13, 1, 8, Same, Relu> = Encoder::ZERO.sep1;
    let _: SeparableConv2D<13, 13, 16, 16, 3, 1, 1, 1, 2, 1, 9, 13, 2, 32, Valid, Tanh, NoBias> =
        Encoder::ZERO.sep2;
    let _: SeparableConv2D<9, 13, 16, 8, 2, 2, 2, 2, 1, 1, 4, 6, 1, 16, Valid, Linear> = Encoder::ZERO.sep3;
    // `same`: n * s; with `output_padding = 1`: (n - 1) * s + k % 2 + 1.
    let _: Conv2DTranspose<7, 7, 1, 8, 3, 3, 2, 2, 1, 1, 14, 14, Same, Relu> = Decoder::ZERO.up1;
    let _: Conv2DTranspose<14, 14, 8, 4, 3, 3, 2, 2, 1, 1, 28, 28, Same, Relu> = Decoder::ZERO.up2;
    let _: Conv2DTranspose<28, 28, 4, 1, 3, 3, 1, 1, 1, 1, 28, 28, Same, Sigmoid> = Decoder::ZERO.up3;
    // `valid`: (n - 1) * s + max(k, s).
    let _: Conv2DTranspose<28, 28, 1, 2, 3, 3, 2, 2, 1, 1, 57, 57, Valid, Linear, NoBias> = Decoder::ZERO.valid;
    let _: Conv2DTranspose<57, 57, 2, 1, 2, 2, 3, 3, 1, 1, 171, 171> = Decoder::ZERO.odd;

    assert_eq!(Encoder::LAYERS[0].kind, "DepthwiseConv2D");
    assert_eq!(Encoder::LAYERS[2].kind, "SeparableConv2D");
    assert_eq!(Decoder::LAYERS[1].kind, "Conv2DTranspose");
    assert_eq!(Decoder::LAYERS[5].output_shape, &[171, 171, 1]);

    let y = Encoder::new(1).forward(&[[[0.5]; 28]; 28]);
    assert!(y.iter().all(|v| v.is_finite()));
    let y = Decoder::new(2).forward(&[0.25; 49]);
    assert!(y.as_flattened().as_flattened().iter().all(|v| v.is_finite()));
}
