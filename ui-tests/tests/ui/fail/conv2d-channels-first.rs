// Samples are channels-last, as Keras's default.
use kerust::prelude::*;

model! {
    struct Net: Input<3, 16, 16> {
        conv: Conv2D(4, 3, data_format = "channels_first"),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
