// `Add` needs inputs of one shape; the error names both shapes.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        a = Dense(16)(x);
        b = Dense(32)(x);
        s = Add(a, b);
        outputs(s);
    }
}

fn main() {}
