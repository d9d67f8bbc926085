//! Shape inference and validation: turns the parsed declaration into the checked [`ir`]
//! model, or into errors spanned at the offending tokens. Every independent mistake is
//! reported in one compile: a layer with a bad argument still passes on whatever shape it
//! can infer, so the layers after it are checked too.
//!
//! [`ir`]: crate::ir

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Expr, Ident, Lit};

use crate::ast::{InputDecl, LayerDecl, ModelDef};
use crate::ir::{numel, Layer, Model};
use crate::layers::{self, parse_value, resolve, Args, Site, Spec};
use crate::suggest;

/// The most values one sample may have at any layer: arrays are limited to `isize::MAX`
/// bytes, and the generated scratch holds two of the widest outputs.
pub const MAX_VALUES: usize = isize::MAX as usize / 8;

/// Why a declaration did not check, with what is still known of its shapes so that the
/// fallback can keep the signatures the user's code relies on.
pub struct Failed {
    pub error: syn::Error,
    pub input: Option<Vec<usize>>,
    pub output: Option<Vec<usize>>,
}

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
pub struct Errors(pub Vec<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        self.0.push(e);
    }

    pub fn spanned(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.0.push(syn::Error::new_spanned(tokens, msg));
    }

    pub fn into_result(self) -> Result<(), syn::Error> {
        let mut all = self.0.into_iter();
        match all.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(all);
                Err(first)
            }
        }
    }
}

/// Checks the declaration and infers every shape.
pub fn check(def: &ModelDef) -> Result<Model<'_>, Failed> {
    let mut errors = Errors::default();
    let input = check_input(&def.input, &mut errors);
    if def.layers.is_empty() {
        errors.push(syn::Error::new(
            def.body_span,
            "a model needs at least one layer\nhelp: declare the layers inside the braces, as in `{ out: Dense(10) }`",
        ));
    }
    check_unique_names(def, &mut errors);

    let mut layers = Vec::new();
    let mut shape = input.clone();
    let mut prev: Option<&Ident> = None;
    for decl in &def.layers {
        let kind = decl.kind.to_string();
        let Some(spec) = Spec::find(&kind) else {
            errors.spanned(
                &decl.kind,
                format!(
                    "unknown layer `{kind}`{}\nhelp: the layers are {}",
                    suggest::hint(&kind, layers::kind_names()),
                    layers::list(layers::kind_names())
                ),
            );
            shape = None;
            prev = Some(&decl.name);
            continue;
        };
        let args = resolve_args(decl, spec, &mut errors);
        let site = Site {
            kind: spec.name,
            layer: &decl.name,
            call: &decl.call_tokens,
            prev,
            functional: false,
        };
        let r = resolve(spec.name, &args, shape.as_deref(), &site, &mut errors.0);
        let lens = |s: &Option<Vec<usize>>| s.as_deref().and_then(numel).filter(|&n| n <= MAX_VALUES);
        let output = match (&r.output, lens(&r.output)) {
            (Some(out), None) => {
                errors.spanned(
                    &decl.call_tokens,
                    format!(
                        "layer `{}` produces shape {out:?}, which has too many values",
                        decl.name
                    ),
                );
                None
            }
            _ => r.output,
        };
        if let (Some(input_len), Some(output_len), Some(out)) = (lens(&shape), lens(&output), &output) {
            layers.push(Layer {
                decl,
                kind: spec.name,
                ty: r.ty,
                output: out.clone(),
                input_len,
                output_len,
                describe: r.describe,
            });
        }
        shape = output;
        prev = Some(&decl.name);
    }

    match errors.into_result() {
        Err(error) => Err(Failed {
            error,
            input,
            output: shape,
        }),
        Ok(()) => Ok(Model {
            def,
            input: input.unwrap_or_default(),
            layers,
        }),
    }
}

/// Layer names are struct fields: they must be unique.
fn check_unique_names(def: &ModelDef, errors: &mut Errors) {
    let mut seen: HashMap<String, &Ident> = HashMap::new();
    for layer in &def.layers {
        let name = layer.name.to_string();
        match seen.get(&name) {
            Some(first) => {
                errors.spanned(
                    &layer.name,
                    format!("duplicate layer name `{name}`\nhelp: layer names become struct fields, so each layer needs its own name"),
                );
                errors.spanned(first, format!("layer `{name}` is first declared here"));
            }
            None => {
                seen.insert(name, &layer.name);
            }
        }
    }
}

/// `Input<d0, ...>`: one to eight dimensions, each a positive integer literal.
pub fn check_input(decl: &InputDecl, errors: &mut Errors) -> Option<Vec<usize>> {
    let dims = &decl.dims;
    if dims.is_empty() {
        errors.spanned(
            &decl.tokens,
            "`Input` needs at least one dimension\nhelp: write the shape of one sample, as in `Input<784>` or `Input<28, 28, 1>`",
        );
        return None;
    }
    if dims.len() > 8 {
        errors.spanned(
            &decl.tokens,
            format!("`Input` has at most 8 dimensions, found {}", dims.len()),
        );
        return None;
    }
    let mut shape = Vec::new();
    for d in dims {
        match d {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => match i.base10_parse::<usize>() {
                Ok(0) => errors.spanned(d, "input dimensions must be at least 1, found 0"),
                Ok(v) => shape.push(v),
                Err(e) => errors.push(e),
            },
            _ => errors.spanned(
                d,
                format!(
                    "input dimensions must be integer literals, found `{}`\nhelp: write the number, as in `Input<784>`: `model!` computes every shape while it expands, before `const` items are evaluated",
                    d.to_token_stream()
                ),
            ),
        }
    }
    if shape.len() != dims.len() {
        return None;
    }
    if numel(&shape).is_none_or(|n| n > MAX_VALUES) {
        errors.spanned(
            &decl.tokens,
            format!("the input shape {shape:?} has too many values"),
        );
        return None;
    }
    Some(shape)
}

/// Matches the call's arguments to the layer kind's parameters. Arguments that are missing
/// or do not parse are `None`, after an error.
pub fn resolve_args(decl: &LayerDecl, spec: &Spec, errors: &mut Errors) -> Args {
    let kind = spec.name;
    let layer = &decl.name;
    let names = || spec.params.iter().map(|p| p.name);
    let mut values: Vec<Option<(layers::Value, TokenStream)>> = spec.params.iter().map(|_| None).collect();
    // How each parameter was first written, to name it when it is given twice.
    let mut given: Vec<Option<&TokenStream>> = vec![None; spec.params.len()];
    // A misnamed or misplaced argument is probably the missing one: do not report both.
    let mut misplaced = false;
    let mut positional = 0;
    let mut extra = TokenStream::new();
    let mut seen_keyword = false;
    for arg in &decl.args {
        let index = match &arg.key {
            None if seen_keyword => {
                errors.spanned(
                    &arg.tokens,
                    format!(
                        "layer `{layer}`: positional argument after a keyword argument\nhelp: put positional arguments first, as in `{}`",
                        spec.example
                    ),
                );
                misplaced = true;
                continue;
            }
            None => {
                positional += 1;
                if positional > spec.params.len() {
                    arg.tokens.to_tokens(&mut extra);
                    continue;
                }
                positional - 1
            }
            Some(key) => {
                seen_keyword = true;
                let k = key.to_string();
                if let Some(i) = spec.params.iter().position(|p| p.name == k) {
                    i
                } else {
                    let takes = if spec.params.is_empty() {
                        format!("`{kind}` takes no arguments")
                    } else {
                        format!(
                            "`{kind}` takes {}, as in `{}`",
                            layers::list_code(names()),
                            spec.example
                        )
                    };
                    errors.spanned(
                        key,
                        format!(
                            "layer `{layer}`: `{kind}` has no argument `{k}`{}\nhelp: {takes}",
                            suggest::hint(&k, names())
                        ),
                    );
                    misplaced = true;
                    continue;
                }
            }
        };
        let Some(param) = spec.params.get(index) else {
            continue;
        };
        if let Some(first) = given[index] {
            errors.spanned(
                &arg.tokens,
                format!(
                    "layer `{layer}`: argument `{}` is given twice\nhelp: it is already given as `{first}`; remove one of them",
                    param.name
                ),
            );
            continue;
        }
        given[index] = Some(&arg.tokens);
        match parse_value(&arg.value, param.kind, param.name, layer) {
            Ok(v) => values[index] = Some((v, arg.value.to_token_stream())),
            Err(e) => errors.push(e),
        }
    }
    if !extra.is_empty() {
        let msg = match spec.params.len() {
            0 => format!("layer `{layer}`: `{kind}` takes no arguments, found {positional}\nhelp: write `{layer}: {kind}`"),
            n => format!(
                "layer `{layer}`: `{kind}` takes at most {n} argument{} ({}), found {positional}\nhelp: as in `{}`",
                if n == 1 { "" } else { "s" },
                layers::list_code(names()),
                spec.example
            ),
        };
        errors.spanned(&extra, msg);
    }
    if !misplaced {
        for (param, _) in spec
            .params
            .iter()
            .zip(&given)
            .filter(|(p, g)| p.required && g.is_none())
        {
            errors.spanned(
                &decl.call_tokens,
                format!(
                    "layer `{layer}`: `{kind}` is missing its `{}` argument\nhelp: as in `{layer}: {}`",
                    param.name, spec.example
                ),
            );
        }
    }
    Args { values }
}
