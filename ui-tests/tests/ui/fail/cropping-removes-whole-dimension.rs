// Cropping 2 + 1 rows from a 3-row image leaves nothing.
use kerust::prelude::*;

model! {
    struct Net: Input<3, 6, 1> {
        crop: Cropping2D(((2, 1), (0, 0))),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
