//! Contract tests of the three wrappers' declarations (their behaviour is driven end to end in
//! e2e_ci_wrappers.rs): action.yml maps every input through `env:` and starts its shells by
//! absolute path, it declares every output the binary writes, the three wrappers offer the same
//! inputs, GitLab and Bitrise never expand free-text inputs, and dist/run.sh rejects bad enum
//! inputs before running anything.

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

use asc_publish::ci::outputs::NAMES;
use yaml_rust2::{Yaml, YamlLoader};

fn load(rel: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap();
    YamlLoader::load_from_str(&text).unwrap()
}

fn keys(h: &Yaml) -> Vec<String> {
    h.as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

/// Inputs every wrapper has, with the same meaning (Bitrise spells them with `_`).
const COMMON: &[&str] = &[
    "ipa-path",
    "app-id",
    "groups",
    "testers",
    "what-to-test",
    "what-to-test-file",
    "locale",
    "notify",
    "submit-beta-review",
    "expire-previous",
    "release",
    "whats-new",
    "whats-new-file",
    "release-type",
    "release-date",
    "phased-release",
    "uses-non-exempt-encryption",
    "apple-id",
    "dry-run",
    "validation",
    "wait",
    "timeout",
    "report",
    "api-url",
    "content-delivery-url",
    "tls-root-ca",
    "extra-root-ca",
];

#[test]
fn every_output_the_binary_writes_is_declared() {
    let action = &load("action.yml")[0];
    let declared = keys(&action["outputs"]);
    let written: Vec<String> = NAMES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(declared, written);
    for name in &written {
        assert_eq!(
            action["outputs"][name.as_str()]["value"].as_str(),
            Some(format!("${{{{ steps.run.outputs.{name} }}}}").as_str())
        );
    }
}

#[test]
fn the_bitrise_step_and_the_gitlab_component_declare_the_same_outputs() {
    let step = &load("plugins/bitrise/step.yml")[0];
    let bitrise: Vec<String> = step["outputs"]
        .as_vec()
        .unwrap()
        .iter()
        .flat_map(|o| keys(o).into_iter().filter(|k| k != "opts"))
        .collect();
    let written: Vec<String> = NAMES.iter().map(|(_, k)| k.to_string()).collect();
    assert_eq!(bitrise, written, "step.yml outputs");
    let gitlab =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/gitlab/README.md")).unwrap();
    let guide = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap();
    for (name, key) in NAMES {
        assert!(
            gitlab.contains(&format!("`{key}`")),
            "plugins/gitlab/README.md lacks {key}"
        );
        assert!(
            guide.contains(&format!("| `{name}` | `{key}` |")),
            "docs/ci.md's output table lacks {name} / {key}"
        );
    }
}

#[test]
fn inputs_reach_the_scripts_through_env_and_shells_start_by_absolute_path() {
    let action = &load("action.yml")[0];
    let steps = action["runs"]["steps"].as_vec().unwrap();
    let mut mapped = Vec::new();
    for step in steps {
        let shell = step["shell"].as_str().unwrap();
        let words: Vec<&str> = shell.split_whitespace().collect();
        // A $GITHUB_PATH entry must not be able to provide `env` or `bash`.
        assert!(words[0].starts_with('/'), "{shell}");
        let bash = words.iter().find(|w| w.ends_with("bash")).unwrap();
        assert_eq!(*bash, "/bin/bash", "{shell}");
        let run = step["run"].as_str().unwrap();
        assert!(!run.contains("${{"), "template expansion inside run: {run}");
        assert!(
            run.starts_with("/bin/bash --noprofile --norc \"${GITHUB_ACTION_PATH:?}/dist/"),
            "{run}"
        );
        for (k, v) in step["env"].as_hash().unwrap() {
            let v = v.as_str().unwrap();
            if let Some(input) = v.strip_prefix("${{ inputs.").and_then(|r| r.strip_suffix(" }}")) {
                assert_eq!(
                    k.as_str().unwrap(),
                    format!("INPUT_{}", input.to_uppercase().replace('-', "_"))
                );
                mapped.push(input.to_string());
            }
        }
    }
    mapped.sort();
    let mut inputs = keys(&action["inputs"]);
    inputs.sort();
    assert_eq!(mapped, inputs, "every input, and only inputs, through env:");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    assert!(!text.contains("github.action_path"));
}

#[test]
fn the_three_wrappers_offer_the_same_inputs_and_never_expand_free_text() {
    let action = keys(&load("action.yml")[0]["inputs"]);
    let gitlab_docs = load("plugins/gitlab/templates/asc-publish.yml");
    let gitlab = keys(&gitlab_docs[0]["spec"]["inputs"]);
    let step = &load("plugins/bitrise/step.yml")[0];
    let bitrise: Vec<String> = step["inputs"]
        .as_vec()
        .unwrap()
        .iter()
        .flat_map(|i| keys(i).into_iter().filter(|k| k != "opts"))
        .collect();
    for name in COMMON {
        assert!(action.iter().any(|a| a == name), "action.yml lacks {name}");
        assert!(gitlab.iter().any(|a| a == name), "the GitLab component lacks {name}");
        let snake = name.replace('-', "_");
        assert!(bitrise.contains(&snake), "step.yml lacks {snake}");
    }
    // GitLab expands job variables unless told not to.
    let (_, job) = gitlab_docs[1].as_hash().unwrap().iter().next().unwrap();
    for (k, v) in job["variables"].as_hash().unwrap() {
        let name = k.as_str().unwrap();
        if name.starts_with("INPUT_") {
            assert_eq!(v["expand"].as_bool(), Some(false), "{name} is expanded by GitLab");
        }
    }
    for item in step["inputs"].as_vec().unwrap() {
        let name = keys(item).into_iter().find(|k| k != "opts").unwrap();
        if ["groups", "testers", "what_to_test", "locale", "whats_new"].contains(&name.as_str()) {
            assert_eq!(
                item["opts"]["is_expand"].as_bool(),
                Some(false),
                "{name} is expanded by Bitrise"
            );
        }
    }
}

fn run_sh(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new("/bin/bash");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/run.sh"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("GITHUB_ACTIONS", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), log)
}

#[test]
fn bad_enum_inputs_are_usage_errors_before_anything_runs() {
    let (code, log) = run_sh(&[("INPUT_IPA_PATH", "a.ipa"), ("INPUT_WAIT", "maybe")]);
    assert_eq!(code, Some(2));
    assert!(
        log.contains("::error title=asc-publish::the wait input must be true or false"),
        "{log}"
    );
    for (k, v) in [
        ("INPUT_REPORT", "slack"),
        ("INPUT_VALIDATION", "lenient"),
        ("INPUT_NOTIFY", "sometimes"),
        ("INPUT_USES_NON_EXEMPT_ENCRYPTION", "perhaps"),
        ("INPUT_RELEASE", "later"),
        ("INPUT_RELEASE_TYPE", "asap"),
        ("INPUT_PHASED_RELEASE", "half"),
    ] {
        let (code, log) = run_sh(&[("INPUT_IPA_PATH", "a.ipa"), (k, v)]);
        assert_eq!(code, Some(2), "{k}={v}: {log}");
    }
    let (code, log) = run_sh(&[]);
    assert_eq!(code, Some(2));
    assert!(log.contains("the ipa-path input is required"), "{log}");
    let (code, log) = run_sh(&[
        ("INPUT_IPA_PATH", "a.ipa"),
        ("INPUT_WHAT_TO_TEST", "x"),
        ("INPUT_WHAT_TO_TEST_FILE", "notes.txt"),
    ]);
    assert_eq!(code, Some(2), "{log}");
    let (code, log) = run_sh(&[
        ("INPUT_IPA_PATH", "a.ipa"),
        ("INPUT_WHATS_NEW", "x"),
        ("INPUT_WHATS_NEW_FILE", "notes.txt"),
    ]);
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("set either whats-new or whats-new-file"), "{log}");
}

/// docs/ci.md once told users to expose the key to pull request builds (Bitrise "Expose for Pull
/// Requests" on, an unprotected GitLab token): it must say how to keep secrets from fork PRs.
#[test]
fn the_ci_guide_keeps_secrets_away_from_pull_requests() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap();
    let lower = doc.to_lowercase();
    assert!(!lower.contains("unprotected"), "advises an unprotected variable");
    assert!(
        !lower.contains("must be on for pr"),
        "advises exposing secrets to PR builds"
    );
    assert!(doc.contains("## Keeping secrets away from pull requests"));
    assert!(doc.contains("**Expose for Pull Requests** off"));
    assert!(doc.contains("**Protected**"));
}
