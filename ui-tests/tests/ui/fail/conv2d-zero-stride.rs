// A stride of 0 would never move the window.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 1> {
        conv: Conv2D(4, 3, strides = (0, 1)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
