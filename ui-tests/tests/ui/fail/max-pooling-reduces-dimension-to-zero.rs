// With `padding = valid` a 4-row pool does not fit in a 3-row image.
use kerust::prelude::*;

model! {
    struct Net: Input<3, 5, 1> {
        pool: MaxPooling2D((4, 2)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
