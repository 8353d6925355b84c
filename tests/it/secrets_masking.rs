//! Masking and redaction through the real binary on GitHub Actions: every command that reads a
//! secret masks it before printing anything else (from one place, so none can forget); only the
//! secret parts are masked, never the public PEM armour that fix hints quote; the app-specific
//! password is masked too; and a secret that reaches an output field is redacted in every
//! renderer (text, JSON, job summary, step outputs).

use std::path::Path;
use std::process::Command;

use asc_sim::{SimConfig, Simulator};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;

const TOKEN: &str = "ghs_Zq8TokenValue0123456789abcdef";
const PASSWORD: &str = "qwer-tyui-opas-dfgh";

fn fresh_pem() -> String {
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).expect("key");
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<String> = body
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_asc-publish"));
    cmd.env_clear().args(args).envs(env.iter().copied());
    if let Ok(p) = std::env::var("PATH") {
        cmd.env("PATH", p);
    }
    let out = cmd.output().expect("run asc-publish");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn github_env<'a>(dir: &'a Path, outputs: &'a str, summary: &'a str) -> Vec<(&'a str, &'a str)> {
    let _ = dir;
    vec![
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_OUTPUT", outputs),
        ("GITHUB_STEP_SUMMARY", summary),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_RUN_ID", "1"),
        // Never the real API: nothing here has a PR, but be sure.
        ("GITHUB_API_URL", "http://127.0.0.1:9"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_that_reads_a_secret_masks_it_first_and_only_its_secret_parts() {
    let sim = Simulator::start(SimConfig::default()).await.expect("simulator");
    let dir = tempfile::tempdir().expect("tmp");
    let pem = fresh_pem();
    let outcome = dir.path().join("saved.json");
    std::fs::write(&outcome, r#"{"status":"success","exit_code":0}"#).expect("outcome");
    let outputs = dir.path().join("out").display().to_string();
    let summary = dir.path().join("summary.md").display().to_string();
    let api = sim.api_url.clone();
    let saved = outcome.display().to_string();
    let ipa = dir.path().join("none.ipa").display().to_string();
    let failures = tokio::task::spawn_blocking(move || {
        let mut env = github_env(Path::new("."), &outputs, &summary);
        env.extend([
            ("ASC_KEY_ID", "ZX9R4HXF34"),
            ("ASC_PRIVATE_KEY", pem.as_str()),
            ("GITHUB_TOKEN", TOKEN),
            ("ASC_APP_SPECIFIC_PASSWORD", PASSWORD),
        ]);
        let commands: Vec<Vec<&str>> = vec![
            vec!["upload", &ipa, "--api-url", &api],
            vec!["preflight", &ipa, "--api-url", &api],
            vec!["builds", "list", "--bundle-id", "com.example.app", "--api-url", &api],
            vec!["builds", "status", "u1", "--api-url", &api],
            vec!["distribute", "--build-id", "b1", "--api-url", &api],
            vec!["report", "--from", &saved],
        ];
        let mut failures = Vec::new();
        for args in commands {
            let out = run(&args, &env);
            let masks: Vec<&str> = out
                .stderr
                .lines()
                .take_while(|l| l.starts_with("::add-mask::"))
                .collect();
            let mut want: Vec<String> = pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_string)
                .collect();
            want.push(TOKEN.into());
            want.push(PASSWORD.into());
            for w in want {
                if !masks.contains(&format!("::add-mask::{w}").as_str()) {
                    failures.push(format!("{}: {w} not masked first:\n{}", args[0], out.stderr));
                }
            }
            if out
                .stderr
                .lines()
                .any(|l| l.starts_with("::add-mask::") && l.contains("-----"))
            {
                failures.push(format!("{}: the public armour is masked:\n{}", args[0], out.stderr));
            }
            if out.stdout.contains(PASSWORD) || out.stdout.contains(TOKEN) {
                failures.push(format!("{}: a secret on stdout", args[0]));
            }
        }
        failures
    })
    .await
    .expect("join");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn fix_hints_keep_the_public_pem_armour_on_github() {
    let dir = tempfile::tempdir().expect("tmp");
    let outputs = dir.path().join("out").display().to_string();
    let summary = dir.path().join("summary.md").display().to_string();
    let pem = fresh_pem().replace("-----BEGIN PRIVATE KEY-----", "-----BEGIN PRIVATE KEY----");
    let mut env = github_env(dir.path(), &outputs, &summary);
    env.extend([("ASC_KEY_ID", "ZX9R4HXF34"), ("ASC_PRIVATE_KEY", pem.as_str())]);
    let out = run(&["builds", "list", "--bundle-id", "b"], &env);
    assert_eq!(out.code, 3, "{}", out.stderr);
    // The runner would turn a masked armour line into `***` in this hint.
    assert!(out.stderr.contains("-----BEGIN PRIVATE KEY-----"), "{}", out.stderr);
    assert!(
        !out.stderr
            .lines()
            .any(|l| l.starts_with("::add-mask::") && l.contains("PRIVATE KEY")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_secret_that_reaches_an_output_field_is_redacted_in_every_renderer() {
    let dir = tempfile::tempdir().expect("tmp");
    let saved = dir.path().join("saved.json");
    let outcome = serde_json::json!({
        "status": "failed",
        "exit_code": 3,
        "bundle_id": "com.example.app",
        "version": format!("1.0-{PASSWORD}"),
        "build_number": "7",
        "warnings": [format!("the server echoed {TOKEN} back")],
        "what_to_test": [format!("password is {PASSWORD}")],
    });
    std::fs::write(&saved, outcome.to_string()).expect("saved");
    let saved = saved.display().to_string();
    for format in ["text", "json"] {
        let outputs = dir.path().join(format!("out-{format}"));
        let summary = dir.path().join(format!("summary-{format}.md"));
        let (o, s) = (outputs.display().to_string(), summary.display().to_string());
        let mut env = github_env(dir.path(), &o, &s);
        env.extend([("GITHUB_TOKEN", TOKEN), ("ASC_APP_SPECIFIC_PASSWORD", PASSWORD)]);
        let out = run(&["report", "--from", &saved, "--format", format], &env);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let shown: String = out
            .stderr
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n");
        let files = format!(
            "{}\n{}",
            std::fs::read_to_string(&outputs).unwrap_or_default(),
            std::fs::read_to_string(&summary).unwrap_or_default()
        );
        assert!(!files.is_empty(), "nothing written");
        for (what, text) in [("stdout", &out.stdout), ("stderr", &shown), ("files", &files)] {
            assert!(
                !text.contains(TOKEN) && !text.contains(PASSWORD),
                "{format} {what} holds a secret:\n{text}"
            );
        }
        // Redacted before rendering (the Markdown escapes the stars).
        assert!(
            out.stdout.contains("***") || out.stdout.contains("\\*\\*\\*"),
            "{format}: {}",
            out.stdout
        );
    }
}

#[test]
fn a_password_variable_named_by_password_env_is_masked() {
    let dir = tempfile::tempdir().expect("tmp");
    let outputs = dir.path().join("out").display().to_string();
    let summary = dir.path().join("summary.md").display().to_string();
    let mut env = github_env(dir.path(), &outputs, &summary);
    env.push(("MY_APPLE_PW", "zxcv-bnmq-wert-yuio"));
    let out = run(
        &[
            "upload",
            "none.ipa",
            "--apple-id",
            "dev@example.com",
            "--password-env",
            "MY_APPLE_PW",
        ],
        &env,
    );
    assert!(
        out.stderr.starts_with("::add-mask::zxcv-bnmq-wert-yuio\n"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn session_and_ds_tokens_are_protected_when_they_arrive() {
    // The secret registry is process-wide: alone, no other test's secrets fill or change it.
    if !crate::support::own_process::own_process(module_path!(), "session_and_ds_tokens_are_protected_when_they_arrive")
    {
        return;
    }
    use asc_publish::appleid::credentials::AppleIdCredentials;
    use asc_publish::appleid::session::Session;
    use asc_publish::asc::credentials::Secret;
    let sim = Simulator::start(SimConfig {
        apple_ids: vec![("dev@example.com".into(), "pw-1234-5678".into())],
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let creds = AppleIdCredentials {
        apple_id: "dev@example.com".into(),
        password: Secret::new("pw-1234-5678".into()),
        password_var: "PW".into(),
        provider_public_id: None,
    };
    let http = asc_publish::asc::client::build_http(None, None).expect("http");
    let base = url::Url::parse(&sim.api_url).expect("url");
    let before = asc_publish::output::secret_parts_known().len();
    let session = Session::sign_in(&http, &base, &creds, asc_publish::publish::events::Events::none())
        .await
        .expect("sign in");
    // SessionId and SharedSecret.
    assert!(asc_publish::output::secret_parts_known().len() >= before + 2);
    let ds = session.apple_connect_token(&creds).await.expect("DS token");
    let shown = format!("cookie {}", ds.token.expose());
    assert_eq!(asc_publish::output::redact(&shown), "cookie ***");
}

/// A secret equal to a value that reaches the command's own output (here the app's bundle id, in
/// every line about the app) is redacted in `preflight`, `upload --dry-run` and `builds`, text
/// and JSON, and in `--output-json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_own_renderers_are_redacted() {
    use asc_publish::sample::app::SampleApp;
    let sim = Simulator::start(SimConfig::default()).await.expect("simulator");
    let dir = tempfile::tempdir().expect("tmp");
    let ipa = dir.path().join("App.ipa");
    let built = SampleApp::default().write_to(&ipa).expect("sample");
    let root = dir.path().join("root.pem");
    std::fs::write(&root, built.root_pem()).expect("root");
    let secret = asc_sim::DEFAULT_BUNDLE_ID.to_string();
    let (api, key, key_id, issuer) = (
        sim.api_url.clone(),
        sim.private_key_path.display().to_string(),
        sim.key_id.clone(),
        sim.issuer_id.clone(),
    );
    let (ipa, root) = (ipa.display().to_string(), root.display().to_string());
    let out_json = dir.path().join("outcome.json");
    let out_json_s = out_json.display().to_string();
    let problems = tokio::task::spawn_blocking(move || {
        let env = [
            ("ASC_KEY_ID", key_id.as_str()),
            ("ASC_ISSUER_ID", issuer.as_str()),
            ("ASC_PRIVATE_KEY", key.as_str()),
            ("ASC_API_URL", api.as_str()),
            ("GITHUB_TOKEN", secret.as_str()),
        ];
        let mut problems = Vec::new();
        for format in ["text", "json"] {
            let runs: Vec<Vec<&str>> = vec![
                vec!["preflight", &ipa, "--extra-root-ca", &root, "--format", format],
                vec![
                    "upload",
                    &ipa,
                    "--dry-run",
                    "--extra-root-ca",
                    &root,
                    "--report",
                    "none",
                    "--output-json",
                    &out_json_s,
                    "--format",
                    format,
                ],
                vec!["builds", "list", "--bundle-id", &secret, "--format", format],
            ];
            for args in runs {
                let out = run(&args, &env);
                let written = std::fs::read_to_string(&out_json).unwrap_or_default();
                if out.code != 0 {
                    problems.push(format!("{args:?}: exit {}\n{}", out.code, out.stderr));
                }
                if out.stdout.contains(&secret) || out.stderr.contains(&secret) || written.contains(&secret) {
                    problems.push(format!(
                        "{args:?}: the secret is shown:\n{}\n{}\n{written}",
                        out.stdout, out.stderr
                    ));
                }
            }
        }
        problems
    })
    .await
    .expect("join");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
