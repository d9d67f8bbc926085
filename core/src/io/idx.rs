//! The IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed).
//!
//! An IDX file is a 4-byte magic number (`0x00 0x00`, a type code, the number of
//! dimensions), one big-endian `u32` per dimension, then the values in row-major order.
//! kerust reads unsigned-byte files (type code `0x08`), the type of every MNIST-style file.

use std::format;
use std::io::Read;
use std::path::Path;
use std::vec::Vec;

use crate::{Error, Result};

/// The largest payload accepted, in bytes (1 GiB; the MNIST training images are 47 MB).
pub const MAX_PAYLOAD: usize = 1 << 30;

/// An array read from an IDX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

fn bad(reason: impl Into<std::string::String>) -> Error {
    Error::Format {
        format: "IDX",
        reason: reason.into(),
    }
}

/// Reads an uncompressed IDX stream of unsigned bytes. The payload size is computed from
/// the header and checked against [`MAX_PAYLOAD`]; memory is then taken as the values
/// arrive, so a stream shorter than its header says fails having allocated at most twice
/// what it held. A stream that is shorter, or longer, than its header says is an error.
///
/// ```
/// let bytes = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
/// let a = kerust::io::idx::read_idx(&bytes[..])?;
/// assert_eq!(a.dims, vec![2, 3]);
/// assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
/// assert!(kerust::io::idx::read_idx(&bytes[..17]).is_err()); // truncated
/// # Ok::<(), kerust::Error>(())
/// ```
pub fn read_idx(mut r: impl Read) -> Result<IdxArray> {
    let mut magic = [0u8; 4];
    read_exact(&mut r, &mut magic, "the 4-byte magic number")?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(bad(format!(
            "bad magic number {:02x} {:02x} {:02x} {:02x}: an IDX file starts with two zero bytes",
            magic[0], magic[1], magic[2], magic[3]
        )));
    }
    if magic[2] != 0x08 {
        return Err(bad(format!(
            "value type 0x{:02x} is not supported: only unsigned bytes (0x08) are",
            magic[2]
        )));
    }
    let ndims = magic[3] as usize;
    if ndims == 0 {
        return Err(bad("the header declares zero dimensions"));
    }
    let mut dims = Vec::with_capacity(ndims);
    let mut total: usize = 1;
    for i in 0..ndims {
        let mut d = [0u8; 4];
        read_exact(&mut r, &mut d, "the dimension sizes")?;
        let d = u32::from_be_bytes(d) as usize;
        total = total
            .checked_mul(d)
            .filter(|&t| t <= MAX_PAYLOAD)
            .ok_or_else(|| {
                bad(format!(
                    "dimension {i} makes the payload larger than {MAX_PAYLOAD} bytes"
                ))
            })?;
        dims.push(d);
    }
    // The header's size is not trusted: the buffer grows with the bytes actually read (at
    // most doubling), so a short stream claiming a gigabyte costs what it holds.
    let mut data = Vec::new();
    while data.len() < total {
        let filled = data.len();
        let n = (total - filled).min(filled.max(1 << 16));
        data.try_reserve_exact(n)
            .map_err(|_| bad(format!("cannot allocate {total} bytes")))?;
        data.resize(filled + n, 0);
        read_exact(&mut r, &mut data[filled..], "the values")?;
    }
    let mut extra = [0u8; 1];
    match r.read(&mut extra) {
        Ok(0) => Ok(IdxArray { dims, data }),
        Ok(_) => Err(bad(format!(
            "trailing data after the {total} values the header declares"
        ))),
        Err(e) => Err(bad(format!("read error after the values: {e}"))),
    }
}

fn read_exact(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => bad(format!("the data ends inside {what}")),
        _ => bad(format!("cannot read {what}: {e}")),
    })
}

/// Reads IDX data from bytes, gzip-compressed (detected by its magic bytes) or not.
pub fn read_idx_bytes(bytes: &[u8]) -> Result<IdxArray> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        read_idx(flate2::read::GzDecoder::new(bytes))
    } else {
        read_idx(bytes)
    }
}

/// Reads an IDX file, gzip-compressed or not.
pub fn read_idx_file(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    let mut head = [0u8; 2];
    let mut reader = std::io::BufReader::new(file);
    let n = reader.read(&mut head).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    let chained = std::io::Read::chain(&head[..n], reader);
    let result = if head[..n] == [0x1f, 0x8b] {
        read_idx(flate2::read::GzDecoder::new(chained))
    } else {
        read_idx(chained)
    };
    result.map_err(|e| match e {
        Error::Format { format, reason } => Error::Format {
            format,
            reason: format!("{}: {reason}", path.display()),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_plain_and_gzip() {
        let raw = idx(&[2, 2], &[1, 2, 3, 4]);
        let a = read_idx_bytes(&raw).unwrap();
        assert_eq!(
            a,
            IdxArray {
                dims: vec![2, 2],
                data: vec![1, 2, 3, 4]
            }
        );
        let mut gz = Vec::new();
        {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
            e.write_all(&raw).unwrap();
        }
        assert_eq!(read_idx_bytes(&gz).unwrap(), a);
    }

    #[test]
    fn rejects_malformed_input_without_panicking() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "ends inside the 4-byte magic"),
            (vec![1, 0, 8, 1], "bad magic"),
            (vec![0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], "not supported"),
            (vec![0, 0, 8, 0], "zero dimensions"),
            (vec![0, 0, 8, 2, 0, 0, 0, 2], "dimension sizes"),
            (idx(&[3], &[1, 2]), "ends inside the values"),
            (idx(&[2], &[1, 2, 3]), "trailing data"),
            (idx(&[u32::MAX, u32::MAX], &[]), "larger than"),
            (idx(&[65536, 65536], &[]), "larger than"),
            // Found by the `idx` fuzz target: 12 bytes claiming 1 GiB of values used to
            // allocate (and zero) the whole gigabyte before failing.
            (idx(&[32768, 32768], &[7; 5]), "ends inside the values"),
            (vec![0x1f, 0x8b, 0, 0, 1, 2], "IDX"),
        ];
        for (bytes, want) in cases {
            let err = read_idx_bytes(&bytes).unwrap_err().to_string();
            assert!(
                err.contains(want) || want == "IDX" && err.contains("IDX"),
                "{bytes:?}: {err}"
            );
        }
    }

    #[test]
    fn zero_sized_dimension_is_an_empty_array() {
        let a = read_idx_bytes(&idx(&[0, 28, 28], &[])).unwrap();
        assert_eq!(a.dims, vec![0, 28, 28]);
        assert!(a.data.is_empty());
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let e = read_idx_file("/nonexistent/train-images-idx3-ubyte.gz").unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
    }
}
