// A layer is applied to one node; several nodes are merged first.
use kerust::prelude::*;

model! {
    struct Net {
        a = Input<8>;
        b = Input<8>;
        out = Dense(2)(a, b);
        outputs(out);
    }
}

fn main() {}
