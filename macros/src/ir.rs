//! The checked model: every shape resolved, every layer's Rust type decided.

use proc_macro2::TokenStream;

use crate::ast::{LayerDecl, ModelDef};

/// A model whose shapes are all known.
pub struct Model<'a> {
    pub def: &'a ModelDef,
    pub input: Vec<usize>,
    pub layers: Vec<Layer<'a>>,
}

/// One layer, resolved.
pub struct Layer<'a> {
    pub decl: &'a LayerDecl,
    /// Keras's class name, shown in summaries (`"Dense"`).
    pub kind: &'static str,
    /// The Rust type of the field, relative to the runtime path.
    pub ty: TokenStream,
    pub output: Vec<usize>,
    /// Values per sample in, and out.
    pub input_len: usize,
    pub output_len: usize,
    /// A one-line description for the generated docs (`Dense(128, activation = relu)`).
    pub describe: String,
}

/// Number of values in a shape, `None` if it overflows `usize`.
pub fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}
