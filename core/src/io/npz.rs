//! NumPy `.npz` archives: a zip file of `.npy` arrays, as `numpy.savez` and
//! `numpy.savez_compressed` write them.
//!
//! Entries are stored or deflated (kerust's zip reader knows no other method). An archive
//! is read as untrusted: at most [`MAX_ENTRIES`] entries, each entry's `.npy` header must
//! agree with the entry's size, and the values of all entries together may take at most
//! [`MAX_TOTAL`] bytes (or the limit given to [`read_npz_with_limit`]); memory grows with
//! the data actually decompressed, never with a size an archive merely declares, so a zip
//! bomb stops at the limit.
//!
//! ```
//! use kerust::io::npy::NpyArray;
//! use kerust::io::npz::{npz_to_bytes, read_npz_bytes};
//! let x = NpyArray::new(&[2, 2], vec![1.0f32, 2.0, 3.0, 4.0])?;
//! let y = NpyArray::new(&[2], vec![0i64, 1])?;
//! let bytes = npz_to_bytes([("x", &x), ("y", &y)], true)?;
//! let arrays = read_npz_bytes(&bytes)?;
//! assert_eq!(arrays["x"], x);
//! assert_eq!(arrays["y"].to_labels()?, [0, 1]);
//! # Ok::<(), kerust::Error>(())
//! ```

use std::collections::BTreeMap;
use std::format;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::npy::{read_npy_from, write_npy_into, NpyArray};
use crate::{Error, Result};

/// The most entries an archive may have.
pub const MAX_ENTRIES: usize = 1 << 16;

/// The default limit on the decompressed size of all entries together (1 GiB).
pub const MAX_TOTAL: u64 = 1 << 30;

/// The arrays of an archive by name (the entry name without `.npy`, as `numpy.load`
/// gives them).
pub type NpzArrays = BTreeMap<String, NpyArray>;

fn bad(reason: impl Into<String>) -> Error {
    Error::Format {
        format: "NPZ",
        reason: reason.into(),
    }
}

/// Reads the arrays of an archive from `r`, holding at most `limit` decompressed bytes.
fn read_archive(r: impl Read + Seek, limit: u64) -> Result<NpzArrays> {
    let mut archive = ZipArchive::new(r).map_err(|e| bad(format!("not a valid zip archive: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(bad(format!(
            "{} entries, more than the limit of {MAX_ENTRIES}",
            archive.len()
        )));
    }
    let mut arrays = NpzArrays::new();
    let mut budget = limit;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(format!("entry {i}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| bad(format!("entry {i}: {e}")))?
            .to_string();
        let Some(key) = name.strip_suffix(".npy").filter(|_| !entry.is_dir()) else {
            return Err(bad(format!("entry `{name}` is not an .npy array")));
        };
        let key = key.to_string();
        let size = entry.size();
        if size > budget {
            return Err(bad(format!(
                "entry `{name}` holds {size} bytes; the archive may hold at most {limit} in all"
            )));
        }
        budget -= size;
        let array = read_npy_from(&mut entry, size, false).map_err(|e| match e {
            Error::Format { reason, .. } => bad(format!("entry `{name}`: {reason}")),
            other => other,
        })?;
        // Reading to the end makes the zip reader check the entry's CRC-32.
        let mut rest = [0u8; 1];
        match entry.read(&mut rest) {
            Ok(0) => {}
            Ok(_) => return Err(bad(format!("entry `{name}` holds more than its size"))),
            Err(e) => return Err(bad(format!("entry `{name}`: {e}"))),
        }
        if arrays.insert(key, array).is_some() {
            return Err(bad(format!("entry `{name}` appears twice")));
        }
    }
    Ok(arrays)
}

/// Reads an `.npz` archive from bytes (at most [`MAX_TOTAL`] decompressed bytes).
pub fn read_npz_bytes(bytes: &[u8]) -> Result<NpzArrays> {
    read_archive(std::io::Cursor::new(bytes), MAX_TOTAL)
}

/// Reads an `.npz` file (at most [`MAX_TOTAL`] decompressed bytes).
pub fn read_npz(path: impl AsRef<Path>) -> Result<NpzArrays> {
    read_npz_with_limit(path, MAX_TOTAL)
}

/// Reads an `.npz` file whose entries decompress to at most `limit` bytes in all.
pub fn read_npz_with_limit(path: impl AsRef<Path>, limit: u64) -> Result<NpzArrays> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    read_archive(std::io::BufReader::new(file), limit).map_err(|e| super::safetensors::in_file(path, e))
}

/// Writes the arrays as an archive into `w`.
fn write_archive<'a, S: AsRef<str>>(
    w: impl Write + Seek,
    arrays: impl IntoIterator<Item = (S, &'a NpyArray)>,
    compressed: bool,
) -> std::io::Result<()> {
    let mut zip = ZipWriter::new(w);
    for (name, a) in arrays {
        let options = SimpleFileOptions::default()
            .compression_method(if compressed {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            })
            .large_file(a.len() as u64 * 8 >= u64::from(u32::MAX));
        zip.start_file(format!("{}.npy", name.as_ref()), options)?;
        write_npy_into(&mut zip, a)?;
    }
    zip.finish()?;
    Ok(())
}

/// Checks names and arrays before anything is written.
fn check<'a, S: AsRef<str>>(
    arrays: impl IntoIterator<Item = (S, &'a NpyArray)>,
) -> Result<Vec<(S, &'a NpyArray)>> {
    let arrays: Vec<(S, &NpyArray)> = arrays.into_iter().collect();
    let mut seen = std::collections::BTreeSet::new();
    for (name, a) in &arrays {
        let name = name.as_ref();
        if name.is_empty() || name.contains('\0') || !seen.insert(name.to_string()) {
            return Err(Error::invalid_argument(
                "arrays",
                format!("array name {name:?} is empty, holds a NUL or appears twice"),
            ));
        }
        a.check()
            .map_err(|e| Error::invalid_argument("arrays", format!("array `{name}`: {e}")))?;
    }
    Ok(arrays)
}

/// The arrays as an `.npz` archive, deflated when `compressed` (`numpy.savez_compressed`)
/// or stored (`numpy.savez`).
pub fn npz_to_bytes<'a, S: AsRef<str>>(
    arrays: impl IntoIterator<Item = (S, &'a NpyArray)>,
    compressed: bool,
) -> Result<Vec<u8>> {
    let arrays = check(arrays)?;
    let mut out = std::io::Cursor::new(Vec::new());
    write_archive(&mut out, arrays, compressed).map_err(|e| bad(e.to_string()))?;
    Ok(out.into_inner())
}

/// Writes the arrays to `path` as an uncompressed archive (`numpy.savez`), atomically
/// (see [`write_atomic`](crate::io::write_atomic)).
pub fn write_npz<'a, S: AsRef<str>>(
    path: impl AsRef<Path>,
    arrays: impl IntoIterator<Item = (S, &'a NpyArray)>,
) -> Result<()> {
    let arrays = check(arrays)?;
    crate::io::write_atomic(path, |f| write_archive(std::io::BufWriter::new(f), arrays, false))
}

/// Writes the arrays to `path` as a deflated archive (`numpy.savez_compressed`),
/// atomically.
pub fn write_npz_compressed<'a, S: AsRef<str>>(
    path: impl AsRef<Path>,
    arrays: impl IntoIterator<Item = (S, &'a NpyArray)>,
) -> Result<()> {
    let arrays = check(arrays)?;
    crate::io::write_atomic(path, |f| write_archive(std::io::BufWriter::new(f), arrays, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn rejects_foreign_entries_and_limits() {
        let a = NpyArray::new(&[4], vec![1u8, 2, 3, 4]).unwrap();
        let ok = npz_to_bytes([("a", &a)], false).unwrap();
        assert!(read_archive(std::io::Cursor::new(&ok), 10)
            .unwrap_err()
            .to_string()
            .contains("at most 10"));
        assert_eq!(read_npz_bytes(&ok).unwrap()["a"], a);

        let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("notes.txt", SimpleFileOptions::default()).unwrap();
        zip.write_all(b"hi").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let e = read_npz_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains("`notes.txt` is not an .npy"), "{e}");

        assert!(npz_to_bytes([("", &a)], false).is_err());
        assert!(npz_to_bytes([("a", &a), ("a", &a)], false).is_err());
    }
}
