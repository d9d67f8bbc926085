//! Model weights as [safetensors](https://huggingface.co/docs/safetensors) files.
//!
//! A weights file holds one `F32` tensor per parameter tensor of the model, named
//! `<layer>/<param>` after the model's fields and Keras's parameter names (`hidden/kernel`,
//! `hidden/bias`, `norm/moving_mean`), with the shapes [`Model::visit_params`] reports (a
//! `Dense` kernel is `[in, out]`, as in Keras). Its metadata says
//! `{"kerust": "weights", "version": "1", "model": "<Name>"}`; metadata is not needed to
//! load, so files written by other tools load when their names and shapes match.
//!
//! Loading checks every tensor against the compiled model before it writes anything: a
//! missing or unexpected tensor, another shape or another dtype is an [`Error`] that names
//! the tensor and the expected and found shapes, and the model is left as it was.
//!
//! ```
//! use kerust::prelude::*;
//! model! { struct Net: Input<4> { hidden: Dense(8, activation = relu), out: Dense(2) } }
//! let bytes = Net::new(1).weights_to_bytes()?;
//! let mut other = Net::new(2);
//! other.load_weights_from_bytes(&bytes)?;
//! assert_eq!(other.params(), Net::new(1).params());
//!
//! model! { struct Wider: Input<4> { hidden: Dense(16, activation = relu), out: Dense(2) } }
//! let err = Wider::new(0).load_weights_from_bytes(&bytes).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "shape mismatch for `hidden/kernel`: expected [4, 16], found [4, 8]"
//! );
//! # Ok::<(), kerust::Error>(())
//! ```

use std::format;
use std::ops::Range;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use ::safetensors::tensor::{Metadata, TensorInfo};
use ::safetensors::{Dtype, SafeTensors};

use crate::{Error, Model, Result};

/// The largest JSON header accepted, in bytes (16 MiB; a header takes about 100 bytes per
/// tensor). Checked before the header is parsed.
pub const MAX_HEADER: usize = 16 << 20;

/// The metadata key that says what a kerust file holds (`"weights"` or `"checkpoint"`).
pub(crate) const KIND_KEY: &str = "kerust";

/// One parameter tensor of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// `<layer>/<param>`, e.g. `hidden/kernel`.
    pub name: String,
    /// The tensor's shape, e.g. `[64, 128]`.
    pub shape: Vec<usize>,
    /// Where its values lie in the model's flat parameters.
    pub range: Range<usize>,
}

/// The parameter tensors of a model, in storage order: the names, shapes and places in
/// the flat parameters that weights files are written with and checked against.
///
/// ```
/// use kerust::prelude::*;
/// use kerust::io::safetensors::TensorLayout;
/// model! { struct Net: Input<4> { hidden: Dense(8), out: Dense(2) } }
/// let layout = TensorLayout::of::<Net>();
/// let names: Vec<&str> = layout.tensors().iter().map(|t| t.name.as_str()).collect();
/// assert_eq!(names, ["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]);
/// assert_eq!(layout.tensors()[0].shape, [4, 8]);
/// assert_eq!(layout.param_count(), Net::PARAM_COUNT);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorLayout {
    model: &'static str,
    tensors: Vec<TensorSpec>,
    count: usize,
}

impl TensorLayout {
    /// The layout of model type `M` (visits a zeroed model on the heap).
    pub fn of<M: Model>() -> Self {
        Self::from_model(&*crate::params::boxed_zeroed::<M>())
    }

    /// The layout of `model`.
    pub fn from_model<M: Model>(model: &M) -> Self {
        let mut tensors = Vec::new();
        let mut offset = 0;
        model.visit_params(&mut |layer, param, shape, values| {
            tensors.push(TensorSpec {
                name: format!("{layer}/{param}"),
                shape: shape.to_vec(),
                range: offset..offset + values.len(),
            });
            offset += values.len();
        });
        debug_assert_eq!(offset, M::COUNT);
        TensorLayout {
            model: M::NAME,
            tensors,
            count: offset,
        }
    }

    /// The tensors, in storage order.
    pub fn tensors(&self) -> &[TensorSpec] {
        &self.tensors
    }

    /// The number of `f32` parameters.
    pub fn param_count(&self) -> usize {
        self.count
    }

    /// The model's name, as declared.
    pub fn model_name(&self) -> &'static str {
        self.model
    }

    /// The tensor named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&TensorSpec> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// An `F32` tensor to write.
pub(crate) struct F32Tensor<'a> {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) values: &'a [f32],
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The header of a safetensors file holding `tensors` in this order, with `metadata`
/// sorted by key: byte-for-byte the same for the same content (the `safetensors` crate's
/// own writer orders metadata by a randomly seeded hash map), padded to 8 bytes.
fn header(tensors: &[F32Tensor<'_>], metadata: &[(&str, String)]) -> Result<Vec<u8>> {
    let mut meta: Vec<&(&str, String)> = metadata.iter().collect();
    meta.sort_by_key(|(k, _)| *k);
    let mut h = String::from("{\"__metadata__\":{");
    for (i, (k, v)) in meta.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        h += &format!("{sep}{}:{}", json_string(k), json_string(v));
    }
    h.push('}');
    let mut offset = 0usize;
    for t in tensors {
        let end = offset + 4 * t.values.len();
        let shape: Vec<String> = t.shape.iter().map(ToString::to_string).collect();
        h += &format!(
            ",{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            json_string(&t.name),
            shape.join(",")
        );
        offset = end;
    }
    h.push('}');
    while !h.len().is_multiple_of(8) {
        h.push(' ');
    }
    if h.len() > MAX_HEADER {
        return Err(bad(format!(
            "the header would take {} bytes, more than the limit of {MAX_HEADER}",
            h.len()
        )));
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(h.as_bytes());
    Ok(out)
}

/// Writes a safetensors file: `head` (from [`header`]), then each tensor's values,
/// little-endian, in the order given.
fn write_safetensors(
    w: &mut impl std::io::Write,
    head: &[u8],
    tensors: &[F32Tensor<'_>],
) -> std::io::Result<()> {
    w.write_all(head)?;
    let mut buf = Vec::with_capacity(1 << 16);
    for t in tensors {
        for chunk in t.values.chunks(1 << 14) {
            buf.clear();
            chunk.iter().for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            w.write_all(&buf)?;
        }
    }
    w.flush()
}

/// A safetensors file of `F32` tensors, as bytes.
pub(crate) fn safetensors_bytes(tensors: &[F32Tensor<'_>], metadata: &[(&str, String)]) -> Result<Vec<u8>> {
    let head = header(tensors, metadata)?;
    let mut out = Vec::new();
    write_safetensors(&mut out, &head, tensors).map_err(|e| bad(e.to_string()))?;
    Ok(out)
}

/// A safetensors file of `F32` tensors, written to `path` atomically.
pub(crate) fn save_safetensors(
    path: &Path,
    tensors: &[F32Tensor<'_>],
    metadata: &[(&str, String)],
) -> Result<()> {
    let head = header(tensors, metadata)?;
    crate::io::write_atomic(path, |f| {
        write_safetensors(&mut std::io::BufWriter::new(f), &head, tensors)
    })
}

/// The tensors of `params` laid out by `layout`, named after it.
pub(crate) fn weight_tensors<'a>(layout: &TensorLayout, params: &'a [f32]) -> Vec<F32Tensor<'a>> {
    layout
        .tensors
        .iter()
        .map(|t| F32Tensor {
            name: t.name.clone(),
            shape: t.shape.clone(),
            values: &params[t.range.clone()],
        })
        .collect()
}

/// The metadata of a weights file.
fn weights_metadata(layout: &TensorLayout) -> [(&'static str, String); 3] {
    [
        (KIND_KEY, "weights".to_string()),
        ("version", "1".to_string()),
        ("model", layout.model.to_string()),
    ]
}

pub(crate) fn bad(reason: impl Into<String>) -> Error {
    Error::Format {
        format: "safetensors",
        reason: reason.into(),
    }
}

/// Adds the file's path to a format error.
pub(crate) fn in_file(path: &Path, e: Error) -> Error {
    match e {
        Error::Format { format, reason } => Error::Format {
            format,
            reason: format!("{}: {reason}", path.display()),
        },
        other => other,
    }
}

/// The safetensors bytes of `params` laid out by `layout` (a weights file).
///
/// # Panics
///
/// If `params` is not `layout.param_count()` long.
pub fn weights_to_bytes(layout: &TensorLayout, params: &[f32]) -> Result<Vec<u8>> {
    assert_eq!(params.len(), layout.count, "params do not match the layout");
    safetensors_bytes(&weight_tensors(layout, params), &weights_metadata(layout))
}

/// Writes `params` laid out by `layout` to `path` as a weights file, atomically.
///
/// # Panics
///
/// If `params` is not `layout.param_count()` long.
pub fn save_weights_to(path: impl AsRef<Path>, layout: &TensorLayout, params: &[f32]) -> Result<()> {
    assert_eq!(params.len(), layout.count, "params do not match the layout");
    save_safetensors(
        path.as_ref(),
        &weight_tensors(layout, params),
        &weights_metadata(layout),
    )
}

/// Writes named `F32` tensors to `path` as a safetensors file, atomically (see
/// [`write_atomic`](crate::io::write_atomic)): each `(name, shape, values)` in the order
/// given, then `metadata` sorted by key. Use it for weights that come from somewhere other
/// than a compiled model (a converted Keras file); files with a model's tensor names
/// (`<layer>/<param>`) and shapes load with [`WeightsExt::load_weights`].
///
/// ```
/// use kerust::prelude::*;
/// use kerust::io::safetensors::write_tensors;
/// model! { struct Net: Input<2> { out: Dense(1) } }
/// let path = std::env::temp_dir().join(format!("write-tensors-{}.safetensors", std::process::id()));
/// write_tensors(&path, &[("out/kernel", &[2, 1], &[0.5, -1.0]), ("out/bias", &[1], &[2.0])], &[])?;
/// let mut net = Net::new(0);
/// net.load_weights(&path)?;
/// assert_eq!(net.forward(&[2.0, 1.0]), [2.0]);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), kerust::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Format`] when a tensor's values do not fill its shape, when two tensors share a
/// name, or when the header would exceed [`MAX_HEADER`]; [`Error::Io`] when writing fails
/// (the previous file at `path`, if any, is then left as it was).
pub fn write_tensors(
    path: impl AsRef<Path>,
    tensors: &[(&str, &[usize], &[f32])],
    metadata: &[(&str, &str)],
) -> Result<()> {
    let mut named: Vec<F32Tensor<'_>> = Vec::with_capacity(tensors.len());
    for &(name, shape, values) in tensors {
        let numel = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if numel != Some(values.len()) {
            return Err(bad(format!(
                "tensor `{name}` has shape {shape:?} but {} values",
                values.len()
            )));
        }
        if named.iter().any(|t| t.name == name) {
            return Err(bad(format!("two tensors are named `{name}`")));
        }
        named.push(F32Tensor {
            name: name.to_string(),
            shape: shape.to_vec(),
            values,
        });
    }
    let metadata: Vec<(&str, String)> = metadata.iter().map(|&(k, v)| (k, v.to_string())).collect();
    save_safetensors(path.as_ref(), &named, &metadata)
}

/// Checks `bytes` as a weights file for `layout` and copies its values into `params`;
/// `params` is only written when every check passed.
///
/// Tensors named `optimizer/...` are skipped in a kerust checkpoint (so a checkpoint's
/// weights load too); anywhere else they are unexpected.
///
/// # Panics
///
/// If `params` is not `layout.param_count()` long.
pub fn load_weights_into(layout: &TensorLayout, bytes: &[u8], params: &mut [f32]) -> Result<()> {
    assert_eq!(params.len(), layout.count, "params do not match the layout");
    let file = SafetensorsFile::parse(bytes)?;
    let skip_optimizer = file.kind() == Some("checkpoint");
    file.check_unexpected(layout, |name| skip_optimizer && name.starts_with("optimizer/"))?;
    file.check_weights(layout)?;
    file.copy_weights(layout, params);
    Ok(())
}

/// A parsed, validated-by-the-crate safetensors buffer: offsets lie within the data and
/// match each tensor's dtype and shape.
pub(crate) struct SafetensorsFile<'a> {
    metadata: Metadata,
    data: &'a [u8],
}

impl<'a> SafetensorsFile<'a> {
    /// Parses `bytes`, rejecting a header longer than [`MAX_HEADER`] before parsing it.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self> {
        let Some(head) = bytes.first_chunk::<8>() else {
            return Err(bad(format!(
                "{} bytes is too short for the 8-byte header length",
                bytes.len()
            )));
        };
        let n = u64::from_le_bytes(*head);
        if n > MAX_HEADER as u64 {
            return Err(bad(format!(
                "the header declares {n} bytes, more than the limit of {MAX_HEADER}"
            )));
        }
        if n > (bytes.len() - 8) as u64 {
            return Err(bad(format!(
                "the header declares {n} bytes but only {} follow",
                bytes.len() - 8
            )));
        }
        let (n, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        Ok(SafetensorsFile {
            metadata,
            data: bytes.get(8 + n..).unwrap_or_default(),
        })
    }

    /// A metadata entry.
    pub(crate) fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.metadata().as_ref()?.get(key).map(String::as_str)
    }

    /// What the kerust metadata says the file holds.
    pub(crate) fn kind(&self) -> Option<&str> {
        self.meta(KIND_KEY)
    }

    pub(crate) fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.metadata.info(name)
    }

    /// The tensor names, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.metadata.tensors().into_keys().collect();
        names.sort_unstable();
        names
    }

    /// Fails on the first tensor (by name) that `layout` lacks and `allowed` does not accept.
    pub(crate) fn check_unexpected(
        &self,
        layout: &TensorLayout,
        allowed: impl Fn(&str) -> bool,
    ) -> Result<()> {
        let known: std::collections::HashSet<&str> = layout.tensors.iter().map(|t| t.name.as_str()).collect();
        for name in self.names() {
            if !known.contains(name.as_str()) && !allowed(&name) {
                let found = self.info(&name).map(|i| i.shape.clone()).unwrap_or_default();
                return Err(Error::UnexpectedTensor { name, found });
            }
        }
        Ok(())
    }

    /// Checks one tensor's presence, dtype and shape.
    pub(crate) fn check_tensor(&self, name: &str, shape: &[usize]) -> Result<&TensorInfo> {
        let info = self.info(name).ok_or_else(|| Error::MissingTensor {
            name: name.to_string(),
            expected: shape.to_vec(),
        })?;
        if info.shape != shape {
            return Err(Error::ShapeMismatch {
                name: name.to_string(),
                expected: shape.to_vec(),
                found: info.shape.clone(),
            });
        }
        if info.dtype != Dtype::F32 {
            return Err(Error::DtypeMismatch {
                name: name.to_string(),
                expected: "F32",
                found: format!("{:?}", info.dtype),
                shape: shape.to_vec(),
            });
        }
        Ok(info)
    }

    /// Checks every tensor of `layout`, in storage order.
    pub(crate) fn check_weights(&self, layout: &TensorLayout) -> Result<()> {
        layout
            .tensors
            .iter()
            .try_for_each(|t| self.check_tensor(&t.name, &t.shape).map(|_| ()))
    }

    /// The bytes of a checked tensor (empty if, against the checks, they are not there).
    pub(crate) fn bytes_of(&self, name: &str) -> &'a [u8] {
        self.info(name)
            .and_then(|i| self.data.get(i.data_offsets.0..i.data_offsets.1))
            .unwrap_or_default()
    }

    /// Copies the checked tensors of `layout` into `params`.
    pub(crate) fn copy_weights(&self, layout: &TensorLayout, params: &mut [f32]) {
        for t in &layout.tensors {
            decode_f32(self.bytes_of(&t.name), &mut params[t.range.clone()]);
        }
    }
}

/// Decodes little-endian `f32`s (as many as both sides hold).
pub(crate) fn decode_f32(bytes: &[u8], out: &mut [f32]) {
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
}

/// Reads a whole file after checking that it is at most `limit` bytes long.
pub(crate) fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.into(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > limit {
        return Err(bad(format!(
            "{}: the file is {len} bytes; {what} is at most {limit}",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len as usize)
        .map_err(|_| bad(format!("cannot allocate {len} bytes")))?;
    file.take(limit).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Saving and loading weights as safetensors, for every model (in the prelude).
pub trait WeightsExt: Model + Sized {
    /// Writes the weights to `path` as safetensors, atomically (see
    /// [`write_atomic`](crate::io::write_atomic)).
    fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        save_weights_to(path, &TensorLayout::from_model(self), self.flat())
    }

    /// Loads weights written by [`WeightsExt::save_weights`] (or a checkpoint, or any
    /// safetensors file with the same tensor names, shapes and `F32` dtype). The file may
    /// be at most the size the model's weights need plus [`MAX_HEADER`]; it is checked in
    /// full before the model changes.
    fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        // A checkpoint holds at most `MAX_SLOTS` more copies of the parameters.
        let data = 4 * Self::COUNT as u64 * (1 + crate::io::checkpoint::MAX_SLOTS as u64);
        let bytes = read_limited(path, 8 + MAX_HEADER as u64 + data, "a weights file of this model")?;
        self.load_weights_from_bytes(&bytes).map_err(|e| in_file(path, e))
    }

    /// The weights as safetensors bytes.
    fn weights_to_bytes(&self) -> Result<Vec<u8>> {
        weights_to_bytes(&TensorLayout::from_model(self), self.flat())
    }

    /// Loads weights from safetensors bytes, as [`WeightsExt::load_weights`].
    fn load_weights_from_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let layout = TensorLayout::from_model(self);
        load_weights_into(&layout, bytes, self.flat_mut())
    }
}

impl<M: Model> WeightsExt for M {}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str, data: &[u8]) -> Vec<u8> {
        let mut v = (json.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(json.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn rejects_bad_headers_before_parsing() {
        let cases: Vec<(Vec<u8>, &str)> = std::vec![
            (std::vec![1, 2, 3], "too short"),
            ((u64::MAX).to_le_bytes().to_vec(), "more than the limit"),
            (header("{}", b"")[..9].to_vec(), "only 1 follow"),
            (header("{", b""), "invalid JSON"),
            (
                header(
                    r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                    &[0; 4]
                ),
                "incomplete",
            ),
            (
                header(
                    r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                    &[0; 8]
                ),
                "invalid",
            ),
        ];
        for (bytes, want) in cases {
            let e = SafetensorsFile::parse(&bytes).err().map(|e| e.to_string());
            assert!(e.as_deref().is_some_and(|e| e.contains(want)), "{bytes:?}: {e:?}");
        }
    }

    #[test]
    fn writes_what_the_crate_reads_with_escaped_strings_and_sorted_metadata() {
        let values = [1.0f32, -2.5];
        let t = [F32Tensor {
            name: "odd \"name\"\\\n".into(),
            shape: std::vec![2],
            values: &values,
        }];
        let meta = [("z", "last".to_string()), ("a", "first \u{1}".to_string())];
        let bytes = safetensors_bytes(&t, &meta).unwrap();
        assert_eq!(bytes, safetensors_bytes(&t, &meta).unwrap());
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let header = core::str::from_utf8(&bytes[8..8 + n]).unwrap();
        assert!(
            header.starts_with(r#"{"__metadata__":{"a":"first \u0001","z":"last"}"#),
            "{header}"
        );
        let file = SafetensorsFile::parse(&bytes).unwrap();
        assert_eq!(file.meta("a"), Some("first \u{1}"));
        let mut out = [0.0; 2];
        decode_f32(file.bytes_of("odd \"name\"\\\n"), &mut out);
        assert_eq!(out, values);
    }

    #[test]
    fn write_tensors_checks_shapes_and_names_and_writes_readable_files() {
        let dir = std::env::temp_dir().join(format!("kerust-write-tensors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.safetensors");
        let (a, b) = ([1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [-1.0f32]);
        let e = write_tensors(&path, &[("a", &[2, 2], &a)], &[]).unwrap_err();
        assert!(e.to_string().contains("`a` has shape [2, 2] but 6 values"), "{e}");
        let e = write_tensors(&path, &[("a", &[6], &a), ("a", &[1], &b)], &[]).unwrap_err();
        assert!(e.to_string().contains("two tensors are named `a`"), "{e}");
        assert!(!path.exists(), "nothing is written on error");
        write_tensors(
            &path,
            &[("x/kernel", &[2, 3], &a), ("x/bias", &[1], &b)],
            &[("kerust", "weights")],
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let file = SafetensorsFile::parse(&bytes).unwrap();
        assert_eq!(file.kind(), Some("weights"));
        assert_eq!(file.names(), ["x/bias", "x/kernel"]);
        file.check_tensor("x/kernel", &[2, 3]).unwrap();
        let mut out = [0.0; 6];
        decode_f32(file.bytes_of("x/kernel"), &mut out);
        assert_eq!(out, a);
        decode_f32(file.bytes_of("x/bias"), &mut out[..1]);
        assert_eq!(out[0], -1.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn decodes_little_endian() {
        let mut out = [0.0; 2];
        decode_f32(&[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0], &mut out);
        assert_eq!(out, [1.0, -2.0]);
    }
}
