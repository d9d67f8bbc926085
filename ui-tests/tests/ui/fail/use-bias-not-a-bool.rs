// `use_bias` is `true` or `false`, not a number.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(4, use_bias = 0),
    }
}

fn main() {}
