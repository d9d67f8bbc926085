//! Checkpoints loaded into a fixed model's trainer (Adam): any input is an error or a load,
//! never a panic; a successful load survives a save and reload.
#![no_main]

use kerust::losses::MeanSquaredError;
use kerust::model;
use kerust::optim::Adam;
use kerust::train::ModelExt;
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
    let mut t = Fixed::new(0).compile(Adam::default(), MeanSquaredError::new(), []);
    if let Ok(info) = t.load_checkpoint_from_bytes(data) {
        let bytes = t
            .checkpoint_to_bytes(info.epoch)
            .expect("a loaded checkpoint saves");
        let mut again = Fixed::new(1).compile(Adam::default(), MeanSquaredError::new(), []);
        let info2 = again
            .load_checkpoint_from_bytes(&bytes)
            .expect("a saved checkpoint loads");
        assert_eq!(
            (info.epoch, info.steps, info.seed),
            (info2.epoch, info2.steps, info2.seed)
        );
        assert_eq!(info.learning_rate.to_bits(), info2.learning_rate.to_bits());
        assert_eq!(again.steps_done(), t.steps_done());
    }
});
