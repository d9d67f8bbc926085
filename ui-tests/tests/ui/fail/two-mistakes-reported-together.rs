// Independent mistakes in different layers are all reported in one compile.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        hidden: Dense(8, activation = rleu),
        drop: Dropout(2.0),
        out: Dense(0),
    }
}

fn main() {}
