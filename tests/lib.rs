//! Integration tests: one binary, one module per area.

mod gradients;
mod training;
