// A kernel of 4 with dilation 2 spans 7 steps; the sequence has 6.
use kerust::prelude::*;

model! {
    struct Net: Input<6, 3> {
        conv: Conv1D(8, 4, dilation_rate = 2),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
