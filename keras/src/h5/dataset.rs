//! Datasets: dataspace (the shape), datatype (IEEE floats and integers of either byte
//! order) and data layout (compact or contiguous storage).
//!
//! The number of elements is computed with overflow checks and the bytes it needs must lie
//! inside the file before anything is allocated, so the values returned are never larger
//! than what the file holds (at most 4 output bytes per stored byte, for 1-byte integers).

use kerust_core::Result;

use super::header::Object;
use super::reader::{bad, Reader};
use super::File;

/// The most dimensions of a dataspace (HDF5's own limit).
pub const MAX_RANK: usize = 32;

/// The element type of a dataset, as far as kerust reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE 754 binary floating point of `size` bytes (4 or 8).
    Float {
        /// Bytes per element.
        size: usize,
        /// Stored big-endian.
        big_endian: bool,
    },
    /// Two's complement or unsigned integer of `size` bytes (1, 2, 4 or 8).
    Int {
        /// Bytes per element.
        size: usize,
        /// Signed.
        signed: bool,
        /// Stored big-endian.
        big_endian: bool,
    },
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::Float { size, .. } | Dtype::Int { size, .. } => size,
        }
    }

    /// NumPy's name of the type (`float32`, `int64`, ...).
    pub fn name(self) -> String {
        match self {
            Dtype::Float { size, .. } => format!("float{}", size * 8),
            Dtype::Int { size, signed, .. } => {
                format!("{}int{}", if signed { "" } else { "u" }, size * 8)
            }
        }
    }
}

/// Where a dataset's values are.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Storage<'a> {
    /// In the object header.
    Compact(&'a [u8]),
    /// `len` bytes at `addr`; `None` when never written (all fill values).
    Contiguous { addr: Option<u64>, len: u64 },
}

/// The dataset parts of an object header.
pub(crate) struct Parts<'a> {
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: Dtype,
    pub(crate) storage: Storage<'a>,
}

/// The shape, type and storage of the dataset whose header is `obj`; `None` when the
/// object is not a dataset (it has no layout message).
pub(crate) fn parts<'a>(file: &File<'a>, obj: &Object<'a>) -> Result<Option<Parts<'a>>> {
    let Some(layout) = obj.layout else {
        return Ok(None);
    };
    let space = obj
        .dataspace
        .ok_or_else(|| bad("a dataset without a dataspace message"))?;
    let dtype = obj
        .datatype
        .ok_or_else(|| bad("a dataset without a datatype message"))?;
    if obj.filtered {
        return Err(bad(
            "a dataset with a filter pipeline (compression) is not supported",
        ));
    }
    if obj.external {
        return Err(bad("a dataset stored in external files is not supported"));
    }
    Ok(Some(Parts {
        shape: dataspace(file, space)?,
        dtype: datatype(dtype)?,
        storage: storage(file, layout)?,
    }))
}

fn dataspace(file: &File<'_>, body: &[u8]) -> Result<Vec<usize>> {
    let mut r = Reader::new(body, "dataspace message");
    let version = r.u8()?;
    let rank = r.u8()? as usize;
    let _flags = r.u8()?;
    match version {
        1 => r.skip(5)?, // reserved
        2 => {
            let kind = r.u8()?;
            if kind == 2 {
                return Err(bad(
                    "a dataset with a null dataspace (no elements) is not supported",
                ));
            }
        }
        v => return Err(bad(format!("dataspace message version {v}, expected 1 or 2"))),
    }
    if rank > MAX_RANK {
        return Err(bad(format!("dataspace of rank {rank}, at most {MAX_RANK}")));
    }
    let mut shape = Vec::with_capacity(rank);
    for _ in 0..rank {
        let d = file.length(&mut r)?;
        shape.push(usize::try_from(d).map_err(|_| bad(format!("dimension {d} overflows")))?);
    }
    Ok(shape)
}

fn datatype(body: &[u8]) -> Result<Dtype> {
    let mut r = Reader::new(body, "datatype message");
    let class_version = r.u8()?;
    let bits = r.take(3)?;
    let size = r.u32()? as usize;
    let (class, version) = (class_version & 0x0f, class_version >> 4);
    if !(1..=4).contains(&version) {
        return Err(bad(format!(
            "datatype message version {version}, expected 1 to 4"
        )));
    }
    let offset = r.u16()?;
    let precision = r.u16()? as usize;
    if offset != 0 || precision != size * 8 {
        return Err(bad(format!(
            "a {size}-byte type with bit offset {offset} and precision {precision} is not supported"
        )));
    }
    let big_endian = bits[0] & 0x01 != 0;
    match class {
        0 if matches!(size, 1 | 2 | 4 | 8) => Ok(Dtype::Int {
            size,
            signed: bits[0] & 0x08 != 0,
            big_endian,
        }),
        1 if matches!(size, 4 | 8) => {
            if bits[0] & 0x40 != 0 {
                return Err(bad("VAX-endian floating point is not supported"));
            }
            let (exp_loc, exp_size, man_loc, man_size) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
            let ieee = if size == 4 {
                (23, 8, 0, 23)
            } else {
                (52, 11, 0, 52)
            };
            if (exp_loc, exp_size, man_loc, man_size) != ieee {
                return Err(bad(format!(
                    "a {size}-byte floating-point type that is not IEEE 754 binary{}",
                    size * 8
                )));
            }
            Ok(Dtype::Float { size, big_endian })
        }
        0 | 1 => Err(bad(format!(
            "{}-byte {} values are not supported",
            size,
            if class == 0 { "integer" } else { "floating-point" }
        ))),
        c => Err(bad(format!(
            "datatype class {c} is not supported (only integers and IEEE floats)"
        ))),
    }
}

fn storage<'a>(file: &File<'a>, body: &'a [u8]) -> Result<Storage<'a>> {
    let mut r = Reader::new(body, "data layout message");
    let version = r.u8()?;
    match version {
        3 | 4 => {
            let class = r.u8()?;
            match class {
                0 => {
                    let len = r.u16()? as usize;
                    Ok(Storage::Compact(r.take(len)?))
                }
                1 => {
                    let addr = file.offset(&mut r)?;
                    let len = file.length(&mut r)?;
                    Ok(Storage::Contiguous { addr, len })
                }
                2 => Err(bad(
                    "chunked datasets are not supported (Keras writes contiguous ones)",
                )),
                c => Err(bad(format!("data layout class {c} is not supported"))),
            }
        }
        1 | 2 => {
            let rank = r.u8()? as usize;
            let class = r.u8()?;
            r.skip(5)?;
            match class {
                0 => {
                    r.skip(4 * rank)?;
                    let len = r.u32()? as usize;
                    Ok(Storage::Compact(r.take(len)?))
                }
                1 => {
                    let addr = file.offset(&mut r)?;
                    // The dimensions of the storage, in elements, the last being the
                    // element size; their product is the size in bytes.
                    let mut len = 1u64;
                    for _ in 0..rank {
                        len = len
                            .checked_mul(u64::from(r.u32()?))
                            .ok_or_else(|| bad("data layout size overflows"))?;
                    }
                    Ok(Storage::Contiguous { addr, len })
                }
                2 => Err(bad("chunked datasets are not supported")),
                c => Err(bad(format!("data layout class {c} is not supported"))),
            }
        }
        v => Err(bad(format!("data layout message version {v}, expected 1 to 4"))),
    }
}

/// The bytes of `count` elements of `size` bytes from `storage`; `None` when the dataset
/// was never written.
pub(crate) fn raw<'a>(
    file: &File<'a>,
    storage: Storage<'a>,
    count: usize,
    size: usize,
) -> Result<Option<&'a [u8]>> {
    let need = count
        .checked_mul(size)
        .ok_or_else(|| bad("the dataset's size in bytes overflows"))?;
    let bytes = match storage {
        Storage::Compact(b) => b,
        Storage::Contiguous { addr: None, .. } => return Ok(None),
        Storage::Contiguous {
            addr: Some(addr),
            len,
        } => {
            let len = usize::try_from(len).map_err(|_| bad("dataset storage size overflows"))?;
            file.slice(addr, len, "dataset values")?
        }
    };
    if bytes.len() < need {
        return Err(bad(format!(
            "the dataset needs {need} bytes ({count} elements of {size} bytes), its storage holds {}",
            bytes.len()
        )));
    }
    Ok(Some(&bytes[..need]))
}

/// Converts stored elements to `f32` (rounding `f64` and large integers to nearest).
pub(crate) fn to_f32(bytes: &[u8], dtype: Dtype) -> Vec<f32> {
    let size = dtype.size();
    bytes
        .chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..size].copy_from_slice(c);
            let be = match dtype {
                Dtype::Float { big_endian, .. } | Dtype::Int { big_endian, .. } => big_endian,
            };
            if be {
                b[..size].reverse();
            }
            let bits = u64::from_le_bytes(b);
            match dtype {
                Dtype::Float { size: 4, .. } => f32::from_bits(bits as u32),
                Dtype::Float { .. } => f64::from_bits(bits) as f32,
                Dtype::Int { signed: false, .. } => bits as f32,
                Dtype::Int { signed: true, .. } => {
                    let shift = 64 - 8 * size as u32;
                    (((bits << shift) as i64) >> shift) as f32
                }
            }
        })
        .collect()
}
