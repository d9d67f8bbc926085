// `depth_multiplier` is `SeparableConv2D`'s seventh positional argument; 0 is rejected.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 3> {
        sep: SeparableConv2D(16, 3, 1, same, channels_last, 1, 0),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
