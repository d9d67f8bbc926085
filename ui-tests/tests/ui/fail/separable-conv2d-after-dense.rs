// A dense layer's 64 outputs are a vector, not an image: the error suggests the square
// reshape and points at the layer that produced the vector.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        hidden: Dense(64, activation = relu),
        sep: SeparableConv2D(8, 3),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
