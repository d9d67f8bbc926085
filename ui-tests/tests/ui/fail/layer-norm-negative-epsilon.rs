// `epsilon` is added to the variance under a square root: it cannot be negative.
use kerust::prelude::*;

model! {
    struct Net: Input<4, 6> {
        norm: LayerNormalization(epsilon = -1e-3),
        flat: Flatten,
        out: Dense(2),
    }
}

fn main() {}
