// `same` with an explicit `output_padding` gives `(n - 1) * s + k % 2 + output_padding`
// rows: for one input row, an even kernel and `output_padding = 0`, none.
use kerust::prelude::*;

model! {
    struct Decoder: Input<4, 4, 2> {
        down: Conv2D(4, 3, strides = 4, padding = same),
        up: Conv2DTranspose(2, 2, strides = 2, padding = same, output_padding = 0),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
