// A kernel needs at least one row and column.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 1> {
        conv: Conv2D(4, (3, 0)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
