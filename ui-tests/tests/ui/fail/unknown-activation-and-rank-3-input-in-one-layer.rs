// Two independent mistakes in the same layer are both reported (the example of the
// `model!` documentation).
use kerust::prelude::*;

model! {
    struct Bad: Input<28, 28, 1> {
        hidden: Dense(128, activation = rleu),
        out: Dense(10),
    }
}

fn main() {}
