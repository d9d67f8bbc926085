// The model name is followed by its per-sample input shape.
use kerust::prelude::*;

model! {
    struct Net {
        out: Dense(2),
    }
}

fn main() {}
