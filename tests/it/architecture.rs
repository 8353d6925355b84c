//! The shape of the code (issue 13): the command line parses and renders, the pipeline runs the
//! flow. Checked on the sources, so a shortcut back is caught where it is written.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn src(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

/// Lines of `files` (comments excluded) that contain any of `needles`.
fn lines_with(files: &[PathBuf], needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!("{}:{}: {}", f.display(), n + 1, code));
            }
        }
    }
    found
}

/// The command line's own files (the simulator's commands are the simulator's).
fn cli_files() -> Vec<PathBuf> {
    rust_files(&src("cli"))
        .into_iter()
        .filter(|p| !p.ends_with("sim.rs") && !p.ends_with("demo.rs"))
        .collect()
}

#[test]
fn the_command_line_speaks_no_http_and_polls_nothing() {
    let found = lines_with(&cli_files(), &["reqwest", "loop {", ".sleep("]);
    assert!(found.is_empty(), "HTTP or a loop in cli/: {found:#?}");
}

#[test]
fn only_the_renderer_prints_an_error() {
    let files: Vec<PathBuf> = cli_files().into_iter().filter(|p| !p.ends_with("render.rs")).collect();
    let found = lines_with(&files, &["\"error: {}\"", "\"  fix: {}\""]);
    assert!(found.is_empty(), "an error rendered outside cli/render.rs: {found:#?}");
}

/// Small files with names that explain themselves: none over 600 lines, in the product or in the
/// workspace's crates.
#[test]
fn no_source_file_is_over_600_lines() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let long: Vec<String> = rust_files(&src(""))
        .into_iter()
        .chain(rust_files(&crates))
        .filter_map(|f| {
            let n = std::fs::read_to_string(&f).expect("read").lines().count();
            (n > 600).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these along a real seam: {long:#?}");
}

/// Apple's wire in one room: the JSON:API envelope, Apple's attribute structs and the request
/// bodies live in `src/asc/`; everything else calls its typed operations and gets records back.
/// The compiler already refuses `asc::model` and `asc::testflight` (private modules) elsewhere;
/// this also catches the re-export `asc::wire`, which exists for the conformance tests only.
#[test]
fn nothing_outside_asc_imports_its_wire_model() {
    let asc = src("asc");
    let files: Vec<PathBuf> = rust_files(&src(""))
        .into_iter()
        .filter(|p| !p.starts_with(&asc))
        .collect();
    assert!(files.len() > 50, "only {} files outside src/asc", files.len());
    let found = lines_with(&files, &["asc::model", "asc::testflight", "asc::wire"]);
    assert!(found.is_empty(), "Apple's wire model used outside src/asc: {found:#?}");
}

/// Whether `line` names the App Store wire module itself (`asc::app_store::…`, `app_store as ep`,
/// `{app_store, …}`) rather than a module of records such as `asc::app_store_versions`.
fn names_app_store_wire(line: &str) -> bool {
    line.contains("asc::")
        && line.match_indices("app_store").any(|(i, m)| {
            let before = line[..i].chars().next_back();
            let after = line[i + m.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
}

/// The release flow works on `asc`'s records (`app_store_versions`, `app_store_submissions`):
/// no JSON:API documents, wire types, paths, request bodies or raw client calls.
#[test]
fn release_flow_speaks_no_wire() {
    let mut files = rust_files(&src("publish/release"));
    files.push(src("cli/release.rs"));
    let mut found = lines_with(
        &files,
        &[
            "asc::model",
            "asc::endpoints",
            "reqwest",
            "Method::",
            "Document<",
            ".related_id(",
            ".get_all(",
            ".mutate(",
            ".mutate_json(",
            "client.get(",
            "\"/v1/",
        ],
    );
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        for (n, line) in text.lines().enumerate() {
            if !line.trim_start().starts_with("//") && names_app_store_wire(line) {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "Apple's wire in the release flow: {found:#?}");
    assert!(names_app_store_wire(
        "use crate::asc::app_store::{AppStoreVersion, request};"
    ));
    assert!(names_app_store_wire("use crate::asc::{app_store, AscClient};"));
    assert!(!names_app_store_wire("use crate::asc::app_store_versions::versions;"));
}

/// The library's top-level modules and, for each, the modules its non-test code names
/// (`crate::x`), with where.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>> {
    let root = src("");
    let files = rust_files(&root);
    let top: std::collections::BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&root).ok()?.components().next())
        .map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    let mut graph: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>> =
        Default::default();
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under src");
        let module = rel
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy();
        let module = module.trim_end_matches(".rs").to_string();
        let name = f.file_name().expect("a name").to_string_lossy();
        // The binary (main.rs, sim_cli) sits above the library; test code may reach anywhere.
        if ["lib", "main", "sim_cli"].contains(&module.as_str())
            || name.ends_with("tests.rs")
            || name == "testkit.rs"
            || rel.components().any(|c| c.as_os_str() == "tests")
        {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            for (i, _) in line.match_indices("crate::") {
                let target: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if target != module && top.contains(&target) {
                    graph
                        .entry(module.clone())
                        .or_default()
                        .entry(target)
                        .or_default()
                        .push(format!("src/{}:{}", rel.display(), n + 1));
                }
            }
        }
    }
    graph
}

#[test]
fn no_import_cycle_between_modules() {
    let graph = module_graph();
    let reaches = |from: &str, to: &str| {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            if m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                stack.extend(graph.get(&m).into_iter().flat_map(|t| t.keys().cloned()));
            }
        }
        false
    };
    let mut on_cycles = Vec::new();
    for (from, targets) in &graph {
        for (to, wheres) in targets {
            if reaches(to, from) {
                on_cycles.push(format!("{from} -> {to} (e.g. {})", wheres[0]));
            }
        }
    }
    assert!(on_cycles.is_empty(), "module edges on an import cycle: {on_cycles:#?}");
    // The check itself sees the edges it should: the pipeline does call the client.
    assert!(graph["publish"].contains_key("asc"), "{graph:#?}");
}
