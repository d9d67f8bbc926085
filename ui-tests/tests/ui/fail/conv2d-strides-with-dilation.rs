// Keras rejects strides above 1 together with dilation rates above 1.
use kerust::prelude::*;

model! {
    struct Net: Input<16, 16, 1> {
        conv: Conv2D(4, 3, strides = 2, dilation_rate = (2, 1)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
