// `MaxPooling2D` takes one pool size per spatial axis: two, not three.
use kerust::prelude::*;

model! {
    struct Net: Input<8, 8, 3> {
        pool: MaxPooling2D(pool_size = (2, 2, 2)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
