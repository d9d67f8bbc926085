//! The model around the layers: `Sequential` or a chain-shaped `Functional`, its name and
//! input shape.

use serde_json::{Map, Value};

use super::parse::{self, Cfg};
use super::{shape, Architecture, Layer, LayerKind};
use crate::error::{ConfigError, Result};

/// The most layers a model may have.
pub const MAX_LAYERS: usize = 4096;

/// The most values one sample of any layer's input or output may have (2^40).
pub const MAX_VALUES: usize = 1 << 40;

fn model_err(name: &str, msg: impl std::fmt::Display) -> ConfigError {
    ConfigError::new(format!("model `{name}`: {msg}"))
}

pub(super) fn parse(json: &str) -> Result<Architecture> {
    let root: Value = serde_json::from_str(json)
        .map_err(|e| ConfigError::new(format!("config.json is not valid JSON: {e}")))?;
    let class = root.get("class_name").and_then(Value::as_str).unwrap_or_default();
    let config = root
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| ConfigError::new("config.json has no model `config` object".to_string()))?;
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("model")
        .to_string();
    let layers = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| model_err(&name, "the config has no `layers` list"))?;
    if layers.len() > MAX_LAYERS {
        return Err(model_err(
            &name,
            format!("{} layers, more than the limit of {MAX_LAYERS}", layers.len()),
        ));
    }
    let entries = layers
        .iter()
        .enumerate()
        .map(|(i, l)| Entry::new(i, l))
        .collect::<Result<Vec<_>>>()?;
    let (input_shape, body) = match class {
        "Sequential" => sequential(&name, config, &root, &entries)?,
        "Functional" | "Model" => functional(&name, config, &entries)?,
        other => {
            return Err(model_err(
                &name,
                format!(
                    "the model class `{other}` is not supported; kerust imports `Sequential` models and `Functional` models whose layers form one chain (a subclassed model's architecture is Python code, which kerust never runs)"
                ),
            ))
        }
    };
    let mut shape = input_shape.clone();
    let mut out = Vec::with_capacity(body.len());
    for entry in body {
        let layer = layer(entry, &shape)?;
        shape = layer.output_shape.clone();
        out.push(layer);
    }
    if out.is_empty() {
        return Err(model_err(&name, "the model has no layers"));
    }
    Ok(Architecture {
        name,
        input_shape,
        layers: out,
    })
}

/// One entry of the `layers` list.
struct Entry<'a> {
    class: &'a str,
    name: String,
    config: &'a Map<String, Value>,
    raw: &'a Map<String, Value>,
}

impl<'a> Entry<'a> {
    fn new(i: usize, v: &'a Value) -> Result<Self> {
        let bad = |what: &str| ConfigError::new(format!("layer {i} of config.json: {what}"));
        let raw = v.as_object().ok_or_else(|| bad("not an object"))?;
        let class = raw
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `class_name`"))?;
        let config = raw
            .get("config")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("no `config` object"))?;
        let name = config
            .get("name")
            .or_else(|| raw.get("name"))
            .and_then(Value::as_str)
            .map_or_else(|| format!("layer_{i}"), str::to_string);
        Ok(Self {
            class,
            name,
            config,
            raw,
        })
    }
}

/// A shape list with its batch dimension, `[null, 28, 28, 1]`, as a per-sample shape.
fn batch_shape(v: &Value, whose: &str) -> Result<Vec<usize>> {
    let err = || {
        ConfigError::new(format!(
            "{whose}: the input shape {v} is not supported; kerust needs a fixed size for every dimension but the batch"
        ))
    };
    let dims = v.as_array().ok_or_else(err)?;
    let dims: Vec<usize> = dims
        .iter()
        .skip(1)
        .map(|d| {
            d.as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .filter(|&d| d > 0)
        })
        .collect::<Option<_>>()
        .ok_or_else(err)?;
    if dims.is_empty() || dims.len() > 8 {
        return Err(ConfigError::new(format!(
            "{whose}: the input shape {v} is not supported; kerust supports inputs of 1 to 8 dimensions per sample"
        )));
    }
    if dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .is_none_or(|n| n > MAX_VALUES)
    {
        return Err(ConfigError::new(format!(
            "{whose}: the input shape {v} is too large"
        )));
    }
    Ok(dims)
}

/// The input layer's shape, checking its dtype.
fn input_layer(entry: &Entry) -> Result<Vec<usize>> {
    let whose = format!("input layer `{}`", entry.name);
    if let Some(dtype) = entry.config.get("dtype").filter(|d| !d.is_null()) {
        if dtype != "float32" {
            return Err(ConfigError::new(format!(
                "{whose}: `dtype` = {dtype} is not supported; kerust's inputs are float32"
            )));
        }
    }
    for flag in ["sparse", "ragged"] {
        if entry.config.get(flag) == Some(&Value::Bool(true)) {
            return Err(ConfigError::new(format!(
                "{whose}: {flag} inputs are not supported"
            )));
        }
    }
    let shape = entry
        .config
        .get("batch_shape")
        .or_else(|| entry.config.get("batch_input_shape"))
        .ok_or_else(|| ConfigError::new(format!("{whose}: no `batch_shape`")))?;
    batch_shape(shape, &whose)
}

fn sequential<'e, 'a>(
    name: &str,
    config: &Map<String, Value>,
    root: &Value,
    entries: &'e [Entry<'a>],
) -> Result<(Vec<usize>, &'e [Entry<'a>])> {
    if let Some((first, rest)) = entries.split_first().filter(|(f, _)| f.class == "InputLayer") {
        return Ok((input_layer(first)?, rest));
    }
    // Built without an `Input`: the shape the model or its first layer was built with.
    let built = config
        .get("build_input_shape")
        .or_else(|| root.get("build_config").and_then(|b| b.get("input_shape")))
        .or_else(|| {
            entries
                .first()
                .and_then(|e| e.raw.get("build_config"))
                .and_then(|b| b.get("input_shape"))
        })
        .filter(|v| !v.is_null())
        .ok_or_else(|| {
            model_err(
                name,
                "no input shape: the model has no InputLayer and was never built; declare it with `keras.Input(shape)` first",
            )
        })?;
    Ok((batch_shape(built, &format!("model `{name}`"))?, entries))
}

/// The layer name of a `[name, node, tensor]` reference, or of the only one in a list.
fn layer_ref(v: &Value) -> Option<&str> {
    let items = v.as_array()?;
    match items.first()? {
        Value::String(s) if items.len() == 3 => Some(s),
        inner @ Value::Array(_) if items.len() == 1 => layer_ref(inner),
        _ => None,
    }
}

/// The layers a layer's only call takes its input from.
fn inbound(entry: &Entry) -> Option<Vec<String>> {
    let nodes = entry.raw.get("inbound_nodes")?.as_array()?;
    let [node] = nodes.as_slice() else {
        return None;
    };
    let args = node.get("args")?.as_array()?;
    let mut from = Vec::new();
    let mut stack: Vec<&Value> = args.iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(o) if o.get("class_name") == Some(&Value::from("__keras_tensor__")) => {
                let history = o.get("config")?.get("keras_history")?.as_array()?;
                from.push(history.first()?.as_str()?.to_string());
            }
            _ => {}
        }
    }
    Some(from)
}

fn functional<'e, 'a>(
    name: &str,
    config: &Map<String, Value>,
    entries: &'e [Entry<'a>],
) -> Result<(Vec<usize>, &'e [Entry<'a>])> {
    let unsupported = |what: String| {
        model_err(
            name,
            format!(
                "{what}; kerust imports functional models whose layers form one chain (each layer takes the previous layer's output); general functional graphs (branches, merges, several inputs or outputs, shared layers) are not supported yet"
            ),
        )
    };
    let input = config.get("input_layers").and_then(layer_ref);
    let output = config.get("output_layers").and_then(layer_ref);
    let (Some(input), Some(output)) = (input, output) else {
        return Err(unsupported(
            "the model does not have exactly one input and one output".into(),
        ));
    };
    let Some((first, rest)) = entries
        .split_first()
        .filter(|(f, _)| f.class == "InputLayer" && f.name == input)
    else {
        return Err(unsupported(format!("its first layer is not its input `{input}`")));
    };
    let mut prev = first.name.as_str();
    for entry in rest {
        match inbound(entry).as_deref() {
            Some([from]) if from == prev => {}
            Some([from]) => {
                return Err(unsupported(format!(
                    "layer `{}` takes its input from `{from}`, not from the layer before it (`{prev}`)",
                    entry.name
                )))
            }
            _ => {
                return Err(unsupported(format!(
                    "layer `{}` is called more than once or on several inputs",
                    entry.name
                )))
            }
        }
        prev = &entry.name;
    }
    if prev != output {
        return Err(unsupported(format!(
            "its output is `{output}`, not its last layer `{prev}`"
        )));
    }
    Ok((input_layer(first)?, rest))
}

/// Parses one layer and infers its output shape from `input`.
fn layer(entry: &Entry, input: &[usize]) -> Result<Layer> {
    let cfg = Cfg::new(&entry.name, entry.class, entry.config);
    if entry.class == "InputLayer" {
        return Err(cfg.err("an input layer after the first layer is not supported"));
    }
    let kind = parse::layer(&cfg)?;
    if matches!(
        kind,
        LayerKind::BatchNormalization { .. } | LayerKind::LayerNormalization { .. }
    ) {
        let last = input.len() as i64 - 1;
        if let Some(axis) = parse::axis(&cfg)?.filter(|&a| a != -1 && a != last) {
            return Err(cfg.err(format!(
                "`axis` = {axis} is not supported; kerust normalizes over the last axis only (`axis` = -1, or {last} for the input shape {input:?})"
            )));
        }
    }
    let err = |msg: String| cfg.err(msg);
    let output_shape = shape::output(&kind, input, &err)?;
    if output_shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .is_none_or(|n| n > MAX_VALUES)
    {
        return Err(cfg.err(format!("its output shape {output_shape:?} is too large")));
    }
    Ok(Layer {
        name: entry.name.clone(),
        class_name: entry.class.to_string(),
        kind,
        input_shape: input.to_vec(),
        output_shape,
    })
}
