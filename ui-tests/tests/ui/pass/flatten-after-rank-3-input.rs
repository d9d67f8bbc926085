// An image input flattened before `Dense`.
use kerust::prelude::*;

model! {
    struct Net: Input<28, 28, 1> {
        flat: Flatten,
        hidden: Dense(32, activation = relu),
        out: Dense(10),
    }
}

fn main() {
    let model = Net::new(1);
    let y: [f32; 10] = model.forward(&[[[0.5; 1]; 28]; 28]);
    assert!(y.iter().all(|v| v.is_finite()));
    assert_eq!(Net::PARAM_COUNT, 784 * 32 + 32 + 32 * 10 + 10);
    let _: kerust::layers::Flatten<[[[f32; 1]; 28]; 28], 784> = Net::ZERO.flat;
}
