//! The models of the embedded example, declared once and shared, unchanged, by the
//! firmware (`src/lib.rs`, `no_std`, no heap) and the desktop example that trains them
//! (`examples/embedded_train.rs` in the kerust workspace, which includes this file with
//! `#[path]`).

kerust::model! {
    /// The on-device classifier: 8x8 digit images (64 pixels in `[0, 1]`) to 10 logits.
    pub struct DigitsMlp: Input<64> {
        /// 64 → 32, ReLU.
        hidden: Dense(32, activation = relu),
        /// 32 → 10 logits; the layer fine-tuned on the device.
        out:    Dense(10),
    }
}

kerust::model! {
    /// The memory-budget model: 28x28 Fashion-MNIST images (784 pixels) to 10 logits.
    pub struct FashionMlp: Input<784> {
        /// 784 → 64, ReLU.
        hidden: Dense(64, activation = relu),
        /// 64 → 10 logits.
        out:    Dense(10),
    }
}
