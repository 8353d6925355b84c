//! Issue 12, item 9: an Info.plist edited after signing fails `validate` without `--deep`, with
//! Apple's ITMS-90035 wording, because the CodeDirectory's special slot -1 (Info.plist) and -3
//! (CodeResources) are checked on every validation. Shown on a real Xcode export (the bitrise
//! fixture) and on a sample signed with the test PKI, edited after signing.

use std::path::Path;
use std::process::Command;

use asc_publish::sample::app::SampleApp;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa"
);

fn validate(ipa: &Path, extra: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .arg("validate")
        .arg(ipa)
        .args(["--format", "json"])
        .args(extra)
        .env_remove("ASC_EXTRA_ROOT_CA")
        .output()
        .expect("run asc-publish");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "one JSON document on stdout ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// The ITMS-90035 findings, as (path, message).
fn seal_findings(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["code"] == "ITMS-90035")
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The plist with one more key: still valid, no longer what was signed.
fn add_key(bytes: Vec<u8>) -> Vec<u8> {
    let binary = bytes.starts_with(b"bplist");
    let mut info: plist::Dictionary = plist::from_bytes(&bytes).expect("Info.plist parses");
    info.insert("EditedAfterSigning".into(), plist::Value::Boolean(true));
    let mut out = Vec::new();
    if binary {
        plist::to_writer_binary(&mut out, &info).expect("write");
    } else {
        plist::to_writer_xml(&mut out, &info).expect("write");
    }
    out
}

fn assert_info_plist_seal_broken(doc: &Value, app: &str) {
    let seals = seal_findings(doc);
    assert_eq!(seals.len(), 1, "{seals:#?}");
    let (path, message) = &seals[0];
    assert_eq!(path, &format!("Payload/{app}/Info.plist"));
    assert!(
        message.starts_with("Invalid Signature. A sealed resource is missing or invalid. The file at path [")
            && message.contains(&format!("[{app}/Info.plist] is not properly signed"))
            && message.contains("modified after signing"),
        "{message}"
    );
    assert_eq!(doc["deep"], false);
    assert_eq!(doc["passed"], false);
}

#[test]
fn a_real_export_with_its_info_plist_edited_fails_without_deep() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(FIXTURE);

    // Untouched, the seals hold (the fixture fails validation for other reasons: it is an
    // expired development export).
    let (_, doc) = validate(fixture, &[]);
    assert_eq!(seal_findings(&doc), Vec::new(), "{doc}");

    let edited = dir.path().join("Edited.ipa");
    crate::support::rezip::rewrite(fixture, &edited, crate::support::rezip::is_main_info_plist, add_key);
    let (code, doc) = validate(&edited, &[]);
    assert_eq!(code, 1);
    assert_info_plist_seal_broken(&doc, "ios-simple-objc.app");
}

#[test]
fn a_signed_sample_passes_until_its_info_plist_is_edited() {
    let dir = tempfile::tempdir().unwrap();
    let signed = dir.path().join("Demo.ipa");
    let built = SampleApp::default().write_to(&signed).expect("sample");
    let root = dir.path().join("root-ca.pem");
    std::fs::write(&root, built.root_pem()).unwrap();
    let root_arg = ["--extra-root-ca", root.to_str().unwrap()];

    let (code, doc) = validate(&signed, &root_arg);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(seal_findings(&doc), Vec::new());

    let edited = dir.path().join("Edited.ipa");
    crate::support::rezip::rewrite(&signed, &edited, crate::support::rezip::is_main_info_plist, add_key);
    let (code, doc) = validate(&edited, &root_arg);
    assert_eq!(code, 1, "{doc}");
    let app = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "ITMS-90035"))
        .and_then(|f| f["path"].as_str())
        .and_then(|p| p.strip_prefix("Payload/"))
        .and_then(|p| p.strip_suffix("/Info.plist"))
        .unwrap_or("")
        .to_string();
    assert!(app.ends_with(".app"), "{doc}");
    assert_info_plist_seal_broken(&doc, &app);
}
