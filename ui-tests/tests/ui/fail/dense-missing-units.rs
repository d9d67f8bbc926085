// `Dense` has no default for `units`.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out: Dense(),
    }
}

fn main() {}
