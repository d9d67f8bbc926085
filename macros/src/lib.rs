//! The `model!` procedural macro of kerust. Use it through the `kerust` crate.
//!
//! The macro runs three phases: [`ast`] parses the declaration (keeping every span),
//! [`check`] infers every shape and reports mistakes at the offending layer, and [`expand`]
//! writes the statically shaped struct and its forward/backward code.

mod ast;
mod check;
mod expand;
mod fallback;
mod ir;
mod layers;
mod suggest;

use proc_macro::TokenStream;

/// Declares a statically shaped model. See the `kerust` crate documentation.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    let def = syn::parse_macro_input!(input as ast::ModelDef);
    match check::check(&def) {
        Ok(model) => expand::model(&model).into(),
        Err(err) => {
            let mut out = err.to_compile_error();
            out.extend(fallback::model(&def));
            out.into()
        }
    }
}
