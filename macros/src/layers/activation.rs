//! Activation layers: `Activation(name)`, `ReLU`, `Softmax`, `LeakyReLU(negative_slope)`,
//! `ELU(alpha)`.

use quote::quote;

use super::{act_type, p, shape_type, ArgKind, Args, Resolved, Site, Spec};

pub const ACTIVATION: Spec = Spec {
    name: "Activation",
    params: &[p("activation", ArgKind::Activation, true)],
    example: "Activation(relu)",
    resolve,
};
pub const RELU: Spec = Spec {
    name: "ReLU",
    params: &[],
    example: "ReLU",
    resolve,
};
pub const SOFTMAX: Spec = Spec {
    name: "Softmax",
    params: &[],
    example: "Softmax",
    resolve,
};
pub const LEAKY_RELU: Spec = Spec {
    name: "LeakyReLU",
    params: &[p("negative_slope", ArgKind::Float, false)],
    example: "LeakyReLU(0.3)",
    resolve,
};
pub const ELU: Spec = Spec {
    name: "ELU",
    params: &[p("alpha", ArgKind::Float, false)],
    example: "ELU(alpha = 1.0)",
    resolve,
};

fn resolve(args: &Args, input: Option<&[usize]>, site: &Site, _errors: &mut Vec<syn::Error>) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let in_ty = input.map(shape_type).unwrap_or_default();
    let (describe, act) = match site.kind {
        "Activation" => {
            let (n, t) = args.activation(0).unwrap_or(("linear", "Linear"));
            (format!("Activation({n})"), act_type(t))
        }
        "ReLU" => ("ReLU".into(), act_type("Relu")),
        "Softmax" => ("Softmax".into(), act_type("Softmax")),
        "LeakyReLU" => {
            // Keras's `LeakyReLU` layer defaults to 0.3 (the activation to 0.2).
            let v = args.float(0).unwrap_or(0.3);
            let bits = (v as f32).to_bits();
            (
                format!("LeakyReLU(negative_slope = {v})"),
                quote!(::kerust::__private::activations::LeakyRelu<#bits>),
            )
        }
        _ => {
            let v = args.float(0).unwrap_or(1.0);
            let bits = (v as f32).to_bits();
            (
                format!("ELU(alpha = {v})"),
                quote!(::kerust::__private::activations::Elu<#bits>),
            )
        }
    };
    Resolved {
        ty: quote!(#rt::ActivationLayer<#in_ty, #act>),
        output: input.map(<[usize]>::to_vec),
        describe,
    }
}
