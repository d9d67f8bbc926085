// `shared` is a layer, not a node: outputs are nodes.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        shared: Dense(8);
        a = shared(x);
        outputs(a, shared);
    }
}

fn main() {}
