//! A kerust model on a target without `std` and without a heap.
//!
//! The crate is `#![no_std]`, uses no `alloc` and defines no `#[global_allocator]`. `.ci/run`
//! builds it for `thumbv7em-none-eabihf` (a Cortex-M4F) together with `src/firmware.rs`, a
//! bare-metal program that calls [`classify`]: rustc would refuse to link that program if
//! anything in the dependency graph needed a heap. The host tests in `tests/` run the same
//! code with `std`.
#![no_std]
#![deny(missing_docs)]

kerust::model! {
    /// A tiny classifier of 4x4 images into three classes.
    pub struct Tiny: Input<4, 4> {
        /// 4x4 → 16.
        flat:   Flatten,
        /// 16 → 8, ReLU.
        hidden: Dense(8, activation = relu),
        /// Identity at inference.
        drop:   Dropout(0.25),
        /// 8 → 3 class probabilities.
        out:    Dense(3, activation = softmax),
    }
}

/// The seed [`classify`] initialises its model with.
pub const SEED: u64 = 42;

/// The number of classes.
pub const CLASSES: usize = 3;

/// A model in a `static`, built at compile time: it lives in `.bss`, not on a heap.
pub static ZERO: Tiny = Tiny::ZERO;

/// A model initialised from `seed` (Keras's default initialisers), built on the stack.
pub fn build(seed: u64) -> Tiny {
    let mut model = Tiny::ZERO;
    model.init(seed);
    model
}

/// The class probabilities `model` gives `x` (inference mode: dropout is the identity).
pub fn probabilities(model: &Tiny, x: &[[f32; 4]; 4]) -> [f32; CLASSES] {
    model.forward(x)
}

/// The index of the largest value (the first one on ties); `0` for all-NaN input.
pub fn argmax(p: &[f32; CLASSES]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

/// Classifies `x` with the model initialised from [`SEED`], without any allocator.
pub fn classify(x: &[[f32; 4]; 4]) -> usize {
    let model = build(SEED);
    argmax(&probabilities(&model, x))
}

kerust::model! {
    /// A functional model without a heap: a residual connection, two outputs.
    pub struct TinyGraph {
        x = Input<8>;
        h = Dense(8, activation = relu)(x);
        r = Dense(8)(h);
        s = Add(x, r);
        class = Dense(3, activation = softmax)(s);
        value = Dense(1)(s);
        outputs(class, value);
    }
}

/// The class probabilities and the value [`TinyGraph`] (seeded with [`SEED`]) gives `x`.
pub fn graph_outputs(x: &[f32; 8]) -> ([f32; CLASSES], [f32; 1]) {
    let mut model = TinyGraph::ZERO;
    model.init(SEED);
    model.forward(x)
}
