// Absurd kernel sizes are reported, not a panic in the macro or an overflow in rustc.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 1> {
        conv: Conv2D(4, 9223372036854775807, dilation_rate = 9223372036854775807),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}

model! {
    struct SamePadding: Input<8, 8, 1> {
        conv: Conv2D(4, 9223372036854775807, padding = same),
        flat: Flatten,
        out: Dense(10),
    }
}
