// An input dimension of zero means an empty sample.
use kerust::prelude::*;

model! {
    struct Net: Input<28, 0> {
        flat: Flatten,
        out: Dense(2),
    }
}

fn main() {}
