//! A minimal reader for compiled asset catalogs (`Assets.car`): just enough of Apple's BOM store
//! to list the asset names in the `FACETKEYS` tree (e.g. `AppIcon`), nothing about renditions.
//!
//! Layout (all integers big-endian), as documented by the open-source BOM readers:
//! - header: `BOMStore`, version u32, block count u32, block-table offset/length u32, variables
//!   offset/length u32;
//! - block table: count u32, then `count` × (offset u32, length u32); block 0 is the null block;
//! - variables: count u32, then `count` × (block index u32, name length u8, name bytes);
//! - a tree block: `tree`, version u32, root node index u32, node size u32, entry count u32, u8;
//! - a tree node: is-leaf u16, entry count u16, next u32, previous u32, then entries of two
//!   block indices. In branch nodes the first index is a child node; in leaf nodes one index is
//!   the key and the other the value. Which one holds the facet name is not documented
//!   consistently, so a leaf entry's name is taken from whichever of the two blocks is text.
//!
//! Catalogs are read whole when they fit in [`MAX_ASSETS_CAR_BYTES`]; larger ones (games ship
//! hundreds of MiB) are streamed in a few passes that each keep only the small blocks the tree
//! walk asks for ([`names_streamed`]).
//!
//! Every offset and count read from the file is checked against the buffer, and every loop is
//! bounded, so garbage input yields an error, never a panic or a large allocation.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use crate::error::{Error, ErrorKind};

/// Read at most this much of an `Assets.car` into memory at once; larger ones are streamed.
pub const MAX_ASSETS_CAR_BYTES: u64 = 64 * 1024 * 1024;

/// Upper bounds that keep a hostile file from making us loop or allocate without end.
const MAX_VARIABLES: u32 = 4096;
const MAX_TREE_NODES: usize = 200_000;
const MAX_NAMES: usize = 200_000;
const MAX_NAME_BYTES: usize = 1024;
/// Entries read across all nodes: nodes may share bytes, so node count alone does not bound work.
const MAX_ENTRIES_VISITED: usize = 2_000_000;
/// Streaming: passes over the entry, and bytes kept across all of them.
const MAX_PASSES: usize = 12;
const MAX_CAPTURED_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetsCarError {
    #[error("not a BOM store (no `BOMStore` magic)")]
    NotBom,
    #[error("the {0} lies outside the file")]
    OutOfBounds(&'static str),
    #[error("the catalog has no FACETKEYS tree")]
    NoFacetKeys,
    #[error("the FACETKEYS tree is malformed: {0}")]
    BadTree(&'static str),
    #[error("the catalog's index is too large or too scattered to stream")]
    TooComplex,
    #[error("reading the catalog failed: {0}")]
    Io(String),
}

impl From<AssetsCarError> for Error {
    fn from(e: AssetsCarError) -> Self {
        Error::new(ErrorKind::Usage, format!("cannot read Assets.car: {e}"))
            .with_hint("rebuild the app with Xcode so the asset catalog is compiled again (actool)")
            .with_source(e)
    }
}

/// The asset (facet) names of a compiled asset catalog held in memory, in tree order, without
/// duplicates.
pub fn names(bytes: &[u8]) -> Result<Vec<String>, AssetsCarError> {
    let source = Source::whole(bytes);
    match facet_names(&source) {
        Ok(names) => Ok(names),
        Err(Fail::Bad(e)) => Err(e),
        // Everything inside `bytes` is available; a range outside it is out of bounds.
        Err(Fail::Missing) => Err(AssetsCarError::OutOfBounds("block")),
    }
}

/// Like [`names`], for a catalog too large to hold: `stream` must feed the whole entry, in order,
/// to the sink it is given, and may be called several times (once per pass).
pub fn names_streamed(
    mut stream: impl FnMut(&mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64>,
) -> Result<Vec<String>, AssetsCarError> {
    let mut wanted: BTreeSet<(u64, u64)> = BTreeSet::from([(0, HEADER_LEN)]);
    for _ in 0..MAX_PASSES {
        let total: u64 = wanted.iter().map(|r| r.1).sum();
        if total > MAX_CAPTURED_BYTES {
            return Err(AssetsCarError::TooComplex);
        }
        let (captured, streamed) = capture(&mut stream, &wanted)?;
        let source = Source {
            len: streamed,
            whole: None,
            captured,
            wanted: RefCell::new(BTreeSet::new()),
        };
        match facet_names(&source) {
            Ok(names) => return Ok(names),
            Err(Fail::Bad(e)) => return Err(e),
            Err(Fail::Missing) => {
                let more = source.wanted.into_inner();
                if more.is_subset(&wanted) {
                    return Err(AssetsCarError::TooComplex); // no progress possible
                }
                wanted.extend(more);
            }
        }
    }
    Err(AssetsCarError::TooComplex)
}

/// One pass over the entry, keeping the bytes of each wanted `(offset, length)` range.
fn capture(
    stream: &mut impl FnMut(&mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64>,
    wanted: &BTreeSet<(u64, u64)>,
) -> Result<(Captured, u64), AssetsCarError> {
    let ranges: Vec<(u64, u64)> = wanted.iter().copied().collect();
    let mut buffers: Vec<Vec<u8>> = ranges.iter().map(|_| Vec::new()).collect();
    let mut pos = 0u64;
    let mut first = 0usize; // ranges before this one have ended
    let mut sink = |chunk: &[u8]| {
        let end = pos.saturating_add(chunk.len() as u64);
        while ranges.get(first).is_some_and(|&(s, l)| s.saturating_add(l) <= pos) {
            first += 1;
        }
        for (i, &(start, len)) in ranges.iter().enumerate().skip(first) {
            if start >= end {
                break; // sorted by start: none of the rest overlap this chunk
            }
            let from = start.max(pos);
            let to = start.saturating_add(len).min(end);
            if from < to {
                let a = usize::try_from(from - pos).unwrap_or(usize::MAX);
                let b = usize::try_from(to - pos).unwrap_or(usize::MAX);
                if let (Some(bytes), Some(buf)) = (chunk.get(a..b), buffers.get_mut(i)) {
                    buf.extend_from_slice(bytes);
                }
            }
        }
        pos = end;
        Ok(())
    };
    let streamed = stream(&mut sink).map_err(|e| AssetsCarError::Io(e.to_string()))?;
    let captured = ranges
        .into_iter()
        .zip(buffers)
        .filter(|((_, len), buf)| buf.len() as u64 == *len)
        .collect();
    Ok((captured, streamed))
}

const HEADER_LEN: u64 = 32;

/// Ranges captured in one streaming pass, keyed by `(offset, length)`.
type Captured = HashMap<(u64, u64), Vec<u8>>;

/// Why a read did not produce bytes: the file is malformed, or (streaming) the range has not been
/// captured yet and was noted for the next pass.
enum Fail {
    Bad(AssetsCarError),
    Missing,
}

impl From<AssetsCarError> for Fail {
    fn from(e: AssetsCarError) -> Self {
        Fail::Bad(e)
    }
}

/// The bytes of the catalog that are available: all of them, or the ranges captured so far.
struct Source<'a> {
    len: u64,
    whole: Option<&'a [u8]>,
    captured: Captured,
    wanted: RefCell<BTreeSet<(u64, u64)>>,
}

impl<'a> Source<'a> {
    fn whole(bytes: &'a [u8]) -> Self {
        Source {
            len: bytes.len() as u64,
            whole: Some(bytes),
            captured: HashMap::new(),
            wanted: RefCell::new(BTreeSet::new()),
        }
    }

    /// `Ok(None)`: the range lies outside the file.
    fn get(&self, offset: u32, len: u32) -> Result<Option<&[u8]>, Fail> {
        let (offset, len) = (u64::from(offset), u64::from(len));
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Ok(None);
        }
        if let Some(bytes) = self.whole {
            let start = usize::try_from(offset).ok();
            let end = usize::try_from(offset + len).ok();
            return Ok(start.zip(end).and_then(|(s, e)| bytes.get(s..e)));
        }
        match self.captured.get(&(offset, len)) {
            Some(bytes) => Ok(Some(bytes)),
            None => {
                self.wanted.borrow_mut().insert((offset, len));
                Err(Fail::Missing)
            }
        }
    }
}

fn facet_names(source: &Source) -> Result<Vec<String>, Fail> {
    let store = Store::parse(source)?;
    let tree = store.variable("FACETKEYS")?.ok_or(AssetsCarError::NoFacetKeys)?;
    store.tree_names(tree)
}

/// Big-endian reads that fail instead of panicking.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let b: [u8; 4] = bytes.get(at..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    let b: [u8; 2] = bytes.get(at..end)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

struct Store<'s, 'a> {
    source: &'s Source<'a>,
    /// The block table (after its count), 8 bytes per block.
    table: &'s [u8],
    vars: &'s [u8],
}

impl<'s, 'a> Store<'s, 'a> {
    fn parse(source: &'s Source<'a>) -> Result<Self, Fail> {
        let oob = AssetsCarError::OutOfBounds;
        let header = source.get(0, HEADER_LEN as u32)?.ok_or(AssetsCarError::NotBom)?;
        if header.get(..8) != Some(b"BOMStore".as_slice()) {
            return Err(AssetsCarError::NotBom.into());
        }
        let field = |at| be_u32(header, at).ok_or(oob("header"));
        let (table_off, table_len) = (field(16)?, field(20)?);
        let (vars_off, vars_len) = (field(24)?, field(28)?);
        // Both tables are requested before either is required, so one streaming pass gets both.
        let table = source.get(table_off, table_len);
        let vars = source.get(vars_off, vars_len);
        let table = table?.ok_or(oob("block table"))?;
        let vars = vars?.ok_or(oob("variables table"))?;
        let count = be_u32(table, 0).ok_or(oob("block table"))?;
        // The declared count may only shrink what the table's own length allows.
        let entries = table.get(4..).unwrap_or_default();
        let usable = usize::try_from(count).unwrap_or(usize::MAX).min(entries.len() / 8);
        let table = entries.get(..usable.saturating_mul(8)).unwrap_or_default();
        Ok(Store { source, table, vars })
    }

    /// A block's bytes; `Ok(None)` for the null block and for blocks outside the table or file.
    fn block(&self, index: u32) -> Result<Option<&'s [u8]>, Fail> {
        let at = usize::try_from(index).ok().and_then(|i| i.checked_mul(8));
        let Some(at) = at.filter(|_| index != 0) else {
            return Ok(None);
        };
        let offset = be_u32(self.table, at);
        let len = at.checked_add(4).and_then(|a| be_u32(self.table, a));
        match offset.zip(len) {
            Some((offset, len)) => self.source.get(offset, len),
            None => Ok(None),
        }
    }

    /// The block index a named variable points at.
    fn variable(&self, wanted: &str) -> Result<Option<u32>, AssetsCarError> {
        let oob = AssetsCarError::OutOfBounds("variables table");
        let count = be_u32(self.vars, 0).ok_or(oob.clone())?.min(MAX_VARIABLES);
        let mut at = 4usize;
        for _ in 0..count {
            let index = be_u32(self.vars, at).ok_or(oob.clone())?;
            let len = usize::from(*self.vars.get(at.saturating_add(4)).ok_or(oob.clone())?);
            let start = at.saturating_add(5);
            let name = self.vars.get(start..start.saturating_add(len)).ok_or(oob.clone())?;
            if name == wanted.as_bytes() {
                return Ok(Some(index));
            }
            at = start.saturating_add(len);
        }
        Ok(None)
    }

    /// Walks every node of the tree once. A node or name not captured yet (streaming) is noted and
    /// the walk goes on, so that one pass asks for everything the next one must keep.
    fn tree_names(&self, tree_index: u32) -> Result<Vec<String>, Fail> {
        let bad = AssetsCarError::BadTree;
        let tree = self.block(tree_index)?.ok_or(bad("tree header missing"))?;
        if tree.get(..4) != Some(b"tree".as_slice()) {
            return Err(bad("no `tree` magic").into());
        }
        let root = be_u32(tree, 8).ok_or(bad("tree header truncated"))?;

        let mut names = Vec::new();
        let mut seen_names = HashSet::new();
        let mut visited = HashSet::new();
        let mut missing = false;
        let mut entries_visited = 0usize;
        let mut stack = vec![root];
        while let Some(node_index) = stack.pop() {
            if !visited.insert(node_index) {
                continue; // a cycle or a shared node: each node is read once
            }
            if visited.len() > MAX_TREE_NODES {
                return Err(bad("too many nodes").into());
            }
            let node = match self.block(node_index) {
                Err(Fail::Missing) => {
                    missing = true;
                    continue;
                }
                other => other?.ok_or(bad("node outside the file"))?,
            };
            let is_leaf = be_u16(node, 0).ok_or(bad("node truncated"))? != 0;
            let count = usize::from(be_u16(node, 2).ok_or(bad("node truncated"))?);
            entries_visited = entries_visited.saturating_add(count);
            if entries_visited > MAX_ENTRIES_VISITED {
                return Err(bad("too many entries").into());
            }
            // The forward link too: readers differ on whether branches list every child or leaves
            // must be chained; following both (each node once) covers either layout.
            let next = be_u32(node, 4).ok_or(bad("node truncated"))?;
            let mut children = Vec::new();
            for i in 0..count {
                let at = i
                    .checked_mul(8)
                    .and_then(|o| o.checked_add(12))
                    .ok_or(bad("node overflow"))?;
                let first = be_u32(node, at).ok_or(bad("node entries truncated"))?;
                let second = be_u32(node, at.saturating_add(4)).ok_or(bad("node entries truncated"))?;
                if !is_leaf {
                    children.push(first);
                    continue;
                }
                // Ask for both blocks before giving up on either, to keep passes few.
                let (a, b) = (self.block(second), self.block(first));
                let name = match (a, b) {
                    (Ok(a), _) if a.and_then(as_name).is_some() => a.and_then(as_name),
                    (_, Ok(b)) if b.and_then(as_name).is_some() => b.and_then(as_name),
                    (Err(Fail::Bad(e)), _) | (_, Err(Fail::Bad(e))) => return Err(Fail::Bad(e)),
                    (Err(Fail::Missing), _) | (_, Err(Fail::Missing)) => {
                        missing = true;
                        None
                    }
                    _ => None,
                };
                if let Some(name) = name
                    && seen_names.insert(name.clone())
                {
                    if names.len() >= MAX_NAMES {
                        return Err(bad("too many names").into());
                    }
                    names.push(name);
                }
            }
            // Reversed so that children are visited left to right (names come out sorted).
            if next != 0 {
                stack.push(next);
            }
            stack.extend(children.into_iter().rev());
        }
        if missing { Err(Fail::Missing) } else { Ok(names) }
    }
}

/// A block as an asset name: non-empty UTF-8 text without control characters (trailing NULs
/// allowed). Rendition key tokens, the other half of a FACETKEYS entry, start with zero bytes.
fn as_name(block: &[u8]) -> Option<String> {
    let end = block.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    let text = block.get(..end)?;
    if text.is_empty() || text.len() > MAX_NAME_BYTES {
        return None;
    }
    let s = std::str::from_utf8(text).ok()?;
    if s.chars().any(char::is_control) {
        return None;
    }
    Some(s.to_string())
}

/// A writer for structurally valid BOM stores with a FACETKEYS tree, for tests and sample IPAs.
#[doc(hidden)]
pub mod testing;

#[cfg(test)]
mod tests;
