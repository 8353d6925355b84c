//! A plist nested past 128 levels anywhere an IPA carries one (its Info.plist, XML or binary, or
//! its provisioning profile) is refused by `inspect`, `validate` and `upload` with exit 2 and a
//! message naming the file and the limit; `upload` still writes its outcome. Issue 10: 250 000
//! nested `<array>`s (3.75 MB) overflowed the stack, exit 134 and nothing written.
//!
//! The hostile IPAs are valid signed samples with one entry replaced after signing, run through
//! the real binary (and, for `upload`, against the simulator on loopback).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::e2e::{World, quick_processing};
use asc_publish::sample::app::SampleApp;
use asc_publish::sample::ipa::{BundleSpec, IpaBuilder};
use asc_publish::sample::macho::{Arch, MachOBuilder, SignatureSpec, SliceSpec};
use asc_sim::SimConfig;
use serde_json::Value;

const LIMIT: usize = 128;

/// An XML plist whose root dictionary holds `depth - 1` nested arrays (`depth` levels in all).
fn xml_nested(depth: usize) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleIdentifier</key><string>com.example.demo</string><key>Deep</key>{}{}</dict></plist>"#,
        "<array>".repeat(depth - 1),
        "</array>".repeat(depth - 1)
    )
    .into_bytes()
}

/// A binary plist of `depth` nested arrays around `true` (4-byte references).
fn binary_nested(depth: u32) -> Vec<u8> {
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for next in 1..=depth {
        offsets.push(out.len() as u32);
        out.push(0xA1);
        out.extend_from_slice(&next.to_be_bytes());
    }
    offsets.push(out.len() as u32);
    out.push(0x09);
    let table = out.len() as u64;
    for o in &offsets {
        out.extend_from_slice(&o.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 4, 4]);
    out.extend_from_slice(&(offsets.len() as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&table.to_be_bytes());
    out
}

/// Which archive entries a case replaces.
type Picker = Box<dyn Fn(&str) -> bool>;

fn bin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(args)
        .env_remove("ASC_EXTRA_ROOT_CA")
        .output()
        .expect("run asc-publish");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A copy of `signed` (next to it, named `name`) with the entries `pick` accepts replaced by
/// `bytes`, and the sample's test root alongside it for `--extra-root-ca`.
fn tampered(signed: &Path, name: &str, pick: impl Fn(&str) -> bool, bytes: Vec<u8>) -> PathBuf {
    let out = signed.with_file_name(name);
    crate::support::rezip::rewrite(signed, &out, pick, |_| bytes.clone());
    std::fs::copy(signed.with_extension("root-ca.pem"), out.with_extension("root-ca.pem")).expect("root");
    out
}

fn assert_refused(what: &str, code: i32, stderr: &str, entry: &str) {
    assert_eq!(code, 2, "{what}: exit code\n{stderr}");
    assert!(
        stderr.contains(entry) && stderr.contains(&format!("more than {LIMIT} levels deep")),
        "{what}: the error names {entry} and the limit\n{stderr}"
    );
    assert!(!stderr.contains("internal error"), "{what}: {stderr}");
}

fn local_commands(ipa: &Path, entry: &str) {
    let root = ipa.with_extension("root-ca.pem");
    let (ipa, root) = (ipa.to_str().unwrap(), root.to_str().unwrap());
    for command in ["inspect", "validate"] {
        let (code, _, stderr) = bin(&[command, ipa, "--extra-root-ca", root]);
        assert_refused(command, code, &stderr, entry);
        let (code, stdout, stderr) = bin(&[command, ipa, "--extra-root-ca", root, "--format", "json"]);
        assert_refused(command, code, &stderr, entry);
        let doc: Value = serde_json::from_str(&stdout).expect("one JSON document on stdout");
        assert_eq!(doc["error"]["exit_code"], 2, "{command}: {doc}");
        assert!(doc["error"]["message"].as_str().unwrap_or("").contains(entry), "{doc}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_nesting_is_refused_by_inspect_validate_and_upload() {
    let w = World::start(SimConfig {
        processing: quick_processing(),
        ..SimConfig::default()
    })
    .await;
    let signed = w.ipa("Demo.ipa", SampleApp::default());
    let info = "Info.plist";

    // The issue's input: 250 000 nested arrays, 3.75 MB, under the 4 MiB Info.plist cap.
    let xml = xml_nested(250_000);
    assert!(xml.len() > 3_700_000 && xml.len() < 4 << 20);
    let hostile = tampered(&signed, "Deep.ipa", crate::support::rezip::is_main_info_plist, xml);
    local_commands(&hostile, info);

    let out_json = w.dir.path().join("outcome.json");
    let mut args = w.upload_args(&hostile, &["--output-json"]);
    args.push(out_json.display().to_string());
    let run = w.run(args).await;
    assert_refused("upload", run.code, &run.stderr, info);
    let printed = run.outcome();
    let written: Value =
        serde_json::from_slice(&std::fs::read(&out_json).expect("outcome file written")).expect("outcome file is JSON");
    for o in [&printed, &written] {
        assert_eq!(o["status"], "failed", "{o}");
        assert_eq!(o["exit_code"], 2, "{o}");
        let message = o["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("Deep.ipa") && message.contains(info), "{o}");
    }
    // Refused before anything reached App Store Connect.
    assert_eq!(w.count("POST", "/v1/"), 0, "{:?}", w.requests());
    assert_eq!(w.part_puts(), 0);
}

#[test]
fn every_plist_the_reader_parses_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let signed = dir.path().join("Demo.ipa");
    let built = SampleApp::default().write_to(&signed).expect("sample");
    std::fs::write(signed.with_extension("root-ca.pem"), built.root_pem()).expect("root");

    // At the limit the plist still reads.
    let at_limit = tampered(
        &signed,
        "AtLimit.ipa",
        crate::support::rezip::is_main_info_plist,
        xml_nested(LIMIT),
    );
    let (code, stdout, stderr) = bin(&[
        "inspect",
        at_limit.to_str().unwrap(),
        "--format",
        "json",
        "--extra-root-ca",
        at_limit.with_extension("root-ca.pem").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["app"]["bundle_id"], "com.example.demo", "{doc}");

    let cases: Vec<(&str, Picker, Vec<u8>, &str)> = vec![
        (
            "OneTooDeep.ipa",
            Box::new(crate::support::rezip::is_main_info_plist),
            xml_nested(LIMIT + 1),
            "Info.plist",
        ),
        (
            "BinaryDeep.ipa",
            Box::new(crate::support::rezip::is_main_info_plist),
            binary_nested(250_000),
            "Info.plist",
        ),
        (
            "ProfileDeep.ipa",
            Box::new(|n: &str| n.ends_with(".app/embedded.mobileprovision") && n.matches('/').count() == 2),
            xml_nested(LIMIT + 1),
            "embedded.mobileprovision",
        ),
    ];
    for (name, pick, bytes, entry) in cases {
        let ipa = tampered(&signed, name, pick, bytes);
        local_commands(&ipa, entry);
    }
}

/// An executable whose code signature carries entitlements `depth` levels deep (ad hoc).
fn executable_with_entitlements(depth: usize) -> Vec<u8> {
    let mut deep = plist::Value::Boolean(true);
    for _ in 1..depth {
        deep = plist::Value::Array(vec![deep]);
    }
    let mut ent = plist::Dictionary::new();
    ent.insert("get-task-allow".into(), false.into());
    ent.insert("deep".into(), deep);
    let mut sig = SignatureSpec::new("com.example.deep");
    sig.entitlements = Some(ent);
    MachOBuilder::new()
        .slice(SliceSpec::new(Arch::Arm64).signature(sig))
        .build()
}

#[test]
fn entitlements_in_the_code_signature_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    for (depth, refused) in [(LIMIT, false), (LIMIT + 1, true)] {
        let path = dir.path().join(format!("Ent{depth}.ipa"));
        IpaBuilder::new()
            .app(BundleSpec::app("Deep", "com.example.deep").executable(executable_with_entitlements(depth)))
            .write_to(&path)
            .expect("IPA");
        let (code, _, stderr) = bin(&["inspect", path.to_str().unwrap()]);
        if refused {
            assert_refused("inspect", code, &stderr, "Payload/Deep.app/Deep");
            assert!(
                stderr.contains("Deep.app/Deep (the entitlements in its code signature)"),
                "{stderr}"
            );
        } else {
            assert_eq!(code, 0, "{stderr}");
        }
    }
}
