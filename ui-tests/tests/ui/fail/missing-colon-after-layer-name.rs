// Every layer is `name: Kind(args)`.
use kerust::prelude::*;

model! {
    struct Net: Input<16> {
        out Dense(2),
    }
}

fn main() {}
