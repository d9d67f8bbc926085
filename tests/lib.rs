//! Integration tests: one binary, one module per area.

mod callbacks;
mod conv;
mod gradients;
mod history;
mod normalization;
mod pooling;
mod training;
