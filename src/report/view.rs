//! `RunView`: the flat, serialisable picture of one run that every CI renderer draws from.
//!
//! The pipeline's `Outcome` is converted into this view at the edge; renderers (Markdown, workflow
//! commands, dotenv, envman, PR comments) depend on this type only, so they can be tested with
//! hand-built values and never see a client, a token or a file handle.

use serde::{Deserialize, Serialize};

/// Everything a report shows about one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    /// Display name of the app (`CFBundleDisplayName` or `CFBundleName`).
    pub app_name: String,
    pub bundle_id: String,
    /// `CFBundleShortVersionString`.
    pub version: String,
    /// `CFBundleVersion`.
    pub build_number: String,
    pub verdict: Verdict,
    /// The furthest stage the run reached (started), if any.
    pub reached: Option<StageName>,
    /// Stages in the order they ran.
    pub stages: Vec<StageTiming>,
    pub findings: Vec<FindingView>,
    /// Apple's processing errors and warnings for the build.
    pub apple_messages: Vec<AppleMessage>,
    pub upload: Option<UploadStats>,
    pub ids: Ids,
    /// The build's platform as the API names it (`IOS`, `MAC_OS`, …); picks the App Store
    /// Connect address. Absent in views saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Processing state as Apple reports it (e.g. `VALID`, `PROCESSING`, `INVALID`).
    pub processing_state: Option<String>,
    pub groups: Vec<GroupResult>,
    /// The App Store release (`upload --release`), when one was made or refused. Absent in views
    /// saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseView>,
}

/// Where the App Store release stands, for the CI outputs and the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReleaseView {
    /// The App Store version string. Absent in views saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_string: Option<String>,
    /// Each field App Review would miss, when the release was refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// appVersionState (PREPARE_FOR_SUBMISSION, WAITING_FOR_REVIEW, …).
    pub version_state: Option<String>,
    pub submission_id: Option<String>,
    /// The review submission's state (WAITING_FOR_REVIEW, IN_REVIEW, COMPLETE, …).
    pub submission_state: Option<String>,
}

/// How the run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    #[default]
    Success,
    /// Local validation found errors; nothing was uploaded.
    RejectedByValidation,
    /// Apple's processing marked the build INVALID/FAILED.
    RejectedByApple,
    /// The run stopped on an error (auth, conflict, transient...).
    Failed {
        /// `crate::ErrorKind` in snake_case (e.g. `auth`, `transient`).
        kind: String,
        message: String,
        hint: Option<String>,
    },
}

impl Verdict {
    /// One word for headlines and check-run titles.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Success => "Published",
            Verdict::RejectedByValidation => "Rejected by validation",
            Verdict::RejectedByApple => "Rejected by Apple",
            Verdict::Failed { .. } => "Failed",
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, Verdict::Success)
    }
}

/// The pipeline stages a report knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    Validate,
    Upload,
    Processing,
    Distribution,
}

impl StageName {
    pub fn label(self) -> &'static str {
        match self {
            StageName::Validate => "Validate",
            StageName::Upload => "Upload",
            StageName::Processing => "Processing",
            StageName::Distribution => "Distribution",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    Done,
    Failed,
    Skipped,
}

/// When a stage started (relative to the run start) and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: StageName,
    pub start_ms: u64,
    pub duration_ms: u64,
    pub status: StageStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Notice,
}

/// A local validation finding (mirrors `validate::Finding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    pub code: String,
    pub severity: Level,
    /// Path inside the IPA; empty for the archive itself.
    pub path: String,
    pub message: String,
    pub fix: String,
}

/// One of Apple's processing messages for the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppleMessage {
    pub code: String,
    pub description: String,
    pub severity: Level,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadStats {
    pub bytes: u64,
    pub duration_ms: u64,
}

impl UploadStats {
    /// Throughput in MB/s (10^6 bytes), `None` when the duration is zero.
    pub fn mb_per_s(&self) -> Option<f64> {
        if self.duration_ms == 0 {
            return None;
        }
        Some(self.bytes as f64 / 1_000_000.0 / (self.duration_ms as f64 / 1000.0))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ids {
    pub app_id: Option<String>,
    pub upload_id: Option<String>,
    pub build_id: Option<String>,
}

impl RunView {
    /// App Store Connect page of the build, once both ids are known.
    pub fn asc_url(&self) -> Option<String> {
        let app = self.ids.app_id.as_deref().filter(|s| url_safe_id(s))?;
        let build = self.ids.build_id.as_deref().filter(|s| url_safe_id(s))?;
        Some(format!(
            "{}/{build}",
            crate::outcome::testflight_url(app, self.platform.as_deref())
        ))
    }

    /// TestFlight page of the app in App Store Connect.
    pub fn testflight_url(&self) -> Option<String> {
        let app = self.ids.app_id.as_deref().filter(|s| url_safe_id(s))?;
        Some(crate::outcome::testflight_url(app, self.platform.as_deref()))
    }

    /// Findings and Apple messages with errors first, as reports list them.
    pub fn sorted_findings(&self) -> Vec<&FindingView> {
        let mut v: Vec<&FindingView> = self.findings.iter().collect();
        v.sort_by_key(|f| f.severity);
        v
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Internal,
    External,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum GroupOutcome {
    Added,
    Skipped { note: String },
    Failed { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupResult {
    pub name: String,
    pub kind: GroupKind,
    #[serde(flatten)]
    pub outcome: GroupOutcome,
}

/// Whether an id (from Apple, or a saved outcome) can go into a link as it is: Apple's ids are
/// digits, letters and dashes; anything else (`)`, spaces, `/`) could change where a link points.
fn url_safe_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_both_ids() {
        let mut v = RunView::default();
        assert_eq!(v.asc_url(), None);
        v.ids.app_id = Some("123".into());
        assert_eq!(v.asc_url(), None);
        assert_eq!(
            v.testflight_url().as_deref(),
            Some("https://appstoreconnect.apple.com/apps/123/testflight/ios")
        );
        v.ids.build_id = Some("b-9".into());
        assert_eq!(
            v.asc_url().as_deref(),
            Some("https://appstoreconnect.apple.com/apps/123/testflight/ios/b-9")
        );
    }

    #[test]
    fn urls_use_the_builds_platform() {
        let mut v = RunView::default();
        v.ids.app_id = Some("123".into());
        v.ids.build_id = Some("b-9".into());
        for (platform, segment) in [
            ("MAC_OS", "macos"),
            ("TV_OS", "tvos"),
            ("VISION_OS", "visionos"),
            ("IOS", "ios"),
        ] {
            v.platform = Some(platform.into());
            assert_eq!(
                v.asc_url().as_deref(),
                Some(format!("https://appstoreconnect.apple.com/apps/123/testflight/{segment}/b-9").as_str())
            );
            assert_eq!(
                v.testflight_url().as_deref(),
                Some(format!("https://appstoreconnect.apple.com/apps/123/testflight/{segment}").as_str())
            );
        }
    }

    #[test]
    fn throughput_handles_zero_duration() {
        assert_eq!(
            UploadStats {
                bytes: 10,
                duration_ms: 0
            }
            .mb_per_s(),
            None
        );
        let s = UploadStats {
            bytes: 50_000_000,
            duration_ms: 10_000,
        };
        assert!((s.mb_per_s().unwrap_or_default() - 5.0).abs() < 1e-9);
    }

    #[test]
    fn serialises_verdict_and_group_results_flat() {
        let g = GroupResult {
            name: "QA".into(),
            kind: GroupKind::External,
            outcome: GroupOutcome::Skipped {
                note: "already added".into(),
            },
        };
        let j = serde_json::to_value(&g).unwrap_or_default();
        assert_eq!(j["result"], "skipped");
        assert_eq!(j["note"], "already added");
        let v = serde_json::to_value(Verdict::Failed {
            kind: "auth".into(),
            message: "m".into(),
            hint: None,
        })
        .unwrap_or_default();
        assert_eq!(v["status"], "failed");
    }
}
