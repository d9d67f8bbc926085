// Keras: "`output_padding` must be strictly less than `strides`"; 2 is not less than 2.
use kerust::prelude::*;

model! {
    struct Decoder: Input<7, 7, 4> {
        up: Conv2DTranspose(8, 3, strides = 2, padding = same, output_padding = (1, 2)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
