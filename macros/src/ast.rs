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

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, token, Attribute, Expr, Ident, LitInt, Token, Visibility};

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
    /// The `Input` keyword; the generated `forward` is spanned here, so that rustc's notes
    /// about its argument point at the input shape.
    pub keyword: Ident,
    pub dims: Punctuated<Expr, Token![,]>,
    /// Every token from `Input` to `>`, for errors about the whole declaration.
    pub tokens: TokenStream,
}

/// `name: Kind(args)`.
pub struct LayerDecl {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub kind: Ident,
    pub args: Vec<Arg>,
    /// The whole `Kind(args)` call, for errors about the layer as a whole.
    pub call_tokens: TokenStream,
}

/// A positional argument (`128`) or a keyword argument (`activation = relu`).
#[derive(Clone)]
pub struct Arg {
    pub key: Option<Ident>,
    pub value: Expr,
    /// `key = value` or `value`, for errors about the argument as a whole.
    pub tokens: TokenStream,
}

/// A `model!` invocation of either form.
pub enum Decl {
    /// `struct Name: Input<...> { layer: Kind(args), ... }`
    Sequential(ModelDef),
    /// `struct Name { x = Input<...>; h = Kind(args)(x); ...; outputs(h); }`
    Functional(crate::graph::ast::GraphDef),
}

impl Parse for Decl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (attrs, vis, name) = parse_head(input)?;
        if input.peek(token::Brace) && looks_functional(input) {
            return crate::graph::ast::parse_body(input, attrs, vis, name).map(Decl::Functional);
        }
        parse_sequential(input, attrs, vis, name).map(Decl::Sequential)
    }
}

impl Parse for ModelDef {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (attrs, vis, name) = parse_head(input)?;
        parse_sequential(input, attrs, vis, name)
    }
}

/// Whether the braces ahead hold functional statements (`x = Input<8>;`): some `=` at their
/// top level. Without one, the body is a sequential one whose `: Input<...>` is missing.
fn looks_functional(input: ParseStream) -> bool {
    let fork = input.fork();
    let Ok(group) = fork.parse::<proc_macro2::Group>() else {
        return false;
    };
    group
        .stream()
        .into_iter()
        .any(|tt| matches!(tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == '='))
}

/// `#[attrs] vis struct Name`.
fn parse_head(input: ParseStream) -> syn::Result<(Vec<Attribute>, Visibility, Ident)> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    if !input.peek(Token![struct]) {
        return Err(input
            .error("expected `struct`, as in `model! { pub struct Mlp: Input<784> { out: Dense(10) } }`"));
    }
    let struct_token: Token![struct] = input.parse()?;
    if !input.peek(Ident) {
        return Err(error_after(
            input,
            struct_token,
            "expected the model's name after `struct`, as in `struct Mlp: Input<784> { ... }`",
        ));
    }
    let name: Ident = input.parse()?;
    Ok((attrs, vis, name))
}

/// The rest of a sequential declaration: `: Input<...> { layers }`.
fn parse_sequential(
    input: ParseStream,
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
) -> syn::Result<ModelDef> {
    if !input.peek(Token![:]) {
        return Err(error_after(
            input,
            &name,
            "expected `: Input<...>` after the model name, as in `struct Mlp: Input<784> { ... }`",
        ));
    }
    let colon: Token![:] = input.parse()?;
    if !input.peek(Ident) {
        return Err(error_after(
            input,
            colon,
            "expected the input shape after `:`, as in `struct Mlp: Input<784> { ... }`",
        ));
    }
    let input_decl: InputDecl = input.parse()?;
    if !input.peek(token::Brace) {
        return Err(error_after(
            input,
            &input_decl.tokens,
            "expected the layers in braces after the input shape, as in `Input<784> { out: Dense(10) }`",
        ));
    }
    let content;
    let brace = braced!(content in input);
    let mut layers = Vec::new();
    while !content.is_empty() {
        let layer = content.parse::<LayerDecl>()?;
        if !content.is_empty() && !content.peek(Token![,]) {
            return Err(content.error(format!(
                "expected `,` after layer `{}`; layers are separated by commas",
                layer.name
            )));
        }
        layers.push(layer);
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

impl Parse for InputDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let keyword: Ident = input.parse()?;
        if keyword != "Input" {
            return Err(syn::Error::new(
                keyword.span(),
                format!("expected `Input<...>` (the per-sample input shape), found `{keyword}`"),
            ));
        }
        if !input.peek(Token![<]) {
            return Err(error_after(
                input,
                &keyword,
                "expected the input shape in angle brackets, as in `Input<784>` or `Input<28, 28, 1>`",
            ));
        }
        let lt: Token![<] = input.parse()?;
        let mut dims = Punctuated::new();
        loop {
            if input.peek(Token![>]) {
                break;
            }
            if input.is_empty() {
                let mut written = keyword.to_token_stream();
                lt.to_tokens(&mut written);
                dims.to_tokens(&mut written);
                return Err(syn::Error::new_spanned(
                    written,
                    "unclosed input shape: expected `>`, as in `Input<28, 28, 1>`",
                ));
            }
            // Dimensions are literals (`28`) or, to be reported as such by `check`, paths
            // (`N`); anything else cannot be a dimension, and `>` must close the list.
            let dim: Expr = if input.peek(LitInt) {
                Expr::Lit(syn::ExprLit {
                    attrs: vec![],
                    lit: syn::Lit::Int(input.parse()?),
                })
            } else if input.peek(Ident) || input.peek(Token![::]) {
                Expr::Path(input.parse()?)
            } else {
                return Err(input
                    .error("input dimensions must be positive integer literals, as in `Input<28, 28, 1>`"));
            };
            dims.push_value(dim);
            if input.peek(Token![>]) {
                break;
            }
            if !input.peek(Token![,]) {
                let msg = "expected `,` or `>` after an input dimension, as in `Input<28, 28, 1>`";
                return Err(match dims.last() {
                    Some(last) => error_after(input, last, msg),
                    None => input.error(msg),
                });
            }
            dims.push_punct(input.parse()?);
        }
        let gt: Token![>] = input.parse()?;
        let mut tokens = keyword.to_token_stream();
        lt.to_tokens(&mut tokens);
        dims.to_tokens(&mut tokens);
        gt.to_tokens(&mut tokens);
        Ok(InputDecl {
            keyword,
            dims,
            tokens,
        })
    }
}

impl Parse for LayerDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        if !input.peek(Ident) {
            return Err(input.error("expected a layer, as in `hidden: Dense(64, activation = relu)`"));
        }
        let name: Ident = input.parse()?;
        if !input.peek(Token![:]) || input.peek(Token![::]) {
            return Err(input.error(format!(
                "expected `:` after the layer name `{name}`, as in `{name}: Dense(64)`"
            )));
        }
        input.parse::<Token![:]>()?;
        parse_layer_rest(input, attrs, name)
    }
}

/// A layer declaration after its `name:`.
pub fn parse_layer_rest(input: ParseStream, attrs: Vec<Attribute>, name: Ident) -> syn::Result<LayerDecl> {
    if !input.peek(Ident) {
        return Err(input.error(format!(
            "expected the kind of layer `{name}`, as in `{name}: Dense(64)`"
        )));
    }
    let kind: Ident = input.parse()?;
    if input.peek(Token![::]) {
        return Err(
            input.error("layer kinds are plain names resolved by `model!`; write `Dense(64)`, not a path")
        );
    }
    if input.peek(Token![<]) || input.peek(token::Bracket) || input.peek(token::Brace) {
        return Err(input.error(format!(
            "the arguments of `{kind}` go in parentheses, as in `{name}: Dense(64)`"
        )));
    }
    let mut call_tokens = kind.to_token_stream();
    let mut args = Vec::new();
    if input.peek(token::Paren) {
        let content;
        let paren = parenthesized!(content in input);
        let inner: TokenStream = content.fork().parse()?;
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

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let key: Ident = input.parse()?;
            let eq: Token![=] = input.parse()?;
            let value: Expr = input.parse()?;
            let mut tokens = key.to_token_stream();
            eq.to_tokens(&mut tokens);
            value.to_tokens(&mut tokens);
            Ok(Arg {
                key: Some(key),
                value,
                tokens,
            })
        } else {
            let value: Expr = input.parse()?;
            Ok(Arg {
                key: None,
                tokens: value.to_token_stream(),
                value,
            })
        }
    }
}

/// `msg` at the next token, or at `last` (the last token read) when the input ends there:
/// syn would otherwise point at the whole `model!` invocation.
fn error_after(input: ParseStream, last: impl ToTokens, msg: &str) -> syn::Error {
    if input.is_empty() {
        syn::Error::new_spanned(last, msg)
    } else {
        input.error(msg)
    }
}
