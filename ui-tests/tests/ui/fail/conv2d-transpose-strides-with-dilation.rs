// Keras's `Conv2DTranspose` rejects strides above 1 together with dilation rates above 1.
use kerust::prelude::*;

model! {
    struct Decoder: Input<7, 7, 4> {
        up: Conv2DTranspose(8, 3, strides = 2, dilation_rate = 2),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
