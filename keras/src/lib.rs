//! Keras 3 interop for kerust.
//!
//! - [`archive`]: the `.keras` zip archive (`config.json`, `model.weights.h5`), read with
//!   size limits.
//! - [`config`]: Keras's `config.json`, parsed into a typed architecture.
//! - [`codegen`]: the `model!` declaration that matches an architecture.
//! - [`h5`] (feature `load`): a read-only HDF5 reader for the subset Keras writes.
//! - [`load`] (feature `load`): Keras weights into a compiled kerust model, after checking
//!   the architecture against it.
//! - [`convert`] (feature `load`): Keras weights into a kerust safetensors weights file,
//!   named after the model [`codegen`] declares.

pub mod archive;
pub mod codegen;
pub mod config;
#[cfg(feature = "load")]
pub mod convert;
mod error;
#[cfg(feature = "load")]
pub mod h5;
#[cfg(feature = "load")]
pub mod load;

pub use error::{ConfigError, Result};
