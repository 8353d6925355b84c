//! Contract tests for the GitHub Action: action.yml maps every input through `env:` (never
//! `${{ }}` in `run:`), declares every output the binary writes, and dist/run.sh turns inputs into
//! the right flags and environment.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use asc_publish::ci::outputs::NAMES;

fn action_yml() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap()
}

/// Top-level keys of a two-space-indented mapping block (`inputs:` / `outputs:`).
fn block_keys(yml: &str, block: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut inside = false;
    for line in yml.lines() {
        if !line.starts_with(' ') && !line.is_empty() && !line.starts_with('#') {
            inside = line.trim_end() == format!("{block}:");
            continue;
        }
        if inside {
            if let Some(rest) = line.strip_prefix("  ") {
                if !rest.starts_with(' ') && rest.ends_with(':') {
                    keys.push(rest.trim_end_matches(':').to_string());
                }
            }
        }
    }
    keys
}

#[test]
fn every_output_the_binary_writes_is_declared() {
    let yml = action_yml();
    let declared = block_keys(&yml, "outputs");
    let written: Vec<String> = NAMES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(declared, written);
    for name in &written {
        assert!(
            yml.contains(&format!("value: ${{{{ steps.run.outputs.{name} }}}}")),
            "{name}"
        );
    }
}

#[test]
fn every_input_reaches_the_scripts_through_env_only() {
    let yml = action_yml();
    let inputs = block_keys(&yml, "inputs");
    assert_eq!(inputs.len(), 13, "{inputs:?}");
    for input in &inputs {
        let env_name = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert!(
            yml.contains(&format!("{env_name}: ${{{{ inputs.{input} }}}}")),
            "{input} is not mapped to {env_name}"
        );
    }
    for line in yml.lines().filter(|l| l.trim_start().starts_with("run:")) {
        assert!(!line.contains("${{"), "template expansion inside run: {line}");
        assert!(
            line.contains("$GITHUB_ACTION_PATH") || line.contains("${GITHUB_ACTION_PATH"),
            "{line}"
        );
    }
    assert!(!yml.contains("github.action_path"));
}

/// Run dist/run.sh with a fake asc-publish that records its arguments and key environment.
fn run_wrapper(env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("asc-publish");
    let log = dir.path().join("args");
    fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\necho \"KEY_ID=${{ASC_KEY_ID:-unset}} ISSUER=${{ASC_ISSUER_ID:-unset}} TOKEN=${{GITHUB_TOKEN:-unset}} PK_LINES=$(printf '%s' \"${{ASC_PRIVATE_KEY:-}}\" | wc -l | tr -d ' ')\" >> '{}'\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/run.sh"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("ASC_PUBLISH_BIN", &fake);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let args = fs::read_to_string(&log).unwrap_or_default();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        args,
    )
}

#[test]
fn wrapper_builds_flags_only_for_non_empty_inputs() {
    let (code, _, args) = run_wrapper(&[
        ("INPUT_IPA_PATH", "build/My App.ipa"),
        ("INPUT_GROUPS", "QA, Beta testers\nFriends"),
        ("INPUT_WHAT_TO_TEST", "Login flow"),
        ("INPUT_WAIT", "false"),
        ("INPUT_TIMEOUT", "20m"),
        ("INPUT_REPORT", "none"),
        ("INPUT_APP_ID", "123"),
        ("INPUT_API_KEY_ID", "KEY123"),
        ("INPUT_GITHUB_TOKEN", "ghs_x"),
    ]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = args.lines().collect();
    assert_eq!(
        lines[..lines.len() - 1],
        [
            "upload",
            "build/My App.ipa",
            "--format",
            "text",
            "--app-id",
            "123",
            "--group",
            "QA",
            "--group",
            "Beta testers",
            "--group",
            "Friends",
            "--what-to-test",
            "Login flow",
            "--no-wait",
            "--timeout",
            "20m",
            "--report",
            "none",
        ]
    );
    assert_eq!(
        lines.last().copied(),
        Some("KEY_ID=KEY123 ISSUER=unset TOKEN=ghs_x PK_LINES=0")
    );

    let (code, _, args) = run_wrapper(&[
        ("INPUT_IPA_PATH", "a.ipa"),
        ("INPUT_WAIT", "true"),
        ("INPUT_REPORT", "auto"),
    ]);
    assert_eq!(code, Some(0));
    assert!(
        args.starts_with("upload\na.ipa\n--format\ntext\nKEY_ID=unset"),
        "{args}"
    );
}

#[test]
fn wrapper_masks_the_key_first_and_keeps_existing_env() {
    let pem = "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG\nByqGSM49\n-----END PRIVATE KEY-----";
    let (code, stdout, args) = run_wrapper(&[
        ("INPUT_IPA_PATH", "a.ipa"),
        ("INPUT_API_PRIVATE_KEY", pem),
        ("ASC_ISSUER_ID", "from-env"),
        ("INPUT_API_ISSUER_ID", ""),
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "::add-mask::-----BEGIN PRIVATE KEY-----\n::add-mask::MIGTAgEAMBMG\n::add-mask::ByqGSM49\n::add-mask::-----END PRIVATE KEY-----\n"
    );
    assert!(
        args.contains("ISSUER=from-env"),
        "an empty input does not clobber the env: {args}"
    );
    assert!(args.contains("PK_LINES=3"));
}

#[test]
fn wrapper_rejects_bad_enum_inputs() {
    let (code, stdout, _) = run_wrapper(&[("INPUT_IPA_PATH", "a.ipa"), ("INPUT_WAIT", "yes")]);
    assert_eq!(code, Some(2));
    assert!(stdout.contains("::error title=asc-publish::the wait input must be true or false"));
    let (code, _, _) = run_wrapper(&[("INPUT_IPA_PATH", "a.ipa"), ("INPUT_REPORT", "slack")]);
    assert_eq!(code, Some(2));
    let (code, _, _) = run_wrapper(&[]);
    assert_eq!(code, Some(2));
}
