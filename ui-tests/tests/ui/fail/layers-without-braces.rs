// The declaration ends after the input shape: the error points at `Input<16>`, not at
// the whole macro call.
use kerust::prelude::*;

model! {
    struct Net: Input<16>
}

fn main() {
    let _ = Net::new(0);
}
