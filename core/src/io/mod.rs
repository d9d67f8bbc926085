//! Readers and writers of files. Every reader treats its input as untrusted: sizes are
//! checked against the input's length and against limits before anything is allocated, and
//! malformed input is an [`Error`](crate::Error), never a panic. Every writer replaces its
//! file atomically ([`write_atomic`]).
//!
//! - [`safetensors`]: model weights ([`WeightsExt`](safetensors::WeightsExt)).
//! - [`checkpoint`]: training checkpoints (`Trainer::save_checkpoint`).
//! - [`npy`] and [`npz`]: NumPy arrays and archives.
//! - [`idx`]: MNIST's IDX format.

mod atomic;
pub mod checkpoint;
pub mod idx;
pub mod npy;
pub mod npz;
pub mod safetensors;

pub use atomic::write_atomic;
