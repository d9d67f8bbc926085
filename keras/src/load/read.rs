//! Reading the parameter tensors of a list of layers from a Keras weights file, each
//! checked against the shape its layer expects.

use kerust_core::{Error, Result};

use super::keras_err;
use crate::h5::File;

/// A layer whose tensors are read: where Keras stores it and what it must hold.
pub(crate) struct Expected<'a> {
    /// Its group under `layers/` (`dense_1`).
    pub group: String,
    /// The layer's name in kerust (a model's field); tensors are named `<field>/<param>`.
    pub field: &'a str,
    /// Keras's class (`Dense`).
    pub class: &'a str,
    /// Its call in `model!` syntax, for messages.
    pub describe: &'a str,
    /// Its parameter tensors, names and shapes, in the order Keras numbers them.
    pub params: Vec<(&'a str, &'a [usize])>,
}

/// A parameter tensor read from a Keras file, named as kerust names it.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// `<layer>/<param>` (`dense/kernel`).
    pub name: String,
    /// The shape, as kerust's `visit_params` reports it.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f32>,
}

/// Reads the tensors of `layers` from the HDF5 `bytes`, in the order of `layers` and of
/// their parameters. The file must hold exactly these layers (input layers, which hold
/// nothing, aside), each with exactly its tensors in its shapes; `owner` names what the
/// layers belong to in messages (`` model `Mlp` ``).
pub(crate) fn read_layers(bytes: &[u8], layers: &[Expected<'_>], owner: &str) -> Result<Vec<Tensor>> {
    let file = File::parse(bytes)?;
    let group = file.group("layers").map_err(|e| {
        keras_err(format!(
            "not a Keras weights file: it has no `layers` group ({e})"
        ))
    })?;
    for l in layers {
        if !group.contains(&l.group) {
            let found: Vec<_> = group.members().iter().map(|m| m.name.as_str()).collect();
            return Err(keras_err(format!(
                "layer `{}` ({}) of {owner} would be stored as `layers/{}`, which the file \
                 lacks; the file's layers are {found:?}",
                l.field, l.class, l.group
            )));
        }
    }
    for member in group.members() {
        // Functional models also store their input layers, which hold nothing.
        let input = member.name == "input_layer" || member.name.starts_with("input_layer_");
        if !input && !layers.iter().any(|l| l.group == member.name) {
            let names: Vec<_> = layers.iter().map(|l| l.group.as_str()).collect();
            return Err(keras_err(format!(
                "the file has a layer `layers/{}` that {owner} lacks (its layers are stored \
                 as {names:?})",
                member.name
            )));
        }
    }
    let mut out = Vec::new();
    for l in layers {
        let vars = file.group(&format!("layers/{}/vars", l.group))?;
        if vars.members().len() != l.params.len() {
            let found: Vec<_> = vars.members().iter().map(|m| m.name.as_str()).collect();
            let names: Vec<_> = l.params.iter().map(|(n, _)| *n).collect();
            return Err(keras_err(format!(
                "layer `{}` in the file (`{}` in {owner}, {}): the file has {} tensors \
                 {found:?}, the layer has {} ({})",
                l.group,
                l.field,
                l.describe,
                found.len(),
                names.len(),
                names.join(", ")
            )));
        }
        for (j, &(param, shape)) in l.params.iter().enumerate() {
            let path = format!("layers/{}/vars/{j}", l.group);
            let ds = file.dataset(&path)?;
            if ds.shape() != shape {
                return Err(Error::ShapeMismatch {
                    name: format!(
                        "{}/{param} (`{path}` in the file; {owner}, {})",
                        l.field, l.describe
                    ),
                    expected: shape.to_vec(),
                    found: ds.shape().to_vec(),
                });
            }
            let (shape, values) = ds.read_f32()?;
            out.push(Tensor {
                name: format!("{}/{param}", l.field),
                shape,
                values,
            });
        }
    }
    Ok(out)
}
