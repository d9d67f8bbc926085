// With `padding = valid` (the default) a 5x3 depthwise kernel does not fit in a 4x8 image.
use kerust::prelude::*;

model! {
    struct Net: Input<4, 8, 3> {
        dw: DepthwiseConv2D((5, 3)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
