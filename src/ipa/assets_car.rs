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
//! Every offset and count read from the file is checked against the buffer, and every loop is
//! bounded, so garbage input yields an error, never a panic or a large allocation.

use std::collections::HashSet;

use crate::error::{Error, ErrorKind};

/// Read at most this much of an `Assets.car` (real catalogs with every icon size stay far below).
pub const MAX_ASSETS_CAR_BYTES: u64 = 64 * 1024 * 1024;

/// Upper bounds that keep a hostile file from making us loop or allocate without end.
const MAX_VARIABLES: u32 = 4096;
const MAX_TREE_NODES: usize = 200_000;
const MAX_NAMES: usize = 200_000;
const MAX_NAME_BYTES: usize = 1024;

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
}

impl From<AssetsCarError> for Error {
    fn from(e: AssetsCarError) -> Self {
        Error::new(ErrorKind::Usage, format!("cannot read Assets.car: {e}"))
            .with_hint("rebuild the app with Xcode so the asset catalog is compiled again (actool)")
            .with_source(e)
    }
}

/// The asset (facet) names of a compiled asset catalog, in tree order, without duplicates.
pub fn names(bytes: &[u8]) -> Result<Vec<String>, AssetsCarError> {
    let store = Store::parse(bytes)?;
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

fn range(bytes: &[u8], offset: u32, len: u32) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

struct Store<'a> {
    bytes: &'a [u8],
    /// The block table (after its count), 8 bytes per block.
    table: &'a [u8],
    vars: &'a [u8],
}

impl<'a> Store<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, AssetsCarError> {
        if bytes.get(..8) != Some(b"BOMStore".as_slice()) {
            return Err(AssetsCarError::NotBom);
        }
        let oob = AssetsCarError::OutOfBounds;
        let header = |at| be_u32(bytes, at).ok_or(oob("header"));
        let (table_off, table_len) = (header(16)?, header(20)?);
        let (vars_off, vars_len) = (header(24)?, header(28)?);
        let table = range(bytes, table_off, table_len).ok_or(oob("block table"))?;
        let vars = range(bytes, vars_off, vars_len).ok_or(oob("variables table"))?;
        let count = be_u32(table, 0).ok_or(oob("block table"))?;
        // The declared count may only shrink what the table's own length allows.
        let entries = table.get(4..).unwrap_or_default();
        let usable = usize::try_from(count).unwrap_or(usize::MAX).min(entries.len() / 8);
        let table = entries.get(..usable.saturating_mul(8)).unwrap_or_default();
        Ok(Store { bytes, table, vars })
    }

    fn block(&self, index: u32) -> Option<&'a [u8]> {
        if index == 0 {
            return None;
        }
        let at = usize::try_from(index).ok()?.checked_mul(8)?;
        let offset = be_u32(self.table, at)?;
        let len = be_u32(self.table, at.checked_add(4)?)?;
        range(self.bytes, offset, len)
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

    fn tree_names(&self, tree_index: u32) -> Result<Vec<String>, AssetsCarError> {
        let bad = AssetsCarError::BadTree;
        let tree = self.block(tree_index).ok_or(bad("tree header missing"))?;
        if tree.get(..4) != Some(b"tree".as_slice()) {
            return Err(bad("no `tree` magic"));
        }
        let root = be_u32(tree, 8).ok_or(bad("tree header truncated"))?;

        let mut names = Vec::new();
        let mut seen_names = HashSet::new();
        let mut visited = HashSet::new();
        let mut stack = vec![root];
        while let Some(node_index) = stack.pop() {
            if !visited.insert(node_index) {
                continue; // a cycle or a shared node: each node is read once
            }
            if visited.len() > MAX_TREE_NODES {
                return Err(bad("too many nodes"));
            }
            let node = self.block(node_index).ok_or(bad("node outside the file"))?;
            let is_leaf = be_u16(node, 0).ok_or(bad("node truncated"))? != 0;
            let count = usize::from(be_u16(node, 2).ok_or(bad("node truncated"))?);
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
                let name = self
                    .block(second)
                    .and_then(as_name)
                    .or_else(|| self.block(first).and_then(as_name));
                if let Some(name) = name
                    && seen_names.insert(name.clone())
                {
                    if names.len() >= MAX_NAMES {
                        return Err(bad("too many names"));
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
        Ok(names)
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
/// It does not produce renditions: enough for name lookups, not for rendering.
#[doc(hidden)]
pub mod testing {
    /// Builds an `Assets.car`-shaped BOM store whose FACETKEYS tree holds `names`. With more
    /// names than `leaf_capacity`, the tree gets a branch root over several linked leaves, as large
    /// catalogs do.
    pub fn write_car(names: &[&str], leaf_capacity: usize) -> Vec<u8> {
        let leaf_capacity = leaf_capacity.max(1);
        let mut blocks: Vec<Vec<u8>> = vec![Vec::new()]; // block 0: the null block
        fn add(blocks: &mut Vec<Vec<u8>>, data: Vec<u8>) -> u32 {
            blocks.push(data);
            (blocks.len() - 1) as u32
        }

        let car_header = add(&mut blocks, b"RATC".iter().copied().chain([0u8; 32]).collect());
        // Key = the name, value = a rendition key token (hot spot 0,0 then one attribute, LE).
        let entries: Vec<(u32, u32)> = names
            .iter()
            .map(|n| {
                let key = add(&mut blocks, n.as_bytes().to_vec());
                let value = add(&mut blocks, vec![0, 0, 0, 0, 1, 0, 17, 0, 1, 0]);
                (value, key)
            })
            .collect();
        let chunks: Vec<&[(u32, u32)]> = if entries.is_empty() {
            vec![&[]]
        } else {
            entries.chunks(leaf_capacity).collect()
        };
        // Leaves are linked forward and backward; reserve their indices first.
        let first_leaf = blocks.len() as u32;
        let leaf_indices: Vec<u32> = (0..chunks.len() as u32).map(|i| first_leaf + i).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let next = leaf_indices.get(i + 1).copied().unwrap_or(0);
            let prev = if i == 0 { 0 } else { leaf_indices[i - 1] };
            add(&mut blocks, node(true, next, prev, chunk));
        }
        let root = if leaf_indices.len() == 1 {
            leaf_indices[0]
        } else {
            let branch: Vec<(u32, u32)> = leaf_indices
                .iter()
                .zip(&chunks)
                .map(|(leaf, chunk)| (*leaf, chunk.last().map_or(0, |e| e.1)))
                .collect();
            add(&mut blocks, node(false, 0, 0, &branch))
        };
        let mut tree = b"tree".to_vec();
        for v in [1u32, root, 4096, names.len() as u32] {
            tree.extend(v.to_be_bytes());
        }
        tree.push(0);
        let facet_tree = add(&mut blocks, tree);

        assemble(&blocks, &[("CARHEADER", car_header), ("FACETKEYS", facet_tree)])
    }

    fn node(leaf: bool, next: u32, prev: u32, entries: &[(u32, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(u16::from(leaf).to_be_bytes());
        out.extend((entries.len() as u16).to_be_bytes());
        out.extend(next.to_be_bytes());
        out.extend(prev.to_be_bytes());
        for (a, b) in entries {
            out.extend(a.to_be_bytes());
            out.extend(b.to_be_bytes());
        }
        out
    }

    /// Lays out header (padded to 512 bytes), block data, block table and variables.
    pub fn assemble(blocks: &[Vec<u8>], vars: &[(&str, u32)]) -> Vec<u8> {
        let mut out = vec![0u8; 512];
        let mut table = Vec::new();
        table.extend((blocks.len() as u32).to_be_bytes());
        for b in blocks {
            let offset = if b.is_empty() { 0 } else { out.len() as u32 };
            table.extend(offset.to_be_bytes());
            table.extend((b.len() as u32).to_be_bytes());
            out.extend(b);
        }
        let table_off = out.len() as u32;
        out.extend(&table);
        let mut var_bytes = (vars.len() as u32).to_be_bytes().to_vec();
        for (name, index) in vars {
            var_bytes.extend(index.to_be_bytes());
            var_bytes.push(name.len() as u8);
            var_bytes.extend(name.as_bytes());
        }
        let vars_off = out.len() as u32;
        out.extend(&var_bytes);
        let non_null = blocks.iter().filter(|b| !b.is_empty()).count() as u32;
        let header: Vec<u8> = b"BOMStore"
            .iter()
            .copied()
            .chain(1u32.to_be_bytes())
            .chain(non_null.to_be_bytes())
            .chain(table_off.to_be_bytes())
            .chain((table.len() as u32).to_be_bytes())
            .chain(vars_off.to_be_bytes())
            .chain((var_bytes.len() as u32).to_be_bytes())
            .collect();
        out[..header.len()].copy_from_slice(&header);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assemble, write_car};
    use super::*;

    #[test]
    fn reads_names_from_a_single_leaf() {
        let car = write_car(&["AccentColor", "AppIcon"], 16);
        assert_eq!(names(&car).unwrap(), vec!["AccentColor", "AppIcon"]);
    }

    #[test]
    fn reads_names_across_a_branch_and_several_leaves() {
        let many: Vec<String> = (0..50).map(|i| format!("Image{i:02}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let car = write_car(&refs, 7);
        assert_eq!(names(&car).unwrap(), many);
    }

    #[test]
    fn empty_catalog_has_no_names() {
        assert_eq!(names(&write_car(&[], 4)).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn name_in_the_first_index_is_found_too() {
        // Key and value swapped relative to the writer: the reader must still find the name.
        let blocks = vec![
            Vec::new(),
            b"AppIcon".to_vec(),
            vec![0, 0, 0, 0, 1, 0],
            [1u16.to_be_bytes(), 1u16.to_be_bytes()]
                .concat()
                .into_iter()
                .chain([0u8; 8])
                .chain(1u32.to_be_bytes())
                .chain(2u32.to_be_bytes())
                .collect(),
            b"tree"
                .iter()
                .copied()
                .chain(1u32.to_be_bytes())
                .chain(3u32.to_be_bytes())
                .chain([0u8; 9])
                .collect(),
        ];
        let car = assemble(&blocks, &[("FACETKEYS", 4)]);
        assert_eq!(names(&car).unwrap(), vec!["AppIcon"]);
    }

    #[test]
    fn missing_facetkeys_and_bad_magic_are_errors() {
        let no_tree = assemble(&[Vec::new(), b"RATC".to_vec()], &[("CARHEADER", 1)]);
        assert_eq!(names(&no_tree), Err(AssetsCarError::NoFacetKeys));
        assert_eq!(names(b"PK\x03\x04 not a bom"), Err(AssetsCarError::NotBom));
        assert_eq!(names(b""), Err(AssetsCarError::NotBom));
    }

    #[test]
    fn a_cycle_in_the_tree_terminates() {
        // A branch node whose only child is itself.
        let branch: Vec<u8> = [0u16.to_be_bytes(), 1u16.to_be_bytes()]
            .concat()
            .into_iter()
            .chain([0u8; 8])
            .chain(1u32.to_be_bytes())
            .chain(0u32.to_be_bytes())
            .collect();
        let tree = b"tree"
            .iter()
            .copied()
            .chain(1u32.to_be_bytes())
            .chain(1u32.to_be_bytes())
            .chain([0u8; 9])
            .collect();
        let car = assemble(&[Vec::new(), branch, tree], &[("FACETKEYS", 2)]);
        assert_eq!(names(&car).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn truncations_and_corruptions_never_panic() {
        let car = write_car(&["AppIcon", "LaunchImage", "Logo"], 2);
        for len in 0..car.len() {
            let _ = names(&car[..len]);
        }
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let mut bad = car.clone();
            for _ in 0..rng.usize(1..8) {
                let i = rng.usize(..bad.len());
                bad[i] = rng.u8(..);
            }
            let _ = names(&bad);
        }
    }

    #[test]
    fn huge_declared_counts_are_clamped() {
        let mut car = write_car(&["AppIcon"], 4);
        // Claim 2^32-1 blocks: the table's real length must win.
        let table_off = u32::from_be_bytes(car[16..20].try_into().unwrap()) as usize;
        car[table_off..table_off + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(names(&car).unwrap(), vec!["AppIcon"]);
    }
}
