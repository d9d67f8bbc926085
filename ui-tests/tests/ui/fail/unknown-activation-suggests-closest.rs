// A misspelt activation: `rleu` should suggest `relu`.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(4, activation = rleu),
    }
}

fn main() {}
