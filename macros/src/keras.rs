//! `keras_model!`: a `model!` declaration read from a Keras file at compile time.
//!
//! ```text
//! keras_model!(pub struct Mnist = "models/mnist.keras");   // attributes and docs allowed
//! keras_model!("models/mnist.keras");                      // pub struct, named after the Keras model
//! ```
//!
//! The file's `config.json` (from a `.keras` archive, or a bare `config.json`) is parsed by
//! `kerust_keras::config`, written as a `model!` declaration by `kerust_keras::codegen`, and
//! that declaration goes through the same `ast` → `check` → `expand` phases as `model!`.
//! Errors (no such file, an unsupported layer or option) are spanned at the path literal.
//! A `const _: &[u8] = include_bytes!(..)` of the file makes cargo rebuild when it changes.

use std::path::{Path, PathBuf};

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Token, Visibility};

use kerust_keras::config::Architecture;
use kerust_keras::{archive, codegen};

use crate::{ast, check, expand, fallback};

/// `#[attrs] vis struct Name = "path"` or `"path"`.
pub struct KerasModel {
    attrs: Vec<Attribute>,
    vis: Option<Visibility>,
    name: Option<Ident>,
    path: LitStr,
}

impl Parse for KerasModel {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let path = input.parse()?;
            input.parse::<Option<Token![,]>>()?;
            return Ok(Self {
                attrs: Vec::new(),
                vis: None,
                name: None,
                path,
            });
        }
        let form = "expected `keras_model!(pub struct Name = \"path/model.keras\")` or `keras_model!(\"path/model.keras\")`";
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        if !input.peek(Token![struct]) {
            return Err(input.error(form));
        }
        input.parse::<Token![struct]>()?;
        let name: Ident = input.parse()?;
        if !input.peek(Token![=]) || !input.peek2(LitStr) {
            return Err(input.error(form));
        }
        input.parse::<Token![=]>()?;
        let path = input.parse()?;
        input.parse::<Option<Token![;]>>()?;
        Ok(Self {
            attrs,
            vis: Some(vis),
            name: Some(name),
            path,
        })
    }
}

/// Where `path` is looked for: as is when absolute; else relative to the crate's root
/// (`CARGO_MANIFEST_DIR`), then to the directory of the file that invokes the macro (as
/// `include_bytes!` does).
fn candidates(path: &str, span: Span) -> Vec<PathBuf> {
    let path = Path::new(path);
    if path.is_absolute() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR") {
        out.push(Path::new(&root).join(path));
    }
    if proc_macro::is_available() {
        if let Some(file) = span.unwrap().local_file() {
            // A relative source path is relative to rustc's working directory.
            let file = std::env::current_dir().map(|d| d.join(&file)).unwrap_or(file);
            if let Some(dir) = file.parent() {
                out.push(dir.join(path));
            }
        }
    }
    out
}

/// Gives every token of `tokens` the span `span`, so that any error in the generated
/// declaration points at the path.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            match &mut t {
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), respan(g.stream(), span));
                    inner.set_span(span);
                    *g = inner;
                }
                other => other.set_span(span),
            }
            t
        })
        .collect()
}

/// The declaration's tokens and the file read, or an error at the path.
fn declaration(def: &KerasModel) -> syn::Result<(TokenStream, PathBuf)> {
    let lit = &def.path;
    let span = lit.span();
    let tried = candidates(&lit.value(), span);
    let Some(file) = tried.iter().find(|p| p.is_file()) else {
        return Err(syn::Error::new(
            span,
            format!(
                "cannot find the Keras file `{}`\nhelp: a relative path is relative to the crate's root (the directory of its Cargo.toml), or else to the directory of this source file",
                lit.value(),
            ),
        ));
    };
    // The span already shows the path: the messages leave it out.
    let arch = archive::read_file(file, archive::Limits::default().max_file)
        .and_then(archive::config_json)
        .and_then(|json| Architecture::from_json(&json))
        .map_err(|e| syn::Error::new(span, format!("in `{}`: {e}", lit.value())))?;
    let name = match &def.name {
        Some(name) => name.clone(),
        None => Ident::new(&codegen::struct_name(&arch.name), span),
    };
    let vis = match &def.vis {
        Some(vis) => quote!(#vis),
        None => quote!(pub),
    };
    let parse = |text: String| -> syn::Result<TokenStream> {
        text.parse::<TokenStream>()
            .map(|t| respan(t, span))
            .map_err(|e| syn::Error::new(span, format!("cannot write the model! declaration: {e}")))
    };
    let input = parse(codegen::input_decl(&arch))?;
    let layers = parse(codegen::layers_decl(&arch, ""))?;
    let attrs = &def.attrs;
    let doc = if attrs.iter().any(|a| a.path().is_ident("doc")) {
        TokenStream::new()
    } else {
        let text = format!(" The Keras model `{}`, from `{}`.", arch.name, lit.value());
        quote!(#[doc = #text])
    };
    let tokens = quote!(#(#attrs)* #doc #vis struct #name: #input { #layers });
    Ok((tokens, file.clone()))
}

/// Expands `keras_model!`.
pub fn expand(input: TokenStream) -> TokenStream {
    let def = match syn::parse2::<KerasModel>(input) {
        Ok(def) => def,
        Err(err) => return err.into_compile_error(),
    };
    let (tokens, file) = match declaration(&def) {
        Ok(found) => found,
        Err(err) => return err.into_compile_error(),
    };
    let track = match file
        .canonicalize()
        .ok()
        .and_then(|p| p.to_str().map(str::to_string))
    {
        Some(abs) => quote!(
            const _: &[u8] = ::core::include_bytes!(#abs);
        ),
        None => TokenStream::new(),
    };
    let model = match syn::parse2::<ast::ModelDef>(tokens.clone()) {
        Ok(model) => model,
        Err(err) => return fallback::unparsed(tokens, &err),
    };
    let expanded = match check::check(&model) {
        Ok(checked) => expand::model(&checked),
        Err(failed) => fallback::model(&model, &failed),
    };
    quote!(#expanded #track)
}
