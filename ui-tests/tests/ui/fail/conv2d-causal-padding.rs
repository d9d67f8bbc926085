// Causal padding is for sequences: `Conv1D` only, as in Keras.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 1> {
        conv: Conv2D(4, 3, padding = causal),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
