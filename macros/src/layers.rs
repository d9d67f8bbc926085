//! The layer kinds `model!` knows: their arguments, shape rules and Rust types.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Expr, Ident, Lit, UnOp};

use crate::ir::numel;

/// What an argument accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A positive integer literal.
    Units,
    /// A float (or integer) literal.
    Float,
    /// A float literal in `[0, 1)`.
    Rate,
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
            ArgKind::Units => "a positive integer such as `64`",
            ArgKind::Float => "a number such as `0.3`",
            ArgKind::Rate => "a number in [0, 1) such as `0.2`",
            ArgKind::Bool => "`true` or `false`",
            ArgKind::Activation => "an activation name such as `relu`",
            ArgKind::Shape => "a shape of integer literals such as `(7, 7, 64)`",
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

impl Spec {
    /// `Dense`'s spec, or `None` for an unknown kind.
    pub fn find(kind: &str) -> Option<&'static Spec> {
        SPECS.iter().find(|s| s.name == kind)
    }
}

/// The names of the layer kinds, for suggestions.
pub fn kind_names() -> impl Iterator<Item = &'static str> + Clone {
    SPECS.iter().map(|s| s.name)
}

/// The activation names, for suggestions.
pub fn activation_names() -> impl Iterator<Item = &'static str> + Clone {
    ACTIVATIONS.iter().map(|a| a.0)
}

/// `a, b, c` from names.
pub fn list(names: impl Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// `` `a`, `b` and `c` `` from names.
pub fn list_code(names: impl Iterator<Item = &'static str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

pub const SPECS: &[Spec] = &[
    Spec {
        name: "Dense",
        params: &[
            p("units", ArgKind::Units, true),
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
        params: &[p("rate", ArgKind::Rate, true)],
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

/// Reads `expr` as `kind`, or explains what was expected. Checks that need no shape (a
/// positive unit count, a rate below 1, a well-formed target shape) happen here, so they
/// are reported even when the layer's input shape is unknown.
pub fn parse_value(expr: &Expr, kind: ArgKind, param: &str, layer: &Ident) -> syn::Result<Value> {
    let found = expr.to_token_stream();
    let err = |msg: String| syn::Error::new_spanned(expr, format!("layer `{layer}`: {msg}"));
    let wrong = || err(format!("`{param}` must be {}, found `{found}`", kind.describe()));
    match kind {
        ArgKind::Units => match int_of(expr) {
            Some(v) if v > 0 => usize::try_from(v).map(Value::Int).map_err(|_| wrong()),
            Some(0) => Err(err(format!("`{param}` must be at least 1, found 0"))),
            Some(_) => Err(err(format!("`{param}` must be positive, found `{found}`"))),
            None => Err(wrong()),
        },
        ArgKind::Float => float_of(expr).map(Value::Float).ok_or_else(wrong),
        ArgKind::Rate => match float_of(expr) {
            Some(v) if (0.0..1.0).contains(&v) => Ok(Value::Float(v)),
            Some(_) => Err(err(format!(
                "`{param}` must be in [0, 1), found `{found}`\nhelp: `{param}` is the fraction of values dropped during training, such as `0.2`"
            ))),
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
                Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                Expr::Lit(l) => match &l.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            };
            let Some(name) = name else {
                return Err(err(format!(
                    "`{param}` must be {}, found `{found}`\nhelp: the activations are {}",
                    kind.describe(),
                    list(activation_names())
                )));
            };
            // Keras's `activation=None` is the identity.
            let name = if name == "None" { "linear".to_string() } else { name };
            match ACTIVATIONS.iter().find(|(n, _)| *n == name) {
                Some(&(n, ty)) => Ok(Value::Activation(n, ty)),
                None => Err(err(format!(
                    "unknown activation `{name}`{}\nhelp: the activations are {}",
                    crate::suggest::hint(&name, activation_names()),
                    list(activation_names())
                ))),
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
                Some(d) if !d.is_empty() => {
                    let inferred = d.iter().filter(|&&v| v == -1).count();
                    if inferred > 1 || d.iter().any(|&v| v == 0 || v < -1) {
                        Err(err(format!(
                            "invalid target shape {d:?}\nhelp: dimensions must be positive, except at most one -1 that is inferred from the input size"
                        )))
                    } else {
                        Ok(Value::Shape(d))
                    }
                }
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
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => int_of(&u.expr).and_then(i64::checked_neg),
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

/// The resolved arguments of one layer, by parameter index, each with the tokens it was
/// written as. `None` where an argument was not given or did not parse.
pub struct Args {
    pub values: Vec<Option<(Value, TokenStream)>>,
}

impl Args {
    fn get(&self, i: usize) -> Option<&(Value, TokenStream)> {
        self.values.get(i).and_then(Option::as_ref)
    }
    fn int(&self, i: usize) -> Option<usize> {
        match self.get(i) {
            Some((Value::Int(v), _)) => Some(*v),
            _ => None,
        }
    }
    fn float(&self, i: usize) -> Option<f64> {
        match self.get(i) {
            Some((Value::Float(v), _)) => Some(*v),
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

/// Where a layer sits, for its error messages.
pub struct Site<'a> {
    /// The layer's name.
    pub layer: &'a Ident,
    /// Its `Kind(args)` tokens.
    pub call: &'a TokenStream,
    /// The layer before it, `None` for the first one.
    pub prev: Option<&'a Ident>,
}

/// What a layer resolves to. `ty` is only meaningful when no error was reported.
pub struct Resolved {
    pub ty: TokenStream,
    /// The output shape, when it could be inferred (also after some errors, so that later
    /// layers are still checked).
    pub output: Option<Vec<usize>>,
    pub describe: String,
}

fn act_type(ty: &str) -> TokenStream {
    let ident = Ident::new(ty, Span::call_site());
    quote!(::kerust::__private::activations::#ident)
}

/// Infers a layer's output shape and Rust type from its arguments and input shape
/// (`None` when an earlier mistake hides it), pushing shape errors to `errors`.
pub fn resolve(
    kind: &str,
    args: &Args,
    input: Option<&[usize]>,
    site: &Site,
    errors: &mut Vec<syn::Error>,
) -> Resolved {
    let rt = quote!(::kerust::__private::layers);
    let in_ty = input.map(shape_type).unwrap_or_default();
    let layer = site.layer;
    match kind {
        "Dense" => {
            let units = args.int(0);
            if let Some(input) = input.filter(|i| i.len() != 1) {
                let from = match site.prev {
                    None => "the input".to_string(),
                    Some(prev) => format!("layer `{prev}`"),
                };
                errors.push(syn::Error::new_spanned(
                    site.call,
                    format!(
                        "layer `{layer}` (`Dense`) needs a rank-1 input, but receives shape {input:?} from {from}\nhelp: add `flatten: Flatten,` before `{layer}`"
                    ),
                ));
                if let Some(prev) = site.prev {
                    errors.push(syn::Error::new(
                        prev.span(),
                        format!(
                            "layer `{prev}` produces the rank-{} shape {input:?} that `{layer}` receives",
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
        "Activation" | "ReLU" | "Softmax" | "LeakyReLU" | "ELU" => {
            let (describe, act) = match kind {
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
        "Flatten" => {
            let n = input.and_then(numel).unwrap_or(0);
            Resolved {
                ty: quote!(#rt::Flatten<#in_ty, #n>),
                output: input.map(|_| vec![n]),
                describe: "Flatten".into(),
            }
        }
        "Reshape" => {
            let out = match (args.get(0), input) {
                (Some((Value::Shape(target), tokens)), Some(input)) => {
                    reshape(target, input, tokens, layer, errors)
                }
                // Without the input shape, a fully given target is still the output.
                (Some((Value::Shape(target), _)), None) => {
                    target.iter().map(|&d| usize::try_from(d).ok()).collect()
                }
                _ => None,
            };
            let out_ty = out.as_deref().map(shape_type).unwrap_or_default();
            Resolved {
                ty: quote!(#rt::Reshape<#in_ty, #out_ty>),
                describe: format!("Reshape({:?})", out.as_deref().unwrap_or(&[])),
                output: out,
            }
        }
        "Dropout" => {
            let rate = args.float(0).unwrap_or(0.0);
            let bits = (rate as f32).to_bits();
            Resolved {
                ty: quote!(#rt::Dropout<#in_ty, #bits>),
                output: input.map(<[usize]>::to_vec),
                describe: format!("Dropout({rate})"),
            }
        }
        // `check` only resolves the kinds in `SPECS`.
        _ => Resolved {
            ty: TokenStream::new(),
            output: None,
            describe: String::new(),
        },
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
