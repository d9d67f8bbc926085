// `Flatten` takes no arguments.
use kerust::prelude::*;

model! {
    struct Net: Input<4, 4> {
        flat: Flatten(2),
        out: Dense(2),
    }
}

fn main() {}
