// 784 values cannot become 7x7x8 = 392 values.
use kerust::prelude::*;

model! {
    struct Net: Input<784> {
        image: Reshape((7, 7, 8)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
