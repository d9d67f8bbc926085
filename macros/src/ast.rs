//! The parsed declaration, mirroring the grammar; every token keeps its span.
//!
//! ```text
//! model! {
//!     #[attrs] /// docs
//!     pub struct Name: Input<d0, d1, ...> {
//!         #[attrs] /// docs
//!         layer_name: Kind(arg, ..., key = value, ...),
//!         ...
//!     }
//! }
//! ```
//!
//! The `Name: Input<...> { ... }` form is the sequential model; other forms (a functional
//! graph with named nodes) can be told apart by the absence of the `:` after the name.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, Attribute, Expr, Ident, LitInt, Token, Visibility};

/// A whole `model!` invocation.
pub struct ModelDef {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub input: InputDecl,
    pub layers: Vec<LayerDecl>,
    /// The braces around the layers, for errors about the model as a whole.
    pub body_span: Span,
}

/// `Input<d0, d1, ...>`.
pub struct InputDecl {
    pub keyword: Ident,
    pub dims: Punctuated<Expr, Token![,]>,
    pub span: Span,
}

/// `name: Kind(args)`.
pub struct LayerDecl {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub kind: Ident,
    pub args: Vec<Arg>,
    /// The span of the whole `Kind(args)` call.
    pub call_tokens: proc_macro2::TokenStream,
}

/// A positional argument (`128`) or a keyword argument (`activation = relu`).
pub struct Arg {
    pub key: Option<Ident>,
    pub value: Expr,
}

impl Parse for ModelDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![struct]>()?;
        let name: Ident = input.parse()?;
        if !input.peek(Token![:]) {
            return Err(input.error(
                "expected `: Input<...>` after the model name, as in `struct Mlp: Input<784> { ... }`",
            ));
        }
        input.parse::<Token![:]>()?;
        let input_decl: InputDecl = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let mut layers = Vec::new();
        while !content.is_empty() {
            layers.push(content.parse::<LayerDecl>()?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the model's closing brace"));
        }
        Ok(ModelDef {
            attrs,
            vis,
            name,
            input: input_decl,
            layers,
            body_span: brace.span.join(),
        })
    }
}

impl Parse for InputDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let keyword: Ident = input.parse()?;
        if keyword != "Input" {
            return Err(syn::Error::new(
                keyword.span(),
                format!("expected `Input<...>` (the per-sample input shape), found `{keyword}`"),
            ));
        }
        let lt: Token![<] = input.parse()?;
        let mut dims = Punctuated::new();
        loop {
            if input.peek(Token![>]) {
                break;
            }
            // Dimensions are literals (`28`) or const items (`N`); parse a restricted
            // expression so that `>` closes the list.
            let dim: Expr = if input.peek(LitInt) {
                Expr::Lit(syn::ExprLit {
                    attrs: vec![],
                    lit: syn::Lit::Int(input.parse()?),
                })
            } else {
                Expr::Path(input.parse()?)
            };
            dims.push_value(dim);
            if input.peek(Token![>]) {
                break;
            }
            dims.push_punct(input.parse()?);
        }
        let gt: Token![>] = input.parse()?;
        let span = keyword.span().join(gt.span).unwrap_or(lt.span);
        Ok(InputDecl { keyword, dims, span })
    }
}

impl Parse for LayerDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `:` after the layer name `{name}`, as in `{name}: Dense(64)`"),
            )
        })?;
        let kind: Ident = input.parse()?;
        let mut call_tokens = quote::quote!(#kind);
        let mut args = Vec::new();
        if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            let inner: proc_macro2::TokenStream = content.fork().parse()?;
            let list = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?;
            args = list.into_iter().collect();
            let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, inner);
            group.set_span(paren.span.join());
            call_tokens.extend(std::iter::once(proc_macro2::TokenTree::Group(group)));
        }
        Ok(LayerDecl {
            attrs,
            name,
            kind,
            args,
            call_tokens,
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            Ok(Arg {
                key: Some(key),
                value,
            })
        } else {
            Ok(Arg {
                key: None,
                value: input.parse()?,
            })
        }
    }
}
