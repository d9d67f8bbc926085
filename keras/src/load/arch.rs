//! The architecture in a `.keras` archive's `config.json`, compared with a compiled model:
//! layer classes in order, the input shape, `units` / `filters` (the last output
//! dimension), `activation`, and for convolutions `padding` and `strides`. Kernel sizes and
//! everything else that shapes a weight tensor are checked by the weights' shapes.
//!
//! `Lambda` layers are refused by name: they hold Python code, which kerust never runs.

use kerust_core::{LayerInfo, Model, Result, Shape};
use serde_json::Value;

use super::keras_err;

/// A Keras layer in `config.json`: class and name.
struct KerasLayer<'a> {
    class: &'a str,
    name: &'a str,
    config: &'a Value,
}

pub(super) fn check<M: Model>(json: &str) -> Result<()> {
    let root: Value =
        serde_json::from_str(json).map_err(|e| keras_err(format!("config.json is not valid JSON: {e}")))?;
    let class = root["class_name"].as_str().unwrap_or("");
    if !matches!(class, "Sequential" | "Functional" | "Model") {
        return Err(keras_err(format!(
            "config.json describes a `{class}`; kerust loads Sequential and Functional models"
        )));
    }
    let list = root["config"]["layers"]
        .as_array()
        .ok_or_else(|| keras_err("config.json has no `config.layers` list"))?;
    let mut input = dims(&root["config"]["build_input_shape"]);
    let mut layers = Vec::with_capacity(list.len());
    for (i, l) in list.iter().enumerate() {
        let class = l["class_name"]
            .as_str()
            .ok_or_else(|| keras_err(format!("layer {} of config.json has no `class_name`", i + 1)))?;
        let config = &l["config"];
        let name = config["name"].as_str().unwrap_or("?");
        match class {
            "InputLayer" => input = dims(&config["batch_shape"]).or(input),
            "Lambda" => {
                return Err(keras_err(format!(
                    "layer `{name}` is a Lambda layer: it holds Python code, which kerust never \
                     runs; rewrite it as a built-in layer"
                )))
            }
            _ => layers.push(KerasLayer { class, name, config }),
        }
    }
    let ours = &<M::Input as Shape>::DIMS[..<M::Input as Shape>::RANK];
    if let Some(theirs) = input {
        if theirs != ours {
            return Err(keras_err(format!(
                "the Keras model takes inputs of shape {theirs:?} per sample, model `{}` takes {ours:?}",
                M::NAME
            )));
        }
    }
    for (i, info) in M::LAYERS.iter().enumerate() {
        let Some(k) = layers.get(i) else {
            return Err(keras_err(format!(
                "the Keras model has {} layers, model `{}` has {}: `{}` ({}) has no Keras \
                 counterpart",
                layers.len(),
                M::NAME,
                M::LAYERS.len(),
                info.name,
                info.describe
            )));
        };
        compare::<M>(i, k, info)?;
    }
    if let Some(k) = layers.get(M::LAYERS.len()) {
        return Err(keras_err(format!(
            "the Keras model has {} layers, model `{}` has {}: Keras's `{}` ({}) has no \
             counterpart",
            layers.len(),
            M::NAME,
            M::LAYERS.len(),
            k.name,
            k.class
        )));
    }
    Ok(())
}

/// A shape list with the batch dimension first (`[null, 28, 28, 1]`), without it.
fn dims(v: &Value) -> Option<Vec<usize>> {
    let a = v.as_array()?;
    a.iter()
        .skip(1)
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect()
}

fn compare<M: Model>(i: usize, k: &KerasLayer<'_>, info: &LayerInfo) -> Result<()> {
    let differ = |what: &str, theirs: &str, ours: &str| {
        keras_err(format!(
            "layer {}: Keras's `{}` ({}) has {what} {theirs}, model `{}`'s `{}` has {ours} ({})",
            i + 1,
            k.name,
            k.class,
            M::NAME,
            info.name,
            info.describe
        ))
    };
    if k.class != info.kind {
        return Err(keras_err(format!(
            "layer {}: Keras has `{}` ({}), model `{}` has `{}` ({})",
            i + 1,
            k.name,
            k.class,
            M::NAME,
            info.name,
            info.describe
        )));
    }
    let last = info.output_shape.last().copied();
    for key in ["units", "filters"] {
        if let Some(n) = k.config[key].as_u64() {
            if last.map(|d| d as u64) != Some(n) {
                return Err(differ(key, &n.to_string(), &format!("{}", last.unwrap_or(0))));
            }
        }
    }
    if let Some(act) = k.config.get("activation").filter(|v| !v.is_null()) {
        let theirs = act.as_str().ok_or_else(|| {
            keras_err(format!(
                "layer `{}` has a custom activation object; kerust supports built-in activations",
                k.name
            ))
        })?;
        let ours = if info.kind == "Activation" {
            positional(info.describe).unwrap_or("linear")
        } else {
            argument(info.describe, "activation").unwrap_or("linear")
        };
        if theirs != ours {
            return Err(differ("activation", theirs, ours));
        }
    }
    // Pooling layers' default strides are their pool size, so only convolutions here.
    if k.class.contains("Conv") {
        if let Some(theirs) = k.config["padding"].as_str() {
            let ours = argument(info.describe, "padding").unwrap_or("valid");
            if theirs != ours {
                return Err(differ("padding", theirs, ours));
            }
        }
        if let Some(theirs) = ints(&k.config["strides"]) {
            let mut ours = argument(info.describe, "strides").map_or_else(Vec::new, numbers);
            if ours.len() == 1 {
                ours = vec![ours[0]; theirs.len()];
            }
            if ours.is_empty() {
                ours = vec![1; theirs.len()];
            }
            if theirs != ours {
                return Err(differ("strides", &format!("{theirs:?}"), &format!("{ours:?}")));
            }
        }
    }
    Ok(())
}

fn ints(v: &Value) -> Option<Vec<u64>> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| vec![n]),
        Value::Array(a) => a.iter().map(Value::as_u64).collect(),
        _ => None,
    }
}

fn numbers(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// The text of `key = value` in a `describe` call (`Conv2D(8, (3, 3), strides = (2, 2))`).
fn argument<'a>(describe: &'a str, key: &str) -> Option<&'a str> {
    arguments(describe).find_map(|a| {
        let (k, v) = a.split_once('=')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// The first positional argument (`Activation(relu)` → `relu`).
fn positional(describe: &str) -> Option<&str> {
    arguments(describe).next().filter(|a| !a.contains('='))
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
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
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
    fn arguments_of_describe() {
        let d = "Conv2D(3, (3, 3), strides = (2, 2), padding = same, activation = relu)";
        assert_eq!(argument(d, "strides"), Some("(2, 2)"));
        assert_eq!(argument(d, "padding"), Some("same"));
        assert_eq!(argument(d, "activation"), Some("relu"));
        assert_eq!(argument(d, "dilation_rate"), None);
        assert_eq!(numbers("(2, 2)"), [2, 2]);
        assert_eq!(positional("Activation(tanh)"), Some("tanh"));
        assert_eq!(positional("Dense(3, activation = relu)"), Some("3"));
        assert_eq!(arguments("Flatten").count(), 0);
    }
}
