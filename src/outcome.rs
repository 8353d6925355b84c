//! The outcome of a run: the one serialisable result every reporter renders. A failed run still
//! produces one, with what was reached and the error.

use serde::{Deserialize, Serialize};

/// The timing entry spanning the whole run.
pub const TOTAL_STAGE: &str = "total";

/// Version of the JSON document; bumped on breaking changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Everything asked for happened.
    Success,
    /// Uploaded; waiting was not asked for (`--no-wait`).
    Uploaded,
    /// Local validation or Apple's processing rejected the build.
    Rejected,
    /// The run stopped on an error before a verdict.
    #[default]
    Failed,
}

/// A message from Apple's processing (`state.errors/warnings/infos`) or from our checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `error`, `warning` or `info`.
    pub level: String,
    /// ITMS code when Apple gave one (e.g. "ITMS-90725").
    pub code: Option<String>,
    pub description: String,
}

/// Milliseconds spent in one stage, and when it started relative to the first recorded stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: String,
    pub millis: u64,
    /// Start offset from the start of the first stage; absent in outcomes from older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
}

/// How the upload step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadMode {
    /// A new reservation was made and uploaded.
    New,
    /// An interrupted reservation for the same version/build was finished.
    Resumed,
    /// The same file was already uploaded; nothing was sent.
    AlreadyUploaded,
}

/// Deserialising is lenient (every field defaults) so `report --from` reads outcomes written by
/// older and newer versions alike.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Outcome {
    pub schema_version: u32,
    pub status: Status,
    pub exit_code: i32,
    pub bundle_id: Option<String>,
    pub version: Option<String>,
    pub build_number: Option<String>,
    pub platform: Option<String>,
    pub app_id: Option<String>,
    pub upload_id: Option<String>,
    pub upload_file_id: Option<String>,
    pub build_id: Option<String>,
    pub upload_mode: Option<UploadMode>,
    /// Last seen `buildUploads` state (AWAITING_UPLOAD, PROCESSING, COMPLETE, FAILED).
    pub upload_state: Option<String>,
    /// Last seen build `processingState` (PROCESSING, VALID, INVALID, FAILED).
    pub processing_state: Option<String>,
    pub uses_non_exempt_encryption: Option<bool>,
    /// Local validation findings (empty with `--skip-validation`).
    #[serde(with = "finding_serde")]
    pub findings: Vec<crate::validate::Finding>,
    /// Apple's processing messages, with ITMS codes.
    pub apple_messages: Vec<Message>,
    /// Our own warnings (nothing failed because of them).
    pub warnings: Vec<String>,
    pub timings: Vec<StageTiming>,
    pub file_size: u64,
    pub bytes_sent: u64,
    pub md5: Option<String>,
    pub requests: u64,
    /// App Store Connect page for the app's TestFlight builds.
    pub app_store_connect_url: Option<String>,
    /// TestFlight page of the app (filled when the outcome is reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub testflight_url: Option<String>,
    /// The error that ended the run (kind, exit code, message, hint).
    pub error: Option<serde_json::Value>,
    /// TestFlight: each requested beta group and what happened to it.
    pub groups: Vec<GroupOutcome>,
    /// TestFlight: locales whose What to Test was written.
    pub what_to_test: Vec<String>,
    /// TestFlight: tester emails given the build individually.
    pub testers: Vec<String>,
    /// TestFlight: `sent`, or `auto` when App Store Connect's auto-notify already covers it.
    pub notified: Option<String>,
    /// TestFlight: the beta app review state after `--submit-beta-review`.
    pub beta_review: Option<String>,
    /// TestFlight: ids of the builds expired by this run.
    pub expired_builds: Vec<String>,
    /// What the run does (or would do, for `preflight` / `--dry-run`), step by step in order.
    pub plan: Vec<PlanStep>,
    /// App Store: the version, its settings and the review submission (`release`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseOutcome>,
}

/// What `release` did, or found when it refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReleaseOutcome {
    pub version_id: Option<String>,
    pub version_string: Option<String>,
    pub platform: Option<String>,
    /// appVersionState (PREPARE_FOR_SUBMISSION, WAITING_FOR_REVIEW, IN_REVIEW, …).
    pub version_state: Option<String>,
    /// MANUAL, AFTER_APPROVAL or SCHEDULED.
    pub release_type: Option<String>,
    pub earliest_release_date: Option<String>,
    pub phased_release: Option<bool>,
    /// Locales whose What's New was written.
    pub whats_new: Vec<String>,
    pub submission_id: Option<String>,
    /// READY_FOR_REVIEW, WAITING_FOR_REVIEW, IN_REVIEW, UNRESOLVED_ISSUES, CANCELING, COMPLETE.
    pub submission_state: Option<String>,
    /// Submissions cancelled first (`--cancel-pending`).
    pub canceled_submissions: Vec<String>,
    /// Each missing field, when the preflight refused.
    pub missing: Vec<String>,
}

/// The kind of a beta group, as the distribution treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    Internal,
    /// Internal with access to all builds: gets every VALID build by itself.
    InternalAll,
    External,
}

/// What happened to one requested group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupResult {
    Added,
    Already,
    Skipped,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupOutcome {
    pub name: String,
    pub id: String,
    pub kind: GroupKind,
    pub result: GroupResult,
    pub message: Option<String>,
}

/// One step of a plan; `ok: false` is a problem that stops the run, with its exit code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub step: String,
    pub detail: String,
    pub ok: bool,
    pub exit_code: Option<i32>,
    pub fix: Option<String>,
    /// The problem's class, so the run that made the plan fails with it. Not serialised: the
    /// written plan carries the exit code, and a plan read back is only reported.
    #[serde(skip)]
    pub kind: Option<crate::ErrorKind>,
}

impl Outcome {
    pub fn new() -> Self {
        Outcome {
            schema_version: SCHEMA_VERSION,
            ..Outcome::default()
        }
    }

    /// Records a stage's duration. Stages run one after another, so it starts where the latest
    /// stage recorded so far ended (`total`, which spans them all, is not a stage).
    pub fn time(&mut self, stage: &str, d: std::time::Duration) {
        let start = if stage == TOTAL_STAGE {
            0
        } else {
            self.timings
                .iter()
                .filter(|t| t.stage != TOTAL_STAGE)
                .map(|t| t.start_ms.unwrap_or(0).saturating_add(t.millis))
                .max()
                .unwrap_or(0)
        };
        self.time_at(stage, start, d);
    }

    /// Records a stage whose start offset (ms from the first stage's start) the caller knows.
    pub fn time_at(&mut self, stage: &str, start_ms: u64, d: std::time::Duration) {
        self.timings.push(StageTiming {
            stage: stage.to_string(),
            millis: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            start_ms: Some(start_ms),
        });
    }

    /// Records the error that ended the run.
    pub fn fail(&mut self, err: &crate::Error) {
        if self.status != Status::Rejected {
            self.status = Status::Failed;
        }
        self.exit_code = err.exit_code();
        self.error = Some(err.to_json());
    }
}

/// `validate::Finding` is Serialize-only (the validator never reads findings back); the outcome
/// reads them through this mirror so `report --from` works without widening that type.
mod finding_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::validate::{Finding, finding::Severity};

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum SeverityRepr {
        Error,
        Warning,
    }

    #[derive(Deserialize)]
    struct FindingRepr {
        #[serde(default)]
        code: String,
        severity: SeverityRepr,
        #[serde(default)]
        path: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        fix: String,
    }

    pub fn serialize<S: Serializer>(v: &[Finding], s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Finding>, D::Error> {
        let reprs = Vec::<FindingRepr>::deserialize(d)?;
        Ok(reprs
            .into_iter()
            .map(|r| Finding {
                code: r.code,
                severity: match r.severity {
                    SeverityRepr::Error => Severity::Error,
                    SeverityRepr::Warning => Severity::Warning,
                },
                path: r.path,
                message: r.message,
                fix: r.fix,
            })
            .collect())
    }
}

/// The app's TestFlight page in App Store Connect for the build's platform (an API platform name;
/// iOS when it is missing or unknown, as App Store Connect assumes).
pub fn testflight_url(app_id: &str, platform: Option<&str>) -> String {
    let segment = platform
        .and_then(crate::ipa::Platform::from_api_str)
        .unwrap_or_default()
        .testflight_segment();
    format!("https://appstoreconnect.apple.com/apps/{app_id}/testflight/{segment}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stages_start_where_the_previous_one_ended() {
        let mut o = Outcome::new();
        o.time("validate", Duration::from_millis(100));
        o.time("preflight", Duration::from_millis(50));
        o.time("total", Duration::from_millis(400));
        o.time("upload", Duration::from_millis(200));
        let starts: Vec<Option<u64>> = o.timings.iter().map(|t| t.start_ms).collect();
        assert_eq!(starts, [Some(0), Some(100), Some(0), Some(150)]);
    }

    #[test]
    fn round_trips_through_json_with_findings() {
        let mut o = Outcome::new();
        o.status = Status::Rejected;
        o.findings = vec![crate::validate::Finding::error(
            "ITMS-90056",
            "Payload/A.app/Info.plist",
            "m",
            "f",
        )];
        o.apple_messages.push(Message {
            level: "error".into(),
            code: Some("ITMS-90725".into()),
            description: "SDK too old".into(),
        });
        o.time("validate", Duration::from_millis(10));
        let text = serde_json::to_string(&o).unwrap_or_default();
        let back: Outcome = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back.status, Status::Rejected);
        assert_eq!(back.findings, o.findings);
        assert_eq!(back.apple_messages, o.apple_messages);
        assert_eq!(back.timings, o.timings);
        // Older documents without the newer fields still load.
        let old: Outcome = serde_json::from_str(r#"{"status":"success","timings":[{"stage":"upload","millis":5}]}"#)
            .unwrap_or_default();
        assert_eq!(old.status, Status::Success);
        assert_eq!(old.timings[0].start_ms, None);
    }
}
