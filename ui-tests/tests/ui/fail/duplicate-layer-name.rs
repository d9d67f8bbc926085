// Layer names become struct fields, so each must be unique.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        hidden: Dense(8, activation = relu),
        hidden: Dense(8, activation = relu),
        out: Dense(2),
    }
}

fn main() {}
