// Keras counts the batch axis as 0: rank-1 samples have only axis 1 (or -1).
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8>;
        a = Dense(4)(x);
        b = Dense(4)(x);
        c = Concatenate(a, b, axis = 2);
        outputs(c);
    }
}

fn main() {}
