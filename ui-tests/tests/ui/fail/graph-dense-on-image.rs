// Layer shape errors are the sequential form's, at the node.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8, 8, 1>;
        out = Dense(4)(x);
        outputs(out);
    }
}

fn main() {}
