// A layer with zero units has no output.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        hidden: Dense(0),
        out: Dense(2),
    }
}

fn main() {}
