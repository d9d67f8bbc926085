// BatchNormalization and LayerNormalization with Keras's arguments, by position and name.
use kerust::prelude::*;

model! {
    struct Net: Input<6, 6, 3> {
        bn: BatchNormalization,
        bn_args: BatchNormalization(-1, 0.9, 1e-5, true, true),
        bn_bare: BatchNormalization(axis = 2, center = false, scale = false),
        ln: LayerNormalization(),
        ln_args: LayerNormalization(axis = -1, epsilon = 1e-6, scale = false),
        flat: Flatten,
        ln_flat: LayerNormalization(axis = 0),
        out: Dense(2),
    }
}

// Every BatchNormalization has 2 × 3 moving statistics; the bare one nothing else.
const _: () = assert!(Net::PARAM_COUNT == 4 * 3 + 4 * 3 + 2 * 3 + 2 * 3 + 3 + 2 * 108 + 108 * 2 + 2);

fn main() {
    let net = Net::new(0);
    assert_eq!(net.bn.moving_variance, [1.0; 3]);
    let _: kerust::layers::NoBias = net.bn_bare.gamma;
    let _: kerust::layers::NoBias = net.ln_args.gamma;
    const { assert!(<Net as kerust::Model>::WHOLE_BATCH) };
    let y = net.forward(&[[[0.5; 3]; 6]; 6]);
    assert!(y.iter().all(|v| v.is_finite()));
}
