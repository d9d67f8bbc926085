//! `Flatten` and `Reshape(target_shape)`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::{p, shape_type, ArgKind, Args, Resolved, Site, Spec, Value};
use crate::ir::numel;

pub const FLATTEN: Spec = Spec {
    name: "Flatten",
    params: &[],
    example: "Flatten",
    resolve: resolve_flatten,
};
pub const RESHAPE: Spec = Spec {
    name: "Reshape",
    params: &[p("target_shape", ArgKind::Shape, true)],
    example: "Reshape((7, 7, 16))",
    resolve: resolve_reshape,
};

fn resolve_flatten(
    _args: &Args,
    input: Option<&[usize]>,
    _site: &Site,
    _errors: &mut Vec<syn::Error>,
) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let in_ty = input.map(shape_type).unwrap_or_default();
    let n = input.and_then(numel).unwrap_or(0);
    Resolved {
        ty: quote!(#rt::Flatten<#in_ty, #n>),
        output: input.map(|_| vec![n]),
        describe: "Flatten".into(),
    }
}

fn resolve_reshape(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let in_ty = input.map(shape_type).unwrap_or_default();
    let layer = site.layer;
    let out = match (args.get(0), input) {
        (Some((Value::Shape(target), tokens)), Some(input)) => reshape(target, input, tokens, layer, errors),
        // Without the input shape, a fully given target is still the output.
        (Some((Value::Shape(target), _)), None) => target.iter().map(|&d| usize::try_from(d).ok()).collect(),
        _ => None,
    };
    let out_ty = out.as_deref().map(shape_type).unwrap_or_default();
    Resolved {
        ty: quote!(#rt::Reshape<#in_ty, #out_ty>),
        describe: format!("Reshape({:?})", out.as_deref().unwrap_or(&[])),
        output: out,
    }
}

/// The output of `Reshape(target)` on `input`; `target` is well formed (`parse_value`).
fn reshape(
    target: &[i64],
    input: &[usize],
    tokens: &TokenStream,
    layer: &Ident,
    errors: &mut Vec<syn::Error>,
) -> Option<Vec<usize>> {
    let n = numel(input)?;
    let known = target
        .iter()
        .filter(|&&d| d > 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?));
    let Some(known) = known else {
        errors.push(syn::Error::new_spanned(
            tokens,
            format!("layer `{layer}`: target shape {target:?} has too many values"),
        ));
        return None;
    };
    let inferred = target.contains(&-1);
    if inferred && !n.is_multiple_of(known) {
        errors.push(syn::Error::new_spanned(
            tokens,
            format!(
                "layer `{layer}` cannot reshape {input:?} ({n} values) into {target:?}: {n} is not a multiple of {known}\nhelp: the given dimensions must divide the {n} input values"
            ),
        ));
        return None;
    }
    let out: Vec<usize> = target
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(n / known))
        .collect();
    if !inferred && known != n {
        errors.push(syn::Error::new_spanned(
            tokens,
            format!(
                "layer `{layer}` cannot reshape {input:?} ({n} values) into {out:?} ({known} values)\nhelp: the target shape must hold {n} values; write -1 for one dimension to infer it"
            ),
        ));
    }
    Some(out)
}
