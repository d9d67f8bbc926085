// Up-sampling by 0 would make an empty image.
use kerust::prelude::*;

model! {
    struct Net: Input<6, 6, 1> {
        up: UpSampling2D(size = (0, 2)),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
