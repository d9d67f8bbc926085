//! Readers for data files. Every reader treats its input as untrusted: sizes are checked
//! against limits before anything is allocated, and malformed input is an
//! [`Error`](crate::Error), never a panic.

pub mod idx;
