//! A writer for structurally valid BOM stores with a FACETKEYS tree, for tests and sample IPAs.
//! It does not produce renditions: enough for name lookups, not for rendering.

/// Builds an `Assets.car`-shaped BOM store whose FACETKEYS tree holds `names`. With more
/// names than `leaf_capacity`, the tree gets a branch root over several linked leaves, as large
/// catalogs do.
pub fn write_car(names: &[&str], leaf_capacity: usize) -> Vec<u8> {
    // A node counts its entries in a u16; keep leaves well inside that.
    let leaf_capacity = leaf_capacity.clamp(1, 1024);
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
