//! Tests of the Assets.car reader: round trips through the test writer, and garbage.

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

/// Streams `bytes` in `chunk`-sized pieces, counting passes.
fn streamed(bytes: &[u8], chunk: usize, passes: &mut usize) -> Result<Vec<String>, AssetsCarError> {
    names_streamed(|sink| {
        *passes += 1;
        for piece in bytes.chunks(chunk) {
            sink(piece)?;
        }
        Ok(bytes.len() as u64)
    })
}

#[test]
fn streaming_gives_the_same_names_in_a_few_passes() {
    let many: Vec<String> = (0..300).map(|i| format!("Asset{i:03}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let car = write_car(&refs, 16);
    for chunk in [1, 7, 64, 4096, car.len()] {
        let mut passes = 0;
        assert_eq!(streamed(&car, chunk, &mut passes).unwrap(), many, "chunk {chunk}");
        // Header, tables, tree header, root, leaves, names.
        assert!(passes <= 6, "{passes} passes");
    }
}

#[test]
fn streaming_reports_errors_and_terminates_on_garbage() {
    let mut passes = 0;
    assert_eq!(
        streamed(b"not a catalog at all", 4, &mut passes),
        Err(AssetsCarError::NotBom)
    );
    let failing = names_streamed(|_| Err(std::io::Error::other("disk on fire")));
    assert!(matches!(failing, Err(AssetsCarError::Io(_))));
    let car = write_car(&["AppIcon", "Logo", "Splash"], 2);
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..500 {
        let mut bad = car.clone();
        for _ in 0..rng.usize(1..6) {
            let i = rng.usize(..bad.len());
            bad[i] = rng.u8(..);
        }
        let mut passes = 0;
        let _ = streamed(&bad, 13, &mut passes);
        assert!(passes <= MAX_PASSES);
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

#[test]
fn nodes_sharing_bytes_cannot_multiply_the_work() {
    // One big branch node, and thousands of block indices that all point at its bytes: without a
    // work budget the walk would read indices × entries.
    let count: u16 = 60_000;
    let aliases: u32 = 5_000;
    let mut node = Vec::new();
    node.extend(0u16.to_be_bytes());
    node.extend(count.to_be_bytes());
    node.extend([0u8; 8]);
    for i in 0..u32::from(count) {
        node.extend((3 + i % aliases).to_be_bytes());
        node.extend(0u32.to_be_bytes());
    }
    let tree: Vec<u8> = b"tree"
        .iter()
        .copied()
        .chain(1u32.to_be_bytes())
        .chain(1u32.to_be_bytes())
        .chain([0u8; 9])
        .collect();
    let mut car = vec![0u8; 512];
    let node_at = car.len() as u32;
    car.extend(&node);
    let tree_at = car.len() as u32;
    car.extend(&tree);
    let mut table = (3 + aliases).to_be_bytes().to_vec();
    let mut entry = |off: u32, len: usize| {
        table.extend(off.to_be_bytes());
        table.extend((len as u32).to_be_bytes());
    };
    entry(0, 0);
    entry(node_at, node.len());
    entry(tree_at, tree.len());
    for _ in 0..aliases {
        entry(node_at, node.len());
    }
    let table_at = car.len() as u32;
    car.extend(&table);
    let vars: Vec<u8> = 1u32
        .to_be_bytes()
        .into_iter()
        .chain(2u32.to_be_bytes())
        .chain([9])
        .chain(*b"FACETKEYS")
        .collect();
    let vars_at = car.len() as u32;
    car.extend(&vars);
    let header: Vec<u8> = b"BOMStore"
        .iter()
        .copied()
        .chain(1u32.to_be_bytes())
        .chain(3u32.to_be_bytes())
        .chain(table_at.to_be_bytes())
        .chain((table.len() as u32).to_be_bytes())
        .chain(vars_at.to_be_bytes())
        .chain((vars.len() as u32).to_be_bytes())
        .collect();
    car[..header.len()].copy_from_slice(&header);

    let started = std::time::Instant::now();
    assert_eq!(names(&car), Err(AssetsCarError::BadTree("too many entries")));
    assert!(started.elapsed().as_secs() < 5);
}
