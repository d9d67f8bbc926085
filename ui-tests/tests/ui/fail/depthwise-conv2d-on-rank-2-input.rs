// `DepthwiseConv2D` needs (height, width, channels): a 28x28 grayscale image needs its
// channel axis.
use kerust::prelude::*;

model! {
    struct Net: Input<28, 28> {
        dw: DepthwiseConv2D(3, depth_multiplier = 4),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
