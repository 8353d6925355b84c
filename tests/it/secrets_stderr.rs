//! Issue 10: nothing derived from a secret reaches stderr either. Progress, status and warning
//! lines printed during a run carry text from Apple (processing errors, server messages); a secret
//! that turns up in such a text must be redacted like in every renderer. Here a token's value is a
//! word of the simulator's processing error (ITMS-90683 names `NSCameraUsageDescription`): the
//! "Apple error" progress line on stderr must show `***`, never the word. And so that no stderr
//! line can bypass redaction again, no source file prints to stderr but through `output`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use asc_publish::sample::app::SampleApp;
use asc_sim::{Processing, ProcessingResult, SimConfig, Simulator};

/// In the simulator's text for ITMS-90683, which an INVALID build carries.
const SECRET: &str = "NSCameraUsageDescription";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apple_processing_message_is_redacted_on_stderr() {
    let sim = Simulator::start(SimConfig {
        processing: Processing {
            duration: Duration::from_millis(300),
            result: ProcessingResult::Invalid,
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("tmp");
    let ipa = dir.path().join("App.ipa");
    let built = SampleApp::default().write_to(&ipa).expect("sample");
    let root = dir.path().join("root.pem");
    std::fs::write(&root, built.root_pem()).expect("root");
    let args: Vec<String> = [
        "upload",
        &ipa.display().to_string(),
        "--extra-root-ca",
        &root.display().to_string(),
        "--report",
        "none",
        "--poll-interval",
        "100ms",
        "--timeout",
        "1m",
        "-v",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let env = [
        ("ASC_KEY_ID", sim.key_id.clone()),
        ("ASC_ISSUER_ID", sim.issuer_id.clone()),
        ("ASC_PRIVATE_KEY", sim.private_key_path.display().to_string()),
        ("ASC_API_URL", sim.api_url.clone()),
        ("GITHUB_TOKEN", SECRET.to_string()),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_asc-publish"));
        cmd.env_clear().args(&args).envs(env);
        if let Ok(p) = std::env::var("PATH") {
            cmd.env("PATH", p);
        }
        cmd.output().expect("run asc-publish")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "rejected:\n{stdout}\n{stderr}");
    let apple_line = stderr
        .lines()
        .find(|l| l.contains("Apple error") && l.contains("90683"))
        .unwrap_or_else(|| panic!("the processing error is shown on stderr:\n{stderr}"));
    assert!(apple_line.contains("***"), "{apple_line}");
    assert!(
        !stderr.contains(SECRET) && !stdout.contains(SECRET),
        "the secret is shown:\n{stdout}\n{stderr}"
    );
}

/// Every `eprint!`/`eprintln!` of the program goes through `src/output.rs` (the redacting helpers
/// and the `::add-mask::` lines); the simulator's own log and the panic hook are the exceptions.
#[test]
fn no_source_file_prints_to_stderr_around_redaction() {
    fn walk(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if !path.ends_with("sim") {
                    walk(&path, found);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("output.rs") || path.ends_with("main.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for (n, line) in text.lines().enumerate() {
                if line.contains("eprintln!(") || line.contains("eprint!(") {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    walk(&src, &mut found);
    assert!(
        found.is_empty(),
        "print to stderr with output::eprintln_redacted! / eprint_redacted:\n{}",
        found.join("\n")
    );
}
