// Keras rejects `depth_multiplier = 0`: every channel needs at least one filter.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 3> {
        dw: DepthwiseConv2D(3, depth_multiplier = 0),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
