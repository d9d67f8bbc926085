//! `Dense(units, activation, use_bias)`.

use quote::quote;

use super::{act_type, p, ArgKind, Args, Resolved, Site, Spec};

pub const DENSE: Spec = Spec {
    name: "Dense",
    params: &[
        p("units", ArgKind::Units, true),
        p("activation", ArgKind::Activation, false),
        p("use_bias", ArgKind::Bool, false),
    ],
    example: "Dense(64, activation = relu)",
    resolve,
};

fn resolve(args: &Args, input: Option<&[usize]>, site: &Site, errors: &mut Vec<syn::Error>) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let layer = site.layer;
    let units = args.int(0);
    if let Some(input) = input.filter(|i| i.len() != 1) {
        let from = site.source();
        errors.push(syn::Error::new_spanned(
            site.call,
            format!(
                "layer `{layer}` (`Dense`) needs a rank-1 input, but receives shape {input:?} from {from}\nhelp: {}",
                site.insert_before("flatten", "Flatten")
            ),
        ));
        if let Some(prev) = site.prev {
            errors.push(syn::Error::new(
                prev.span(),
                format!(
                    "{} `{prev}` produces the rank-{} shape {input:?} that `{layer}` receives",
                    site.word(),
                    input.len()
                ),
            ));
        }
    }
    let (act_name, act_ty) = args.activation(1).unwrap_or(("linear", "Linear"));
    let act = act_type(act_ty);
    let bias = args.bool(2).unwrap_or(true);
    let i = input.and_then(|s| s.first().copied()).unwrap_or(0);
    let o = units.unwrap_or(0);
    let bias_ty = if bias {
        quote!([f32; #o])
    } else {
        quote!(#rt::NoBias)
    };
    let mut describe = format!("Dense({o}");
    if act_name != "linear" {
        describe += ", activation = ";
        describe += act_name;
    }
    if !bias {
        describe += ", use_bias = false";
    }
    describe += ")";
    Resolved {
        ty: quote!(#rt::Dense<#i, #o, #act, #bias_ty>),
        output: units.map(|u| vec![u]),
        describe,
    }
}
