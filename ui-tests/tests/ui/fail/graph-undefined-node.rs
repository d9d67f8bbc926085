// A node refers to a name that no statement defines; the error suggests the closest node.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        hidden = Dense(16, activation = relu)(x);
        out = Dense(4)(hiden);
        outputs(out);
    }
}

fn main() {}
