// Every activation name Keras users write, as identifiers; `None` means linear.
use kerust::prelude::*;

model! {
    struct Net: Input<8> {
        a: Dense(8, activation = linear),
        b: Dense(8, activation = relu),
        c: Dense(8, activation = sigmoid),
        d: Dense(8, activation = tanh),
        e: Dense(8, activation = gelu),
        f: Dense(8, activation = silu),
        g: Dense(8, activation = swish),
        h: Dense(8, activation = elu),
        i: Dense(8, activation = leaky_relu),
        j: Dense(8, activation = softplus),
        k: Dense(8, activation = softsign),
        l: Dense(8, activation = selu),
        m: Dense(8, activation = relu6),
        n: Dense(8, activation = None),
        o: Dense(4, activation = softmax),
    }
}

fn main() {
    let y: [f32; 4] = Net::new(3).forward(&[0.25; 8]);
    let sum: f32 = y.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5, "softmax output sums to {sum}");
    let layers = <Net as kerust::Model>::LAYERS;
    assert_eq!(layers.len(), 15);
    // `swish` is `silu` under Keras's name for it, so it describes itself as Keras saves it.
    assert_eq!(layers[5].describe, "Dense(8, activation = silu)");
    assert_eq!(layers[6].describe, "Dense(8, activation = silu)");
    assert_eq!(layers[13].describe, "Dense(8)");
}
