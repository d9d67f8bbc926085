//! Runtime of [kerust](https://docs.rs/kerust): statically shaped layers, compute kernels,
//! losses, optimizers and (with `std`) the Keras-style training loop.
//!
//! Users depend on the `kerust` facade crate, which re-exports this one together with the
//! `model!` macro.
//!
//! Features: `alloc` (heap-backed helpers), `std` (default: training loop, datasets, I/O),
//! `parallel` (rayon data parallelism). Without features the crate is `no_std` and needs no
//! allocator: declared models run their forward pass on a microcontroller.
#![no_std]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod activations;
pub mod init;
pub mod kernels;
pub mod layer;
pub mod layers;
pub mod losses;
pub mod model;
pub mod optim;
pub mod params;
pub mod rng;
pub mod shape;

#[cfg(feature = "alloc")]
pub mod data;
#[cfg(feature = "std")]
pub mod datasets;
#[cfg(feature = "alloc")]
pub mod error;
#[cfg(feature = "std")]
pub mod gradcheck;
#[cfg(feature = "std")]
pub mod io;
#[cfg(feature = "std")]
pub mod train;

pub use layer::Layer;
pub use model::{LayerInfo, Model, TensorInfo};
pub use params::Params;
pub use rng::Rng;
pub use shape::Shape;

#[cfg(feature = "alloc")]
pub use error::{Error, Result};
