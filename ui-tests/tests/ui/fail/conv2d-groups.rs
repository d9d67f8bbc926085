// Grouped convolutions are not implemented.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 4> {
        conv: Conv2D(4, 3, groups = 2),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
