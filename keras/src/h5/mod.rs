//! A read-only reader for the subset of HDF5 that Keras 3 (through h5py) writes: the
//! `.weights.h5` files of `model.save_weights` and the `model.weights.h5` inside `.keras`
//! archives.
//!
//! Supported: superblocks 0 to 3, object headers 1 and 2, groups with symbol tables
//! (version 1 B-trees and local heaps) or compact link messages, simple dataspaces,
//! little- and big-endian IEEE `f32`/`f64` and integer datatypes, compact and contiguous
//! storage. Refused with an error: dense link storage (fractal heaps), chunked or filtered
//! (compressed) datasets, external storage, shared messages, soft and external links
//! (which are skipped when listing a group). Attributes are not read.
//!
//! The whole file is held in memory. Every address and length is checked against it before
//! use; nothing is allocated that the file's bytes do not back; walks over B-trees and
//! header continuation chains visit each node once and are capped, so a malformed or
//! hostile file gives an [`Error::Format`] and never a panic or a hang.
//!
//! ```no_run
//! # fn main() -> kerust_core::Result<()> {
//! let bytes = kerust_keras::h5::read_file("mlp.weights.h5")?;
//! let file = kerust_keras::h5::File::parse(&bytes)?;
//! for link in file.group("layers")?.members() {
//!     println!("{}", link.name);
//! }
//! let (shape, values) = file.dataset("layers/dense/vars/0")?.read_f32()?;
//! assert_eq!(values.len(), shape.iter().product::<usize>());
//! # Ok(())
//! # }
//! ```

mod dataset;
mod group;
mod header;
mod reader;
#[cfg(test)]
mod tests;

use std::path::Path;

use kerust_core::{Error, Result};

pub use dataset::{Dtype, MAX_RANK};
pub use group::Link;

use reader::{bad, Reader};

/// The largest file [`read_file`] reads (4 GiB).
pub const MAX_FILE_SIZE: u64 = 1 << 32;

/// The deepest path [`File::get`] follows, in components.
pub const MAX_DEPTH: usize = 64;

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Reads a whole file after checking that it is at most [`MAX_FILE_SIZE`] bytes.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    read_limited(path.as_ref(), MAX_FILE_SIZE, "HDF5")
}

/// Reads a whole file of at most `limit` bytes; errors name the file's `format`.
pub(crate) fn read_limited(path: &Path, limit: u64, format: &'static str) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > limit {
        return Err(Error::Format {
            format,
            reason: format!(
                "{} is {len} bytes, more than the limit of {limit}",
                path.display()
            ),
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(Error::Format {
            format,
            reason: format!("{} grew past the limit of {limit} bytes", path.display()),
        });
    }
    Ok(bytes)
}

/// An HDF5 file held in memory (a cheap handle: copying it copies a slice and a few sizes).
#[derive(Clone, Copy, Debug)]
pub struct File<'a> {
    data: &'a [u8],
    offset_size: usize,
    length_size: usize,
    /// Absolute position that addresses are relative to.
    base: u64,
    root: u64,
    superblock: u8,
}

impl<'a> File<'a> {
    /// Parses the superblock of the file `data` (which may start with a user block of 512,
    /// 1024, 2048, ... bytes, as HDF5 allows).
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut at = 0usize;
        loop {
            if data.len().saturating_sub(at) < SIGNATURE.len() {
                return Err(bad(
                    "no HDF5 signature at byte 0 (nor after a user block): not an HDF5 file",
                ));
            }
            if &data[at..at + 8] == SIGNATURE {
                break;
            }
            at = if at == 0 { 512 } else { at * 2 };
        }
        Self::superblock(data, at)
    }

    fn superblock(data: &'a [u8], at: usize) -> Result<Self> {
        let mut r = Reader::new(&data[at..], "superblock");
        r.skip(8)?;
        let version = r.u8()?;
        let mut file = File {
            data,
            offset_size: 8,
            length_size: 8,
            base: 0,
            root: 0,
            superblock: version,
        };
        let sizes = |o: u8, l: u8| -> Result<(usize, usize)> {
            for s in [o, l] {
                if !matches!(s, 2 | 4 | 8) {
                    return Err(bad(format!(
                        "superblock gives an address or length size of {s} bytes (2, 4 or 8)"
                    )));
                }
            }
            Ok((o as usize, l as usize))
        };
        match version {
            0 | 1 => {
                r.skip(4)?; // free-space, root symbol table and shared header versions, reserved
                (file.offset_size, file.length_size) = sizes(r.u8()?, r.u8()?)?;
                r.skip(1 + 2 + 2 + 4)?; // reserved, leaf K, internal K, consistency flags
                if version == 1 {
                    r.skip(4)?; // indexed storage K, reserved
                }
                file.base = file.uint(&mut r, file.offset_size)?;
                file.offset(&mut r)?; // free-space info
                file.offset(&mut r)?; // end of file
                file.offset(&mut r)?; // driver info
                                      // The root group's symbol table entry.
                file.length(&mut r)?; // link name offset
                file.root = file
                    .offset(&mut r)?
                    .ok_or_else(|| bad("the root group has an undefined address"))?;
            }
            2 | 3 => {
                (file.offset_size, file.length_size) = sizes(r.u8()?, r.u8()?)?;
                r.skip(1)?; // consistency flags
                file.base = file.uint(&mut r, file.offset_size)?;
                file.offset(&mut r)?; // superblock extension
                file.offset(&mut r)?; // end of file
                file.root = file
                    .offset(&mut r)?
                    .ok_or_else(|| bad("the root group has an undefined address"))?;
            }
            v => return Err(bad(format!("superblock version {v}, expected 0 to 3"))),
        }
        Ok(file)
    }

    /// The superblock's version (h5py writes 0 by default, 2 or 3 with `libver="latest"`).
    pub fn superblock_version(&self) -> u8 {
        self.superblock
    }

    /// The root group.
    pub fn root(&self) -> Result<Group<'a>> {
        match self.object(self.root, "/")? {
            Node::Group(g) => Ok(g),
            Node::Dataset(_) => Err(bad("the root object is a dataset, not a group")),
        }
    }

    /// The object at `path` (`/`-separated, relative to the root; empty components are
    /// ignored).
    pub fn get(&self, path: &str) -> Result<Node<'a>> {
        let mut node = Node::Group(self.root()?);
        for (depth, name) in path.split('/').filter(|s| !s.is_empty()).enumerate() {
            if depth >= MAX_DEPTH {
                return Err(bad(format!("path `{path}` is deeper than {MAX_DEPTH}")));
            }
            node = match node {
                Node::Group(g) => g.get(name)?,
                Node::Dataset(d) => {
                    return Err(bad(format!(
                        "`{}` is a dataset, not a group, so it has no member `{name}`",
                        d.path
                    )))
                }
            };
        }
        Ok(node)
    }

    /// The group at `path`.
    pub fn group(&self, path: &str) -> Result<Group<'a>> {
        match self.get(path)? {
            Node::Group(g) => Ok(g),
            Node::Dataset(d) => Err(bad(format!("`{}` is a dataset, not a group", d.path))),
        }
    }

    /// The dataset at `path`.
    pub fn dataset(&self, path: &str) -> Result<Dataset<'a>> {
        match self.get(path)? {
            Node::Dataset(d) => Ok(d),
            Node::Group(g) => Err(bad(format!("`{}` is a group, not a dataset", g.path))),
        }
    }

    /// Every dataset in the file, depth-first in each group's member order. Each object is
    /// visited once (a second hard link to an object already seen is skipped, so cycles
    /// end), and groups deeper than [`MAX_DEPTH`] are an error.
    pub fn datasets(&self) -> Result<Vec<Dataset<'a>>> {
        let mut seen = std::collections::HashSet::from([self.root]);
        let mut out = Vec::new();
        // Groups still to list, deepest last; members reversed so they come out in order.
        let mut stack = vec![(self.root()?, 0usize)];
        while let Some((group, depth)) = stack.pop() {
            let mut sub = Vec::new();
            for link in &group.members {
                if !seen.insert(link.addr) {
                    continue;
                }
                match group.get(&link.name)? {
                    Node::Dataset(d) => out.push(d),
                    Node::Group(_) if depth + 1 >= MAX_DEPTH => {
                        return Err(bad(format!(
                            "`{}/{}` is deeper than {MAX_DEPTH} groups",
                            group.path, link.name
                        )))
                    }
                    Node::Group(g) => sub.push((g, depth + 1)),
                }
            }
            stack.extend(sub.into_iter().rev());
        }
        Ok(out)
    }

    fn object(&self, addr: u64, path: &str) -> Result<Node<'a>> {
        let with_path = |e: Error| match e {
            Error::Format { format, reason } => Error::Format {
                format,
                reason: format!("`{path}`: {reason}"),
            },
            e => e,
        };
        let obj = header::read_object(self, addr).map_err(with_path)?;
        if let Some(p) = dataset::parts(self, &obj).map_err(with_path)? {
            return Ok(Node::Dataset(Dataset {
                file: *self,
                path: path.to_string(),
                parts: p,
            }));
        }
        match group::members(self, &obj).map_err(with_path)? {
            Some(members) => Ok(Node::Group(Group {
                file: *self,
                path: path.to_string(),
                members,
            })),
            None => Err(bad(format!(
                "`{path}` is neither a group nor a dataset (a named datatype?)"
            ))),
        }
    }

    /// A reader from `addr` (relative to the base address) to the end of the file.
    pub(crate) fn reader_at(&self, addr: u64, what: &'static str) -> Result<Reader<'a>> {
        let start = self.absolute(addr, what)?;
        Ok(Reader::new(&self.data[start..], what))
    }

    /// The `len` bytes at `addr` (relative to the base address).
    pub(crate) fn slice(&self, addr: u64, len: usize, what: &str) -> Result<&'a [u8]> {
        let start = self.absolute(addr, what)?;
        start
            .checked_add(len)
            .filter(|&end| end <= self.data.len())
            .map(|end| &self.data[start..end])
            .ok_or_else(|| {
                bad(format!(
                    "{what}: {len} bytes at {addr:#x} run past the end of the file ({} bytes)",
                    self.data.len()
                ))
            })
    }

    fn absolute(&self, addr: u64, what: &str) -> Result<usize> {
        self.base
            .checked_add(addr)
            .and_then(|a| usize::try_from(a).ok())
            .filter(|&a| a <= self.data.len())
            .ok_or_else(|| {
                bad(format!(
                    "{what} at address {addr:#x} lies outside the file ({} bytes)",
                    self.data.len()
                ))
            })
    }

    fn uint(&self, r: &mut Reader<'_>, n: usize) -> Result<u64> {
        r.uint(n)
    }

    /// An address; `None` for the undefined address (all bits set).
    pub(crate) fn offset(&self, r: &mut Reader<'_>) -> Result<Option<u64>> {
        let v = r.uint(self.offset_size)?;
        let undefined = if self.offset_size == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * self.offset_size)) - 1
        };
        Ok((v != undefined).then_some(v))
    }

    /// A length.
    pub(crate) fn length(&self, r: &mut Reader<'_>) -> Result<u64> {
        r.uint(self.length_size)
    }
}

/// A group or a dataset.
#[derive(Debug)]
pub enum Node<'a> {
    /// A group.
    Group(Group<'a>),
    /// A dataset.
    Dataset(Dataset<'a>),
}

/// A group: its members (hard links; soft and external links are left out).
#[derive(Debug)]
pub struct Group<'a> {
    file: File<'a>,
    path: String,
    members: Vec<Link>,
}

impl<'a> Group<'a> {
    /// The group's path from the root (`/` for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The members, in the file's order (name order for groups with symbol tables).
    pub fn members(&self) -> &[Link] {
        &self.members
    }

    /// Whether the group has a member `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.members.iter().any(|l| l.name == name)
    }

    /// The member `name`.
    pub fn get(&self, name: &str) -> Result<Node<'a>> {
        let link = self
            .members
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| bad(format!("group `{}` has no member `{name}`", self.path)))?;
        let path = if self.path == "/" {
            name.to_string()
        } else {
            format!("{}/{name}", self.path)
        };
        self.file.object(link.addr, &path)
    }
}

/// A dataset: its shape and element type; [`Dataset::read_f32`] reads the values.
#[derive(Debug)]
pub struct Dataset<'a> {
    file: File<'a>,
    path: String,
    parts: dataset::Parts<'a>,
}

impl std::fmt::Debug for dataset::Parts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("shape", &self.shape)
            .field("dtype", &self.dtype)
            .finish_non_exhaustive()
    }
}

impl Dataset<'_> {
    /// The dataset's path from the root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The dimensions (empty for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.parts.shape
    }

    /// The element type as stored.
    pub fn dtype(&self) -> Dtype {
        self.parts.dtype
    }

    /// The number of elements, or an error when the shape's product overflows.
    pub fn len(&self) -> Result<usize> {
        self.parts
            .shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| bad(format!("`{}`: the number of elements overflows", self.path)))
    }

    /// Whether the dataset has no elements.
    pub fn is_empty(&self) -> bool {
        self.parts.shape.contains(&0)
    }

    /// The shape and the values in row-major order, converted to `f32` (`f64` and large
    /// integers rounded to nearest). A non-empty dataset whose storage was never written
    /// is an error.
    pub fn read_f32(&self) -> Result<(Vec<usize>, Vec<f32>)> {
        let count = self.len()?;
        let dtype = self.parts.dtype;
        let raw = dataset::raw(&self.file, self.parts.storage, count, dtype.size()).map_err(|e| match e {
            Error::Format { format, reason } => Error::Format {
                format,
                reason: format!("`{}`: {reason}", self.path),
            },
            e => e,
        })?;
        let values = match raw {
            Some(bytes) => dataset::to_f32(bytes, dtype),
            None if count == 0 => Vec::new(),
            None => {
                return Err(bad(format!(
                    "`{}`: {count} elements that were never written",
                    self.path
                )))
            }
        };
        Ok((self.parts.shape.clone(), values))
    }
}
