// `Dense(4)` creates a layer; a node must apply it to another node.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        out = Dense(4);
        outputs(out);
    }
}

fn main() {}
