// `Dropout` takes one argument, the rate.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        drop: Dropout(0.5, 0.2),
        out: Dense(2),
    }
}

fn main() {}
