//! # kerust — Keras for Rust, with shapes checked by the compiler
//!
//! Declare a network with [`model!`]; the macro checks every shape at compile time and
//! generates a plain struct with static forward and backward code. Train it with a
//! Keras-style API (`compile`, `fit`, `evaluate`, `predict`, `summary`), or run it on a
//! microcontroller: the core is `no_std` and inference needs no heap.
//!
//! ```
//! use kerust::prelude::*;
//!
//! model! {
//!     /// A small classifier for 8x8 digit images.
//!     pub struct Mlp: Input<64> {
//!         hidden: Dense(32, activation = relu),
//!         drop:   Dropout(0.2),
//!         out:    Dense(10),
//!     }
//! }
//!
//! let model = Mlp::new(42);
//! assert_eq!(Mlp::PARAM_COUNT, 64 * 32 + 32 + 32 * 10 + 10);
//! let logits: [f32; 10] = model.forward(&[0.5; 64]);
//! assert!(logits.iter().all(|v| v.is_finite()));
//! ```
//!
//! A shape mistake does not compile; the error points at the layer:
//!
//! ```compile_fail
//! use kerust::prelude::*;
//! model! {
//!     struct Bad: Input<8, 8> {
//!         out: Dense(10), // Dense needs a rank-1 input: add Flatten before it
//!     }
//! }
//! ```
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "alloc")]
pub use kerust_core::data;
pub use kerust_core::{activations, init, kernels, layer, layers, losses, model, optim, params, rng, shape};
#[cfg(feature = "std")]
pub use kerust_core::{datasets, gradcheck, io, train};
#[cfg(feature = "alloc")]
pub use kerust_core::{Error, Result};
pub use kerust_core::{Layer, LayerInfo, Model, Params, Rng, Shape, TensorInfo};

/// Declares a statically shaped model; its documentation gives the grammar, the layers and
/// what is generated.
pub use kerust_macros::model;

/// Declares the model of a Keras 3 `.keras` file (or its `config.json`), read at compile
/// time: `keras_model!(pub struct Net = "model.keras")` expands to what `model!` gives for
/// the same layers. Load the file's weights with [`keras::load::load_keras_file`].
pub use kerust_macros::keras_model;

/// Keras 3 interop: `.keras` archives, `.weights.h5` files, `config.json`.
#[cfg(feature = "keras")]
pub use kerust_keras as keras;

/// Everything a model declaration and a training script need.
pub mod prelude {
    pub use crate::{keras_model, model};
    #[cfg(feature = "std")]
    pub use kerust_core::io::safetensors::WeightsExt;
    #[cfg(feature = "std")]
    pub use kerust_core::train::{AucCurve, F1Average};
    #[cfg(feature = "std")]
    pub use kerust_core::{
        data::{Dataset, Target},
        losses::*,
        optim::*,
        train::{
            callbacks::{
                CsvLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLrOnPlateau,
                TerminateOnNan,
            },
            Callback, Context, Control, EvaluateOptions, FitOptions, History, Logs, Metric, ModelExt,
            PerOutput, Trainer, Verbosity,
        },
    };
    #[cfg(feature = "alloc")]
    pub use kerust_core::{Error, Result};
    pub use kerust_core::{Layer, Model, Params, Rng, Shape};
}

/// Items used by the code `model!` generates. Not public API: no stability guarantees.
#[doc(hidden)]
pub mod __private {
    pub use core;
    pub use kerust_core::*;
    #[cfg(feature = "alloc")]
    pub extern crate alloc;

    /// Expands its input only when kerust is built with `alloc`.
    #[cfg(feature = "alloc")]
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __kerust_if_alloc {
        ($($t:tt)*) => { $($t)* };
    }
    /// Expands its input only when kerust is built with `alloc`.
    #[cfg(not(feature = "alloc"))]
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __kerust_if_alloc {
        ($($t:tt)*) => {};
    }
    /// Expands its input only when kerust is built with `std`.
    #[cfg(feature = "std")]
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __kerust_if_std {
        ($($t:tt)*) => { $($t)* };
    }
    /// Expands its input only when kerust is built with `std`.
    #[cfg(not(feature = "std"))]
    #[macro_export]
    #[doc(hidden)]
    macro_rules! __kerust_if_std {
        ($($t:tt)*) => {};
    }
    pub use crate::{__kerust_if_alloc as if_alloc, __kerust_if_std as if_std};
}
