//! Keras weights converted into kerust's safetensors weights files, without a compiled
//! model: the architecture (`config.json`) says which tensors the file must hold and their
//! shapes, and the tensors are named as in the model that
//! [`codegen::model_decl`] declares for it (`<field>/<param>`,
//! fields from [`codegen::field_names`], parameters named and ordered as the layers'
//! `visit_params` gives them), so the file loads with `WeightsExt::load_weights` into
//! that model.
//!
//! ```no_run
//! use kerust_keras::{archive::KerasArchive, config::Architecture, convert};
//! # fn main() -> kerust_core::Result<()> {
//! let archive = KerasArchive::open("mlp.keras")?;
//! let arch = Architecture::from_json(&archive.config_json)?;
//! let tensors = convert::to_safetensors(&arch, &archive.weights_h5, "mlp.safetensors")?;
//! println!("{} tensors", tensors.len());
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use kerust_core::io::safetensors::write_tensors;
use kerust_core::Result;

use crate::codegen;
use crate::config::Architecture;
use crate::load::{keras_layer_names, read_layers, Expected};

pub use crate::load::Tensor;

/// The parameter tensors of `arch`, read from Keras weights (a `.weights.h5` file's
/// bytes), named and ordered as in the model that `codegen` declares for it. Every tensor's
/// shape is checked against the one the architecture implies; the file must hold exactly
/// the architecture's layers.
pub fn read_weights(arch: &Architecture, weights: &[u8]) -> Result<Vec<Tensor>> {
    let fields = codegen::field_names(arch);
    let calls: Vec<String> = arch.layers.iter().map(codegen::layer_call).collect();
    let params: Vec<_> = arch.layers.iter().map(|l| l.params()).collect();
    let groups = keras_layer_names(arch.layers.iter().map(|l| l.class_name.as_str()));
    let layers: Vec<Expected<'_>> = groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| Expected {
            group,
            field: &fields[i],
            class: &arch.layers[i].class_name,
            describe: &calls[i],
            params: params[i].iter().map(|(n, s)| (*n, s.as_slice())).collect(),
        })
        .collect();
    read_layers(weights, &layers, &format!("the Keras model `{}`", arch.name))
}

/// Converts Keras weights (a `.weights.h5` file's bytes) of `arch` into a kerust
/// safetensors weights file at `out`, written atomically; returns the tensors written.
/// Its metadata names the model as `codegen` does (`{"kerust": "weights", "model": ...}`).
pub fn to_safetensors(arch: &Architecture, weights: &[u8], out: impl AsRef<Path>) -> Result<Vec<Tensor>> {
    let tensors = read_weights(arch, weights)?;
    let list: Vec<(&str, &[usize], &[f32])> = tensors
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice(), t.values.as_slice()))
        .collect();
    let model = codegen::struct_name(&arch.name);
    let metadata = [
        ("kerust", "weights"),
        ("version", "1"),
        ("model", model.as_str()),
        ("source", "keras"),
    ];
    write_tensors(out, &list, &metadata)?;
    Ok(tensors)
}
