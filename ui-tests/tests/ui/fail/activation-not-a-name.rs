// `activation` takes a name such as `relu`, not a number.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(4, activation = 3),
    }
}

fn main() {}
