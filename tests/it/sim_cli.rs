//! `asc-publish sim` as a process: exactly one JSON line on stdout, a working server behind it,
//! `--app` seeding, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn spawn(args: &[&str]) -> (Child, Value, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .arg("sim")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn asc-publish sim");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).expect("first stdout line");
    assert!(
        line.starts_with("{\"api_url\":\"http://") && line.ends_with("}\n"),
        "{line:?}"
    );
    let announced: Value = serde_json::from_str(line.trim_end()).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
    (child, announced, out)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sim did not exit on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn token(announced: &Value) -> String {
    let pem = std::fs::read_to_string(announced["private_key_path"].as_str().unwrap()).expect("key file");
    crate::support::mint(
        &pem,
        announced["key_id"].as_str().unwrap(),
        &crate::support::team_claims(announced["issuer_id"].as_str().unwrap()),
    )
}

#[tokio::test]
async fn prints_one_json_line_serves_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, announced, mut out) = spawn(&[
        "--state-dir",
        dir.path().to_str().unwrap(),
        "--app",
        "com.example.other=1234567890",
        "--app",
        "com.example.third",
        "--processing-seconds",
        "0",
    ]);
    let mut keys: Vec<&str> = announced.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["api_url", "issuer_id", "key_id", "private_key_path"]);
    let api_url = announced["api_url"].as_str().unwrap();
    assert!(api_url.starts_with("http://127.0.0.1:"));

    let http = crate::support::client();
    let apps: Value = http
        .get(format!("{api_url}/v1/apps"))
        .bearer_auth(token(&announced))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bundles: Vec<&str> = apps["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attributes"]["bundleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        bundles,
        ["com.example.other", "com.example.third"],
        "--app replaces the demo app"
    );
    assert_eq!(apps["data"][0]["id"], "1234567890");

    let status = terminate(&mut child);
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "nothing but the one line on stdout");
    assert!(dir.path().join("state.json").is_file());
}

#[tokio::test]
async fn seeds_the_demo_app_by_default() {
    let (mut child, announced, _out) = spawn(&["--processing-result", "failed:90725", "--seed", "3"]);
    let http = crate::support::client();
    let apps: Value = http
        .get(format!(
            "{}/v1/apps?filter[bundleId]=com.example.demo",
            announced["api_url"].as_str().unwrap()
        ))
        .bearer_auth(token(&announced))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(apps["data"][0]["attributes"]["bundleId"], "com.example.demo");
    assert!(terminate(&mut child).success());
}

#[test]
fn bad_flags_are_usage_errors_and_help_documents_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["sim", "--processing-result", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let help = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["sim", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    for flag in [
        "--listen",
        "--state-dir",
        "--app",
        "--trust-key",
        "--fail-part-rate",
        "--rate-limit-after",
        "--drop-commit-response",
        "--token-max-age",
        "--processing-seconds",
        "--processing-result",
        "--latency-ms",
        "--seed",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
}

#[tokio::test]
async fn trust_key_accepts_a_public_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let pub_path = dir.path().join("ci.pub.pem");
    std::fs::write(&pub_path, key.public_key_pem()).unwrap();
    let trust = format!("CIKEY00001={}", pub_path.display());
    let (mut child, announced, _out) = spawn(&["--trust-key", &trust]);
    let token = crate::support::mint(
        &key.serialize_pem(),
        "CIKEY00001",
        &crate::support::team_claims("ci-issuer"),
    );
    let status = crate::support::client()
        .get(format!("{}/v1/apps", announced["api_url"].as_str().unwrap()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert!(terminate(&mut child).success());

    let bad = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["sim", "--trust-key", "K=/nonexistent/key.pem"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("fix:"));
}
