// `Conv2DTranspose` upsamples images: a flat input of 49 values needs a reshape to 7x7x1.
use kerust::prelude::*;

model! {
    struct Decoder: Input<49> {
        up: Conv2DTranspose(8, 3, strides = 2, padding = same),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
