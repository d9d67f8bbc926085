// A model may be declared inside a function body.
fn main() {
    kerust::model! {
        struct Local: Input<3> {
            out: Dense(1, activation = sigmoid),
        }
    }
    let y = Local::new(0).forward(&[0.0; 3]);
    assert!((y[0] - 0.5).abs() < 1e-6);
}
