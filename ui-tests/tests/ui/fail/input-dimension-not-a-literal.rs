// The macro computes every shape, so input dimensions must be integer literals.
use kerust::prelude::*;

const N: usize = 16;

model! {
    struct Net: Input<N> {
        out: Dense(2),
    }
}

fn main() {
    let _ = N;
}
