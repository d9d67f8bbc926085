use kerust::prelude::*;

model! {
    /// Test MLP.
    pub struct Mlp: Input<64> {
        hidden: Dense(32, activation = relu),
        drop:   Dropout(0.2),
        out:    Dense(10),
    }
}

#[test]
fn smoke() {
    let m = Mlp::new(1);
    let y = m.forward(&[0.5; 64]);
    assert!(y.iter().any(|v| *v != 0.0));
    assert_eq!(Mlp::PARAM_COUNT, 64 * 32 + 32 + 330);
}
