// `units` given positionally and again by keyword.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(4, units = 8),
    }
}

fn main() {}
