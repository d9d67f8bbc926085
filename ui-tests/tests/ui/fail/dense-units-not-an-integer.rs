// `units` is a count of neurons: a float does not make sense.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(1.5),
    }
}

fn main() {}
