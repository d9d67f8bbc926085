//! NumPy `.npy` arrays: read and write data and weights shared with Python.
//!
//! An `.npy` file is the magic string `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the length
//! of a header (2 bytes in 1.0, 4 after), the header (a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`) and the values.
//!
//! kerust reads `float32`, `float64`, `int32`, `int64` and `uint8` arrays in either byte
//! order, in C (row-major) order; Fortran-ordered, object (pickled) and structured arrays
//! are refused with an error. It writes little-endian version 1.0 files (2.0 when the
//! header needs it), as `numpy.save` does.
//!
//! Sizes are checked before allocation: the header is at most [`MAX_HEADER`] bytes, and
//! the values the header declares must be exactly what the file holds.
//!
//! ```
//! use kerust::io::npy::{NpyArray, NpyData, npy_to_bytes, read_npy_bytes};
//! let a = NpyArray::new(&[2, 3], vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
//! let bytes = npy_to_bytes(&a)?;
//! assert_eq!(&bytes[..6], b"\x93NUMPY");
//! let b = read_npy_bytes(&bytes)?;
//! assert_eq!(b, a);
//! assert_eq!(b.to_f32(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! assert!(matches!(b.data, NpyData::F32(_)));
//! # Ok::<(), kerust::Error>(())
//! ```

use std::format;
use std::io::{Read, Write};
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::data::{Dataset, Target};
use crate::{Error, Result};

mod header;
use header::{parse_header, Header, Kind};

/// The longest header accepted, in bytes (NumPy's own reader stops at 10,000 by default).
pub const MAX_HEADER: usize = 1 << 16;

/// The largest array accepted, in bytes of values (4 GiB).
pub const MAX_PAYLOAD: u64 = 1 << 32;

/// The most dimensions accepted (NumPy's `NPY_MAXDIMS` is 64).
pub const MAX_DIMS: usize = 64;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The values of an array, by element type.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// `float32` (`<f4`).
    F32(Vec<f32>),
    /// `float64` (`<f8`).
    F64(Vec<f64>),
    /// `int32` (`<i4`).
    I32(Vec<i32>),
    /// `int64` (`<i8`).
    I64(Vec<i64>),
    /// `uint8` (`|u1`).
    U8(Vec<u8>),
}

macro_rules! from_vec {
    ($($t:ty => $v:ident),*) => {$(
        impl From<Vec<$t>> for NpyData {
            fn from(v: Vec<$t>) -> Self {
                NpyData::$v(v)
            }
        }
    )*};
}
from_vec!(f32 => F32, f64 => F64, i32 => I32, i64 => I64, u8 => U8);

impl NpyData {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::I64(v) => v.len(),
            NpyData::U8(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// NumPy's name of the element type (`"float32"`).
    pub fn dtype(&self) -> &'static str {
        self.kind().name()
    }

    fn kind(&self) -> Kind {
        match self {
            NpyData::F32(_) => Kind::F32,
            NpyData::F64(_) => Kind::F64,
            NpyData::I32(_) => Kind::I32,
            NpyData::I64(_) => Kind::I64,
            NpyData::U8(_) => Kind::U8,
        }
    }
}

/// An array read from, or to write to, an `.npy` file: a shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The dimensions, outermost first (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// The values, row-major (C order); as many as the shape's product.
    pub data: NpyData,
}

impl NpyArray {
    /// An array of `shape` holding `data`, which must have as many values as the shape.
    pub fn new(shape: &[usize], data: impl Into<NpyData>) -> Result<Self> {
        let a = NpyArray {
            shape: shape.to_vec(),
            data: data.into(),
        };
        a.check()?;
        Ok(a)
    }

    pub(crate) fn check(&self) -> Result<()> {
        let n = self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if n != Some(self.data.len()) || self.shape.len() > MAX_DIMS {
            return Err(Error::invalid_argument(
                "shape",
                format!(
                    "{:?} does not fit {} values (or has more than {MAX_DIMS} dimensions)",
                    self.shape,
                    self.data.len()
                ),
            ));
        }
        Ok(())
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no values.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The values as `f32`: `float64` rounded to nearest, integers converted (exactly up
    /// to 2^24 in magnitude).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            NpyData::F32(v) => v.clone(),
            NpyData::F64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::I64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
        }
    }

    /// The values as class labels: an integer array whose values lie in `0..=u32::MAX`.
    ///
    /// # Errors
    ///
    /// [`Error::Data`] for a float array or a negative or too large value.
    pub fn to_labels(&self) -> Result<Vec<u32>> {
        fn convert<T: Copy + core::fmt::Display>(v: &[T], f: impl Fn(T) -> Option<u32>) -> Result<Vec<u32>> {
            v.iter()
                .enumerate()
                .map(|(i, &x)| {
                    f(x).ok_or_else(|| {
                        Error::data(format!("label {i} is {x}, not a class index (0..=4294967295)"))
                    })
                })
                .collect()
        }
        match &self.data {
            NpyData::I32(v) => convert(v, |x| u32::try_from(x).ok()),
            NpyData::I64(v) => convert(v, |x| u32::try_from(x).ok()),
            NpyData::U8(v) => Ok(v.iter().map(|&x| u32::from(x)).collect()),
            other => Err(Error::data(format!(
                "{} values are not class labels: labels are an integer array",
                other.dtype()
            ))),
        }
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Format {
        format: "NPY",
        reason: reason.into(),
    }
}

fn read_exact(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => bad(format!("the data ends inside {what}")),
        _ => bad(format!("cannot read {what}: {e}")),
    })
}

/// Reads the preamble and header; returns the header and the bytes they took.
fn read_header(r: &mut impl Read) -> Result<(Header, u64)> {
    let mut pre = [0u8; 8];
    read_exact(r, &mut pre, "the magic string and version")?;
    if &pre[..6] != MAGIC {
        return Err(bad("not an .npy file: it does not start with \\x93NUMPY"));
    }
    let (len, pre_len) = match pre[6] {
        1 => {
            let mut l = [0u8; 2];
            read_exact(r, &mut l, "the header length")?;
            (usize::from(u16::from_le_bytes(l)), 10)
        }
        2 | 3 => {
            let mut l = [0u8; 4];
            read_exact(r, &mut l, "the header length")?;
            (u32::from_le_bytes(l) as usize, 12)
        }
        v => return Err(bad(format!("format version {v}.{} is not supported", pre[7]))),
    };
    if len > MAX_HEADER {
        return Err(bad(format!(
            "the header declares {len} bytes, more than the limit of {MAX_HEADER}"
        )));
    }
    let mut text = std::vec![0u8; len];
    read_exact(r, &mut text, "the header")?;
    if pre[6] < 3 && !text.is_ascii() {
        return Err(bad("the header is not ASCII"));
    }
    Ok((parse_header(&text)?, (pre_len + len) as u64))
}

/// Elements decodable from either byte order.
trait Elem: Sized {
    const SIZE: usize;
    fn decode(b: &[u8], big: bool) -> Self;
    fn encode(&self, out: &mut Vec<u8>);
}

macro_rules! elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            fn decode(b: &[u8], big: bool) -> Self {
                let mut a = [0u8; core::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
elem!(f32, f64, i32, i64, u8);

/// Reads `count` elements in chunks. With `trusted`, the source is known to hold them (a
/// file or buffer of checked length) and the vector is allocated at once; otherwise it
/// grows with the data actually read, so a lying size costs nothing.
fn read_values<T: Elem>(r: &mut impl Read, count: usize, big: bool, trusted: bool) -> Result<Vec<T>> {
    const CHUNK: usize = 1 << 16;
    let mut out = Vec::new();
    let reserve = if trusted { count } else { count.min(CHUNK) };
    out.try_reserve_exact(reserve)
        .map_err(|_| bad(format!("cannot allocate {count} values")))?;
    let mut buf = std::vec![0u8; CHUNK * T::SIZE];
    let mut left = count;
    while left > 0 {
        let n = left.min(CHUNK);
        let bytes = &mut buf[..n * T::SIZE];
        read_exact(r, bytes, "the values")?;
        out.extend(bytes.chunks_exact(T::SIZE).map(|b| T::decode(b, big)));
        left -= n;
    }
    Ok(out)
}

/// Reads an array from `r`, which holds `total` bytes (header included). `trusted` says
/// whether `total` is known to be true (see [`read_values`]).
pub(crate) fn read_npy_from(r: &mut impl Read, total: u64, trusted: bool) -> Result<NpyArray> {
    let (h, header_len) = read_header(r)?;
    let available = total.saturating_sub(header_len);
    if h.data_len != available {
        return Err(bad(format!(
            "the header declares shape {:?} of {} ({} bytes) but {available} bytes follow it",
            h.shape,
            h.kind.name(),
            h.data_len
        )));
    }
    let count = (h.data_len / h.kind.size() as u64) as usize;
    let big = h.big_endian;
    let data = match h.kind {
        Kind::F32 => NpyData::F32(read_values(r, count, big, trusted)?),
        Kind::F64 => NpyData::F64(read_values(r, count, big, trusted)?),
        Kind::I32 => NpyData::I32(read_values(r, count, big, trusted)?),
        Kind::I64 => NpyData::I64(read_values(r, count, big, trusted)?),
        Kind::U8 => NpyData::U8(read_values(r, count, big, trusted)?),
    };
    Ok(NpyArray { shape: h.shape, data })
}

/// Reads an `.npy` array from bytes.
pub fn read_npy_bytes(bytes: &[u8]) -> Result<NpyArray> {
    let mut r = bytes;
    read_npy_from(&mut r, bytes.len() as u64, true)
}

/// Reads an `.npy` file. The values the header declares are checked against the file's
/// length before anything is allocated for them.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.into(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut r = std::io::BufReader::new(file);
    read_npy_from(&mut r, len, true).map_err(|e| super::safetensors::in_file(path, e))
}

/// Writes `a` in `.npy` format (version 1.0, little-endian, C order) to `w`.
pub(crate) fn write_npy_into(w: &mut impl Write, a: &NpyArray) -> std::io::Result<()> {
    let shape = match a.shape.as_slice() {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        dims => {
            let parts: Vec<String> = dims.iter().map(ToString::to_string).collect();
            format!("({})", parts.join(", "))
        }
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        a.data.kind().descr()
    );
    // Pad with spaces and a newline so that the values start at a multiple of 64 bytes;
    // version 2.0 (4-byte length) only when the header outgrows 1.0's 2-byte length.
    let padded = |pre: usize| (pre + dict.len() + 1).next_multiple_of(64) - pre;
    let v1 = padded(10) <= 0xFFFF;
    let header_len = if v1 { padded(10) } else { padded(12) };
    let mut out = Vec::with_capacity(12 + header_len);
    out.extend_from_slice(MAGIC);
    if v1 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(out.len() + header_len - dict.len() - 1, b' ');
    out.push(b'\n');
    w.write_all(&out)?;
    fn values<T: Elem>(w: &mut impl Write, v: &[T]) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(1 << 16);
        for chunk in v.chunks((1 << 16) / T::SIZE) {
            buf.clear();
            chunk.iter().for_each(|x| x.encode(&mut buf));
            w.write_all(&buf)?;
        }
        Ok(())
    }
    match &a.data {
        NpyData::F32(v) => values(w, v),
        NpyData::F64(v) => values(w, v),
        NpyData::I32(v) => values(w, v),
        NpyData::I64(v) => values(w, v),
        NpyData::U8(v) => w.write_all(v),
    }
}

/// `a` in `.npy` format.
///
/// # Errors
///
/// [`Error::InvalidArgument`] when the shape does not fit the number of values.
pub fn npy_to_bytes(a: &NpyArray) -> Result<Vec<u8>> {
    a.check()?;
    let mut out = Vec::new();
    write_npy_into(&mut out, a).map_err(|e| bad(e.to_string()))?;
    Ok(out)
}

/// Writes `a` to `path` in `.npy` format, atomically (see
/// [`write_atomic`](crate::io::write_atomic)).
pub fn write_npy(path: impl AsRef<Path>, a: &NpyArray) -> Result<()> {
    a.check()?;
    crate::io::write_atomic(path, |f| {
        let mut w = std::io::BufWriter::new(f);
        write_npy_into(&mut w, a)?;
        w.flush()
    })
}

impl Dataset {
    /// A dataset from two `.npy` files, as `numpy.save(x)` and `numpy.save(y)` wrote them:
    /// `x` of shape `[samples, ...]` (any supported dtype, converted to `f32` as is, so
    /// scale images yourself); `y` an integer array of shape `[samples]` (class labels) or
    /// `[samples, 1]`, or a float array of shape `[samples, ...]` (target values).
    ///
    /// ```
    /// use kerust::data::{Dataset, Target};
    /// use kerust::io::npy::{write_npy, NpyArray};
    /// let dir = std::env::temp_dir();
    /// let (x, y) = (dir.join(format!("doc-x-{}.npy", std::process::id())), dir.join(format!("doc-y-{}.npy", std::process::id())));
    /// write_npy(&x, &NpyArray::new(&[3, 2], vec![0u8, 255, 1, 2, 3, 4])?)?;
    /// write_npy(&y, &NpyArray::new(&[3], vec![0i64, 1, 1])?)?;
    /// let ds = Dataset::from_npy(&x, &y)?;
    /// assert_eq!((ds.len(), ds.sample_shape.as_slice()), (3, &[2][..]));
    /// assert_eq!(ds.y, Target::Classes(vec![0, 1, 1]));
    /// # std::fs::remove_file(&x).unwrap(); std::fs::remove_file(&y).unwrap();
    /// # Ok::<(), kerust::Error>(())
    /// ```
    pub fn from_npy(x_path: impl AsRef<Path>, y_path: impl AsRef<Path>) -> Result<Self> {
        Self::from_npy_arrays(&read_npy(x_path)?, &read_npy(y_path)?)
    }

    /// [`Dataset::from_npy`] from arrays already read.
    pub fn from_npy_arrays(x: &NpyArray, y: &NpyArray) -> Result<Self> {
        let Some((&n, sample)) = x.shape.split_first() else {
            return Err(Error::data("x is a scalar; it needs a leading samples dimension"));
        };
        let sample_shape = if sample.is_empty() { &[1][..] } else { sample };
        let Some((&ny, per_y)) = y.shape.split_first() else {
            return Err(Error::data("y is a scalar; it needs a leading samples dimension"));
        };
        if ny != n {
            return Err(Error::data(format!("x holds {n} samples but y {ny}")));
        }
        let width: usize = per_y.iter().product();
        let integer = matches!(y.data, NpyData::I32(_) | NpyData::I64(_) | NpyData::U8(_));
        let target = if integer && width == 1 {
            Target::Classes(y.to_labels()?)
        } else {
            Target::Values {
                data: y.to_f32(),
                width,
            }
        };
        Dataset::new(x.to_f32(), sample_shape, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&[1, 0]);
        v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn writes_numpy_layout() {
        let a = NpyArray::new(&[2], vec![1i32, -2]).unwrap();
        let b = npy_to_bytes(&a).unwrap();
        // As `numpy.save` writes it: values at byte 128.
        assert_eq!(b.len(), 128 + 8);
        assert!(b.starts_with(
            b"\x93NUMPY\x01\x00\x76\x00{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }   "
        ));
        assert_eq!(b[127], b'\n');
        assert_eq!(read_npy_bytes(&b).unwrap(), a);
        let s = NpyArray::new(&[], vec![7.5f64]).unwrap();
        assert_eq!(read_npy_bytes(&npy_to_bytes(&s).unwrap()).unwrap(), s);
    }

    #[test]
    fn reads_big_endian_python2_and_reordered_headers() {
        let h = "{'shape': (2L,), 'fortran_order': False, 'descr': '>f4'}\n";
        let a = read_npy_bytes(&npy(h, &[0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0])).unwrap();
        assert_eq!(a.data, NpyData::F32(vec![1.0, -2.0]));
        // Fortran order with at most one dimension above 1 is the same layout.
        let h = "{'descr': '|u1', 'fortran_order': True, 'shape': (1, 3), }";
        assert_eq!(read_npy_bytes(&npy(h, &[1, 2, 3])).unwrap().shape, [1, 3]);
    }

    #[test]
    fn rejects_malformed_headers() {
        let cases = [
            (
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                &[0u8; 16][..],
                "Fortran",
            ),
            (
                "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                &[0; 8],
                "not supported",
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                &[0; 8],
                "not supported",
            ),
            (
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                &[0; 4],
                "structured",
            ),
            ("{'descr': '<f4', 'shape': (1,), }", &[0; 4], "needs the keys"),
            (
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
                &[0; 4],
                "twice",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                &[0; 4],
                "unknown key",
            ),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
                &[0; 4],
                "unexpected value",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
                &[0; 4],
                "non-negative",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                &[],
                "too large",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
                &[],
                "larger than",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
                &[0; 8],
                "12 bytes) but 8",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
                &[0; 4],
                "after the closing",
            ),
            (
                "{'descr': '<f4\\n', 'fortran_order': False, 'shape': (1,)}",
                &[0; 4],
                "escapes",
            ),
            ("{'descr': '<f4", &[], "not closed"),
        ];
        for (h, data, want) in cases {
            let e = read_npy_bytes(&npy(h, data)).unwrap_err().to_string();
            assert!(e.contains(want), "{h}: {e}");
        }
        let mut long = MAGIC.to_vec();
        long.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        assert!(read_npy_bytes(&long).unwrap_err().to_string().contains("limit"));
        assert!(read_npy_bytes(b"\x93NUMPY\x04\x00")
            .unwrap_err()
            .to_string()
            .contains("version 4.0"));
        assert!(read_npy_bytes(b"PK\x03\x04")
            .unwrap_err()
            .to_string()
            .contains("ends inside"));
    }

    #[test]
    fn labels_from_integers_only() {
        let a = NpyArray::new(&[2], vec![-1i64, 3]).unwrap();
        assert!(a.to_labels().unwrap_err().to_string().contains("label 0 is -1"));
        let f = NpyArray::new(&[1], vec![1.0f32]).unwrap();
        assert!(f.to_labels().is_err());
        assert!(NpyArray::new(&[3], vec![1u8]).is_err());
    }
}
