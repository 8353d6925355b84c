//! Tests for masking, redaction, `--report` modes and `--output-json`.

use super::*;

const PEM: &str =
    "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----\n";

fn env(pairs: &[(&str, &str)]) -> EnvMap {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn masks_only_on_github_and_cover_paths_base64_and_tokens() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let key = dir.path().join("AuthKey.p8");
    std::fs::write(&key, PEM).unwrap_or_else(|e| panic!("{e}"));
    let b64 = base64::engine::general_purpose::STANDARD.encode(PEM);
    let key_path = key.to_string_lossy().into_owned();
    let local = env(&[("ASC_PRIVATE_KEY", PEM)]);
    // Off GitHub the secrets are still protected (for redaction) but not masked.
    let (secrets, github) = secrets_to_protect(&local, &["flag-secret"], &[]);
    assert!(!github && secrets.iter().any(|s| s.trim() == PEM.trim()), "{secrets:?}");

    let gh = env(&[
        ("GITHUB_ACTIONS", "true"),
        ("ASC_PRIVATE_KEY_PATH", key_path.as_str()),
        ("ASC_PRIVATE_KEY_B64", b64.as_str()),
        ("GITHUB_TOKEN", "ghs_token123"),
    ]);
    // What `protect_secrets` masks on GitHub, without the process-wide registry (which other
    // tests in this binary fill, so it would hold back parts they protected first).
    let (secrets, github) = secrets_to_protect(&gh, &["flag-secret"], &[]);
    assert!(github);
    let lines: String = secrets.iter().map(|s| crate::ci::github::mask_commands(s)).collect();
    for l in PEM.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            lines.contains(&format!("::add-mask::{l}\n")),
            "{l} not masked:\n{lines}"
        );
    }
    // The armour is public and quoted in fix hints: masking it would turn them into `***`.
    assert!(!lines.contains("-----"), "{lines}");
    assert!(lines.contains("::add-mask::ghs_token123\n"));
    assert!(lines.contains("::add-mask::flag-secret\n"));
    assert!(lines.contains(&format!("::add-mask::{b64}\n")));
    assert!(lines.lines().all(|l| l.starts_with("::add-mask::")));
}

#[test]
fn report_target_maps_to_a_mode_with_a_warning_off_platform() {
    let gh = CiContext::GitHub(match detect(&env(&[("GITHUB_ACTIONS", "true")])) {
        CiContext::GitHub(g) => g,
        other => panic!("{other:?}"),
    });
    assert_eq!(
        mode_for(ReportTarget::Auto, &CiContext::Local),
        (ReportMode::Auto, None)
    );
    assert_eq!(mode_for(ReportTarget::None, &gh), (ReportMode::None, None));
    assert_eq!(mode_for(ReportTarget::Github, &gh), (ReportMode::Auto, None));
    let (mode, warning) = mode_for(ReportTarget::Gitlab, &gh);
    assert_eq!(mode, ReportMode::None);
    assert!(warning.unwrap_or_default().contains("GitLab CI"));
}

#[test]
fn redaction_replaces_secret_lines_everywhere_but_ignores_tiny_ones() {
    let mut v = serde_json::json!({"a": ["x MIGTAgEAMBMGByqGSM49AgEGCCqGSM49 y"], "b": {"c": "ab cd"}});
    redact(&mut v, &[PEM.to_string(), "ab".to_string()]);
    assert_eq!(v["a"][0], "x *** y");
    assert_eq!(v["b"]["c"], "ab cd");
}

#[tokio::test]
async fn output_json_is_written_even_for_a_failed_run_and_never_holds_the_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let json = dir.path().join("outcome.json");
    let mut outcome = Outcome::new();
    outcome.app_id = Some("6450000001".into());
    // An error message that (wrongly) quoted the key must not carry it into the file.
    outcome.fail(&crate::Error::new(
        crate::ErrorKind::Auth,
        "bad key MIGTAgEAMBMGByqGSM49AgEGCCqGSM49",
    ));
    let args = ReportArgs {
        output_json: Some(json.clone()),
        ..ReportArgs::default()
    };
    let done = finish_run_with(&outcome, &args, &[PEM], EnvMap::new()).await;
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    assert_eq!(done.log, "");
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    assert!(!text.contains("MIGTAgEAMBMGByqGSM49AgEGCCqGSM49"), "{text}");
    let back: Outcome = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(back.exit_code, 3);
    assert_eq!(
        back.testflight_url.as_deref(),
        Some("https://appstoreconnect.apple.com/apps/6450000001/testflight/ios")
    );

    let args = ReportArgs {
        output_json: Some(dir.path().join("no/such/dir/o.json")),
        ..ReportArgs::default()
    };
    let done = finish_run_with(&outcome, &args, &[], EnvMap::new()).await;
    assert_eq!(done.warnings.len(), 1, "{:?}", done.warnings);
}

#[test]
fn redacting_an_outcome_changes_nothing_but_the_secrets() {
    let mut o = Outcome::new();
    o.bundle_id = Some("com.example.app".into());
    o.version = Some("1.0".into());
    o.apple_messages.push(crate::outcome::Message {
        level: "error".into(),
        code: Some("ITMS-90725".into()),
        description: "token tok_SECRET_123456 leaked".into(),
    });
    o.findings.push(crate::validate::Finding {
        code: "ITMS-90056".into(),
        severity: crate::validate::Severity::Warning,
        path: "Payload/App.app/Info.plist".into(),
        message: "m".into(),
        fix: "f".into(),
    });
    o.warnings.push("w".into());
    let r = redacted(&o, &["tok_SECRET_123456"]);
    assert_eq!(r.apple_messages[0].description, "token *** leaked");
    let mut back = r.clone();
    back.apple_messages[0].description = o.apple_messages[0].description.clone();
    assert_eq!(
        serde_json::to_value(&back).unwrap_or_default(),
        serde_json::to_value(&o).unwrap_or_default()
    );
}
