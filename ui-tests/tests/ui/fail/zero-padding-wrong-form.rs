// `padding` is `p`, `(h, w)` or `((top, bottom), (left, right))`, not three values.
use kerust::prelude::*;

model! {
    struct Net: Input<6, 6, 1> {
        pad: ZeroPadding2D((1, 2, 3)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
