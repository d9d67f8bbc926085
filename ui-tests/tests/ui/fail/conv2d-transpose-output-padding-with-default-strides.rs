// With the default stride of 1, the only `output_padding` Keras accepts is 0.
use kerust::prelude::*;

model! {
    struct Decoder: Input<7, 7, 4> {
        up: Conv2DTranspose(8, 3, output_padding = 1),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
