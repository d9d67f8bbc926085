//! Group members: old-style groups (a symbol table: a version 1 B-tree of symbol table
//! nodes, names in a local heap) and new-style compact groups (link messages in the header).
//!
//! The B-tree walk visits each node once, requires each child to sit exactly one level
//! below its parent and caps the number of nodes and members, so cycles and shared
//! subtrees in a hostile file end in an error.

use std::collections::HashSet;

use kerust_core::Result;

use super::header::Object;
use super::reader::{bad, Reader};
use super::File;

/// The most members of one group.
const MAX_MEMBERS: usize = 1 << 16;
/// The most B-tree and symbol table nodes of one group.
const MAX_NODES: usize = 1 << 14;
/// The longest member name, in bytes.
const MAX_NAME: usize = 1 << 12;

/// A named member of a group: a hard link to the object header at `addr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The member's name.
    pub name: String,
    /// The address of its object header.
    pub(crate) addr: u64,
}

/// The members of the group whose header is `obj`, or `None` when it is not a group.
pub(crate) fn members(file: &File<'_>, obj: &Object<'_>) -> Result<Option<Vec<Link>>> {
    if let Some(body) = obj.symbol_table {
        let mut r = Reader::new(body, "symbol table message");
        let btree = file
            .offset(&mut r)?
            .ok_or_else(|| bad("symbol table message with an undefined B-tree address"))?;
        let heap = file
            .offset(&mut r)?
            .ok_or_else(|| bad("symbol table message with an undefined local heap address"))?;
        return symbol_table(file, btree, heap).map(Some);
    }
    if obj.link_info.is_none() && obj.links.is_empty() {
        return Ok(None);
    }
    if let Some(body) = obj.link_info {
        let mut r = Reader::new(body, "link info message");
        let version = r.u8()?;
        if version != 0 {
            return Err(bad(format!("link info message version {version}, expected 0")));
        }
        let flags = r.u8()?;
        if flags & 0x01 != 0 {
            r.skip(8)?; // maximum creation index
        }
        if file.offset(&mut r)?.is_some() {
            return Err(bad(
                "dense link storage (a fractal heap) is not supported; Keras writes groups \
                 with symbol tables or compact links",
            ));
        }
    }
    let mut out = Members::default();
    for body in &obj.links {
        if let Some(link) = link_message(file, body)? {
            out.push(link)?;
        }
    }
    Ok(Some(out.list))
}

/// Members collected so far, with their names for a constant-time duplicate check.
#[derive(Default)]
struct Members {
    list: Vec<Link>,
    names: HashSet<String>,
}

impl Members {
    fn push(&mut self, link: Link) -> Result<()> {
        if self.list.len() >= MAX_MEMBERS {
            return Err(bad(format!("a group has more than {MAX_MEMBERS} members")));
        }
        if !self.names.insert(link.name.clone()) {
            return Err(bad(format!("a group has two members named `{}`", link.name)));
        }
        self.list.push(link);
        Ok(())
    }
}

fn name_from(bytes: &[u8]) -> Result<String> {
    if bytes.is_empty() || bytes.len() > MAX_NAME {
        return Err(bad(format!(
            "a link name of {} bytes (expected 1 to {MAX_NAME})",
            bytes.len()
        )));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("a link name is not UTF-8"))
}

/// A link message; `None` for soft and external links, which kerust does not follow.
fn link_message(file: &File<'_>, body: &[u8]) -> Result<Option<Link>> {
    let mut r = Reader::new(body, "link message");
    let version = r.u8()?;
    if version != 1 {
        return Err(bad(format!("link message version {version}, expected 1")));
    }
    let flags = r.u8()?;
    let kind = if flags & 0x08 != 0 { r.u8()? } else { 0 };
    if flags & 0x04 != 0 {
        r.skip(8)?; // creation order
    }
    if flags & 0x10 != 0 {
        r.skip(1)?; // character set
    }
    let len = r.uint(1 << (flags & 0x03))?;
    let len = usize::try_from(len).map_err(|_| bad("link name length overflows"))?;
    let name = name_from(r.take(len)?)?;
    if kind != 0 {
        return Ok(None);
    }
    let addr = file
        .offset(&mut r)?
        .ok_or_else(|| bad(format!("hard link `{name}` with an undefined address")))?;
    Ok(Some(Link { name, addr }))
}

/// The local heap's data segment, where member names live.
fn local_heap<'a>(file: &File<'a>, addr: u64) -> Result<&'a [u8]> {
    let mut r = file.reader_at(addr, "local heap")?;
    r.signature(b"HEAP")?;
    let version = r.u8()?;
    if version != 0 {
        return Err(bad(format!("local heap version {version}, expected 0")));
    }
    r.skip(3)?;
    let size = file.length(&mut r)?;
    file.length(&mut r)?; // free list head
    let data = file
        .offset(&mut r)?
        .ok_or_else(|| bad("local heap with an undefined data segment"))?;
    let size = usize::try_from(size).map_err(|_| bad("local heap size overflows"))?;
    file.slice(data, size, "local heap data segment")
}

/// The NUL-terminated name at `offset` in the heap's data segment.
fn heap_name(heap: &[u8], offset: u64) -> Result<String> {
    let start = usize::try_from(offset)
        .ok()
        .filter(|&o| o < heap.len())
        .ok_or_else(|| bad(format!("name offset {offset} outside the local heap")))?;
    let rest = &heap[start..];
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| bad("a name in the local heap is not NUL-terminated"))?;
    name_from(&rest[..end])
}

fn symbol_table(file: &File<'_>, btree: u64, heap: u64) -> Result<Vec<Link>> {
    let heap = local_heap(file, heap)?;
    let mut out = Members::default();
    let mut seen = HashSet::new();
    // (node address, the level it must have; None for the root)
    let mut stack = vec![(btree, None::<u8>)];
    while let Some((addr, level)) = stack.pop() {
        if !seen.insert(addr) {
            return Err(bad(format!(
                "group B-tree node at {addr:#x} is reached twice (a cycle or shared subtree)"
            )));
        }
        if seen.len() > MAX_NODES {
            return Err(bad(format!("a group B-tree has more than {MAX_NODES} nodes")));
        }
        let mut r = file.reader_at(addr, "group B-tree node")?;
        r.signature(b"TREE")?;
        let node_type = r.u8()?;
        if node_type != 0 {
            return Err(bad(format!(
                "B-tree node at {addr:#x} has type {node_type}, expected 0 (group)"
            )));
        }
        let node_level = r.u8()?;
        if level.is_some_and(|l| l != node_level) {
            return Err(bad(format!(
                "group B-tree node at {addr:#x} has level {node_level}, expected {}",
                level.unwrap_or(0)
            )));
        }
        let entries = r.u16()?;
        file.offset(&mut r)?; // left sibling
        file.offset(&mut r)?; // right sibling
        let mut children = Vec::new();
        for _ in 0..entries {
            file.length(&mut r)?; // key: a heap offset
            let child = file
                .offset(&mut r)?
                .ok_or_else(|| bad("group B-tree child with an undefined address"))?;
            children.push(child);
        }
        // Depth-first, left to right: push in reverse.
        for &child in children.iter().rev() {
            if node_level == 0 {
                stack.push((child, Some(u8::MAX)));
            } else {
                stack.push((child, Some(node_level - 1)));
            }
        }
        // Leaves' children are symbol table nodes, handled right away to keep the order.
        while let Some(&(snod, Some(u8::MAX))) = stack.last() {
            stack.pop();
            if !seen.insert(snod) {
                return Err(bad(format!("symbol table node at {snod:#x} is reached twice")));
            }
            symbol_node(file, snod, heap, &mut out)?;
        }
    }
    Ok(out.list)
}

fn symbol_node(file: &File<'_>, addr: u64, heap: &[u8], out: &mut Members) -> Result<()> {
    let mut r = file.reader_at(addr, "symbol table node")?;
    r.signature(b"SNOD")?;
    let version = r.u8()?;
    if version != 1 {
        return Err(bad(format!("symbol table node version {version}, expected 1")));
    }
    r.skip(1)?;
    let count = r.u16()?;
    for _ in 0..count {
        let name = file.length(&mut r)?;
        let header = file.offset(&mut r)?;
        let cache = r.u32()?;
        r.skip(4 + 16)?; // reserved, scratch pad
        let name = heap_name(heap, name)?;
        if cache == 2 {
            continue; // a soft link (its target is in the heap), not followed
        }
        let addr = header.ok_or_else(|| bad(format!("member `{name}` has an undefined address")))?;
        out.push(Link { name, addr })?;
    }
    Ok(())
}
