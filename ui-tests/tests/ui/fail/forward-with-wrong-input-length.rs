// The input shape is part of the model's type: 32 values do not fit an `Input<64>` model.
use kerust::prelude::*;

model! {
    struct Net: Input<64> {
        out: Dense(10),
    }
}

fn main() {
    let model = Net::new(0);
    let _ = model.forward(&[0.0f32; 32]);
}
