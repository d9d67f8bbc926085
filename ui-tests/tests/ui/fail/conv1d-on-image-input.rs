// `Conv1D` needs (steps, channels); an image needs `Conv2D`, or a reshape into one sequence.
use kerust::prelude::*;

model! {
    struct Net: Input<28, 28, 1> {
        conv: Conv1D(8, 3),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
