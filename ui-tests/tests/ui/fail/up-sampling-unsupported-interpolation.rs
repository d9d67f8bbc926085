// kerust implements Keras's `nearest` and `bilinear` up-sampling.
use kerust::prelude::*;

model! {
    struct Net: Input<6, 6, 1> {
        up: UpSampling2D(2, interpolation = bicubic),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
