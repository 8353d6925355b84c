//! The distribution commands as a process: argument errors are exit 2, and `builds list`,
//! `builds status` and `distribute` render text or one JSON document on stdout.

use std::process::Command;

use crate::support::distribute::{World, scene};

async fn bin(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
            .args(&args)
            .env_clear()
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn args(w: &World, a: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
    v.extend(w.conn());
    v
}

#[tokio::test]
async fn commands_render_text_and_json_with_their_exit_codes() {
    let w = World::start(scene(|tf| {
        tf.builds = ["1.0.0=40", "1.0.0=41"].iter().map(|s| s.parse().unwrap()).collect();
    }))
    .await;
    let b41 = w.build_id("41").await;

    let (code, _, stderr) = bin(args(&w, &["distribute", "--groups", "QA"])).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--upload-id"), "{stderr}");

    let (code, stdout, stderr) = bin(args(
        &w,
        &[
            "distribute",
            "--build-id",
            &b41,
            "--groups",
            "QA,Public",
            "--format",
            "json",
        ],
    ))
    .await;
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["groups"][0]["result"], "added");
    assert_eq!(doc["groups"][1]["kind"], "external");

    let (code, stdout, stderr) = bin(args(&w, &["distribute", "--build-id", &b41, "--groups", "Nope"])).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("QA (internal)"), "{stderr}");
    assert!(!stdout.contains("error"));

    let (code, stdout, stderr) = bin(args(&w, &["builds", "list", "--app-id", "6450000001"])).await;
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("VERSION"));
    assert!(
        stdout.contains("Public,QA") || stdout.contains("QA,Public") || stdout.contains("Everyone"),
        "{stdout}"
    );

    let (code, stdout, stderr) = bin(args(&w, &["builds", "status", &b41, "--format", "json"])).await;
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["kind"], "build");
    assert_eq!(doc["processing_state"], "VALID");

    let (code, _, stderr) = bin(args(&w, &["builds", "status", "nope"])).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("neither an upload id nor a build id"), "{stderr}");
    w.assert_conformant();
}

#[tokio::test]
async fn preflight_prints_the_plan_and_exits_with_uploads_code() {
    let w = World::start(scene(|tf| tf.beta_review_details = false)).await;
    let (ipa, ca) = w.ipa("1.0.0", "3");
    let (ipa, ca) = (ipa.to_str().unwrap().to_string(), ca.to_str().unwrap().to_string());
    let (code, stdout, stderr) = bin(args(&w, &["preflight", &ipa, "--extra-root-ca", &ca, "--groups", "QA"])).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("plan:\n  1. local validation: passed"), "{stdout}");
    assert!(stdout.contains("group: QA (internal"), "{stdout}");

    let (code, stdout, stderr) = bin(args(
        &w,
        &[
            "preflight",
            &ipa,
            "--extra-root-ca",
            &ca,
            "--groups",
            "Nope",
            "--submit-beta-review",
            "--format",
            "json",
        ],
    ))
    .await;
    assert_eq!(code, 4, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let problems: Vec<&str> = doc["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == false)
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["groups", "beta review information"]);
    assert_eq!(doc["exit_code"], 4);
    // The error is rendered once, with its fix, beside the document.
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("  fix: ").count(), 1, "{stderr}");

    let (code, stdout, stderr) = bin(args(
        &w,
        &["preflight", &ipa, "--extra-root-ca", &ca, "--groups", "Nope"],
    ))
    .await;
    assert_eq!(code, 4);
    assert!(stdout.contains("PROBLEM groups: no beta group 'Nope'"), "{stdout}");
    assert!(stdout.contains("     fix: "), "{stdout}");
    // Text: the edge renders the error once, on stderr.
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
    assert!(w.writes().is_empty());
}
