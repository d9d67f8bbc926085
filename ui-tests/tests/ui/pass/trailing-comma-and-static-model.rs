// Trailing commas are optional; `ZERO` builds a model in a `static`, without a heap.
use kerust::prelude::*;

model! {
    struct Tiny: Input<2> {
        out: Dense(1, activation = relu,)
    }
}

static MODEL: Tiny = Tiny::ZERO;

fn main() {
    assert_eq!(MODEL.forward(&[1.0, 2.0]), [0.0]);
    let mut m = Tiny::ZERO;
    m.init(5);
    m.params_mut()[0] = 1.0;
    assert_eq!(m.params()[0], 1.0);
}
