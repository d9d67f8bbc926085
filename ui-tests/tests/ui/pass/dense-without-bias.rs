// `use_bias = false` drops the bias from the parameters.
use kerust::prelude::*;

model! {
    struct Net: Input<4> {
        out: Dense(3, use_bias = false),
        biased: Dense(units = 2, activation = relu, use_bias = true),
    }
}

const _: () = assert!(Net::PARAM_COUNT == 4 * 3 + 3 * 2 + 2);

fn main() {
    let _: kerust::layers::NoBias = Net::ZERO.out.bias;
    assert_eq!(Net::new(0).params().len(), 20);
}
