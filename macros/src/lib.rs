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
