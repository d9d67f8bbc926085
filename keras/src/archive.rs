//! The `.keras` archive of Keras 3: a zip holding `config.json` (the architecture),
//! `metadata.json` and `model.weights.h5` (the weights).
//!
//! The archive is treated as untrusted: the number of members and each member's
//! decompressed size are checked against [`Limits`] before anything is allocated, a member
//! that decompresses to more than it declares is refused (zip bombs), and every member read
//! is checked against its CRC-32. Only the three members above are ever decompressed.

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use zip::ZipArchive;

use crate::error::{ConfigError, Result};

/// The architecture's member.
pub const CONFIG: &str = "config.json";
/// Keras's version and the date of saving.
pub const METADATA: &str = "metadata.json";
/// The weights, in HDF5.
pub const WEIGHTS: &str = "model.weights.h5";

/// Size limits on an archive, in bytes (members: decompressed sizes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most members an archive may list (a Keras archive has three, or a few more
    /// with assets).
    pub max_members: usize,
    /// The largest `config.json` or `metadata.json`.
    pub max_json: u64,
    /// The largest `model.weights.h5`.
    pub max_weights: u64,
    /// The most bytes all the members read may decompress to together.
    pub max_total: u64,
    /// The largest archive file [`KerasArchive::open`] reads.
    pub max_file: u64,
}

impl Default for Limits {
    /// 64 members, 16 MiB of JSON each, 4 GiB of weights, 4 GiB in all, 4 GiB files.
    fn default() -> Self {
        Self {
            max_members: 64,
            max_json: 16 << 20,
            max_weights: 4 << 30,
            max_total: 4 << 30,
            max_file: 4 << 30,
        }
    }
}

/// The members of a `.keras` archive that kerust reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KerasArchive {
    /// `config.json`: the architecture ([`crate::config::Architecture::from_json`]).
    pub config_json: String,
    /// `metadata.json`, if the archive has one.
    pub metadata_json: Option<String>,
    /// `model.weights.h5`: the weights, as HDF5 bytes.
    pub weights_h5: Vec<u8>,
}

impl KerasArchive {
    /// Reads an archive from its bytes, with the default [`Limits`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_with(bytes, &Limits::default())
    }

    /// Reads an archive from its bytes, with the given limits.
    pub fn from_bytes_with(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let mut zip = Members::new(Cursor::new(bytes), limits)?;
        let config_json = zip.json(CONFIG)?.ok_or_else(|| missing(CONFIG))?;
        let metadata_json = zip.json(METADATA)?;
        let weights_h5 = zip
            .read(WEIGHTS, limits.max_weights)?
            .ok_or_else(|| missing(WEIGHTS))?;
        Ok(Self {
            config_json,
            metadata_json,
            weights_h5,
        })
    }

    /// Reads the archive at `path` (its size checked before it is read), with the default
    /// [`Limits`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let limits = Limits::default();
        let bytes = read_file(path.as_ref(), limits.max_file)?;
        Self::from_bytes_with(&bytes, &limits).map_err(|e| e.context(path.as_ref().display()))
    }
}

/// Only `config.json` of an archive, without decompressing the weights.
pub fn read_config(bytes: &[u8]) -> Result<String> {
    let limits = Limits::default();
    Members::new(Cursor::new(bytes), &limits)?
        .json(CONFIG)?
        .ok_or_else(|| missing(CONFIG))
}

/// The architecture JSON in the file at `path`: `config.json` of a `.keras` archive, or
/// the file itself when it is not a zip archive (a bare `config.json`, or the output of
/// Keras's `model.to_json()`).
pub fn read_config_file(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let bytes = read_file(path, Limits::default().max_file)?;
    config_json(bytes).map_err(|e| e.context(path.display()))
}

/// The architecture JSON in a file's bytes: `config.json` of a `.keras` archive, or the
/// bytes themselves when they are not a zip archive.
pub fn config_json(bytes: Vec<u8>) -> Result<String> {
    let limits = Limits::default();
    if is_zip(&bytes) {
        read_config(&bytes)
    } else if bytes.len() as u64 > limits.max_json {
        Err(ConfigError::new(format!(
            "{} bytes of JSON, more than the limit of {}",
            bytes.len(),
            limits.max_json
        )))
    } else {
        String::from_utf8(bytes)
            .map_err(|_| ConfigError::new("neither a `.keras` (zip) archive nor UTF-8 JSON".to_string()))
    }
}

/// Whether `bytes` start as a zip archive does (a local file header, or the end record of
/// an empty archive).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The bytes of the file at `path`, refused without reading when larger than `max`.
pub fn read_file(path: &Path, max: u64) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| ConfigError::new(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > max {
        return Err(ConfigError::new(format!(
            "{}: {len} bytes, more than the limit of {max}",
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(ConfigError::new(format!(
            "{}: more than the limit of {max} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

fn missing(name: &str) -> ConfigError {
    ConfigError::new(format!(
        "the archive has no `{name}`; a Keras 3 `.keras` file holds `{CONFIG}`, `{METADATA}` and `{WEIGHTS}`"
    ))
}

fn bad(reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::new(format!("invalid .keras archive: {reason}"))
}

/// A zip archive whose members are read under limits.
struct Members<R> {
    zip: ZipArchive<R>,
    /// What the members read so far may still decompress to.
    budget: u64,
}

impl<R: Read + Seek> Members<R> {
    fn new(r: R, limits: &Limits) -> Result<Self> {
        let zip = ZipArchive::new(r).map_err(|e| bad(format!("not a zip archive ({e})")))?;
        if zip.len() > limits.max_members {
            return Err(bad(format!(
                "{} members, more than the limit of {}",
                zip.len(),
                limits.max_members
            )));
        }
        Ok(Self {
            zip,
            budget: limits.max_total,
        })
    }

    /// The member `name` as UTF-8 text, `None` when absent.
    fn json(&mut self, name: &str) -> Result<Option<String>> {
        let max = Limits::default().max_json.min(self.budget);
        match self.read(name, max)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| bad(format!("`{name}` is not UTF-8 text"))),
        }
    }

    /// The member `name`, decompressed, `None` when absent. Its declared size is checked
    /// against `max` and the remaining budget before allocating, and the data it yields
    /// against its declared size.
    fn read(&mut self, name: &str, max: u64) -> Result<Option<Vec<u8>>> {
        let mut entry = match self.zip.by_name(name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(bad(format!("`{name}`: {e}"))),
        };
        let size = entry.size();
        let cap = max.min(self.budget);
        if size > cap {
            return Err(bad(format!(
                "`{name}` decompresses to {size} bytes, more than the limit of {cap}"
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        // One byte more than declared: a member that yields more is refused.
        (&mut entry)
            .take(size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("`{name}`: {e}")))?;
        if bytes.len() as u64 != size {
            return Err(bad(format!(
                "`{name}` declares {size} bytes but holds {} or more",
                bytes.len()
            )));
        }
        self.budget -= size;
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;

    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in members {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn reads_the_three_members() {
        let bytes = archive(&[
            (METADATA, b"{\"keras_version\": \"3\"}"),
            (CONFIG, b"{}"),
            (WEIGHTS, b"\x89HDF"),
        ]);
        let a = KerasArchive::from_bytes(&bytes).unwrap();
        assert_eq!(a.config_json, "{}");
        assert_eq!(a.metadata_json.as_deref(), Some("{\"keras_version\": \"3\"}"));
        assert_eq!(a.weights_h5, b"\x89HDF");
        assert_eq!(read_config(&bytes).unwrap(), "{}");
    }

    #[test]
    fn missing_members_are_named() {
        let bytes = archive(&[(CONFIG, b"{}")]);
        let err = KerasArchive::from_bytes(&bytes).unwrap_err();
        assert!(err.message().contains("no `model.weights.h5`"), "{err}");
        let bytes = archive(&[(WEIGHTS, b"")]);
        let err = read_config(&bytes).unwrap_err();
        assert!(err.message().contains("no `config.json`"), "{err}");
    }

    #[test]
    fn not_a_zip() {
        let err = KerasArchive::from_bytes(b"{\"class_name\": \"Sequential\"}").unwrap_err();
        assert!(
            err.message()
                .starts_with("invalid .keras archive: not a zip archive"),
            "{err}"
        );
    }

    #[test]
    fn members_over_the_limits_are_refused_before_reading() {
        // 64 MiB of zeros compress to about 64 KiB: refused by its declared size.
        let zeros = vec![0u8; 64 << 20];
        let bytes = archive(&[(CONFIG, &zeros), (WEIGHTS, b"")]);
        assert!(bytes.len() < 1 << 20);
        let err = read_config(&bytes).unwrap_err();
        assert!(
            err.message()
                .contains("decompresses to 67108864 bytes, more than the limit of 16777216"),
            "{err}"
        );
        let limits = Limits {
            max_weights: 1000,
            ..Limits::default()
        };
        let bytes = archive(&[(CONFIG, b"{}"), (WEIGHTS, &zeros[..2000])]);
        let err = KerasArchive::from_bytes_with(&bytes, &limits).unwrap_err();
        assert!(
            err.message()
                .contains("`model.weights.h5` decompresses to 2000 bytes"),
            "{err}"
        );
        let limits = Limits {
            max_total: 1500,
            ..Limits::default()
        };
        let bytes = archive(&[(CONFIG, &[b' '; 1000]), (WEIGHTS, &zeros[..1000])]);
        let err = KerasArchive::from_bytes_with(&bytes, &limits).unwrap_err();
        assert!(err.message().contains("more than the limit of 500"), "{err}");
    }

    #[test]
    fn too_many_members() {
        let names: Vec<String> = (0..65).map(|i| format!("asset{i}")).collect();
        let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let err = read_config(&archive(&members)).unwrap_err();
        assert!(
            err.message().contains("65 members, more than the limit of 64"),
            "{err}"
        );
    }

    #[test]
    fn a_member_larger_than_it_declares_is_refused() {
        let mut bytes = archive(&[(CONFIG, b"{\"a\": 1}"), (WEIGHTS, b"")]);
        // Lower the declared size (4 bytes at offset 22 in the local header, 24 in the
        // central directory entry) of `config.json` from 8 to 4.
        let central = bytes.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
        let first_central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        assert!(first_central <= central);
        bytes[22..26].copy_from_slice(&4u32.to_le_bytes());
        bytes[first_central + 24..first_central + 28].copy_from_slice(&4u32.to_le_bytes());
        let err = read_config(&bytes).unwrap_err();
        assert!(err.message().contains("`config.json`"), "{err}");
    }

    #[test]
    fn files_are_checked_before_reading() {
        let dir = std::env::temp_dir().join(format!("kerust-keras-archive-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.json");
        std::fs::write(&path, vec![b' '; 100]).unwrap();
        let err = read_file(&path, 99).unwrap_err();
        assert!(
            err.message().ends_with("100 bytes, more than the limit of 99"),
            "{err}"
        );
        std::fs::write(&path, b"{\"config\": 1}").unwrap();
        assert_eq!(read_config_file(&path).unwrap(), "{\"config\": 1}");
        let err = read_config_file(dir.join("absent.keras")).unwrap_err();
        assert!(err.message().contains("absent.keras"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
