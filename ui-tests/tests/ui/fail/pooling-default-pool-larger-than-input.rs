// The default pool, 2 steps, does not fit in a 1-step sequence with `padding = valid`.
use kerust::prelude::*;

model! {
    struct Net: Input<8> {
        seq: Reshape((1, 8)),
        pool: AveragePooling1D(),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
