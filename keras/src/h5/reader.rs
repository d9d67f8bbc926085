//! Bounds-checked little-endian reads from the file's bytes.

use kerust_core::{Error, Result};

/// The error for a malformed or unsupported file.
pub(crate) fn bad(reason: impl Into<String>) -> Error {
    Error::Format {
        format: "HDF5",
        reason: reason.into(),
    }
}

/// A cursor over a byte slice; every read checks that the bytes are there.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// What is being read, for error messages.
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(bad(format!(
                "{} is truncated: {} more bytes needed at byte {}, {} left",
                self.what,
                n,
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(self.uint(2)? as u16)
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(self.uint(4)? as u32)
    }

    /// An unsigned little-endian integer of `n` (1 to 8) bytes.
    pub(crate) fn uint(&mut self, n: usize) -> Result<u64> {
        debug_assert!((1..=8).contains(&n));
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// Checks a 4-byte signature.
    pub(crate) fn signature(&mut self, sig: &[u8; 4]) -> Result<()> {
        let at = self.pos;
        let found = self.take(4)?;
        if found != sig {
            return Err(bad(format!(
                "{}: expected the signature {:?} at byte {at}, found {:?}",
                self.what,
                String::from_utf8_lossy(sig),
                String::from_utf8_lossy(found)
            )));
        }
        Ok(())
    }
}
