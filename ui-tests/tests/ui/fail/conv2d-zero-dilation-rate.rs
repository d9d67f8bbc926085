// A dilation rate of 0 would put every kernel tap on the same pixel.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 1> {
        conv: Conv2D(4, 3, dilation_rate = 0),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
