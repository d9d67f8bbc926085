// The error names the layer that produced the rank-2 shape (`grid`), not just "the input".
use kerust::prelude::*;

model! {
    struct Net: Input<64> {
        grid: Reshape((8, 8)),
        out: Dense(10),
    }
}

fn main() {}
