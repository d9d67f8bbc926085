//! A kerust model on a Cortex-M4F without a heap: the support code of the firmware in
//! `src/bin/`.
//!
//! - [`model`] declares the networks with `kerust::model!`; the desktop example
//!   `examples/embedded_train.rs` includes the very same file, trains them and writes their
//!   weights and test samples to `data/`.
//! - [`format`] decodes those files at compile time; [`static_model!`] puts the decoded
//!   weights into a `static` model in flash, and a file that does not fit the model fails
//!   the build.
//! - [`finetune`] is the no-heap training step of the training build.
//! - [`report`] prints through semihosting, classifies the embedded samples and measures the
//!   peak stack (cortex-m-rt's `paint-stack` fills the free RAM with a pattern at reset).
#![no_std]
#![deny(missing_docs)]

pub mod finetune;
pub mod format;
pub mod model;
#[cfg(target_os = "none")]
pub mod report;

/// Declares a `static` model whose parameters are decoded from a weights file at compile
/// time (see [`format`]): it lives in flash, and nothing is copied at run time.
///
/// ```text
/// static_model!(static MODEL: DigitsMlp = include_bytes!("../data/weights.bin"));
/// ```
#[macro_export]
macro_rules! static_model {
    ($vis:vis static $name:ident: $ty:ty = $bytes:expr) => {
        $vis static $name: $ty = {
            const PARAMS: [f32; <$ty>::PARAM_COUNT] = $crate::format::decode_params::<{ <$ty>::PARAM_COUNT }>(
                $bytes,
                $crate::format::signature::<$ty>(),
            );
            // SAFETY: a `model!` struct is `#[repr(C)]` and made of exactly `PARAM_COUNT`
            // `f32` values in its flat order (`kerust::Params`' contract); `transmute` checks
            // the sizes at compile time, and every bit pattern is a valid `f32`.
            unsafe { ::core::mem::transmute::<[f32; <$ty>::PARAM_COUNT], $ty>(PARAMS) }
        };
    };
}
