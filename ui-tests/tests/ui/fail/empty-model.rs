// A model needs at least one layer.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {}
}

fn main() {}
