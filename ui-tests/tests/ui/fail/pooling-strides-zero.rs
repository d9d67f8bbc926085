// Windows must move by at least one cell.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 3> {
        pool: AveragePooling2D(2, strides = (2, 0)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
