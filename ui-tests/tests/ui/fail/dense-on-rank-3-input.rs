// `Dense` needs a rank-1 input; a 28x28x1 image must be flattened first.
use kerust::prelude::*;

model! {
    struct Classifier: Input<28, 28, 1> {
        hidden: Dense(128, activation = relu),
        out: Dense(10),
    }
}

fn main() {}
