// A sequence of 100 scalars needs its channel axis.
use kerust::prelude::*;

model! {
    struct Net: Input<100> {
        conv: Conv1D(8, 5, padding = causal),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
