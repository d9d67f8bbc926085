// A 3x3 kernel with dilation 3 spans 7x7, more than the 6x6 input.
use kerust::prelude::*;

model! {
    struct Net: Input<6, 6, 1> {
        conv: Conv2D(4, 3, dilation_rate = 3),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
