//! `Model(Type, output = shape)`: a model declared with `model!`, used as a layer.

use quote::quote;

use super::{p, ArgKind, Args, Resolved, Site, Spec, Value};

pub const MODEL: Spec = Spec {
    name: "Model",
    params: &[
        p("model", ArgKind::Type, true),
        p("output", ArgKind::Shape, false),
    ],
    example: "Model(ResBlock)",
    resolve,
};

/// The macro cannot see another declaration's shapes: the output shape is the input's
/// unless `output` says otherwise, and the generated code has rustc check both against the
/// model's `Input` and `Output` types.
fn resolve(args: &Args, input: Option<&[usize]>, site: &Site, errors: &mut Vec<syn::Error>) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let ty = match args.get(0) {
        Some((Value::Type(t), _)) => t.clone(),
        _ => Default::default(),
    };
    let output = match args.get(1) {
        Some((Value::Shape(dims), tokens)) => {
            if dims.iter().any(|&d| d < 1) {
                errors.push(syn::Error::new_spanned(
                    tokens,
                    format!("layer `{}`: `output` is the nested model's output shape; write every dimension, as in `output = (7, 7, 64)`", site.layer),
                ));
                None
            } else {
                Some(dims.iter().map(|&d| d as usize).collect())
            }
        }
        _ => input.map(<[usize]>::to_vec),
    };
    let mut describe = format!("Model({})", ty.to_string().replace(' ', ""));
    if let Some((_, tokens)) = args.get(1) {
        describe = format!(
            "{}, output = {})",
            &describe[..describe.len() - 1],
            tokens.to_string().replace(" ,", ",")
        );
    }
    Resolved {
        ty: quote!(#rt::Nested<#ty>),
        output,
        describe,
    }
}
