//! `BatchNormalization(axis, momentum, epsilon, center, scale)` and
//! `LayerNormalization(axis, epsilon, center, scale)`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{p, shape_type, ArgKind, Args, Resolved, Site, Spec, Value};

pub const BATCH_NORMALIZATION: Spec = Spec {
    name: "BatchNormalization",
    params: &[
        p("axis", ArgKind::Int, false),
        p("momentum", ArgKind::Float, false),
        p("epsilon", ArgKind::Float, false),
        p("center", ArgKind::Bool, false),
        p("scale", ArgKind::Bool, false),
    ],
    example: "BatchNormalization(momentum = 0.9)",
    resolve: resolve_batch,
};

pub const LAYER_NORMALIZATION: Spec = Spec {
    name: "LayerNormalization",
    params: &[
        p("axis", ArgKind::Int, false),
        p("epsilon", ArgKind::Float, false),
        p("center", ArgKind::Bool, false),
        p("scale", ArgKind::Bool, false),
    ],
    example: "LayerNormalization(epsilon = 1e-6)",
    resolve: resolve_layer,
};

/// Keras's defaults.
const MOMENTUM: f64 = 0.99;
const EPSILON: f64 = 1e-3;

fn resolve_batch(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    check_axis(args, 0, input, site, errors);
    let momentum = args.float(1).unwrap_or(MOMENTUM);
    if let Some((Value::Float(m), tokens)) = args.get(1) {
        // Why: the moving statistics are `moving * momentum + batch * (1 - momentum)`;
        // outside [0, 1] they extrapolate instead of averaging.
        if !(0.0..=1.0).contains(m) {
            errors.push(syn::Error::new_spanned(
                tokens,
                format!(
                    "layer `{}`: `momentum` must be in [0, 1], found `{m}`\nhelp: `momentum` is the weight of the previous moving statistics in each update, such as `0.99`",
                    site.layer
                ),
            ));
        }
    }
    let epsilon = check_epsilon(args, 2, site, errors);
    let (center, scale) = (args.bool(3).unwrap_or(true), args.bool(4).unwrap_or(true));
    let c = input.and_then(|s| s.last().copied()).unwrap_or(0);
    let in_ty = input.map(shape_type).unwrap_or_default();
    let (m_bits, e_bits) = ((momentum as f32).to_bits(), (epsilon as f32).to_bits());
    let (gamma, beta) = (vec_type(scale, c), vec_type(center, c));
    let mut given = Vec::new();
    if momentum != MOMENTUM {
        given.push(format!("momentum = {momentum}"));
    }
    Resolved {
        ty: quote!(#rt::BatchNormalization<#in_ty, #c, #m_bits, #e_bits, #gamma, #beta>),
        output: input.map(<[usize]>::to_vec),
        describe: describe("BatchNormalization", given, epsilon, center, scale),
    }
}

fn resolve_layer(
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    check_axis(args, 0, input, site, errors);
    let epsilon = check_epsilon(args, 1, site, errors);
    let (center, scale) = (args.bool(2).unwrap_or(true), args.bool(3).unwrap_or(true));
    let c = input.and_then(|s| s.last().copied()).unwrap_or(0);
    let in_ty = input.map(shape_type).unwrap_or_default();
    let e_bits = (epsilon as f32).to_bits();
    let (gamma, beta) = (vec_type(scale, c), vec_type(center, c));
    Resolved {
        ty: quote!(#rt::LayerNormalization<#in_ty, #c, #e_bits, #gamma, #beta>),
        output: input.map(<[usize]>::to_vec),
        describe: describe("LayerNormalization", Vec::new(), epsilon, center, scale),
    }
}

/// Why: the layers normalise the last (channels) axis only, which is every axis Keras's
/// channels-last models use; `-1` or the input's last index names it.
fn check_axis(args: &Args, i: usize, input: Option<&[usize]>, site: &Site, errors: &mut Vec<syn::Error>) {
    let (Some(axis), Some((_, tokens))) = (args.integer(i), args.get(i)) else {
        return;
    };
    let last = input.map(|s| s.len() as i64 - 1);
    if axis == -1 || Some(axis) == last {
        return;
    }
    // Without the input shape only `-1` is certain; the earlier mistake is reported already.
    let Some(last) = last else {
        return;
    };
    let rank = last + 1;
    let shape = input.unwrap_or_default();
    errors.push(syn::Error::new_spanned(
        tokens,
        format!(
            "layer `{}`: `{}` supports only the last axis, `axis = -1` (or `{last}` for the rank-{rank} input {shape:?}), found `{axis}`\nhelp: kerust samples are channels-last, so the channels are the last axis; remove `axis` or write `axis = -1`",
            site.layer,
            site.kind,
        ),
    ));
}

/// `epsilon` (argument `i`) or its default; a negative one is an error. Why: it is added to
/// the variance under a square root, so it must not make it negative.
fn check_epsilon(args: &Args, i: usize, site: &Site, errors: &mut Vec<syn::Error>) -> f64 {
    let Some((Value::Float(e), tokens)) = args.get(i) else {
        return EPSILON;
    };
    if *e < 0.0 || !(*e as f32).is_finite() {
        errors.push(syn::Error::new_spanned(
            tokens,
            format!(
                "layer `{}`: `epsilon` must be a non-negative number, found `{e}`\nhelp: `epsilon` is added to the variance to avoid dividing by zero, such as `0.001`",
                site.layer
            ),
        ));
        return EPSILON;
    }
    *e
}

/// `[f32; c]`, or `NoBias` when the weight is switched off.
fn vec_type(present: bool, c: usize) -> TokenStream {
    if present {
        quote!([f32; #c])
    } else {
        quote!(::kerust::__private::layers::NoBias)
    }
}

/// `BatchNormalization` or `BatchNormalization(momentum = 0.9, center = false)`: the
/// arguments that differ from Keras's defaults.
fn describe(kind: &str, mut given: Vec<String>, epsilon: f64, center: bool, scale: bool) -> String {
    if epsilon != EPSILON {
        given.push(format!("epsilon = {epsilon}"));
    }
    if !center {
        given.push("center = false".into());
    }
    if !scale {
        given.push("scale = false".into());
    }
    if given.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}({})", given.join(", "))
    }
}
