//! Safetensors weights loaded into a fixed model: any input is an error or a load, never a
//! panic or an unbounded allocation; a successful load survives a save and reload.
#![no_main]

use kerust::io::safetensors::WeightsExt;
use kerust::model;
use libfuzzer_sys::fuzz_target;

model! {
    struct Fixed: Input<4> {
        hidden: Dense(3, activation = relu),
        bn:     BatchNormalization,
        drop:   Dropout(0.5),
        out:    Dense(2),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut m = Fixed::ZERO;
    if m.load_weights_from_bytes(data).is_ok() {
        let bytes = m.weights_to_bytes().expect("a loaded model saves");
        let mut again = Fixed::ZERO;
        again.load_weights_from_bytes(&bytes).expect("saved weights load");
        let bits = |m: &Fixed| m.params().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&m), bits(&again));
    }
});
