//! What `model!` emits next to its errors: the struct with the same API as a checked model
//! (`new`, `ZERO`, `init`, `forward`, `params`, the `kerust::Model` impl), every body
//! `unreachable!()`, so that the code using the model does not add a cascade of follow-on
//! errors to the macro's own.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::{Ident, Visibility};

use crate::ast::ModelDef;
use crate::check::Failed;
use crate::layers::shape_type;

/// The errors, and a stub of the model.
pub fn model(def: &ModelDef, failed: &Failed) -> TokenStream {
    // Only attributes that keep meaning on a unit struct: docs and derives.
    let attrs = def
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc") || a.path().is_ident("derive"));
    let mut out = failed.error.to_compile_error();
    out.extend(quote!(#(#attrs)*));
    out.extend(stub(
        &def.vis,
        &def.name,
        failed.input.as_deref(),
        failed.output.as_deref(),
    ));
    out
}

/// The errors of a functional declaration, and a stub of the model.
pub fn graph(def: &crate::graph::ast::GraphDef, error: &syn::Error) -> TokenStream {
    let attrs = def
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc") || a.path().is_ident("derive"));
    let mut out = error.to_compile_error();
    out.extend(quote!(#(#attrs)*));
    out.extend(stub(&def.vis, &def.name, None, None));
    out
}

/// The error of a declaration that does not parse, with a stub of the model if its name can
/// be found (`... struct Name ...`), so that uses of `Name` do not fail as well.
pub fn unparsed(tokens: TokenStream, error: &syn::Error) -> TokenStream {
    let mut out = error.to_compile_error();
    let mut vis = TokenStream::new();
    let mut iter = tokens.into_iter();
    while let Some(tt) = iter.next() {
        match &tt {
            TokenTree::Ident(i) if i == "struct" => {
                if let Some(TokenTree::Ident(name)) = iter.next() {
                    let vis: Visibility = syn::parse2(vis).unwrap_or(Visibility::Inherited);
                    out.extend(stub(&vis, &name, None, None));
                }
                break;
            }
            // `#` and `[...]` of attributes.
            TokenTree::Punct(p) if p.as_char() == '#' => vis = TokenStream::new(),
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Bracket => {}
            _ => vis.extend([tt]),
        }
    }
    out
}

/// The model's struct and API with unreachable bodies. Unknown shapes become a generic
/// `forward` result and `f32` in the `Model` impl, which no caller can contradict.
fn stub(vis: &Visibility, name: &Ident, input: Option<&[usize]>, output: Option<&[usize]>) -> TokenStream {
    let kr = quote!(::kerust::__private);
    let name_str = name.to_string();
    let in_ty = input.map_or_else(|| quote!(f32), shape_type);
    let out_ty = output.map_or_else(|| quote!(f32), shape_type);
    let forward = match output {
        Some(_) => quote! {
            pub fn forward<__X: ?::core::marker::Sized>(&self, x: &__X) -> #out_ty {
                ::core::unreachable!()
            }
        },
        None => quote! {
            pub fn forward<__X: ?::core::marker::Sized, __Y>(&self, x: &__X) -> __Y {
                ::core::unreachable!()
            }
        },
    };
    quote! {
        #vis struct #name;

        #[automatically_derived]
        #[allow(dead_code, unused_variables, clippy::all)]
        impl #name {
            /// Unavailable: the declaration has errors.
            pub const PARAM_COUNT: usize = 0;
            /// Unavailable: the declaration has errors.
            pub const ZERO: Self = #name;
            /// Unavailable: the declaration has errors.
            pub fn init(&mut self, seed: u64) {
                ::core::unreachable!()
            }
            /// Unavailable: the declaration has errors.
            #forward
            /// Unavailable: the declaration has errors.
            pub fn params(&self) -> &[f32] {
                ::core::unreachable!()
            }
            /// Unavailable: the declaration has errors.
            pub fn params_mut(&mut self) -> &mut [f32] {
                ::core::unreachable!()
            }
        }

        #kr::if_alloc! {
            #[automatically_derived]
            #[allow(dead_code, unused_variables, clippy::all)]
            impl #name {
                /// Unavailable: the declaration has errors.
                pub fn new(seed: u64) -> #kr::alloc::boxed::Box<Self> {
                    ::core::unreachable!()
                }
            }
        }

        #[automatically_derived]
        #[allow(unused_variables, clippy::all)]
        const _: () = {
            // SAFETY: a unit struct holds no parameters, as `COUNT` says.
            unsafe impl #kr::Params for #name {
                const COUNT: usize = 0;
                const ZERO: Self = #name;
            }

            impl #kr::Model for #name {
                type Input = #in_ty;
                type Output = #out_ty;
                const NAME: &'static str = #name_str;
                const LAYERS: &'static [#kr::LayerInfo] = &[];
                const INPUTS: &'static [#kr::model::TensorInfo] = &[];
                const OUTPUTS: &'static [#kr::model::TensorInfo] = &[];
                const WORKSPACE: usize = 0;
                const SCRATCH: usize = 0;
                const WHOLE_BATCH: bool = false;
                const NON_TRAINABLE: &'static [(usize, usize)] = &[];
                fn init_with(&mut self, rng: &mut #kr::Rng) {
                    ::core::unreachable!()
                }
                fn forward_batch(&self, x: &[f32], y: &mut [f32], batch: usize, scratch: &mut [f32]) {
                    ::core::unreachable!()
                }
                fn forward_train(&self, x: &[f32], batch: usize, ws: &mut [f32], rng: &mut #kr::Rng) {
                    ::core::unreachable!()
                }
                fn train_output(ws: &[f32], batch: usize) -> &[f32] {
                    ::core::unreachable!()
                }
                fn backward_input(
                    &self,
                    x: &[f32],
                    batch: usize,
                    ws: &mut [f32],
                    dy: &mut [f32],
                    dx: ::core::option::Option<&mut [f32]>,
                    grads: &mut Self,
                ) {
                    ::core::unreachable!()
                }
                fn update_state(&mut self, ws: &[f32], batch: usize) {
                    ::core::unreachable!()
                }
                fn visit_params(&self, f: &mut #kr::model::ModelParamVisitor<'_>) {
                    ::core::unreachable!()
                }
            }
        };
    }
}
