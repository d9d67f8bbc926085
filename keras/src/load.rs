//! Keras 3 weights into a compiled kerust model.
//!
//! Keras stores the weights of layer number `i` of a model under
//! `layers/<snake_case(class)>[_<n>]/vars/<j>` (the `_<n>` suffix counts earlier layers of
//! the same class: `conv2d`, `conv2d_1`, ...), the tensors of a layer numbered in the order
//! the layer creates them, in the layouts kerust's layers use too. The loader derives
//! these names from [`Model::LAYERS`], so the file must hold exactly the model's layers
//! (weightless ones included); every tensor's shape is checked against the model's, and
//! nothing is written into the model until the whole file has been checked.
//!
//! From a `.keras` archive, the architecture in `config.json` is compared first: it is
//! parsed by [`crate::config`], and every layer's call in `model!` syntax
//! ([`codegen::layer_call`](crate::codegen::layer_call): class, sizes, strides, padding,
//! activation and every other argument) must equal the compiled layer's
//! [`LayerInfo::describe`], as must the input shape; any difference is an error that names
//! both layers, what the file has and what the model has.
//!
//! ```no_run
//! kerust::model! {
//!     struct Mlp: Input<64> {
//!         hidden: Dense(32, activation = relu),
//!         out:    Dense(10, activation = softmax),
//!     }
//! }
//! # fn main() -> kerust::Result<()> {
//! let mut model = Mlp::new(0);
//! kerust_keras::load::load_keras_file(&mut *model, "mlp.keras")?;
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use kerust_core::io::safetensors::TensorLayout;
use kerust_core::{Error, LayerInfo, Model, Result};

use crate::archive::KerasArchive;
use crate::config::Architecture;
use crate::h5;

mod arch;
mod read;
#[cfg(test)]
mod tests;

pub use read::Tensor;
pub(crate) use read::{read_layers, Expected};

/// Loads Keras weights (a `.weights.h5` file's bytes) into `model`.
///
/// # Errors
/// [`Error::Format`] when the bytes are not a readable HDF5 file, or when the file's layers,
/// tensors or shapes differ from the model's; the message names the layer (its name in the
/// file and in the model), the expected and the found shape. `model` is unchanged on error.
pub fn load_weights_h5<M: Model>(model: &mut M, bytes: &[u8]) -> Result<()> {
    let layout = TensorLayout::from_model(model);
    let tensors = read_weights::<M>(&layout, bytes)?;
    let params = model.flat_mut();
    for spec in layout.tensors() {
        // `read_weights` returned exactly the layout's tensors, checked.
        if let Some(t) = tensors.iter().find(|t| t.name == spec.name) {
            params[spec.range.clone()].copy_from_slice(&t.values);
        }
    }
    Ok(())
}

/// Reads a `.weights.h5` file (at most [`h5::MAX_FILE_SIZE`] bytes) into `model`; see
/// [`load_weights_h5`].
pub fn load_weights_h5_file<M: Model>(model: &mut M, path: impl AsRef<Path>) -> Result<()> {
    load_weights_h5(model, &h5::read_file(path)?)
}

/// Loads a `.keras` archive's already extracted parts: checks the architecture in
/// `config_json` against the model, then loads `weights` (the `model.weights.h5` member) as
/// [`load_weights_h5`] does. `model` is unchanged on error.
pub fn load_keras_parts<M: Model>(model: &mut M, config_json: &str, weights: &[u8]) -> Result<()> {
    arch::check::<M>(&Architecture::from_json(config_json)?)?;
    load_weights_h5(model, weights)
}

/// Loads a `.keras` archive's bytes (a zip of `config.json` and `model.weights.h5`, read
/// with [`KerasArchive`]'s limits) into `model`; see [`load_keras_parts`].
pub fn load_keras<M: Model>(model: &mut M, bytes: &[u8]) -> Result<()> {
    let archive = KerasArchive::from_bytes(bytes)?;
    load_keras_parts(model, &archive.config_json, &archive.weights_h5)
}

/// Reads a `.keras` file (its size checked first, see [`KerasArchive::open`]) into
/// `model`; see [`load_keras_parts`].
pub fn load_keras_file<M: Model>(model: &mut M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let archive = KerasArchive::open(path)?;
    load_keras_parts(model, &archive.config_json, &archive.weights_h5).map_err(|e| in_file(path, e))
}

fn keras_err(reason: impl Into<String>) -> Error {
    Error::Format {
        format: "Keras",
        reason: reason.into(),
    }
}

/// Adds the file's path to a format error.
fn in_file(path: &Path, e: Error) -> Error {
    match e {
        Error::Format { format, reason } => Error::Format {
            format,
            reason: format!("{}: {reason}", path.display()),
        },
        other => other,
    }
}

/// Keras's `naming.to_snake_case` of a class name: `Conv2D` → `conv2d`,
/// `BatchNormalization` → `batch_normalization`, `Conv2DTranspose` → `conv2d_transpose`.
pub fn snake_case(class: &str) -> String {
    // re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    let c: Vec<char> = class.chars().collect();
    let mut first = String::new();
    let mut i = 0;
    while i < c.len() {
        let word = i > 0 && c[i].is_ascii_uppercase() && c.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        if word && !first.is_empty() {
            first.push('_');
        }
        first.push(c[i]);
        // The match consumes the lowercase run, which a following match cannot start in.
        if word {
            while c.get(i + 1).is_some_and(|n| n.is_ascii_lowercase()) {
                i += 1;
                first.push(c[i]);
            }
        }
        i += 1;
    }
    // re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for ch in first.chars() {
        if prev.is_some_and(|p| p.is_ascii_lowercase()) && ch.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
        prev = Some(ch);
    }
    out
}

/// The group names under `layers/` that Keras gives layers of these classes, in order
/// (`Dense`, `Dense` → `dense`, `dense_1`).
pub fn keras_layer_names<'a>(classes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut used: Vec<(String, usize)> = Vec::new();
    classes
        .into_iter()
        .map(|class| {
            let base = snake_case(class);
            match used.iter_mut().find(|(b, _)| *b == base) {
                Some((_, n)) => {
                    *n += 1;
                    format!("{base}_{n}")
                }
                None => {
                    used.push((base.clone(), 0));
                    base
                }
            }
        })
        .collect()
}

/// Reads and checks every tensor of the model whose layout is `layout`.
fn read_weights<M: Model>(layout: &TensorLayout, bytes: &[u8]) -> Result<Vec<Tensor>> {
    let groups = keras_layer_names(M::LAYERS.iter().map(|l| l.kind));
    let layers: Vec<Expected<'_>> = M::LAYERS
        .iter()
        .zip(groups)
        .map(|(info, group): (&LayerInfo, String)| Expected {
            group,
            field: info.name,
            class: info.kind,
            describe: info.describe,
            params: layout
                .tensors()
                .iter()
                .filter_map(|t| {
                    let (layer, param) = t.name.split_once('/')?;
                    (layer == info.name).then_some((param, t.shape.as_slice()))
                })
                .collect(),
        })
        .collect();
    let tensors = read_layers(bytes, &layers, &format!("model `{}`", M::NAME))?;
    // Every parameter of the model belongs to one of its layers.
    if tensors.len() != layout.tensors().len() {
        return Err(keras_err(format!(
            "read {} tensors for model `{}`, which has {}",
            tensors.len(),
            M::NAME,
            layout.tensors().len()
        )));
    }
    Ok(tensors)
}
