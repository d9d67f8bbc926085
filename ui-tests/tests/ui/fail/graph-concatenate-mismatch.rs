// Concatenating on the channel axis needs equal height and width.
use kerust::prelude::*;

model! {
    struct Net {
        x = Input<8, 8, 1>;
        a = Conv2D(4, 3)(x);
        b = Conv2D(4, 3, padding = same)(x);
        c = Concatenate(a, b, axis = -1);
        outputs(c);
    }
}

fn main() {}
