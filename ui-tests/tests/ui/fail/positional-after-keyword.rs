// Positional arguments come first, as in Python.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(activation = relu, 4),
    }
}

fn main() {}
