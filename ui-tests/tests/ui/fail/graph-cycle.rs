// `a` uses `b` and `b` uses `a`: a model's graph must not loop back.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        a = Add(x, b);
        b = Dense(8)(a);
        outputs(b);
    }
}

fn main() {}
