// Normalisation layers work on the last (channels) axis only: kerust samples are
// channels-last, so Keras's `axis=1` for channels-first data has no meaning here.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 4> {
        bn: BatchNormalization(axis = 1),
        flat: Flatten,
        out: Dense(2),
    }
}

fn main() {}
