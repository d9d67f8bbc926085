// A nested model's output shape is the input's unless `output` says otherwise; rustc
// checks the declared shapes against the model's own types.
use kerust::prelude::*;

model! {
    pub struct Down: Input<8> {
        d: Dense(4),
    }
}

model! {
    struct Net {
        x = Input<8>;
        down = Model(Down)(x);
        out = Dense(2)(down);
        outputs(out);
    }
}

fn main() {}
