//! `Dropout(rate)`.

use quote::quote;

use super::{p, shape_type, ArgKind, Args, Resolved, Site, Spec};

pub const DROPOUT: Spec = Spec {
    name: "Dropout",
    params: &[p("rate", ArgKind::Rate, true)],
    example: "Dropout(0.5)",
    resolve,
};

fn resolve(args: &Args, input: Option<&[usize]>, _site: &Site, _errors: &mut Vec<syn::Error>) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let in_ty = input.map(shape_type).unwrap_or_default();
    let rate = args.float(0).unwrap_or(0.0);
    let bits = (rate as f32).to_bits();
    Resolved {
        ty: quote!(#rt::Dropout<#in_ty, #bits>),
        output: input.map(<[usize]>::to_vec),
        describe: format!("Dropout({rate})"),
    }
}
