// `GlobalAveragePooling1D` pools (steps, channels) sequences; images need the 2D layer.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 3> {
        pool: GlobalAveragePooling1D,
        out: Dense(10),
    }
}

fn main() {}
