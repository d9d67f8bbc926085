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
//! From a `.keras` archive, the architecture in `config.json` is compared first: the layer
//! classes in order, the input shape, `units` / `filters`, `activation`, `padding` and
//! `strides`; any difference is an error that names both layers.
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

use kerust_core::{Error, LayerInfo, Model, Result};

use crate::h5::{self, File};

mod arch;
#[cfg(test)]
mod tests;

/// The largest `config.json` read from a `.keras` archive (64 MiB).
pub const MAX_CONFIG_SIZE: u64 = 1 << 26;

/// Loads Keras weights (a `.weights.h5` file's bytes) into `model`.
///
/// # Errors
/// [`Error::Format`] when the bytes are not a readable HDF5 file, or when the file's layers,
/// tensors or shapes differ from the model's; the message names the layer (its name in the
/// file and in the model), the expected and the found shape. `model` is unchanged on error.
pub fn load_weights_h5<M: Model>(model: &mut M, bytes: &[u8]) -> Result<()> {
    let staged = read_weights::<M>(bytes)?;
    model.flat_mut().copy_from_slice(&staged);
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
    arch::check::<M>(config_json)?;
    load_weights_h5(model, weights)
}

/// Loads a `.keras` archive's bytes (a zip of `config.json` and `model.weights.h5`) into
/// `model`; see [`load_keras_parts`].
pub fn load_keras<M: Model>(model: &mut M, bytes: &[u8]) -> Result<()> {
    let (config, weights) = read_archive(bytes)?;
    load_keras_parts(model, &config, &weights)
}

/// Reads a `.keras` file (at most [`h5::MAX_FILE_SIZE`] bytes) into `model`; see
/// [`load_keras_parts`].
pub fn load_keras_file<M: Model>(model: &mut M, path: impl AsRef<Path>) -> Result<()> {
    load_keras(
        model,
        &h5::read_limited(path.as_ref(), h5::MAX_FILE_SIZE, "Keras")?,
    )
}

fn keras_err(reason: impl Into<String>) -> Error {
    Error::Format {
        format: "Keras",
        reason: reason.into(),
    }
}

/// `config.json` and `model.weights.h5` from a `.keras` zip, each read with a size limit.
// Private stand-in for the `archive` module's reader; to be replaced by it.
fn read_archive(bytes: &[u8]) -> Result<(String, Vec<u8>)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| keras_err(format!("not a .keras archive (a zip file): {e}")))?;
    let mut member = |name: &str, limit: u64| -> Result<Vec<u8>> {
        let f = zip
            .by_name(name)
            .map_err(|e| keras_err(format!("the archive has no readable `{name}`: {e}")))?;
        if f.size() > limit {
            return Err(keras_err(format!(
                "`{name}` is {} bytes, more than the limit of {limit}",
                f.size()
            )));
        }
        let mut out = Vec::new();
        f.take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| keras_err(format!("cannot read `{name}` from the archive: {e}")))?;
        if out.len() as u64 > limit {
            return Err(keras_err(format!(
                "`{name}` unpacks to more than the limit of {limit} bytes"
            )));
        }
        Ok(out)
    };
    let config = member("config.json", MAX_CONFIG_SIZE)?;
    let weights = member("model.weights.h5", h5::MAX_FILE_SIZE)?;
    let config = String::from_utf8(config).map_err(|_| keras_err("`config.json` is not UTF-8"))?;
    Ok((config, weights))
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

/// The group names under `layers/` that Keras gives the model's layers, in order.
pub fn keras_layer_names(layers: &[LayerInfo]) -> Vec<String> {
    let mut used: Vec<(String, usize)> = Vec::new();
    layers
        .iter()
        .map(|l| {
            let base = snake_case(l.kind);
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

/// A parameter tensor of the model: its layer, name and shape.
struct Param {
    layer: String,
    name: String,
    shape: Vec<usize>,
}

fn params_of<M: Model>() -> Vec<Param> {
    let mut out = Vec::new();
    // `visit_params` needs a value; the parameters' names and shapes are the same for all.
    let model = zeroed::<M>();
    model.visit_params(&mut |layer, name, shape, _| {
        out.push(Param {
            layer: layer.to_string(),
            name: name.to_string(),
            shape: shape.to_vec(),
        })
    });
    out
}

/// A zeroed model on the heap (models can be larger than the stack).
fn zeroed<M: Model>() -> Box<M> {
    kerust_core::params::boxed_zeroed::<M>()
}

/// Reads and checks every tensor; returns the model's flat parameters.
fn read_weights<M: Model>(bytes: &[u8]) -> Result<Vec<f32>> {
    let file = File::parse(bytes)?;
    let layers = file.group("layers").map_err(|e| {
        keras_err(format!(
            "not a Keras weights file: it has no `layers` group ({e})"
        ))
    })?;
    let names = keras_layer_names(M::LAYERS);
    // Every layer of the model must be in the file, and the file must hold no other layer
    // (Functional models also store their input layers, which hold nothing).
    for (info, name) in M::LAYERS.iter().zip(&names) {
        if !layers.contains(name) {
            let found: Vec<_> = layers.members().iter().map(|l| l.name.as_str()).collect();
            return Err(keras_err(format!(
                "layer `{}` ({}) of model `{}` would be stored as `layers/{name}`, which the \
                 file lacks; the file's layers are {found:?}",
                info.name,
                info.kind,
                M::NAME
            )));
        }
    }
    for link in layers.members() {
        let input = link.name == "input_layer" || link.name.starts_with("input_layer_");
        if !names.contains(&link.name) && !input {
            return Err(keras_err(format!(
                "the file has a layer `layers/{}` that model `{}` lacks (its layers are stored \
                 as {names:?})",
                link.name,
                M::NAME
            )));
        }
    }
    let params = params_of::<M>();
    // The tensors of each layer, in the file's order (which is the layer's own order).
    let mut read: Vec<std::vec::IntoIter<Vec<f32>>> = Vec::with_capacity(M::LAYERS.len());
    for (info, name) in M::LAYERS.iter().zip(&names) {
        let own: Vec<&Param> = params.iter().filter(|p| p.layer == info.name).collect();
        let vars = file.group(&format!("layers/{name}/vars"))?;
        if vars.members().len() != own.len() {
            let found: Vec<_> = vars.members().iter().map(|l| l.name.as_str()).collect();
            return Err(keras_err(format!(
                "layer `{name}` in the file (`{}` in model `{}`, {}): the file has {} tensors \
                 {found:?}, the model has {} ({})",
                info.name,
                M::NAME,
                info.describe,
                found.len(),
                own.len(),
                own.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        let mut tensors = Vec::with_capacity(own.len());
        for (j, p) in own.iter().enumerate() {
            let path = format!("layers/{name}/vars/{j}");
            let ds = file.dataset(&path)?;
            if ds.shape() != p.shape.as_slice() {
                return Err(Error::ShapeMismatch {
                    name: format!(
                        "{}/{} (`{path}` in the file; model `{}`, {})",
                        info.name,
                        p.name,
                        M::NAME,
                        info.describe
                    ),
                    expected: p.shape.clone(),
                    found: ds.shape().to_vec(),
                });
            }
            tensors.push(ds.read_f32()?.1);
        }
        read.push(tensors.into_iter());
    }
    // Assembled in the model's storage order.
    let mut staged = Vec::with_capacity(M::COUNT);
    for p in &params {
        let values = M::LAYERS
            .iter()
            .position(|l| l.name == p.layer)
            .and_then(|i| read[i].next())
            .ok_or_else(|| {
                keras_err(format!(
                    "model `{}` lists parameter `{}/{}` outside its layers",
                    M::NAME,
                    p.layer,
                    p.name
                ))
            })?;
        staged.extend_from_slice(&values);
    }
    if staged.len() != M::COUNT {
        return Err(keras_err(format!(
            "read {} values for model `{}`, which has {} parameters",
            staged.len(),
            M::NAME,
            M::COUNT
        )));
    }
    Ok(staged)
}
