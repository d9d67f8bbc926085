// Layer arguments go in parentheses, as in Keras, not in angle brackets.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense<4>,
    }
}

fn main() {}
