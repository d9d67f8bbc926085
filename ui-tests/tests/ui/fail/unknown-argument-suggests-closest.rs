// A misspelt keyword argument: `unit` should suggest `units`.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(unit = 10),
    }
}

fn main() {}
