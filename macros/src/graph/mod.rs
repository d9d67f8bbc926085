//! The functional form of `model!`: named nodes forming a directed acyclic graph, with
//! merges, several inputs and outputs, and layers shared between nodes.

pub mod ast;
pub mod check;
pub mod expand;
