//! The parsed functional declaration; every token keeps its span.
//!
//! ```text
//! model! {
//!     pub struct Name {
//!         x = Input<28, 28, 1>;                     // an input node
//!         c = Conv2D(8, 3, padding = same)(x);       // a layer applied to a node
//!         s = Add(x, c);                             // a merge of nodes
//!         shared: Dense(16);                         // a layer declared to be applied later
//!         a = shared(f);                             // ... here
//!         outputs(a, s);
//!     }
//! }
//! ```

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, token, Attribute, Ident, Token, Visibility};

use crate::ast::{Arg, InputDecl, LayerDecl};

/// A whole functional `model!` invocation.
pub struct GraphDef {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub stmts: Vec<Stmt>,
    /// The braces around the statements, for errors about the model as a whole.
    pub body_span: Span,
}

/// One statement of the body.
pub enum Stmt {
    /// `x = Input<...>;`
    Input { name: Ident, decl: InputDecl },
    /// `name: Kind(args);` — a layer that nodes apply by its name.
    Layer(LayerDecl),
    /// `name = callee(args)(inputs);` or `name = callee(inputs);`
    Node {
        attrs: Vec<Attribute>,
        name: Ident,
        call: Call,
    },
    /// `outputs(a, b);`
    Outputs { keyword: Ident, names: Vec<Ident> },
}

/// The right-hand side of a node: `Kind(args)(inputs)`, `Merge(a, b, key = value)` or
/// `layer(input)`.
pub struct Call {
    pub callee: Ident,
    /// The arguments in the first parenthesised group.
    pub args: Vec<Arg>,
    /// The callee and its first group, for errors about the layer (`Dense(10)`).
    pub layer_tokens: TokenStream,
    /// The second parenthesised group: the nodes a created layer is applied to.
    pub applied: Option<Vec<Ident>>,
    /// The second group, for errors about the inputs.
    pub applied_tokens: TokenStream,
    /// The whole right-hand side.
    pub tokens: TokenStream,
}

impl Stmt {
    /// The name the statement defines (`None` for `outputs`).
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Stmt::Input { name, .. } | Stmt::Node { name, .. } => Some(name),
            Stmt::Layer(l) => Some(&l.name),
            Stmt::Outputs { .. } => None,
        }
    }
}

/// Parses the body after `struct Name`, starting at its `{`.
pub fn parse_body(
    input: ParseStream,
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
) -> syn::Result<GraphDef> {
    let content;
    let brace = braced!(content in input);
    let mut stmts = Vec::new();
    while !content.is_empty() {
        let stmt: Stmt = content.parse()?;
        let defined = stmt.name().map(ToString::to_string);
        stmts.push(stmt);
        if content.is_empty() {
            break;
        }
        if !content.peek(Token![;]) {
            let what = defined.map_or("`outputs(...)`".to_string(), |n| format!("`{n}`"));
            return Err(content.error(format!(
                "expected `;` after {what}; the statements of a functional model end with `;`"
            )));
        }
        content.parse::<Token![;]>()?;
    }
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the model's closing brace"));
    }
    Ok(GraphDef {
        attrs,
        vis,
        name,
        stmts,
        body_span: brace.span.join(),
    })
}

impl Parse for Stmt {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        if !input.peek(Ident) {
            return Err(input.error(
                "expected a statement: `x = Input<784>;`, `h = Dense(64)(x);`, `s = Add(a, b);`, `shared: Dense(64);` or `outputs(h);`",
            ));
        }
        if input.peek(Ident) && input.peek2(token::Paren) {
            let fork = input.fork();
            let keyword: Ident = fork.parse()?;
            if keyword == "outputs" {
                input.parse::<Ident>()?;
                let content;
                parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content).map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`outputs(...)` lists node names, as in `outputs(logits)`",
                    )
                })?;
                if !attrs.is_empty() {
                    return Err(syn::Error::new_spanned(
                        &attrs[0],
                        "`outputs(...)` takes no attributes",
                    ));
                }
                return Ok(Stmt::Outputs {
                    keyword,
                    names: names.into_iter().collect(),
                });
            }
        }
        let name: Ident = input.parse()?;
        if input.peek(Token![:]) && !input.peek(Token![::]) {
            // `name: Kind(args)` is a sequential layer declaration with the name already read.
            input.parse::<Token![:]>()?;
            let decl = crate::ast::parse_layer_rest(input, attrs, name)?;
            return Ok(Stmt::Layer(decl));
        }
        if !input.peek(Token![=]) {
            return Err(input.error(format!(
                "expected `=` or `:` after `{name}`: `{name} = Dense(64)(x);` defines a node, `{name}: Dense(64);` declares a layer to apply by name"
            )));
        }
        input.parse::<Token![=]>()?;
        if input.peek(Ident) && input.peek2(Token![<]) {
            let decl: InputDecl = input.parse()?;
            if let Some(a) = attrs.first() {
                return Err(syn::Error::new_spanned(a, "input nodes take no attributes"));
            }
            return Ok(Stmt::Input { name, decl });
        }
        let call: Call = input.parse()?;
        Ok(Stmt::Node { attrs, name, call })
    }
}

impl Parse for Call {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident) {
            return Err(input.error(
                "expected a layer applied to a node (`Dense(64)(x)`), a merge (`Add(a, b)`) or a declared layer (`shared(x)`)",
            ));
        }
        let callee: Ident = input.parse()?;
        if input.peek(Token![::]) || input.peek(Token![<]) {
            return Err(input.error(format!(
                "layer kinds are plain names resolved by `model!`; write `{callee}(...)`"
            )));
        }
        let mut layer_tokens = callee.to_token_stream();
        let mut tokens = layer_tokens.clone();
        let args;
        if input.peek(token::Paren) {
            let (list, group) = paren_group(input, Punctuated::<Arg, Token![,]>::parse_terminated)?;
            args = list.into_iter().collect();
            layer_tokens.extend([group.clone()]);
            tokens.extend([group]);
        } else {
            return Err(input.error(format!(
                "expected `(` after `{callee}`: write `{callee}(...)(x)` to apply a layer to node `x`, or `{callee}(x)` for a merge or a declared layer"
            )));
        }
        let mut applied = None;
        let mut applied_tokens = TokenStream::new();
        if input.peek(token::Paren) {
            let (list, group) = paren_group(input, |c| {
                Punctuated::<Ident, Token![,]>::parse_terminated(c).map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "a layer is applied to node names, as in `Dense(10)(hidden)` or `Concatenate()(a, b)`",
                    )
                })
            })?;
            applied = Some(list.into_iter().collect());
            applied_tokens.extend([group.clone()]);
            tokens.extend([group]);
        }
        if input.peek(token::Paren) {
            return Err(input.error("a layer is applied once per node: define another node for another call"));
        }
        Ok(Call {
            callee,
            args,
            layer_tokens,
            applied,
            applied_tokens,
            tokens,
        })
    }
}

/// Parses `( ... )` with `f`, returning the result and the group as a token (with its span).
fn paren_group<T>(
    input: ParseStream,
    f: impl FnOnce(ParseStream) -> syn::Result<T>,
) -> syn::Result<(T, TokenTree)> {
    let content;
    let paren = parenthesized!(content in input);
    let inner: TokenStream = content.fork().parse()?;
    let value = f(&content)?;
    let mut group = Group::new(Delimiter::Parenthesis, inner);
    group.set_span(paren.span.join());
    Ok((value, TokenTree::Group(group)))
}
