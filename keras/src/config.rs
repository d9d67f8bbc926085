//! Keras 3's `config.json`, parsed into a typed [`Architecture`].
//!
//! Supported: `Sequential` models, and `Functional` models whose layers form one chain
//! (each layer takes the previous layer's output; one input, one output). General
//! functional graphs (branches, merges such as `Add`, several inputs or outputs, shared
//! layers) are not supported yet, nor subclassed models (their architecture is Python
//! code).
//!
//! The layers kerust imports, with the arguments of [`LayerKind`]: `Dense`, `Activation`,
//! `ReLU`, `Softmax`, `LeakyReLU`, `ELU`, `Flatten`, `Reshape`, `Dropout`, `Conv1D`,
//! `Conv2D`, `DepthwiseConv2D`, `SeparableConv2D`, `Conv2DTranspose`, `MaxPooling1D`,
//! `MaxPooling2D`, `AveragePooling1D`, `AveragePooling2D`, `GlobalAveragePooling1D`,
//! `GlobalAveragePooling2D`, `GlobalMaxPooling1D`, `GlobalMaxPooling2D`, `ZeroPadding2D`,
//! `Cropping2D`, `UpSampling2D`, `BatchNormalization` and `LayerNormalization`. Any other
//! class is an error naming the layer and its class; so is a supported layer with an
//! option kerust does not implement (`data_format = "channels_first"`, `groups = 2`, a
//! `bfloat16` dtype policy, an unknown activation...), naming the option, the value and
//! what is supported. Initializers, regularizers and constraints are ignored: they do not
//! change what the trained model computes. `Lambda` layers are refused: they hold Python
//! code, which kerust never runs.
//!
//! ```
//! use kerust_keras::config::Architecture;
//! let json = r#"{"class_name": "Sequential", "config": {"name": "mlp", "layers": [
//!     {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}},
//!     {"class_name": "Dense", "config": {"name": "hidden", "units": 8, "activation": "relu"}},
//!     {"class_name": "Dense", "config": {"name": "out", "units": 2}}]}}"#;
//! let arch = Architecture::from_json(json)?;
//! assert_eq!(arch.input_shape, [4]);
//! assert_eq!(arch.layers[0].output_shape, [8]);
//! assert_eq!(arch.param_count(), 4 * 8 + 8 + 8 * 2 + 2);
//! # Ok::<(), kerust_keras::ConfigError>(())
//! ```

mod model;
mod parse;
mod shape;

use crate::error::Result;

/// A model's architecture: what `model!` needs to declare it.
#[derive(Clone, Debug, PartialEq)]
pub struct Architecture {
    /// The Keras model's name.
    pub name: String,
    /// The per-sample input shape (without the batch dimension).
    pub input_shape: Vec<usize>,
    /// The layers, in order (the input layer not included).
    pub layers: Vec<Layer>,
}

impl Architecture {
    /// Parses a Keras 3 `config.json` (or the output of `model.to_json()`), infers every
    /// layer's output shape, and checks that kerust supports every layer and option.
    pub fn from_json(json: &str) -> Result<Self> {
        model::parse(json)
    }

    /// Reads the architecture of a `.keras` archive or a bare `config.json` file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = crate::archive::read_config_file(path)?;
        Self::from_json(&json).map_err(|e| e.context(path.display()))
    }

    /// The number of parameters, trainable or not (as Keras's summary counts them).
    pub fn param_count(&self) -> usize {
        self.layers
            .iter()
            .map(Layer::param_count)
            .fold(0, usize::saturating_add)
    }

    /// The per-sample output shape of the model.
    pub fn output_shape(&self) -> &[usize] {
        self.layers.last().map_or(&self.input_shape, |l| &l.output_shape)
    }
}

/// One layer of an [`Architecture`].
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The layer's Keras name (`"dense_1"`).
    pub name: String,
    /// Keras's class name (`"Dense"`).
    pub class_name: String,
    /// What the layer computes, with its arguments.
    pub kind: LayerKind,
    /// The per-sample input shape.
    pub input_shape: Vec<usize>,
    /// The per-sample output shape.
    pub output_shape: Vec<usize>,
}

impl Layer {
    /// The layer's parameter tensors, named as kerust's `visit_params` (and Keras) name
    /// them (`kernel`, `bias`, `gamma`, `moving_mean`...), with their shapes, in storage
    /// order.
    pub fn params(&self) -> Vec<(&'static str, Vec<usize>)> {
        shape::params(self)
    }

    /// The number of parameters, trainable or not.
    pub fn param_count(&self) -> usize {
        // Saturating: the shapes come from a file, and a count is only reported.
        self.params()
            .iter()
            .map(|(_, s)| s.iter().fold(1usize, |a, &d| a.saturating_mul(d)))
            .fold(0usize, usize::saturating_add)
    }
}

/// `padding` of a convolution or pooling layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: windows lie inside the input.
    Valid,
    /// Zero padding so that `output = ceil(input / strides)`.
    Same,
    /// Left padding only (`Conv1D`).
    Causal,
}

impl Padding {
    /// Keras's name.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
            Padding::Causal => "causal",
        }
    }
}

/// `interpolation` of `UpSampling2D`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// Repeat each value.
    Nearest,
    /// Bilinear interpolation.
    Bilinear,
}

/// The activation names kerust supports (Keras's names).
pub const ACTIVATIONS: &[&str] = &[
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "gelu",
    "silu",
    "swish",
    "elu",
    "leaky_relu",
    "softplus",
    "softsign",
    "selu",
    "relu6",
];

/// What a layer computes, with the arguments kerust supports. Activations are names from
/// [`ACTIVATIONS`]; sizes have one value per spatial axis.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)] // The fields are Keras's arguments of the same names.
pub enum LayerKind {
    Dense {
        units: usize,
        activation: &'static str,
        use_bias: bool,
    },
    Activation {
        activation: &'static str,
    },
    ReLU,
    Softmax,
    LeakyReLU {
        negative_slope: f64,
    },
    ELU {
        alpha: f64,
    },
    Flatten,
    /// `target_shape` as written (one dimension may be `-1`); the layer's `output_shape`
    /// has it resolved.
    Reshape {
        target_shape: Vec<i64>,
    },
    Dropout {
        rate: f64,
    },
    /// `Conv1D` (one spatial axis) or `Conv2D` (two).
    Conv {
        filters: usize,
        kernel_size: Vec<usize>,
        strides: Vec<usize>,
        padding: Padding,
        dilation_rate: Vec<usize>,
        activation: &'static str,
        use_bias: bool,
    },
    DepthwiseConv2D {
        kernel_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
        depth_multiplier: usize,
        dilation_rate: [usize; 2],
        activation: &'static str,
        use_bias: bool,
    },
    SeparableConv2D {
        filters: usize,
        kernel_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
        dilation_rate: [usize; 2],
        depth_multiplier: usize,
        activation: &'static str,
        use_bias: bool,
    },
    Conv2DTranspose {
        filters: usize,
        kernel_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
        output_padding: Option<[usize; 2]>,
        dilation_rate: [usize; 2],
        activation: &'static str,
        use_bias: bool,
    },
    /// `MaxPooling1D/2D` (`max`) or `AveragePooling1D/2D`.
    Pooling {
        max: bool,
        pool_size: Vec<usize>,
        strides: Vec<usize>,
        padding: Padding,
    },
    /// `GlobalMaxPooling1D/2D` (`max`) or `GlobalAveragePooling1D/2D`, over `rank`
    /// spatial axes.
    GlobalPooling {
        max: bool,
        rank: usize,
        keepdims: bool,
    },
    /// `((top, bottom), (left, right))`.
    ZeroPadding2D {
        padding: [[usize; 2]; 2],
    },
    /// `((top, bottom), (left, right))`.
    Cropping2D {
        cropping: [[usize; 2]; 2],
    },
    UpSampling2D {
        size: [usize; 2],
        interpolation: Interpolation,
    },
    BatchNormalization {
        momentum: f64,
        epsilon: f64,
        center: bool,
        scale: bool,
    },
    LayerNormalization {
        epsilon: f64,
        center: bool,
        scale: bool,
    },
}

/// The Keras classes kerust imports.
pub const SUPPORTED_CLASSES: &[&str] = &[
    "Dense",
    "Activation",
    "ReLU",
    "Softmax",
    "LeakyReLU",
    "ELU",
    "Flatten",
    "Reshape",
    "Dropout",
    "Conv1D",
    "Conv2D",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "Conv2DTranspose",
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "ZeroPadding2D",
    "Cropping2D",
    "UpSampling2D",
    "BatchNormalization",
    "LayerNormalization",
];
