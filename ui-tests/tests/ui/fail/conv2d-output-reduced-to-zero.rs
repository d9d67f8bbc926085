// Each valid 3x3 convolution takes 2 rows and columns off: 5x5 → 3x3 → 1x1 → nothing.
use kerust::prelude::*;

model! {
    struct Net: Input<5, 5, 1> {
        conv1: Conv2D(8, 3, activation = relu),
        conv2: Conv2D(8, 3, activation = relu),
        conv3: Conv2D(8, 3, activation = relu),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
