//! The `model!` procedural macro of kerust. Use it through the `kerust` crate.
//!
//! The macro runs three phases: `ast` parses the declaration (keeping every span),
//! `check` infers every shape and reports mistakes at the offending layer, and `expand`
//! writes the statically shaped struct and its forward/backward code. On errors,
//! `fallback` still emits the model's API, so that only the macro's errors are reported.

mod ast;
mod check;
mod expand;
mod fallback;
mod graph;
mod ir;
mod keras;
mod layers;
mod suggest;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

#[doc = include_str!("model.md")]
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    let def = match syn::parse::<ast::Decl>(input.clone()) {
        Ok(def) => def,
        Err(err) => return fallback::unparsed(input.into(), &err).into(),
    };
    match def {
        ast::Decl::Sequential(def) => match check::check(&def) {
            Ok(model) => expand::model(&model).into(),
            Err(failed) => fallback::model(&def, &failed).into(),
        },
        ast::Decl::Functional(def) => match graph::check::check(&def) {
            Ok(graph) => graph::expand::model(&graph).into(),
            Err(error) => fallback::graph(&def, &error).into(),
        },
    }
}

/// Declares the model of a Keras file at compile time: the same statically shaped struct
/// `model!` gives for the declaration `kerust codegen` prints.
///
/// ```text
/// keras_model!(pub struct Mnist = "models/mnist.keras");
/// keras_model!("models/mnist.keras"); // `pub struct`, named after the Keras model
/// ```
///
/// The file is a Keras 3 `.keras` archive (only its `config.json` is read) or a bare
/// `config.json`. A relative path is relative to the crate's root (`CARGO_MANIFEST_DIR`),
/// or else to the directory of the invoking file. A missing file, or a layer or option
/// kerust does not support, is a compile error at the path; editing the file rebuilds.
#[proc_macro]
pub fn keras_model(input: TokenStream) -> TokenStream {
    keras::expand(input.into()).into()
}
