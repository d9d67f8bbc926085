// Only one dimension of a `Reshape` target can be inferred with -1.
use kerust::prelude::*;

model! {
    struct Net: Input<64> {
        grid: Reshape((-1, -1)),
        flat: Flatten,
        out: Dense(2),
    }
}

fn main() {}
