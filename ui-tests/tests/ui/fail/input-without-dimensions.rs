// `Input<>` has no dimensions.
use kerust::prelude::*;

model! {
    struct Net: Input<> {
        out: Dense(2),
    }
}

fn main() {}
