// A dense layer's 784 outputs are a vector, not an image: the error suggests the square
// reshape and points at the layer that produced the vector.
use kerust::prelude::*;

model! {
    struct Net: Input<64> {
        hidden: Dense(784, activation = relu),
        conv: Conv2D(8, 3),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
