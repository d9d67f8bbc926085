// Every node and layer has its own name.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        h = Dense(8)(x);
        h = Dense(4)(h);
        outputs(h);
    }
}

fn main() {}
