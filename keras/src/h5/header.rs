//! Object headers (versions 1 and 2) and the messages in them that groups and datasets need.
//!
//! A header is a list of messages in one or more blocks, chained by continuation messages.
//! Every block is read at most once and their number is capped, so a continuation cycle or
//! a chain of millions of blocks ends in an error, not a hang.

use kerust_core::Result;

use super::reader::{bad, Reader};
use super::File;

/// The most header blocks (the first plus continuations) of one object.
const MAX_BLOCKS: usize = 256;
/// The most messages in one object header.
const MAX_MESSAGES: usize = 1 << 14;

const NIL: u16 = 0x0000;
const DATASPACE: u16 = 0x0001;
const LINK_INFO: u16 = 0x0002;
const DATATYPE: u16 = 0x0003;
const LINK: u16 = 0x0006;
const EXTERNAL_FILES: u16 = 0x0007;
const LAYOUT: u16 = 0x0008;
const FILTERS: u16 = 0x000B;
const CONTINUATION: u16 = 0x0010;
const SYMBOL_TABLE: u16 = 0x0011;

/// Message flag: the message is stored elsewhere (a shared message), not in the header.
const SHARED: u8 = 0x02;

/// The messages of one object header that kerust interprets, as raw message bodies.
#[derive(Default)]
pub(crate) struct Object<'a> {
    pub(crate) dataspace: Option<&'a [u8]>,
    pub(crate) datatype: Option<&'a [u8]>,
    pub(crate) layout: Option<&'a [u8]>,
    pub(crate) symbol_table: Option<&'a [u8]>,
    pub(crate) link_info: Option<&'a [u8]>,
    pub(crate) links: Vec<&'a [u8]>,
    /// A filter pipeline (compression) is present.
    pub(crate) filtered: bool,
    /// The data lives in external files.
    pub(crate) external: bool,
}

impl<'a> Object<'a> {
    fn add(&mut self, kind: u16, flags: u8, body: &'a [u8]) -> Result<()> {
        let slot = match kind {
            DATASPACE => &mut self.dataspace,
            DATATYPE => &mut self.datatype,
            LAYOUT => &mut self.layout,
            SYMBOL_TABLE => &mut self.symbol_table,
            LINK_INFO => &mut self.link_info,
            LINK => {
                self.links.push(body);
                return Ok(());
            }
            FILTERS => {
                self.filtered = true;
                return Ok(());
            }
            EXTERNAL_FILES => {
                self.external = true;
                return Ok(());
            }
            _ => return Ok(()),
        };
        if flags & SHARED != 0 {
            return Err(bad(format!(
                "shared object header messages (type {kind:#06x}) are not supported"
            )));
        }
        if slot.is_some() {
            return Err(bad(format!(
                "an object header holds two messages of type {kind:#06x}"
            )));
        }
        *slot = Some(body);
        Ok(())
    }
}

/// Reads the object header at `addr` (relative to the base address).
pub(crate) fn read_object<'a>(file: &File<'a>, addr: u64) -> Result<Object<'a>> {
    let mut r = file.reader_at(addr, "object header")?;
    let mut obj = Object::default();
    let mut state = Walk {
        blocks: vec![addr],
        messages: 0,
    };
    // Version 2 starts with "OHDR"; version 1 with its version byte, 1.
    if r.clone().take(4)? == b"OHDR" {
        read_v2(file, r, &mut obj, &mut state)?;
    } else {
        let version = r.u8()?;
        if version != 1 {
            return Err(bad(format!(
                "object header at {addr:#x}: version {version}, expected 1 or 2"
            )));
        }
        r.skip(1)?; // reserved
        r.u16()?; // number of messages (including those in continuation blocks)
        r.u32()?; // reference count
        let size = r.u32()? as usize;
        r.skip(4)?; // padding to 8 bytes
        let block = r.take(size)?;
        read_v1_block(file, block, &mut obj, &mut state)?;
    }
    Ok(obj)
}

/// Bookkeeping over the blocks of one header.
struct Walk {
    blocks: Vec<u64>,
    messages: usize,
}

impl Walk {
    /// Registers a continuation block; refuses repeats and too many blocks.
    fn enter(&mut self, addr: u64) -> Result<()> {
        if self.blocks.contains(&addr) {
            return Err(bad(format!(
                "object header continuation at {addr:#x} is visited twice (a cycle)"
            )));
        }
        if self.blocks.len() >= MAX_BLOCKS {
            return Err(bad(format!(
                "object header has more than {MAX_BLOCKS} continuation blocks"
            )));
        }
        self.blocks.push(addr);
        Ok(())
    }

    fn count(&mut self) -> Result<()> {
        self.messages += 1;
        if self.messages > MAX_MESSAGES {
            return Err(bad(format!(
                "object header has more than {MAX_MESSAGES} messages"
            )));
        }
        Ok(())
    }
}

/// A continuation message: where the next block is and how long it is.
fn continuation(file: &File<'_>, body: &[u8]) -> Result<(u64, usize)> {
    let mut r = Reader::new(body, "continuation message");
    let addr = file
        .offset(&mut r)?
        .ok_or_else(|| bad("continuation message with an undefined address"))?;
    let len = file.length(&mut r)?;
    let len = usize::try_from(len).map_err(|_| bad("continuation block length overflows"))?;
    Ok((addr, len))
}

fn read_v1_block<'a>(file: &File<'a>, block: &'a [u8], obj: &mut Object<'a>, state: &mut Walk) -> Result<()> {
    let mut pending = vec![block];
    while let Some(block) = pending.pop() {
        let mut r = Reader::new(block, "object header (v1) messages");
        while r.remaining() >= 8 {
            let kind = r.u16()?;
            let size = r.u16()? as usize;
            let flags = r.u8()?;
            r.skip(3)?;
            let body = r.take(size)?;
            state.count()?;
            if kind == CONTINUATION {
                let (addr, len) = continuation(file, body)?;
                state.enter(addr)?;
                pending.push(file.slice(addr, len, "object header continuation block")?);
            } else if kind != NIL {
                obj.add(kind, flags, body)?;
            }
        }
    }
    Ok(())
}

fn read_v2<'a>(file: &File<'a>, mut r: Reader<'a>, obj: &mut Object<'a>, state: &mut Walk) -> Result<()> {
    r.signature(b"OHDR")?;
    let version = r.u8()?;
    if version != 2 {
        return Err(bad(format!("object header (OHDR) version {version}, expected 2")));
    }
    let flags = r.u8()?;
    if flags & 0x20 != 0 {
        r.skip(16)?; // access, modification, change and birth times
    }
    if flags & 0x10 != 0 {
        r.skip(4)?; // attribute storage phase change values
    }
    let size = r.uint(1 << (flags & 0x03))?;
    let size = usize::try_from(size).map_err(|_| bad("object header size overflows"))?;
    let with_order = flags & 0x04 != 0;
    let mut pending = vec![r.take(size)?];
    while let Some(block) = pending.pop() {
        let mut m = Reader::new(block, "object header (v2) messages");
        let header = if with_order { 6 } else { 4 };
        // What is left after the last message that cannot hold a message header is a gap.
        while m.remaining() >= header {
            let kind = u16::from(m.u8()?);
            let size = m.u16()? as usize;
            let mflags = m.u8()?;
            if with_order {
                m.u16()?;
            }
            let body = m.take(size)?;
            state.count()?;
            if kind == CONTINUATION {
                let (addr, len) = continuation(file, body)?;
                state.enter(addr)?;
                let cont = file.slice(addr, len, "object header continuation block")?;
                let mut c = Reader::new(cont, "object header continuation block");
                c.signature(b"OCHK")?;
                // The block ends with a 4-byte checksum.
                let inner = len
                    .checked_sub(8)
                    .ok_or_else(|| bad("object header continuation block shorter than 8 bytes"))?;
                pending.push(c.take(inner)?);
            } else if kind != NIL {
                obj.add(kind, mflags, body)?;
            }
        }
    }
    Ok(())
}
