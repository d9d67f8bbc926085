// A dropout rate is a probability in [0, 1): 1.5 would drop more than everything.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        drop: Dropout(1.5),
        out: Dense(2),
    }
}

fn main() {}
