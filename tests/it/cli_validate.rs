//! `asc-publish validate` as a user runs it: exit codes, the text report, the JSON document.

use std::process::{Command, Output};

use crate::support::ipa::{write_bytes, write_ipa};
use asc_publish::sample::ipa::{BundleSpec, Entry, IpaBuilder};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(args)
        .output()
        .expect("run asc-publish")
}

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let out = run(args);
    let doc = serde_json::from_slice(&out.stdout).expect("one JSON document on stdout");
    (out.status.code().unwrap_or(-1), doc)
}

fn codes(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The exit code follows the verdict, and the verdict follows the counts.
fn assert_consistent(code: i32, doc: &serde_json::Value) {
    let errors = doc["errors"].as_u64().expect("errors");
    let warnings = doc["warnings"].as_u64().expect("warnings");
    let strict = doc["strict"].as_bool().expect("strict");
    let passed = doc["passed"].as_bool().expect("passed");
    assert_eq!(passed, errors == 0 && (!strict || warnings == 0));
    assert_eq!(code, if passed { 0 } else { 1 });
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some((errors + warnings) as usize)
    );
}

#[test]
fn junk_in_the_archive_is_rejected_with_exit_1() {
    let file = write_ipa(IpaBuilder::new().entry(Entry::bytes("__MACOSX/Payload/._Demo.app", "x")));
    let path = file.path.to_str().expect("utf-8 path");
    let (code, doc) = json(&["validate", path, "--format", "json"]);
    assert_eq!(code, 1);
    assert_consistent(code, &doc);
    assert_eq!(doc["ipa"]["bundle_id"], "com.example.demo");
    assert_eq!(doc["ipa"]["file_name"], "App.ipa");
    let finding = doc["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == "ITMS-90048"))
        .expect("ITMS-90048");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["path"], "__MACOSX/");
    assert!(finding["fix"].as_str().is_some_and(|f| !f.is_empty()));

    let text = String::from_utf8_lossy(&run(&["validate", path]).stdout).into_owned();
    assert!(text.contains("error   ITMS-90048  __MACOSX/"), "{text}");
    assert!(text.contains("This bundle is invalid - Your archive contains paths that are not allowed: [__MACOSX/]"));
    assert!(text.contains("        fix: "), "{text}");
    assert!(text.lines().last().is_some_and(|l| l.starts_with("FAILED: ")), "{text}");
}

#[test]
fn findings_are_sorted_errors_first() {
    let file = write_ipa(
        IpaBuilder::new()
            .extension(BundleSpec::extension("Share", "com.example.demo.share").set("CFBundleVersion", "9"))
            .entry(Entry::bytes("Payload/Demo.app/.DS_Store", "x")),
    );
    let (code, doc) = json(&["validate", file.path.to_str().expect("utf-8 path"), "--format", "json"]);
    assert_consistent(code, &doc);
    let severities: Vec<&str> = doc["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["severity"].as_str()).collect())
        .unwrap_or_default();
    let first_warning = severities
        .iter()
        .position(|s| *s == "warning")
        .unwrap_or(severities.len());
    assert!(
        severities[first_warning..].iter().all(|s| *s == "warning"),
        "{severities:?}"
    );
    assert!(codes(&doc).contains(&"ITMS-90473".to_string()));
}

#[test]
fn strict_makes_warnings_fail() {
    let file = write_ipa(IpaBuilder::new().entry(Entry::bytes("iTunesMetadata.plist", "<plist/>")));
    let path = file.path.to_str().expect("utf-8 path");
    let (code, doc) = json(&["validate", path, "--format", "json"]);
    assert_consistent(code, &doc);
    assert!(codes(&doc).contains(&"ASC-ARCHIVE-EXTRA-ROOT".to_string()));
    let (code, doc) = json(&["validate", path, "--format", "json", "--strict"]);
    assert_eq!(code, 1);
    assert_eq!(doc["passed"], false);
    assert_consistent(code, &doc);
}

#[test]
fn a_clean_sample_has_no_archive_or_nesting_findings() {
    let file = write_ipa(IpaBuilder::new().framework(BundleSpec::framework("Kit", "com.example.kit")));
    let (code, doc) = json(&[
        "validate",
        file.path.to_str().expect("utf-8 path"),
        "--format",
        "json",
        "--deep",
    ]);
    assert_consistent(code, &doc);
    assert_eq!(doc["deep"], true);
    let mine: Vec<String> = codes(&doc)
        .into_iter()
        .filter(|c| {
            c.starts_with("ASC-ARCHIVE") || c.starts_with("ASC-NESTED") || c == "ITMS-90048" || c == "ITMS-90171"
        })
        .collect();
    assert!(mine.is_empty(), "{mine:?}");
}

#[test]
fn unreadable_ipa_and_bad_root_exit_2() {
    let file = write_bytes(b"PK\x03\x04 truncated");
    let out = run(&["validate", file.path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains("fix: "), "{err}");

    let good = write_ipa(IpaBuilder::new());
    let out = run(&[
        "validate",
        good.path.to_str().expect("utf-8 path"),
        "--extra-root-ca",
        "/nonexistent/ca.pem",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--extra-root-ca"));
}

#[test]
fn help_documents_every_flag() {
    let help = String::from_utf8_lossy(&run(&["validate", "--help"]).stdout).into_owned();
    for flag in ["--format", "--strict", "--deep", "--extra-root-ca"] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
