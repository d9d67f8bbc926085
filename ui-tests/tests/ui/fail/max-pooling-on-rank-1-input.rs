// `MaxPooling2D` pools (height, width, channels) images; a flat vector must be reshaped.
use kerust::prelude::*;

model! {
    struct Net: Input<784> {
        hidden: Dense(784, activation = relu),
        pool: MaxPooling2D((2, 2)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
