// A 3x3 kernel with dilation 3 spans 7x7, more than the 5x5 images the first layer leaves.
use kerust::prelude::*;

model! {
    struct Net: Input<7, 7, 2> {
        conv: Conv2D(4, 3),
        sep: SeparableConv2D(8, 3, dilation_rate = 3),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
