// `Conv2D` has two spatial axes: `kernel_size` is one integer or a pair.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 1> {
        conv: Conv2D(4, (3, 3, 3)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
