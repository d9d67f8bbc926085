//! The header of a safetensors file: tensor names, dtypes and shapes, read without loading
//! the tensors.

use std::io::Read;
use std::path::Path;

/// The largest header read (16 MiB, as kerust-core's reader).
pub const MAX_HEADER: u64 = 16 << 20;

/// One tensor of a safetensors file.
pub struct Tensor {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
}

/// A file's tensors (sorted by name) and metadata (sorted by key).
pub type Header = (Vec<Tensor>, Vec<(String, String)>);

/// The tensors and the metadata of the safetensors file at `path`.
pub fn read_header(path: &Path) -> Result<Header, String> {
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let bad = |why: String| format!("{}: not a safetensors file: {why}", path.display());
    let mut size = [0u8; 8];
    file.read_exact(&mut size)
        .map_err(|_| bad("shorter than its 8-byte header length".into()))?;
    let n = u64::from_le_bytes(size);
    if n > MAX_HEADER || n > len - 8 {
        return Err(bad(format!(
            "a header of {n} bytes (the file has {len}; the limit is {MAX_HEADER})"
        )));
    }
    let mut header = Vec::with_capacity(n as usize);
    (&mut file).take(n).read_to_end(&mut header).map_err(io)?;
    let json: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| bad(format!("its header is not JSON ({e})")))?;
    let map = json
        .as_object()
        .ok_or_else(|| bad("its header is not an object".into()))?;
    let data = len - 8 - n;
    let mut tensors = Vec::new();
    let mut metadata = Vec::new();
    for (name, v) in map {
        if name == "__metadata__" {
            if let Some(m) = v.as_object() {
                metadata = m
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect();
            }
            continue;
        }
        let wrong = || {
            bad(format!(
                "tensor `{name}` has no valid dtype, shape and data_offsets"
            ))
        };
        let dtype = v.get("dtype").and_then(|d| d.as_str()).ok_or_else(wrong)?;
        let shape: Vec<usize> = v
            .get("shape")
            .and_then(|s| s.as_array())
            .ok_or_else(wrong)?
            .iter()
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
            .collect::<Option<_>>()
            .ok_or_else(wrong)?;
        let offsets: Vec<u64> = v
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .and_then(|a| a.iter().map(|o| o.as_u64()).collect())
            .ok_or_else(wrong)?;
        match offsets.as_slice() {
            [start, end] if start <= end && *end <= data => {}
            _ => {
                return Err(bad(format!(
                    "tensor `{name}` lies at bytes {offsets:?}, outside the {data} bytes of data"
                )))
            }
        }
        tensors.push(Tensor {
            name: name.clone(),
            dtype: dtype.to_string(),
            shape,
        });
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    metadata.sort();
    Ok((tensors, metadata))
}
