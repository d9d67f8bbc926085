// A stride of 0 would never move the window.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 3> {
        dw: DepthwiseConv2D(3, strides = (1, 0)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
