// The moving statistics are `moving * momentum + batch * (1 - momentum)`: a momentum above
// 1 would extrapolate instead of averaging.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        bn: BatchNormalization(momentum = 1.5),
        out: Dense(2),
    }
}

fn main() {}
