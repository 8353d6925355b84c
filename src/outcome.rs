//! The outcome of a run: the one serialisable result every reporter renders. A failed run still
//! produces one, with what was reached and the error.

use serde::Serialize;

/// Version of the JSON document; bumped on breaking changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// `error`, `warning` or `info`.
    pub level: String,
    /// ITMS code when Apple gave one (e.g. "ITMS-90725").
    pub code: Option<String>,
    pub description: String,
}

/// Milliseconds spent in one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTiming {
    pub stage: String,
    pub millis: u64,
}

/// How the upload step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadMode {
    /// A new reservation was made and uploaded.
    New,
    /// An interrupted reservation for the same version/build was finished.
    Resumed,
    /// The same file was already uploaded; nothing was sent.
    AlreadyUploaded,
}

#[derive(Debug, Clone, Serialize, Default)]
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
}

/// The kind of a beta group, as the distribution treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    Internal,
    /// Internal with access to all builds: gets every VALID build by itself.
    InternalAll,
    External,
}

/// What happened to one requested group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupResult {
    Added,
    Already,
    Skipped,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupOutcome {
    pub name: String,
    pub id: String,
    pub kind: GroupKind,
    pub result: GroupResult,
    pub message: Option<String>,
}

/// One step of a plan; `ok: false` is a problem that stops the run, with its exit code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanStep {
    pub step: String,
    pub detail: String,
    pub ok: bool,
    pub exit_code: Option<i32>,
    pub fix: Option<String>,
}

impl Outcome {
    pub fn new() -> Self {
        Outcome {
            schema_version: SCHEMA_VERSION,
            ..Outcome::default()
        }
    }

    pub fn time(&mut self, stage: &str, d: std::time::Duration) {
        self.timings.push(StageTiming {
            stage: stage.to_string(),
            millis: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
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
