// A functional model says which nodes it returns.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        out = Dense(4)(x);
    }
}

fn main() {}
