// A model with a mistake is still usable in the rest of the program: only the macro's
// error is reported, without a cascade of follow-on errors from `main`.
use kerust::prelude::*;

model! {
    /// A classifier with a typo in its activation.
    pub struct Bad: Input<64> {
        hidden: Dense(32, activation = rleu),
        out: Dense(10),
    }
}

fn main() {
    let model = Bad::new(0);
    model.summary();
    let logits: [f32; 10] = model.forward(&[0.5; 64]);
    let other = model.forward(&[0.0f32; 64]);
    assert_eq!(other.len(), logits.len());
    assert_eq!(Bad::PARAM_COUNT, 64 * 32 + 32 + 32 * 10 + 10);
    let trainer = model.compile(Sgd::default(), MeanSquaredError::default(), [Metric::Accuracy]);
    let _ = trainer.model().predict(&[0.5; 64], 1);
}
