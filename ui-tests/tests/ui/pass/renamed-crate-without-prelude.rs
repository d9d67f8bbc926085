// The expansion names only absolute paths: it works after `use kerust as nn;` with no
// prelude imported, and does not collide with user items named like ours.
use kerust as nn;

#[allow(dead_code)]
struct Dense;
#[allow(dead_code)]
struct Box;
#[allow(dead_code)]
mod core {}

nn::model! {
    pub struct Net: Input<4> {
        hidden: Dense(8, activation = relu),
        out: Dense(2),
    }
}

fn main() {
    let model = Net::new(7);
    let y = model.forward(&[1.0; 4]);
    assert!(y.iter().all(|v| v.is_finite()));
    assert_eq!(<Net as nn::Model>::NAME, "Net");
}
