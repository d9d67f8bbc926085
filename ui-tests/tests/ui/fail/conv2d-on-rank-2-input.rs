// `Conv2D` needs (height, width, channels): a 28x28 grayscale image needs its channel axis.
use kerust::prelude::*;

model! {
    struct Net: Input<28, 28> {
        conv: Conv2D(8, 3, activation = relu),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
