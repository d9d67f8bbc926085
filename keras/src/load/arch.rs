//! The architecture of a `.keras` archive (parsed by [`crate::config`]) compared with a
//! compiled model: the input shape, the number of layers, and every layer's call in
//! `model!` syntax, [`codegen::layer_call`] against the compiled layer's
//! [`LayerInfo::describe`] (both canonical: every argument resolved, defaults left out), so
//! that any difference in class, sizes, strides, padding, activation or any other argument
//! is an error naming both layers, what the file has and what the model has.

use kerust_core::{LayerInfo, Model, Result, Shape};

use super::keras_err;
use crate::codegen;
use crate::config::{Architecture, Layer};

pub(super) fn check<M: Model>(arch: &Architecture) -> Result<()> {
    let ours = &<M::Input as Shape>::DIMS[..<M::Input as Shape>::RANK];
    if arch.input_shape != ours {
        return Err(keras_err(format!(
            "the Keras model `{}` takes inputs of shape {:?} per sample, model `{}` takes {ours:?}",
            arch.name,
            arch.input_shape,
            M::NAME
        )));
    }
    for (i, info) in M::LAYERS.iter().enumerate() {
        let Some(layer) = arch.layers.get(i) else {
            return Err(keras_err(format!(
                "the Keras model has {} layers, model `{}` has {}: `{}` ({}) has no Keras \
                 counterpart",
                arch.layers.len(),
                M::NAME,
                M::LAYERS.len(),
                info.name,
                info.describe
            )));
        };
        compare::<M>(i, layer, info)?;
    }
    if let Some(k) = arch.layers.get(M::LAYERS.len()) {
        return Err(keras_err(format!(
            "the Keras model has {} layers, model `{}` has {}: Keras's `{}` ({}) has no \
             counterpart",
            arch.layers.len(),
            M::NAME,
            M::LAYERS.len(),
            k.name,
            codegen::layer_call(k)
        )));
    }
    Ok(())
}

fn compare<M: Model>(i: usize, layer: &Layer, info: &LayerInfo) -> Result<()> {
    let theirs = codegen::layer_call(layer);
    if theirs == info.describe {
        return Ok(());
    }
    let detail = if layer.class_name != info.kind {
        format!("{} in the file, {} in the model", layer.class_name, info.kind)
    } else {
        difference(&layer.class_name, &theirs, info.describe)
            .unwrap_or_else(|| "the arguments differ".to_string())
    };
    Err(keras_err(format!(
        "layer {} differs: Keras's `{}` is `{theirs}`, model `{}`'s `{}` is `{}` ({detail})",
        i + 1,
        layer.name,
        M::NAME,
        info.name,
        info.describe
    )))
}

/// The names of a call's positional arguments (Keras's argument names).
fn positional_names(class: &str) -> &'static [&'static str] {
    match class {
        "Dense" => &["units"],
        "Conv1D" | "Conv2D" | "SeparableConv2D" | "Conv2DTranspose" => &["filters", "kernel_size"],
        "DepthwiseConv2D" => &["kernel_size"],
        "MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D" => &["pool_size"],
        "Dropout" => &["rate"],
        "Activation" => &["activation"],
        "Reshape" => &["target_shape"],
        "ZeroPadding2D" => &["padding"],
        "Cropping2D" => &["cropping"],
        "UpSampling2D" => &["size"],
        _ => &[],
    }
}

/// A call's arguments as `(name, value)`, positional ones named by [`positional_names`].
fn named_arguments<'a>(class: &str, call: &'a str) -> Vec<(&'a str, &'a str)> {
    let names = positional_names(class);
    let mut positional = 0;
    arguments(call)
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => {
                let name = names.get(positional).copied().unwrap_or("?");
                positional += 1;
                (name, a)
            }
        })
        .collect()
}

/// The first argument whose value differs between two calls of `class`, as
/// `units: 32 in the file, 16 in the model` (a missing argument has its default).
fn difference(class: &str, theirs: &str, ours: &str) -> Option<String> {
    let theirs = named_arguments(class, theirs);
    let ours = named_arguments(class, ours);
    let value = |args: &[(&str, &str)], key: &str| {
        args.iter()
            .find(|(k, _)| *k == key)
            .map_or_else(|| "the default".to_string(), |(_, v)| v.to_string())
    };
    theirs.iter().chain(&ours).find_map(|(key, _)| {
        let (t, o) = (value(&theirs, key), value(&ours, key));
        (t != o).then(|| format!("{key}: {t} in the file, {o} in the model"))
    })
}

/// The top-level arguments of a call, split at commas outside parentheses.
fn arguments(describe: &str) -> impl Iterator<Item = &str> {
    let inner = describe
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or("");
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner.trim().is_empty() {
        parts.push(inner[start..].trim());
    }
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_argument() {
        let d = |class, a, b| difference(class, a, b).unwrap_or_default();
        assert_eq!(
            d(
                "Dense",
                "Dense(32, activation = relu)",
                "Dense(16, activation = relu)"
            ),
            "units: 32 in the file, 16 in the model"
        );
        assert_eq!(
            d(
                "Conv2D",
                "Conv2D(8, (3, 3), strides = (2, 2))",
                "Conv2D(8, (3, 3))"
            ),
            "strides: (2, 2) in the file, the default in the model"
        );
        assert_eq!(
            d("MaxPooling2D", "MaxPooling2D((2, 2))", "MaxPooling2D((3, 3))"),
            "pool_size: (2, 2) in the file, (3, 3) in the model"
        );
        assert_eq!(
            d("Dense", "Dense(3)", "Dense(3, activation = tanh)"),
            "activation: the default in the file, tanh in the model"
        );
        assert_eq!(
            d(
                "ZeroPadding2D",
                "ZeroPadding2D(((1, 1), (2, 2)))",
                "ZeroPadding2D(((1, 1), (2, 3)))"
            ),
            "padding: ((1, 1), (2, 2)) in the file, ((1, 1), (2, 3)) in the model"
        );
        assert_eq!(
            d("Reshape", "Reshape([4, 4])", "Reshape([2, 8])"),
            "target_shape: [4, 4] in the file, [2, 8] in the model"
        );
        assert_eq!(difference("Flatten", "Flatten", "Flatten"), None);
    }
}
