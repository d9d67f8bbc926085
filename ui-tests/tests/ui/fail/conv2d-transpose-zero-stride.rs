// Keras rejects a stride of 0 for `Conv2DTranspose` too.
use kerust::prelude::*;

model! {
    struct Decoder: Input<7, 7, 4> {
        up: Conv2DTranspose(8, 3, strides = 0),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
