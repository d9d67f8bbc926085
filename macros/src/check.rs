//! Shape inference and validation: turns the parsed declaration into the checked [`ir`]
//! model, or into errors spanned at the offending tokens. Every independent mistake is
//! reported in one compile.

use std::collections::HashMap;

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, Lit};

use crate::ast::{LayerDecl, ModelDef};
use crate::ir::{Layer, Model};
use crate::layers::{parse_value, resolve, Args, SPECS};
use crate::suggest;

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }
}

/// Checks the declaration and infers every shape.
pub fn check(def: &ModelDef) -> syn::Result<Model<'_>> {
    let mut errors = Errors::default();
    let input = check_input(def, &mut errors);
    if def.layers.is_empty() {
        errors.push(syn::Error::new(
            def.body_span,
            "a model needs at least one layer, as in `out: Dense(10)`",
        ));
    }

    // Layer names are struct fields: they must be unique.
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for layer in &def.layers {
        let name = layer.name.to_string();
        if let Some(first) = seen.get(&name) {
            let mut e = syn::Error::new(
                layer.name.span(),
                format!("duplicate layer name `{name}`; every layer needs its own name"),
            );
            e.combine(syn::Error::new(
                first.span(),
                format!("`{name}` is first declared here"),
            ));
            errors.push(e);
        } else {
            seen.insert(name, &layer.name);
        }
    }

    let mut layers = Vec::new();
    let mut shape = input.clone();
    let mut prev = "the input".to_string();
    for decl in &def.layers {
        let Some(args) = resolve_args(decl, &mut errors) else {
            shape = None;
            continue;
        };
        let Some(current) = shape.take() else { continue };
        let name = decl.name.to_string();
        match resolve(
            &decl.kind.to_string(),
            &args,
            &current,
            &name,
            &prev,
            decl.call_tokens.span(),
        ) {
            Ok(r) => {
                shape = Some(r.output.clone());
                layers.push(Layer {
                    decl,
                    kind: SPECS.iter().find(|s| decl.kind == s.name).map_or("", |s| s.name),
                    ty: r.ty,
                    input: current,
                    output: r.output,
                    describe: r.describe,
                });
            }
            Err((msg, span)) => errors.push(syn::Error::new(span, msg)),
        }
        prev = format!("`{name}`");
    }

    match errors.0 {
        Some(e) => Err(e),
        None => Ok(Model {
            def,
            input: input.unwrap_or_default(),
            layers,
        }),
    }
}

/// `Input<d0, ...>`: at least one dimension, each a positive integer literal.
fn check_input(def: &ModelDef, errors: &mut Errors) -> Option<Vec<usize>> {
    if def.input.dims.is_empty() {
        errors.push(syn::Error::new(
            def.input.span,
            "`Input` needs at least one dimension, as in `Input<784>` or `Input<28, 28, 1>`",
        ));
        return None;
    }
    if def.input.dims.len() > 8 {
        errors.push(syn::Error::new(
            def.input.span,
            "`Input` has at most 8 dimensions",
        ));
        return None;
    }
    let mut dims = Vec::new();
    let mut ok = true;
    for d in &def.input.dims {
        match d {
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => match i.base10_parse::<usize>() {
                    Ok(0) => {
                        errors.push(syn::Error::new_spanned(
                            d,
                            "input dimensions must be at least 1, found 0",
                        ));
                        ok = false;
                    }
                    Ok(v) => dims.push(v),
                    Err(e) => {
                        errors.push(e);
                        ok = false;
                    }
                },
                _ => unreachable_dim(d, errors, &mut ok),
            },
            _ => unreachable_dim(d, errors, &mut ok),
        }
    }
    let _ = &def.input.keyword;
    ok.then_some(dims)
}

fn unreachable_dim(d: &Expr, errors: &mut Errors, ok: &mut bool) {
    errors.push(syn::Error::new_spanned(
        d,
        format!(
            "input dimensions must be integer literals, found `{}`",
            d.to_token_stream()
        ),
    ));
    *ok = false;
}

/// Matches the call's arguments to the layer kind's parameters.
fn resolve_args(decl: &LayerDecl, errors: &mut Errors) -> Option<Args> {
    let kind = decl.kind.to_string();
    let Some(spec) = SPECS.iter().find(|s| s.name == kind) else {
        errors.push(syn::Error::new(
            decl.kind.span(),
            format!(
                "unknown layer `{kind}`{}; available layers: {}",
                suggest::hint(&kind, SPECS.iter().map(|s| s.name)),
                SPECS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            ),
        ));
        return None;
    };
    let mut values: Vec<Option<(crate::layers::Value, proc_macro2::Span)>> =
        spec.params.iter().map(|_| None).collect();
    let mut given = vec![false; spec.params.len()];
    let mut ok = true;
    let mut positional = 0;
    let mut seen_keyword = false;
    for arg in &decl.args {
        let index = match &arg.key {
            None => {
                if seen_keyword {
                    errors.push(syn::Error::new_spanned(
                        &arg.value,
                        "positional arguments must come before keyword arguments",
                    ));
                    ok = false;
                    continue;
                }
                if positional >= spec.params.len() {
                    let msg = if spec.params.is_empty() {
                        format!("`{kind}` takes no arguments; write `{}`", spec.example)
                    } else {
                        format!(
                            "`{kind}` takes at most {} argument(s), as in `{}`",
                            spec.params.len(),
                            spec.example
                        )
                    };
                    errors.push(syn::Error::new_spanned(&arg.value, msg));
                    ok = false;
                    continue;
                }
                positional += 1;
                positional - 1
            }
            Some(key) => {
                seen_keyword = true;
                let k = key.to_string();
                match spec.params.iter().position(|p| p.name == k) {
                    Some(i) => i,
                    None => {
                        let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                        let known = if names.is_empty() {
                            format!("`{kind}` takes no arguments")
                        } else {
                            format!("its arguments are: {}", names.join(", "))
                        };
                        errors.push(syn::Error::new(
                            key.span(),
                            format!(
                                "`{kind}` has no argument `{k}`{}; {known}",
                                suggest::hint(&k, names.iter().copied())
                            ),
                        ));
                        ok = false;
                        continue;
                    }
                }
            }
        };
        let param = &spec.params[index];
        if given[index] {
            errors.push(syn::Error::new_spanned(
                &arg.value,
                format!("argument `{}` is given twice", param.name),
            ));
            ok = false;
            continue;
        }
        given[index] = true;
        match parse_value(&arg.value, param.kind, param.name) {
            Ok(v) => values[index] = Some((v, arg.value.span())),
            Err(e) => {
                errors.push(e);
                ok = false;
            }
        }
    }
    for (i, param) in spec.params.iter().enumerate() {
        if param.required && !given[i] {
            errors.push(syn::Error::new_spanned(
                &decl.call_tokens,
                format!(
                    "layer `{}`: `{kind}` needs `{}`, as in `{}`",
                    decl.name, param.name, spec.example
                ),
            ));
            ok = false;
        }
    }
    ok.then_some(Args { values })
}
