// A shared layer's weights have one input shape.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        shared: Dense(4);
        a = shared(x);
        b = shared(a);
        outputs(b);
    }
}

fn main() {}
