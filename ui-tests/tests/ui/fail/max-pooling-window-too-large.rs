// Max pooling numbers a window's cells in `f32`, exact up to 2^24 cells.
use kerust::prelude::*;

model! {
    struct Net: Input<4097, 4097, 1> {
        pool: MaxPooling2D(4097),
        flat: Flatten,
    }
}

fn main() {}
