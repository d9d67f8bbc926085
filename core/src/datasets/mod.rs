//! Small datasets bundled with kerust, for examples, tests and first experiments.
//!
//! The data is compiled into the crate: loading needs neither network nor files. Each
//! loader returns [`Dataset`](crate::data::Dataset)s with `f32` inputs scaled to `[0, 1]`.
//!
//! | loader | samples | sample shape | classes | licence |
//! |---|---|---|---|---|
//! | [`digits`], [`digits_full`] | 1,797 (1,437 train + 360 test) | `[64]` (8×8) | 10 | CC BY 4.0 |
//! | [`fashion_mnist()`](fn@fashion_mnist) (read from IDX files, not bundled) | 70,000 (60,000 + 10,000) | `[28, 28, 1]` | 10 | MIT |
//!
//! The bundled files, their sources, licences and checksums are described in
//! `core/data/README.md` of the `kerust-core` package.

mod digits;
pub mod fashion_mnist;

pub use digits::{digits, digits_full};
pub use fashion_mnist::fashion_mnist;
