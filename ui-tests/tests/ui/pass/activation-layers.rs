// The standalone activation layers, with and without arguments.
use kerust::prelude::*;

model! {
    struct Net: Input<2, 3> {
        relu: ReLU,
        leaky: LeakyReLU,
        leaky_custom: LeakyReLU(negative_slope = 0.1),
        elu: ELU,
        elu_custom: ELU(0.5),
        act: Activation(activation = sigmoid),
        soft: Softmax(),
        drop: Dropout(rate = 0.0),
    }
}

const _: () = assert!(Net::PARAM_COUNT == 0);

fn main() {
    let y: [[f32; 3]; 2] = Net::new(0).forward(&[[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]);
    for row in y {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }
}
