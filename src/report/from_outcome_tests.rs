//! Tests for the outcome → view conversion.

use std::time::Duration;

use super::*;
use crate::outcome::Message;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn uploaded() -> Outcome {
    let mut o = Outcome::new();
    o.bundle_id = Some("com.example.demo".into());
    o.version = Some("1.0.0".into());
    o.build_number = Some("7".into());
    o.app_id = Some("6450000001".into());
    o.upload_id = Some("upl-1".into());
    o.build_id = Some("bld-1".into());
    o.bytes_sent = 4_000_000;
    o.time("validate", ms(100));
    o.time("preflight", ms(50));
    o.time("upload", ms(2000));
    o.time("commit", ms(30));
    o.time("processing", ms(5000));
    o.time("total", ms(7300));
    o
}

#[test]
fn a_successful_run_has_four_contiguous_stages_merged_into_three() {
    let mut o = uploaded();
    o.status = Status::Success;
    o.processing_state = Some("VALID".into());
    let v = view(&o);
    assert_eq!(v.verdict, Verdict::Success);
    let got: Vec<(StageName, u64, u64, StageStatus)> = v
        .stages
        .iter()
        .map(|s| (s.stage, s.start_ms, s.duration_ms, s.status))
        .collect();
    assert_eq!(
        got,
        [
            (StageName::Validate, 0, 100, StageStatus::Done),
            (StageName::Upload, 100, 2080, StageStatus::Done),
            (StageName::Processing, 2180, 5000, StageStatus::Done),
        ]
    );
    assert_eq!(v.reached, Some(StageName::Processing));
    assert_eq!(
        v.upload,
        Some(UploadStats {
            bytes: 4_000_000,
            duration_ms: 2000
        })
    );
    assert_eq!(v.ids.build_id.as_deref(), Some("bld-1"));
    assert_eq!(v.processing_state.as_deref(), Some("VALID"));
    assert!(v.asc_url().is_some());
    assert!(v.groups.is_empty());
}

#[test]
fn validation_errors_are_a_validation_rejection() {
    let mut o = Outcome::new();
    o.status = Status::Rejected;
    o.findings = vec![
        crate::validate::Finding::warning("ASC-W001", "", "w", ""),
        crate::validate::Finding::error("ITMS-90056", "Payload/A.app/Info.plist", "missing", "add it"),
    ];
    o.time("validate", ms(40));
    let v = view(&o);
    assert_eq!(v.verdict, Verdict::RejectedByValidation);
    assert_eq!(v.stages.len(), 1);
    assert_eq!(v.stages[0].status, StageStatus::Failed);
    assert_eq!(v.findings[1].severity, Level::Error);
    assert_eq!(v.findings[1].fix, "add it");
    assert_eq!(v.upload, None);
}

#[test]
fn apple_rejection_marks_processing_and_keeps_codes() {
    let mut o = uploaded();
    o.status = Status::Rejected;
    o.apple_messages.push(Message {
        level: "error".into(),
        code: Some("ITMS-90725".into()),
        description: "SDK version issue".into(),
    });
    o.apple_messages.push(Message {
        level: "info".into(),
        code: None,
        description: "fyi".into(),
    });
    let v = view(&o);
    assert_eq!(v.verdict, Verdict::RejectedByApple);
    assert_eq!(
        v.stages.last().map(|s| (s.stage, s.status)),
        Some((StageName::Processing, StageStatus::Failed))
    );
    assert_eq!(v.apple_messages[0].code, "ITMS-90725");
    assert_eq!(v.apple_messages[0].severity, Level::Error);
    assert_eq!(v.apple_messages[1].severity, Level::Notice);
}

#[test]
fn an_auth_failure_after_validation_fails_the_upload_stage_with_the_rest_of_the_time() {
    let mut o = Outcome::new();
    o.time("validate", ms(100));
    o.time("total", ms(900));
    let err = crate::Error::new(crate::ErrorKind::Auth, "App Store Connect refused the API key")
        .with_hint("check ASC_KEY_ID");
    o.fail(&err);
    let v = view(&o);
    assert_eq!(
        v.verdict,
        Verdict::Failed {
            kind: "auth".into(),
            message: "App Store Connect refused the API key".into(),
            hint: Some("check ASC_KEY_ID".into()),
        }
    );
    let last = v.stages.last().cloned();
    assert_eq!(
        last,
        Some(StageTiming {
            stage: StageName::Upload,
            start_ms: 100,
            duration_ms: 800,
            status: StageStatus::Failed
        })
    );
    assert_eq!(v.reached, Some(StageName::Upload));
}

#[test]
fn a_configuration_error_has_no_stages() {
    let mut o = Outcome::new();
    o.fail(&crate::Error::usage("no key"));
    let v = view(&o);
    assert!(v.stages.is_empty());
    assert_eq!(v.reached, None);
    assert!(matches!(v.verdict, Verdict::Failed { .. }));
}

#[test]
fn timings_without_offsets_are_laid_end_to_end() {
    let o: Outcome = serde_json::from_str(
        r#"{"status":"success","timings":[{"stage":"validate","millis":10},{"stage":"upload","millis":20},
            {"stage":"processing","millis":30},{"stage":"total","millis":60}]}"#,
    )
    .unwrap_or_default();
    let v = RunView::from(&o);
    let starts: Vec<u64> = v.stages.iter().map(|s| s.start_ms).collect();
    assert_eq!(starts, [0, 10, 30]);
}

#[test]
fn group_records_map_to_results() {
    assert_eq!(
        group_result("QA", "internal", "added", None),
        GroupResult {
            name: "QA".into(),
            kind: GroupKind::Internal,
            outcome: GroupOutcome::Added
        }
    );
    assert_eq!(
        group_result("Beta", "external", "skipped", Some("already in the group")).outcome,
        GroupOutcome::Skipped {
            note: "already in the group".into()
        }
    );
    let failed = group_result("Beta", "EXTERNAL", "failed", Some("Beta review required"));
    assert_eq!(failed.kind, GroupKind::External);
    assert_eq!(
        failed.outcome,
        GroupOutcome::Failed {
            message: "Beta review required".into()
        }
    );
    assert_eq!(
        group_result("X", "external", "weird", None).outcome,
        GroupOutcome::Failed {
            message: "the build was not added (weird)".into()
        }
    );
}
