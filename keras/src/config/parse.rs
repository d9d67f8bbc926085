//! One layer's Keras config into a [`LayerKind`], refusing what kerust does not support.

use serde_json::{Map, Value};

use super::{Interpolation, LayerKind, Padding, ACTIVATIONS, SUPPORTED_CLASSES};
use crate::error::{ConfigError, Result};

/// A layer's `config` object, with its name and class for messages.
pub(super) struct Cfg<'a> {
    pub name: &'a str,
    pub class: &'a str,
    map: &'a Map<String, Value>,
}

/// `value` in JSON, shortened for messages.
fn show(value: &Value) -> String {
    let s = value.to_string();
    if s.len() > 80 {
        let cut = (0..=77).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

impl<'a> Cfg<'a> {
    pub fn new(name: &'a str, class: &'a str, map: &'a Map<String, Value>) -> Self {
        Self { name, class, map }
    }

    /// An error about this layer.
    pub fn err(&self, msg: impl std::fmt::Display) -> ConfigError {
        ConfigError::new(format!("layer `{}` ({}): {msg}", self.name, self.class))
    }

    /// `key`'s value, `None` when absent or `null`.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, value: &Value, expected: &str) -> ConfigError {
        self.err(format!("`{key}` must be {expected}, found {}", show(value)))
    }

    fn missing(&self, key: &str) -> ConfigError {
        self.err(format!("the config has no `{key}`"))
    }

    /// A non-negative integer; `default` when absent.
    fn uint(&self, key: &str, default: Option<usize>) -> Result<usize> {
        match self.get(key) {
            None => default.ok_or_else(|| self.missing(key)),
            Some(v) => as_uint(v).ok_or_else(|| self.wrong(key, v, "a non-negative integer")),
        }
    }

    /// A positive integer; `default` when absent.
    fn positive(&self, key: &str, default: Option<usize>) -> Result<usize> {
        let v = self.uint(key, default)?;
        if v == 0 {
            return Err(self.err(format!("`{key}` must be at least 1, found 0")));
        }
        Ok(v)
    }

    fn float(&self, key: &str, default: f64) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| self.wrong(key, v, "a finite number")),
        }
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| self.wrong(key, v, "`true` or `false`")),
        }
    }

    /// An integer or a list of `rank` integers (one per spatial axis), each at least `min`.
    fn ints(&self, key: &str, rank: usize, default: Option<usize>, min: usize) -> Result<Vec<usize>> {
        let Some(v) = self.get(key) else {
            return default.map(|d| vec![d; rank]).ok_or_else(|| self.missing(key));
        };
        let expected = format!("an integer or a list of {rank} integers");
        let values: Vec<usize> = match v {
            Value::Array(items) => items
                .iter()
                .map(as_uint)
                .collect::<Option<_>>()
                .ok_or_else(|| self.wrong(key, v, &expected))?,
            _ => vec![as_uint(v).ok_or_else(|| self.wrong(key, v, &expected))?],
        };
        let values = match values.len() {
            1 => vec![values[0]; rank],
            n if n == rank => values,
            _ => return Err(self.wrong(key, v, &expected)),
        };
        if values.iter().any(|&x| x < min) {
            return Err(self.wrong(key, v, &format!("at least {min} on every axis")));
        }
        Ok(values)
    }

    fn pair(&self, key: &str, default: Option<usize>, min: usize) -> Result<[usize; 2]> {
        let v = self.ints(key, 2, default, min)?;
        Ok([v[0], v[1]])
    }

    /// One of `allowed` (a string); `default` when absent.
    fn choice<T: Copy>(&self, key: &str, allowed: &[(&str, T)], default: T) -> Result<T> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        let names: Vec<String> = allowed.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        let found = v.as_str().and_then(|s| allowed.iter().find(|(n, _)| *n == s));
        match found {
            Some(&(_, t)) => Ok(t),
            None => Err(self.err(format!(
                "`{key}` = {} is not supported; kerust supports {}",
                show(v),
                names.join(" or ")
            ))),
        }
    }

    /// `key` must be absent, `null` or satisfy `ok`; else an error saying what is
    /// supported.
    fn only(&self, key: &str, ok: impl Fn(&Value) -> bool, supported: &str) -> Result<()> {
        match self.get(key) {
            Some(v) if !ok(v) => {
                Err(self.err(format!("`{key}` = {} is not supported; {supported}", show(v))))
            }
            _ => Ok(()),
        }
    }

    fn activation(&self, key: &str) -> Result<&'static str> {
        let Some(v) = self.get(key) else {
            return Ok("linear");
        };
        let name = v.as_str().unwrap_or_default();
        let found = ACTIVATIONS.iter().copied().find(|&a| a == name).ok_or_else(|| {
            self.err(format!(
                "`{key}` = {} is not supported; kerust's activations are {}",
                show(v),
                ACTIVATIONS.join(", ")
            ))
        })?;
        // `swish` is another name of `silu`, the name Keras 3 saves and `model!` describes.
        Ok(if found == "swish" { "silu" } else { found })
    }

    /// The checks every layer gets: the dtype policy and the data format.
    fn common(&self) -> Result<()> {
        if let Some(v) = self.get("dtype") {
            let policy = match v {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => o
                    .get("config")
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str),
                _ => None,
            };
            if policy != Some("float32") {
                return Err(self.err(format!(
                    "`dtype` = {} is not supported; kerust computes in float32 (dtype policy \"float32\")",
                    show(v)
                )));
            }
        }
        self.only(
            "data_format",
            |v| v == "channels_last",
            "kerust supports \"channels_last\" only (samples are height, width, channels)",
        )
    }
}

fn as_uint(v: &Value) -> Option<usize> {
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15)
                .map(|f| f as u64)
        })
        .and_then(|u| usize::try_from(u).ok())
}

const PADDINGS: &[(&str, Padding)] = &[("valid", Padding::Valid), ("same", Padding::Same)];
const PADDINGS_1D: &[(&str, Padding)] = &[
    ("valid", Padding::Valid),
    ("same", Padding::Same),
    ("causal", Padding::Causal),
];

/// The kind of the layer `cfg` describes.
pub(super) fn layer(cfg: &Cfg) -> Result<LayerKind> {
    match cfg.class {
        "Lambda" => {
            return Err(cfg.err(
                "refused: Lambda layers hold Python code, which kerust never runs; declare the computation with kerust's layers instead",
            ))
        }
        c if !SUPPORTED_CLASSES.contains(&c) => {
            return Err(cfg.err(format!(
                "the layer class `{c}` is not supported by kerust; the supported layers are {}",
                SUPPORTED_CLASSES.join(", ")
            )))
        }
        _ => {}
    }
    cfg.common()?;
    let no_lora = |cfg: &Cfg| cfg.only("lora_rank", |_| false, "LoRA layers are not supported");
    Ok(match cfg.class {
        "Dense" => {
            no_lora(cfg)?;
            cfg.only(
                "quantization_config",
                |_| false,
                "quantized layers are not supported",
            )?;
            LayerKind::Dense {
                units: cfg.positive("units", None)?,
                activation: cfg.activation("activation")?,
                use_bias: cfg.boolean("use_bias", true)?,
            }
        }
        "Activation" => LayerKind::Activation {
            activation: cfg.activation("activation")?,
        },
        "ReLU" => {
            let zero = |v: &Value| v.as_f64() == Some(0.0);
            let plain = "kerust's ReLU is max(x, 0) (for max(x, 0) capped at 6 use `Activation(\"relu6\")`)";
            cfg.only("max_value", |_| false, plain)?;
            cfg.only("negative_slope", zero, plain)?;
            cfg.only("threshold", zero, plain)?;
            LayerKind::ReLU
        }
        "Softmax" => {
            cfg.only(
                "axis",
                |v| v == -1 || *v == Value::Array(vec![Value::from(-1)]),
                "kerust's Softmax is over the last axis (`axis = -1`)",
            )?;
            LayerKind::Softmax
        }
        "LeakyReLU" => LayerKind::LeakyReLU {
            // Keras 2 called it `alpha`.
            negative_slope: match cfg.get("negative_slope") {
                Some(_) => cfg.float("negative_slope", 0.3)?,
                None => cfg.float("alpha", 0.3)?,
            },
        },
        "ELU" => LayerKind::ELU {
            alpha: cfg.float("alpha", 1.0)?,
        },
        "Flatten" => LayerKind::Flatten,
        "Reshape" => LayerKind::Reshape {
            target_shape: target_shape(cfg)?,
        },
        "Dropout" => {
            cfg.only(
                "noise_shape",
                |_| false,
                "kerust's Dropout draws one mask value per input value",
            )?;
            let rate = cfg.float("rate", f64::NAN)?;
            if !(0.0..1.0).contains(&rate) {
                return Err(cfg.err(format!("`rate` must be in [0, 1), found {rate}")));
            }
            LayerKind::Dropout { rate }
        }
        "Conv1D" | "Conv2D" => {
            no_lora(cfg)?;
            let rank = if cfg.class == "Conv1D" { 1 } else { 2 };
            cfg.only(
                "groups",
                |v| v == 1,
                "kerust supports `groups` = 1 only (every filter sees all input channels)",
            )?;
            let strides = cfg.ints("strides", rank, Some(1), 1)?;
            let dilation_rate = cfg.ints("dilation_rate", rank, Some(1), 1)?;
            check_strides_dilation(cfg, &strides, &dilation_rate)?;
            LayerKind::Conv {
                filters: cfg.positive("filters", None)?,
                kernel_size: cfg.ints("kernel_size", rank, None, 1)?,
                strides,
                padding: cfg.choice(
                    "padding",
                    if rank == 1 { PADDINGS_1D } else { PADDINGS },
                    Padding::Valid,
                )?,
                dilation_rate,
                activation: cfg.activation("activation")?,
                use_bias: cfg.boolean("use_bias", true)?,
            }
        }
        "DepthwiseConv2D" => LayerKind::DepthwiseConv2D {
            kernel_size: cfg.pair("kernel_size", None, 1)?,
            strides: cfg.pair("strides", Some(1), 1)?,
            padding: cfg.choice("padding", PADDINGS, Padding::Valid)?,
            depth_multiplier: cfg.positive("depth_multiplier", Some(1))?,
            dilation_rate: cfg.pair("dilation_rate", Some(1), 1)?,
            activation: cfg.activation("activation")?,
            use_bias: cfg.boolean("use_bias", true)?,
        },
        "SeparableConv2D" => LayerKind::SeparableConv2D {
            filters: cfg.positive("filters", None)?,
            kernel_size: cfg.pair("kernel_size", None, 1)?,
            strides: cfg.pair("strides", Some(1), 1)?,
            padding: cfg.choice("padding", PADDINGS, Padding::Valid)?,
            dilation_rate: cfg.pair("dilation_rate", Some(1), 1)?,
            depth_multiplier: cfg.positive("depth_multiplier", Some(1))?,
            activation: cfg.activation("activation")?,
            use_bias: cfg.boolean("use_bias", true)?,
        },
        "Conv2DTranspose" => {
            let strides = cfg.pair("strides", Some(1), 1)?;
            let dilation_rate = cfg.pair("dilation_rate", Some(1), 1)?;
            check_strides_dilation(cfg, &strides, &dilation_rate)?;
            let output_padding = match cfg.get("output_padding") {
                None => None,
                Some(_) => Some(cfg.pair("output_padding", None, 0)?),
            };
            if let Some(op) = output_padding {
                if op[0] >= strides[0] || op[1] >= strides[1] {
                    return Err(cfg.err(format!(
                        "`output_padding` = {op:?} must be less than `strides` = {strides:?} on every axis"
                    )));
                }
            }
            LayerKind::Conv2DTranspose {
                filters: cfg.positive("filters", None)?,
                kernel_size: cfg.pair("kernel_size", None, 1)?,
                strides,
                padding: cfg.choice("padding", PADDINGS, Padding::Valid)?,
                output_padding,
                dilation_rate,
                activation: cfg.activation("activation")?,
                use_bias: cfg.boolean("use_bias", true)?,
            }
        }
        "MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D" => {
            let rank = if cfg.class.ends_with("1D") { 1 } else { 2 };
            let pool_size = cfg.ints("pool_size", rank, Some(2), 1)?;
            let strides = match cfg.get("strides") {
                None => pool_size.clone(),
                Some(_) => cfg.ints("strides", rank, None, 1)?,
            };
            LayerKind::Pooling {
                max: cfg.class.starts_with("Max"),
                pool_size,
                strides,
                padding: cfg.choice("padding", PADDINGS, Padding::Valid)?,
            }
        }
        "GlobalAveragePooling1D" | "GlobalAveragePooling2D" | "GlobalMaxPooling1D" | "GlobalMaxPooling2D" => {
            LayerKind::GlobalPooling {
                max: cfg.class.starts_with("GlobalMax"),
                rank: if cfg.class.ends_with("1D") { 1 } else { 2 },
                keepdims: cfg.boolean("keepdims", false)?,
            }
        }
        "ZeroPadding2D" => LayerKind::ZeroPadding2D {
            padding: borders(cfg, "padding", 1)?,
        },
        "Cropping2D" => LayerKind::Cropping2D {
            cropping: borders(cfg, "cropping", 0)?,
        },
        "UpSampling2D" => LayerKind::UpSampling2D {
            size: cfg.pair("size", Some(2), 1)?,
            interpolation: cfg.choice(
                "interpolation",
                &[
                    ("nearest", Interpolation::Nearest),
                    ("bilinear", Interpolation::Bilinear),
                ],
                Interpolation::Nearest,
            )?,
        },
        "BatchNormalization" => {
            let unsupported = "kerust's BatchNormalization is the plain one";
            cfg.only("renorm", |v| v == false, unsupported)?;
            cfg.only("virtual_batch_size", |_| false, unsupported)?;
            cfg.only("adjustment", |_| false, unsupported)?;
            let momentum = cfg.float("momentum", 0.99)?;
            if !(0.0..=1.0).contains(&momentum) {
                return Err(cfg.err(format!("`momentum` must be in [0, 1], found {momentum}")));
            }
            LayerKind::BatchNormalization {
                momentum,
                epsilon: epsilon(cfg)?,
                center: cfg.boolean("center", true)?,
                scale: cfg.boolean("scale", true)?,
            }
        }
        _ => {
            // LayerNormalization, the last supported class.
            cfg.only(
                "rms_scaling",
                |v| v == false,
                "kerust's LayerNormalization centres and scales (`rms_scaling` = false)",
            )?;
            LayerKind::LayerNormalization {
                epsilon: epsilon(cfg)?,
                center: cfg.boolean("center", true)?,
                scale: cfg.boolean("scale", true)?,
            }
        }
    })
}

/// `axis` of a normalization layer, as written: an integer or a list of one integer.
pub(super) fn axis(cfg: &Cfg) -> Result<Option<i64>> {
    let Some(v) = cfg.get("axis") else {
        return Ok(None);
    };
    let one = match v {
        Value::Array(items) if items.len() == 1 => items[0].as_i64(),
        other => other.as_i64(),
    };
    one.map(Some).ok_or_else(|| {
        cfg.err(format!(
            "`axis` = {} is not supported; kerust normalizes over the last axis only (`axis` = -1)",
            show(v)
        ))
    })
}

fn epsilon(cfg: &Cfg) -> Result<f64> {
    let e = cfg.float("epsilon", 1e-3)?;
    if e < 0.0 {
        return Err(cfg.err(format!("`epsilon` must be non-negative, found {e}")));
    }
    Ok(e)
}

fn check_strides_dilation(cfg: &Cfg, strides: &[usize], dilation: &[usize]) -> Result<()> {
    if strides.iter().any(|&s| s > 1) && dilation.iter().any(|&d| d > 1) {
        return Err(cfg.err(format!(
            "`strides` = {strides:?} with `dilation_rate` = {dilation:?} is not supported; use strides above 1 or dilation rates above 1, not both"
        )));
    }
    Ok(())
}

fn target_shape(cfg: &Cfg) -> Result<Vec<i64>> {
    let v = cfg
        .get("target_shape")
        .ok_or_else(|| cfg.missing("target_shape"))?;
    let dims: Option<Vec<i64>> = match v {
        Value::Array(items) => items.iter().map(Value::as_i64).collect(),
        other => other.as_i64().map(|d| vec![d]),
    };
    match dims {
        Some(d)
            if !d.is_empty()
                && d.iter().all(|&x| x >= 1 || x == -1)
                && d.iter().filter(|&&x| x == -1).count() <= 1 =>
        {
            Ok(d)
        }
        _ => Err(cfg.wrong(
            "target_shape",
            v,
            "a list of positive integers, with at most one -1",
        )),
    }
}

/// `((top, bottom), (left, right))` from `n`, `[h, w]` or `[[top, bottom], [left, right]]`.
fn borders(cfg: &Cfg, key: &str, default: usize) -> Result<[[usize; 2]; 2]> {
    let Some(v) = cfg.get(key) else {
        return Ok([[default; 2]; 2]);
    };
    let pair = |v: &Value| -> Option<[usize; 2]> {
        match v {
            Value::Array(items) if items.len() == 2 => Some([as_uint(&items[0])?, as_uint(&items[1])?]),
            Value::Array(items) if items.len() == 1 => as_uint(&items[0]).map(|x| [x, x]),
            other => as_uint(other).map(|x| [x, x]),
        }
    };
    let parsed = match v {
        Value::Array(items) if items.len() == 2 => pair(&items[0]).zip(pair(&items[1])).map(|(h, w)| [h, w]),
        other => as_uint(other).map(|x| [[x; 2]; 2]),
    };
    parsed.ok_or_else(|| {
        cfg.wrong(
            key,
            v,
            "an integer, a list of 2 integers or a list of 2 pairs ((top, bottom), (left, right))",
        )
    })
}
