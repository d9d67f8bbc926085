//! The `model!` declaration that matches an [`Architecture`].
//!
//! [`layer_call`] writes a layer in exactly the canonical form `model!` records in
//! `kerust::LayerInfo::describe` (every argument resolved, defaults left out), so a
//! compiled model's architecture can be compared with a file's layer by layer.
//!
//! ```
//! use kerust_keras::{codegen, config::Architecture};
//! let json = r#"{"class_name": "Sequential", "config": {"name": "tiny_mlp", "layers": [
//!     {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}},
//!     {"class_name": "Dense", "config": {"name": "dense", "units": 8, "activation": "relu"}},
//!     {"class_name": "Dropout", "config": {"name": "drop-out", "rate": 0.5}},
//!     {"class_name": "Dense", "config": {"name": "dense_1", "units": 2}}]}}"#;
//! let arch = Architecture::from_json(json)?;
//! assert_eq!(codegen::layer_call(&arch.layers[0]), "Dense(8, activation = relu)");
//! assert_eq!(
//!     codegen::model_decl(&arch, &codegen::struct_name(&arch.name)),
//!     "model! {
//!     /// The Keras model `tiny_mlp`.
//!     pub struct TinyMlp: Input<4> {
//!         dense: Dense(8, activation = relu),
//!         drop_out: Dropout(0.5),
//!         dense_1: Dense(2),
//!     }
//! }
//! "
//! );
//! # Ok::<(), kerust_keras::ConfigError>(())
//! ```

use std::fmt::Write;

use crate::config::{Architecture, Interpolation, Layer, LayerKind, Padding};

/// Rust's keywords, strict and reserved (2021 edition and later), which field names avoid.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof",
    "unsized", "virtual", "yield", "union",
];

/// `3` for one value, `(3, 3)` for several: how `model!` writes sizes.
fn tuple(v: &[usize]) -> String {
    match v {
        [one] => one.to_string(),
        _ => {
            let items: Vec<String> = v.iter().map(ToString::to_string).collect();
            format!("({})", items.join(", "))
        }
    }
}

/// The arguments after the sizes, as `model!` describes them.
#[derive(Default)]
struct Tail {
    out: String,
}

impl Tail {
    fn push(&mut self, arg: impl std::fmt::Display) {
        // Writing to a String cannot fail.
        let _ = write!(self.out, ", {arg}");
    }
    fn strides(&mut self, s: &[usize]) {
        if s.iter().any(|&x| x != 1) {
            self.push(format_args!("strides = {}", tuple(s)));
        }
    }
    fn padding(&mut self, p: Padding) {
        if p != Padding::Valid {
            self.push(format_args!("padding = {}", p.name()));
        }
    }
    fn dilation(&mut self, d: &[usize]) {
        if d.iter().any(|&x| x != 1) {
            self.push(format_args!("dilation_rate = {}", tuple(d)));
        }
    }
    fn activation(&mut self, a: &str, use_bias: bool) {
        if a != "linear" {
            self.push(format_args!("activation = {a}"));
        }
        if !use_bias {
            self.push("use_bias = false");
        }
    }
}

/// The layer's call in `model!` syntax, in the canonical form of
/// `kerust::LayerInfo::describe`: `Dense(10, activation = softmax)`,
/// `Conv2D(8, (3, 3), strides = (2, 2), padding = same)`, `MaxPooling2D((2, 2))`,
/// `BatchNormalization`, `Dropout(0.5)`, `Flatten`.
pub fn layer_call(layer: &Layer) -> String {
    let class = layer.class_name.as_str();
    let mut t = Tail::default();
    let head = match &layer.kind {
        LayerKind::Dense {
            units,
            activation,
            use_bias,
        } => {
            t.activation(activation, *use_bias);
            format!("Dense({units}")
        }
        LayerKind::Activation { activation } => return format!("Activation({activation})"),
        LayerKind::ReLU => return "ReLU".into(),
        LayerKind::Softmax => return "Softmax".into(),
        LayerKind::LeakyReLU { negative_slope } => {
            return format!("LeakyReLU(negative_slope = {negative_slope})")
        }
        LayerKind::ELU { alpha } => return format!("ELU(alpha = {alpha})"),
        LayerKind::Flatten => return "Flatten".into(),
        LayerKind::Reshape { .. } => return format!("Reshape({:?})", layer.output_shape),
        LayerKind::Dropout { rate } => return format!("Dropout({rate})"),
        LayerKind::Conv {
            filters,
            kernel_size,
            strides,
            padding,
            dilation_rate,
            activation,
            use_bias,
        } => {
            t.strides(strides);
            t.padding(*padding);
            t.dilation(dilation_rate);
            t.activation(activation, *use_bias);
            format!("{class}({filters}, {}", tuple(kernel_size))
        }
        LayerKind::DepthwiseConv2D {
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            dilation_rate,
            activation,
            use_bias,
        } => {
            t.strides(strides);
            t.padding(*padding);
            t.dilation(dilation_rate);
            if *depth_multiplier != 1 {
                t.push(format_args!("depth_multiplier = {depth_multiplier}"));
            }
            t.activation(activation, *use_bias);
            format!("DepthwiseConv2D({}", tuple(kernel_size))
        }
        LayerKind::SeparableConv2D {
            filters,
            kernel_size,
            strides,
            padding,
            dilation_rate,
            depth_multiplier,
            activation,
            use_bias,
        } => {
            t.strides(strides);
            t.padding(*padding);
            t.dilation(dilation_rate);
            if *depth_multiplier != 1 {
                t.push(format_args!("depth_multiplier = {depth_multiplier}"));
            }
            t.activation(activation, *use_bias);
            format!("SeparableConv2D({filters}, {}", tuple(kernel_size))
        }
        LayerKind::Conv2DTranspose {
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            dilation_rate,
            activation,
            use_bias,
        } => {
            t.strides(strides);
            t.padding(*padding);
            if let Some(op) = output_padding {
                t.push(format_args!("output_padding = {}", tuple(op)));
            }
            t.dilation(dilation_rate);
            t.activation(activation, *use_bias);
            format!("Conv2DTranspose({filters}, {}", tuple(kernel_size))
        }
        LayerKind::Pooling {
            pool_size,
            strides,
            padding,
            ..
        } => {
            if strides != pool_size {
                t.push(format_args!("strides = {}", tuple(strides)));
            }
            t.padding(*padding);
            format!("{class}({}", tuple(pool_size))
        }
        LayerKind::GlobalPooling { keepdims, .. } => {
            return if *keepdims {
                format!("{class}(keepdims = true)")
            } else {
                class.to_string()
            }
        }
        LayerKind::ZeroPadding2D { padding: p } | LayerKind::Cropping2D { cropping: p } => {
            let [[top, bottom], [left, right]] = p;
            return format!("{class}((({top}, {bottom}), ({left}, {right})))");
        }
        LayerKind::UpSampling2D { size, interpolation } => {
            if *interpolation == Interpolation::Bilinear {
                t.push("interpolation = bilinear");
            }
            format!("UpSampling2D({}", tuple(size))
        }
        LayerKind::BatchNormalization {
            momentum,
            epsilon,
            center,
            scale,
        } => {
            let mut given = Vec::new();
            if *momentum != 0.99 {
                given.push(format!("momentum = {momentum}"));
            }
            return normalization("BatchNormalization", given, *epsilon, *center, *scale);
        }
        LayerKind::LayerNormalization {
            epsilon,
            center,
            scale,
        } => {
            return normalization("LayerNormalization", Vec::new(), *epsilon, *center, *scale);
        }
    };
    format!("{head}{})", t.out)
}

fn normalization(kind: &str, mut given: Vec<String>, epsilon: f64, center: bool, scale: bool) -> String {
    if epsilon != 1e-3 {
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

/// A Keras layer name as a Rust field name: lower case, `_` for anything but ASCII
/// letters and digits, not starting with a digit, not a keyword (`conv-1` → `conv_1`,
/// `Output Layer` → `output_layer`, `type` → `type_`).
pub fn field_name(keras_name: &str) -> String {
    let mut out = String::with_capacity(keras_name.len());
    for c in keras_name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches('_');
    let mut out = match trimmed.chars().next() {
        None => "layer".to_string(),
        Some(c) if c.is_ascii_digit() => format!("layer_{trimmed}"),
        Some(_) => trimmed.to_string(),
    };
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// The field names of the layers, in order: [`field_name`] of each Keras name, made unique
/// with `_2`, `_3`... suffixes.
pub fn field_names(arch: &Architecture) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    arch.layers
        .iter()
        .map(|l| {
            let base = field_name(&l.name);
            let mut name = base.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            taken.insert(name.clone());
            name
        })
        .collect()
}

/// A Keras model name as a Rust type name: `mnist_cnn` → `MnistCnn`; `Model` when
/// nothing usable is left.
pub fn struct_name(keras_name: &str) -> String {
    let mut out = String::new();
    for part in keras_name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    match out.chars().next() {
        None => "Model".into(),
        Some(c) if c.is_ascii_digit() => format!("Model{out}"),
        Some(_) if out == "Self" => "SelfModel".into(),
        Some(_) => out,
    }
}

/// `Input<28, 28, 1>`: the model's input in `model!` syntax.
pub fn input_decl(arch: &Architecture) -> String {
    let dims: Vec<String> = arch.input_shape.iter().map(ToString::to_string).collect();
    format!("Input<{}>", dims.join(", "))
}

/// The layers of `model!`'s body, one `field: Kind(args),` per line, indented by `indent`.
pub fn layers_decl(arch: &Architecture, indent: &str) -> String {
    let mut out = String::new();
    for (field, layer) in field_names(arch).iter().zip(&arch.layers) {
        let _ = writeln!(out, "{indent}{field}: {},", layer_call(layer));
    }
    out
}

/// The `model!` invocation that declares `arch` as `pub struct <struct_name>`.
pub fn model_decl(arch: &Architecture, struct_name: &str) -> String {
    format!(
        "model! {{\n    /// The Keras model `{}`.\n    pub struct {struct_name}: {} {{\n{}    }}\n}}\n",
        arch.name.replace('`', "'"),
        input_decl(arch),
        layers_decl(arch, "        ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_identifiers() {
        assert_eq!(field_name("conv-strided"), "conv_strided");
        assert_eq!(field_name("Output Layer"), "output_layer");
        assert_eq!(field_name("__x__y"), "x_y");
        assert_eq!(field_name("1st"), "layer_1st");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("Ölschicht"), "lschicht");
        assert_eq!(field_name("---"), "layer");
    }

    #[test]
    fn struct_names_are_camel_case() {
        assert_eq!(struct_name("mnist_cnn"), "MnistCnn");
        assert_eq!(struct_name("sequential-1"), "Sequential1");
        assert_eq!(struct_name("3d"), "Model3d");
        assert_eq!(struct_name("self"), "SelfModel");
        assert_eq!(struct_name(""), "Model");
    }
}
