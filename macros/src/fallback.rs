//! What `model!` emits next to its errors: the struct with stub methods, so the code that
//! uses the model does not add a cascade of follow-on errors.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::ModelDef;

pub fn model(def: &ModelDef) -> TokenStream {
    let attrs = def.attrs.iter().filter(|a| a.path().is_ident("doc"));
    let vis = &def.vis;
    let name = &def.name;
    quote! {
        #(#attrs)*
        #vis struct #name;

        #[allow(dead_code, unused_variables, clippy::all)]
        impl #name {
            /// Unavailable: the declaration has errors.
            pub const PARAM_COUNT: usize = 0;
            /// Unavailable: the declaration has errors.
            pub fn new(seed: u64) -> Self {
                ::core::unreachable!()
            }
            /// Unavailable: the declaration has errors.
            pub fn summary(&self) {
                ::core::unreachable!()
            }
        }
    }
}
