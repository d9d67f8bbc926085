//! The layers, one per file.

mod activation;
#[cfg(feature = "alloc")]
mod chain;
mod dense;
mod dropout;
mod flatten;
mod reshape;

pub use activation::ActivationLayer;
#[cfg(feature = "alloc")]
pub use chain::{chain, Chain};
pub use dense::{BiasVec, Dense, NoBias};
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use reshape::Reshape;
