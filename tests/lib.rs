//! Integration tests: one binary, one module per area.

mod callbacks;
mod conv;
mod conv_extra;
mod dense_chain;
mod functional;
mod gradients;
mod history;
mod merge;
mod multi_output;
mod normalization;
mod persistence;
mod pooling;
mod training;
