// A declaration that does not even parse still declares the model's name, so `main`
// adds no "cannot find type" error to the macro's.
use kerust::prelude::*;

model! {
    pub struct Broken: Input<16> {
        hidden Dense(8),
        out: Dense(2),
    }
}

fn main() {
    let model = Broken::new(0);
    let y: [f32; 2] = model.forward(&[0.0; 16]);
    let _ = y;
    model.summary();
}
