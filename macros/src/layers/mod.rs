//! The layer kinds `model!` knows: their arguments, shape rules and Rust types.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Expr, Ident, Lit, UnOp};

mod activation;
mod conv;
mod conv_extra;
mod dense;
mod dropout;
mod nested;
mod normalization;
mod pooling;
mod reshape;
mod spatial;

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
    /// Any integer literal, possibly negative (an axis).
    Int,
    /// Non-negative integers: `3`, `(3, 3)` or `((1, 2), (3, 4))` (kernel sizes, strides,
    /// paddings); the layer checks the count and range.
    Ints,
    /// One of the given names, as an identifier or a string (`padding = same`).
    Choice(&'static [&'static str]),
    /// A Rust type path (`ResBlock`, `blocks::Res`): a model declared with `model!`.
    Type,
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
            ArgKind::Int => "an integer literal such as `-1`",
            ArgKind::Ints => "an integer or a tuple of integers such as `3` or `(3, 3)`",
            ArgKind::Choice(_) => "one of the names listed below",
            ArgKind::Type => "the name of a model declared with `model!`, such as `ResBlock`",
        }
    }
}

/// An argument of a layer kind.
pub struct Param {
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

pub const fn p(name: &'static str, kind: ArgKind, required: bool) -> Param {
    Param { name, kind, required }
}

/// Infers a layer's output shape and Rust type from its arguments and input shape.
pub type Resolver = fn(&Args, Option<&[usize]>, &Site, &mut Vec<syn::Error>) -> Resolved;

/// A layer kind: its Keras name, arguments (in Keras's positional order) and shape rule.
pub struct Spec {
    pub name: &'static str,
    pub params: &'static [Param],
    pub example: &'static str,
    pub resolve: Resolver,
}

impl Spec {
    /// `Dense`'s spec, or `None` for an unknown kind.
    pub fn find(kind: &str) -> Option<&'static Spec> {
        SPECS.iter().copied().find(|s| s.name == kind)
    }
}

/// The names of the layer kinds, for suggestions.
pub fn kind_names() -> impl Iterator<Item = &'static str> + Clone {
    SPECS.iter().map(|s| s.name)
}

/// Every layer kind, one file per family.
pub const SPECS: &[&Spec] = &[
    &dense::DENSE,
    &activation::ACTIVATION,
    &activation::RELU,
    &activation::SOFTMAX,
    &activation::LEAKY_RELU,
    &activation::ELU,
    &reshape::FLATTEN,
    &reshape::RESHAPE,
    &dropout::DROPOUT,
    &nested::MODEL,
    &conv::CONV2D,
    &conv::CONV1D,
    &conv_extra::DEPTHWISE_CONV_2D,
    &conv_extra::SEPARABLE_CONV_2D,
    &conv_extra::CONV_2D_TRANSPOSE,
    &normalization::BATCH_NORMALIZATION,
    &normalization::LAYER_NORMALIZATION,
    &pooling::MAX_POOLING_1D,
    &pooling::MAX_POOLING_2D,
    &pooling::AVERAGE_POOLING_1D,
    &pooling::AVERAGE_POOLING_2D,
    &pooling::GLOBAL_AVERAGE_POOLING_1D,
    &pooling::GLOBAL_AVERAGE_POOLING_2D,
    &pooling::GLOBAL_MAX_POOLING_1D,
    &pooling::GLOBAL_MAX_POOLING_2D,
    &spatial::ZERO_PADDING_2D,
    &spatial::CROPPING_2D,
    &spatial::UP_SAMPLING_2D,
];

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

/// The name an activation is described by: the first name of its runtime type in
/// [`ACTIVATIONS`] (`swish` reads as `silu`, the name Keras saves).
fn canonical_activation(ty: &'static str) -> &'static str {
    ACTIVATIONS.iter().find(|(_, t)| *t == ty).map_or(ty, |(n, _)| n)
}

/// A parsed argument value.
#[derive(Clone)]
pub enum Value {
    Int(usize),
    Float(f64),
    Bool(bool),
    Activation(&'static str, &'static str),
    Shape(Vec<i64>),
    /// Any integer.
    Integer(i64),
    /// `3` → `[[3]]`; `(3, 2)` → `[[3], [2]]`; `((1, 2), (3, 4))` → `[[1, 2], [3, 4]]`.
    Nested(Vec<Vec<usize>>),
    Choice(&'static str),
    /// A type path.
    Type(TokenStream),
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
                Some(&(_, ty)) => Ok(Value::Activation(canonical_activation(ty), ty)),
                None => Err(err(format!(
                    "unknown activation `{name}`{}\nhelp: the activations are {}",
                    crate::suggest::hint(&name, activation_names()),
                    list(activation_names())
                ))),
            }
        }
        ArgKind::Int => int_of(expr).map(Value::Integer).ok_or_else(wrong),
        ArgKind::Ints => {
            let non_negative = |e: &Expr| int_of(e).and_then(|v| usize::try_from(v).ok());
            let tuple = |e: &Expr| -> Option<Vec<Expr>> {
                match e {
                    Expr::Tuple(t) => Some(t.elems.iter().cloned().collect()),
                    Expr::Array(a) => Some(a.elems.iter().cloned().collect()),
                    _ => None,
                }
            };
            let nested: Option<Vec<Vec<usize>>> = match tuple(expr) {
                None => non_negative(expr).map(|v| vec![vec![v]]),
                Some(elems) if !elems.is_empty() => elems
                    .iter()
                    .map(|e| match tuple(e) {
                        None => non_negative(e).map(|v| vec![v]),
                        Some(inner) if !inner.is_empty() => inner.iter().map(non_negative).collect(),
                        Some(_) => None,
                    })
                    .collect(),
                Some(_) => None,
            };
            nested.map(Value::Nested).ok_or_else(wrong)
        }
        ArgKind::Choice(names) => {
            let name = match expr {
                Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                Expr::Lit(l) => match &l.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            };
            match name.as_deref().and_then(|n| names.iter().find(|c| **c == n)) {
                Some(c) => Ok(Value::Choice(c)),
                None => Err(err(format!(
                    "`{param}` must be one of {}, found `{found}`{}",
                    list_code(names.iter().copied()),
                    name.map(|n| crate::suggest::hint(&n, names.iter().copied())).unwrap_or_default()
                ))),
            }
        }
        ArgKind::Type => match expr {
            Expr::Path(p) if p.qself.is_none() => Ok(Value::Type(p.path.to_token_stream())),
            _ => Err(wrong()),
        },
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

pub fn int_of(expr: &Expr) -> Option<i64> {
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
    pub fn get(&self, i: usize) -> Option<&(Value, TokenStream)> {
        self.values.get(i).and_then(Option::as_ref)
    }
    /// Argument `i` as nested integers (`ArgKind::Ints`), with its tokens for errors.
    pub fn nested(&self, i: usize) -> Option<(&[Vec<usize>], &TokenStream)> {
        match self.get(i) {
            Some((Value::Nested(v), t)) => Some((v, t)),
            _ => None,
        }
    }
    /// Argument `i` as a choice (`ArgKind::Choice`).
    pub fn choice(&self, i: usize) -> Option<&'static str> {
        match self.get(i) {
            Some((Value::Choice(c), _)) => Some(c),
            _ => None,
        }
    }
    /// Argument `i` as any integer (`ArgKind::Int`).
    pub fn integer(&self, i: usize) -> Option<i64> {
        match self.get(i) {
            Some((Value::Integer(v), _)) => Some(*v),
            _ => None,
        }
    }
    pub fn int(&self, i: usize) -> Option<usize> {
        match self.get(i) {
            Some((Value::Int(v), _)) => Some(*v),
            _ => None,
        }
    }
    pub fn float(&self, i: usize) -> Option<f64> {
        match self.get(i) {
            Some((Value::Float(v), _)) => Some(*v),
            _ => None,
        }
    }
    pub fn bool(&self, i: usize) -> Option<bool> {
        match self.get(i) {
            Some((Value::Bool(v), _)) => Some(*v),
            _ => None,
        }
    }
    pub fn activation(&self, i: usize) -> Option<(&'static str, &'static str)> {
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
    /// The layer kind as written (`"Dense"`).
    pub kind: &'a str,
    /// The layer's name.
    pub layer: &'a Ident,
    /// Its `Kind(args)` tokens.
    pub call: &'a TokenStream,
    /// The layer before it, `None` for the first one; in a functional model, the node it
    /// is applied to.
    pub prev: Option<&'a Ident>,
    /// Whether the declaration is functional (named nodes), for the wording of help.
    pub functional: bool,
}

impl Site<'_> {
    /// How to put layer `name: call` before this one, in the declaration's own form.
    pub fn insert_before(&self, name: &str, call: &str) -> String {
        let layer = self.layer;
        if self.functional {
            let call = if call.contains('(') {
                call.to_string()
            } else {
                format!("{call}()")
            };
            let prev = self.prev.map_or_else(|| "x".to_string(), ToString::to_string);
            format!("insert a node `{name} = {call}({prev});` and apply `{layer}` to `{name}`")
        } else {
            format!("add `{name}: {call},` before `{layer}`")
        }
    }

    /// `"node"` or `"layer"`: what the declaration's names stand for.
    pub fn word(&self) -> &'static str {
        if self.functional {
            "node"
        } else {
            "layer"
        }
    }

    /// What produced the input: `layer `h``, `node `h`` or `the input`.
    pub fn source(&self) -> String {
        match (self.prev, self.functional) {
            (None, _) => "the input".to_string(),
            (Some(prev), false) => format!("layer `{prev}`"),
            (Some(prev), true) => format!("node `{prev}`"),
        }
    }
}

/// What a layer resolves to. `ty` is only meaningful when no error was reported.
pub struct Resolved {
    pub ty: TokenStream,
    /// The output shape, when it could be inferred (also after some errors, so that later
    /// layers are still checked).
    pub output: Option<Vec<usize>>,
    pub describe: String,
}

pub fn act_type(ty: &str) -> TokenStream {
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
    match Spec::find(kind) {
        Some(spec) => (spec.resolve)(args, input, site, errors),
        // `check` only resolves known kinds.
        None => Resolved {
            ty: TokenStream::new(),
            output: None,
            describe: String::new(),
        },
    }
}
