//! `asc-publish inspect` as a user runs it: the real binary on real and sample IPAs.

use std::process::{Command, Output};

use crate::support::ipa::{write_bytes, write_ipa};
use asc_publish::sample::ipa::{BundleSpec, IpaBuilder};

const FIXTURE: &str = "tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(args)
        .output()
        .expect("run asc-publish")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn text_shows_identity_and_the_bundle_tree() {
    let file = write_ipa(IpaBuilder::new().extension(BundleSpec::extension("Share", "com.example.demo.share")));
    let out = run(&["inspect", file.path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for expected in [
        "Bundle ID    com.example.demo",
        "Version      1.0.0 (1)",
        "Platform     IOS",
        "Minimum OS   15.0",
        "SDK          iphoneos18.2",
        "Xcode        1620",
        "ITSAppUsesNonExemptEncryption = false",
        "  Demo.app  [app]  com.example.demo  1.0.0 (1)",
        "    PlugIns/Share.appex  [extension]  com.example.demo.share  1.0.0 (1)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn json_is_one_document_with_the_whole_inspection() {
    let out = run(&["inspect", FIXTURE, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["app"]["bundle_id"], "Bitrise.ios-simple-objc");
    assert_eq!(doc["app"]["short_version"], "1.0");
    assert_eq!(doc["app"]["version"], "1");
    assert_eq!(doc["app"]["platform"], "IOS");
    assert_eq!(doc["file"]["entry_count"], 19);
    assert_eq!(doc["bundles"][0]["kind"], "app");
    assert_eq!(
        doc["bundles"][0]["executable"]["path"],
        "Payload/ios-simple-objc.app/ios-simple-objc"
    );
    assert!(doc["bundles"][0]["profile"]["path"].is_string());
}

#[test]
fn unreadable_input_exits_2_with_a_hint() {
    let file = write_bytes(b"not a zip");
    let out = run(&["inspect", file.path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a readable zip archive") && err.contains("fix:"),
        "{err}"
    );

    let out = run(&["inspect", "/nonexistent/App.ipa", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("error document");
    assert_eq!(doc["error"]["exit_code"], 2);
}
