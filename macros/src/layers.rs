//! The layer kinds `model!` knows: their arguments, shape rules and Rust types.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Expr, Lit, UnOp};

use crate::ir::numel;

/// What an argument accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A positive integer literal.
    Int,
    /// A float (or integer) literal.
    Float,
    /// `true` or `false`.
    Bool,
    /// An activation name: `relu` or `"relu"`.
    Activation,
    /// A shape: `(7, 7)`, `[7, 7]` or `49`; `-1` infers one dimension.
    Shape,
}

impl ArgKind {
    fn describe(self) -> &'static str {
        match self {
            ArgKind::Int => "an integer literal such as `64`",
            ArgKind::Float => "a number such as `0.5`",
            ArgKind::Bool => "`true` or `false`",
            ArgKind::Activation => "an activation name such as `relu`",
            ArgKind::Shape => "a shape such as `(7, 7, 64)`",
        }
    }
}

/// An argument of a layer kind.
pub struct Param {
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

const fn p(name: &'static str, kind: ArgKind, required: bool) -> Param {
    Param { name, kind, required }
}

/// A layer kind.
pub struct Spec {
    pub name: &'static str,
    pub params: &'static [Param],
    pub example: &'static str,
}

pub const SPECS: &[Spec] = &[
    Spec {
        name: "Dense",
        params: &[
            p("units", ArgKind::Int, true),
            p("activation", ArgKind::Activation, false),
            p("use_bias", ArgKind::Bool, false),
        ],
        example: "Dense(64, activation = relu)",
    },
    Spec {
        name: "Activation",
        params: &[p("activation", ArgKind::Activation, true)],
        example: "Activation(relu)",
    },
    Spec {
        name: "ReLU",
        params: &[],
        example: "ReLU",
    },
    Spec {
        name: "Softmax",
        params: &[],
        example: "Softmax",
    },
    Spec {
        name: "LeakyReLU",
        params: &[p("negative_slope", ArgKind::Float, false)],
        example: "LeakyReLU(0.3)",
    },
    Spec {
        name: "ELU",
        params: &[p("alpha", ArgKind::Float, false)],
        example: "ELU(alpha = 1.0)",
    },
    Spec {
        name: "Flatten",
        params: &[],
        example: "Flatten",
    },
    Spec {
        name: "Reshape",
        params: &[p("target_shape", ArgKind::Shape, true)],
        example: "Reshape((7, 7, 16))",
    },
    Spec {
        name: "Dropout",
        params: &[p("rate", ArgKind::Float, true)],
        example: "Dropout(0.5)",
    },
];

/// The activation names and their runtime types.
pub const ACTIVATIONS: &[(&str, &str)] = &[
    ("linear", "Linear"),
    ("relu", "Relu"),
    ("sigmoid", "Sigmoid"),
    ("tanh", "Tanh"),
    ("softmax", "Softmax"),
    ("gelu", "Gelu"),
    ("silu", "Silu"),
    ("swish", "Silu"),
    ("elu", "Elu"),
    ("leaky_relu", "LeakyRelu"),
    ("softplus", "Softplus"),
    ("softsign", "Softsign"),
    ("selu", "Selu"),
    ("relu6", "Relu6"),
];

/// A parsed argument value.
#[derive(Clone)]
pub enum Value {
    Int(usize),
    Float(f64),
    Bool(bool),
    Activation(&'static str, &'static str),
    Shape(Vec<i64>),
}

/// Reads `expr` as `kind`, or explains what was expected.
pub fn parse_value(expr: &Expr, kind: ArgKind, param: &str) -> syn::Result<Value> {
    let wrong = || {
        syn::Error::new_spanned(
            expr,
            format!("`{param}` must be {}, found `{}`", kind.describe(), quote!(#expr)),
        )
    };
    match kind {
        ArgKind::Int => match int_of(expr) {
            Some(v) if v >= 0 => Ok(Value::Int(v as usize)),
            Some(_) => Err(syn::Error::new_spanned(
                expr,
                format!("`{param}` must be positive, found `{}`", quote!(#expr)),
            )),
            None => Err(wrong()),
        },
        ArgKind::Float => match float_of(expr) {
            Some(v) => Ok(Value::Float(v)),
            None => Err(wrong()),
        },
        ArgKind::Bool => match expr {
            Expr::Lit(l) => match &l.lit {
                Lit::Bool(b) => Ok(Value::Bool(b.value)),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        },
        ArgKind::Activation => {
            let name = match expr {
                Expr::Path(p) if p.path.get_ident().is_some() => p.path.get_ident().map(|i| i.to_string()),
                Expr::Lit(l) => match &l.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            }
            .ok_or_else(wrong)?;
            let name = if name == "None" {
                "linear".to_string()
            } else {
                name
            };
            match ACTIVATIONS.iter().find(|(n, _)| *n == name) {
                Some(&(n, ty)) => Ok(Value::Activation(n, ty)),
                None => Err(syn::Error::new_spanned(
                    expr,
                    format!(
                        "unknown activation `{name}`{}; known activations: {}",
                        crate::suggest::hint(&name, ACTIVATIONS.iter().map(|a| a.0)),
                        ACTIVATIONS.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        ArgKind::Shape => {
            let elems: Vec<&Expr> = match expr {
                Expr::Tuple(t) => t.elems.iter().collect(),
                Expr::Array(a) => a.elems.iter().collect(),
                Expr::Paren(p) => vec![&*p.expr],
                other => vec![other],
            };
            let dims: Option<Vec<i64>> = elems.iter().map(|e| int_of(e)).collect();
            match dims {
                Some(d) if !d.is_empty() => Ok(Value::Shape(d)),
                _ => Err(wrong()),
            }
        }
    }
}

fn int_of(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse::<i64>().ok(),
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => int_of(&u.expr).map(|v| -v),
        Expr::Paren(p) => int_of(&p.expr),
        Expr::Group(g) => int_of(&g.expr),
        _ => None,
    }
}

fn float_of(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Float(f) => f.base10_parse::<f64>().ok(),
            Lit::Int(i) => i.base10_parse::<f64>().ok(),
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => float_of(&u.expr).map(|v| -v),
        Expr::Paren(p) => float_of(&p.expr),
        Expr::Group(g) => float_of(&g.expr),
        _ => None,
    }
}

/// A resolved argument with the span of its value (or of the layer call if defaulted).
pub struct Args {
    pub values: Vec<Option<(Value, Span)>>,
}

impl Args {
    fn get(&self, i: usize) -> Option<&(Value, Span)> {
        self.values.get(i).and_then(Option::as_ref)
    }
    fn int(&self, i: usize) -> Option<(usize, Span)> {
        match self.get(i) {
            Some((Value::Int(v), s)) => Some((*v, *s)),
            _ => None,
        }
    }
    fn float(&self, i: usize) -> Option<(f64, Span)> {
        match self.get(i) {
            Some((Value::Float(v), s)) => Some((*v, *s)),
            _ => None,
        }
    }
    fn bool(&self, i: usize) -> Option<bool> {
        match self.get(i) {
            Some((Value::Bool(v), _)) => Some(*v),
            _ => None,
        }
    }
    fn activation(&self, i: usize) -> Option<(&'static str, &'static str)> {
        match self.get(i) {
            Some((Value::Activation(n, t), _)) => Some((n, t)),
            _ => None,
        }
    }
}

/// The Rust type of a per-sample shape: `[[f32; 8]; 8]` for `[8, 8]`.
pub fn shape_type(shape: &[usize]) -> TokenStream {
    let mut ty = quote!(f32);
    for &d in shape.iter().rev() {
        ty = quote!([#ty; #d]);
    }
    ty
}

/// What a layer resolves to.
pub struct Resolved {
    pub ty: TokenStream,
    pub output: Vec<usize>,
    pub describe: String,
}

fn act_type(ty: &str) -> TokenStream {
    let ident = syn::Ident::new(ty, Span::call_site());
    quote!(::kerust::__private::activations::#ident)
}

/// Infers a layer's output shape and type from its input shape. `Err` holds a message and
/// the span it belongs to.
pub fn resolve(
    kind: &str,
    args: &Args,
    input: &[usize],
    layer: &str,
    prev: &str,
    call: Span,
) -> Result<Resolved, (String, Span)> {
    let rt = quote!(::kerust::__private::layers);
    let in_ty = shape_type(input);
    let fmt = |s: &[usize]| format!("{s:?}");
    match kind {
        "Dense" => {
            let (units, units_span) = args.int(0).unwrap_or((0, call));
            if input.len() != 1 {
                return Err((
                    format!(
                        "layer `{layer}` (`Dense`) receives shape {} from {prev}; `Dense` needs a rank-1 input: add a `Flatten` layer before it",
                        fmt(input)
                    ),
                    call,
                ));
            }
            if units == 0 {
                return Err((
                    format!("layer `{layer}`: `Dense` needs at least 1 unit, found 0"),
                    units_span,
                ));
            }
            let (act_name, act_ty) = args.activation(1).unwrap_or(("linear", "Linear"));
            let act = act_type(act_ty);
            let bias = args.bool(2).unwrap_or(true);
            let i = input[0];
            let bias_ty = if bias {
                quote!([f32; #units])
            } else {
                quote!(#rt::NoBias)
            };
            let mut describe = format!("Dense({units}");
            if act_name != "linear" {
                describe += &format!(", activation = {act_name}");
            }
            if !bias {
                describe += ", use_bias = false";
            }
            describe += ")";
            Ok(Resolved {
                ty: quote!(#rt::Dense<#i, #units, #act, #bias_ty>),
                output: vec![units],
                describe,
            })
        }
        "Activation" | "ReLU" | "Softmax" | "LeakyReLU" | "ELU" => {
            let (name, act) = match kind {
                "Activation" => {
                    let (n, t) = args.activation(0).unwrap_or(("linear", "Linear"));
                    (format!("Activation({n})"), act_type(t))
                }
                "ReLU" => ("ReLU".into(), act_type("Relu")),
                "Softmax" => ("Softmax".into(), act_type("Softmax")),
                "LeakyReLU" => {
                    let (v, _) = args.float(0).unwrap_or((0.3, call));
                    let bits = (v as f32).to_bits();
                    (
                        format!("LeakyReLU(negative_slope = {v})"),
                        quote!(::kerust::__private::activations::LeakyRelu<#bits>),
                    )
                }
                _ => {
                    let (v, _) = args.float(0).unwrap_or((1.0, call));
                    let bits = (v as f32).to_bits();
                    (
                        format!("ELU(alpha = {v})"),
                        quote!(::kerust::__private::activations::Elu<#bits>),
                    )
                }
            };
            Ok(Resolved {
                ty: quote!(#rt::ActivationLayer<#in_ty, #act>),
                output: input.to_vec(),
                describe: name,
            })
        }
        "Flatten" => {
            let n = numel(input);
            Ok(Resolved {
                ty: quote!(#rt::Flatten<#in_ty, #n>),
                output: vec![n],
                describe: "Flatten".into(),
            })
        }
        "Reshape" => {
            let (target, span) = match args.get(0) {
                Some((Value::Shape(t), s)) => (t.clone(), *s),
                _ => return Err((format!("layer `{layer}`: `Reshape` needs a target shape"), call)),
            };
            let n = numel(input);
            let unknown = target.iter().filter(|&&d| d == -1).count();
            if unknown > 1 || target.iter().any(|&d| d == 0 || d < -1) {
                return Err((
                    format!(
                        "layer `{layer}`: invalid target shape {target:?}; dimensions must be positive, with at most one -1 to infer"
                    ),
                    span,
                ));
            }
            let known: usize = target.iter().filter(|&&d| d > 0).map(|&d| d as usize).product();
            let out: Vec<usize> = if unknown == 1 {
                if !n.is_multiple_of(known) {
                    return Err((
                        format!(
                            "layer `{layer}` cannot reshape {} ({n} values) into {target:?}: {n} is not a multiple of {known}",
                            fmt(input)
                        ),
                        span,
                    ));
                }
                target
                    .iter()
                    .map(|&d| if d == -1 { n / known } else { d as usize })
                    .collect()
            } else {
                target.iter().map(|&d| d as usize).collect()
            };
            if numel(&out) != n {
                return Err((
                    format!(
                        "layer `{layer}` cannot reshape {} ({n} values) into {} ({} values); the target shape must hold the same number of values",
                        fmt(input),
                        fmt(&out),
                        numel(&out)
                    ),
                    span,
                ));
            }
            let out_ty = shape_type(&out);
            Ok(Resolved {
                ty: quote!(#rt::Reshape<#in_ty, #out_ty>),
                describe: format!("Reshape({out:?})"),
                output: out,
            })
        }
        "Dropout" => {
            let (rate, span) = args.float(0).unwrap_or((0.0, call));
            if !(0.0..1.0).contains(&rate) {
                return Err((
                    format!("layer `{layer}`: `Dropout` rate must be in [0, 1), found {rate}"),
                    span,
                ));
            }
            let bits = (rate as f32).to_bits();
            Ok(Resolved {
                ty: quote!(#rt::Dropout<#in_ty, #bits>),
                output: input.to_vec(),
                describe: format!("Dropout({rate})"),
            })
        }
        _ => Err((format!("unknown layer `{kind}`"), call)),
    }
}
