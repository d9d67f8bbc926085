// `side` is computed but neither an output nor used by another node: an error, since a
// procedural macro cannot warn on stable Rust and the branch would never be trained.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        side = Dense(4)(x);
        out = Dense(2)(x);
        outputs(out);
    }
}

fn main() {}
