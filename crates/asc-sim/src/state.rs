//! The simulator's records (apps, build uploads, upload files, builds, pre-release versions, and
//! the TestFlight records of `beta.rs`), the state machines that move them, and their persistence
//! as one JSON file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::keys;
use super::{ProcessingResult, SimError};

/// Apple's part size for upload operations: 5 MiB.
pub(crate) const PART_SIZE: u64 = 5 * 1024 * 1024;
/// Pre-signed part URLs live 7 days, like Apple's.
pub(crate) const URL_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;
/// TestFlight builds expire 90 days after upload.
pub(crate) const BUILD_LIFETIME_MS: i64 = 90 * 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct App {
    pub id: String,
    pub bundle_id: String,
    pub name: String,
    pub sku: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum UploadState {
    AwaitingUpload,
    Processing,
    Failed,
    Complete,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::AwaitingUpload => "AWAITING_UPLOAD",
            UploadState::Processing => "PROCESSING",
            UploadState::Failed => "FAILED",
            UploadState::Complete => "COMPLETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StateDetail {
    pub code: String,
    pub description: String,
}

/// What processing will do to an upload, fixed at commit time so a restart keeps the plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProcessingPlan {
    pub committed_at: i64,
    pub duration_ms: i64,
    /// "valid", "invalid" or "failed:CODE".
    pub result: String,
    /// ITMS codes attached as `state.warnings` when the verdict is valid.
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Upload {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub short_version: String,
    pub version: String,
    pub platform: String,
    pub created: i64,
    pub uploaded: Option<i64>,
    pub state: UploadState,
    pub errors: Vec<StateDetail>,
    pub warnings: Vec<StateDetail>,
    pub infos: Vec<StateDetail>,
    pub build_id: Option<String>,
    /// Files reserved for this upload, by asset type ("ASSET", ...).
    pub files: BTreeMap<String, String>,
    pub plan: Option<ProcessingPlan>,
    /// `MinimumOSVersion` read from the committed IPA, when it was one.
    #[serde(default)]
    pub min_os_version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum AssetState {
    AwaitingUpload,
    Complete,
}

impl AssetState {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetState::AwaitingUpload => "AWAITING_UPLOAD",
            AssetState::Complete => "COMPLETE",
        }
    }
}

/// One planned part: bytes `[offset, offset + length)` of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PartPlan {
    pub number: u64,
    pub offset: u64,
    pub length: u64,
}

/// A part that arrived whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PartReceived {
    pub length: u64,
    /// Uppercase hex MD5 of the part.
    pub md5: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileChecksums {
    /// Echoed only when the commit carried one (Apple answers `file: null` otherwise).
    #[serde(default)]
    pub file_md5: Option<String>,
    pub composite_md5: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UploadFile {
    pub id: String,
    pub seq: u64,
    pub upload_id: String,
    pub asset_type: String,
    pub file_name: String,
    pub file_size: u64,
    pub uti: String,
    /// Checked on every part PUT, like an S3 signature.
    pub token: String,
    pub created: i64,
    /// Parts in the (shuffled) order they are listed in `uploadOperations`.
    pub parts: Vec<PartPlan>,
    pub received: BTreeMap<u64, PartReceived>,
    pub state: AssetState,
    pub checksums: Option<FileChecksums>,
}

impl UploadFile {
    /// Part numbers that have not arrived whole, in order.
    pub fn missing_parts(&self) -> Vec<u64> {
        let mut missing: Vec<u64> = self
            .parts
            .iter()
            .filter(|p| self.received.get(&p.number).is_none_or(|r| r.length != p.length))
            .map(|p| p.number)
            .collect();
        missing.sort_unstable();
        missing
    }

    pub fn part(&self, number: u64) -> Option<&PartPlan> {
        self.parts.iter().find(|p| p.number == number)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Build {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub upload_id: String,
    pub pre_release_version_id: String,
    pub beta_detail_id: String,
    pub version: String,
    pub uploaded: i64,
    pub processing_state: String,
    pub uses_non_exempt_encryption: Option<bool>,
    pub expired: bool,
    pub min_os_version: String,
    /// `buildBetaDetail.autoNotifyEnabled`.
    #[serde(default)]
    pub auto_notify: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PreReleaseVersion {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub version: String,
    pub platform: String,
}

/// All simulator records.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Store {
    pub apps: Vec<App>,
    pub uploads: BTreeMap<String, Upload>,
    pub files: BTreeMap<String, UploadFile>,
    pub builds: BTreeMap<String, Build>,
    pub pre_release_versions: BTreeMap<String, PreReleaseVersion>,
    /// Creation counter: lists sort by it, so order survives restarts.
    pub seq: u64,
    /// TestFlight records (groups, testers, localizations, submissions, review information).
    #[serde(default)]
    pub beta: super::beta::BetaStore,
    /// App Store release records (versions, localizations, review submissions, …).
    #[serde(default)]
    pub app_store: super::app_store::AppStoreStore,
    /// `autoNotifyEnabled` given to new builds; comes from the configuration at every start.
    #[serde(skip)]
    pub auto_notify_default: bool,
}

pub(crate) const STATE_FILE: &str = "state.json";

impl Store {
    /// Loads `dir/state.json` if it exists.
    pub fn load(dir: &Path) -> Result<Option<Store>, SimError> {
        let path = dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| SimError::StateCorrupt {
                    path,
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SimError::StateDir { path, source }),
        }
    }

    /// Writes `dir/state.json` atomically (temp file + rename), so a kill mid-write cannot
    /// leave half a state behind.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, dir.join(STATE_FILE))
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq = self.seq.saturating_add(1);
        self.seq
    }

    /// Adds an app unless one with that bundle id exists.
    pub fn seed_app(&mut self, bundle_id: &str, app_id: &str) {
        if self.apps.iter().any(|a| a.bundle_id == bundle_id) {
            return;
        }
        let tail = bundle_id.rsplit('.').next().unwrap_or(bundle_id);
        let mut name: String = tail.to_owned();
        if let Some(first) = name.get(..1) {
            name = format!("{}{}", first.to_ascii_uppercase(), name.get(1..).unwrap_or(""));
        }
        self.apps.push(App {
            id: app_id.to_owned(),
            bundle_id: bundle_id.to_owned(),
            name,
            sku: bundle_id.replace('.', "-").to_ascii_uppercase(),
        });
    }

    pub fn app(&self, id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.id == id)
    }

    /// The upload already holding (app, platform, short version, build number), if any.
    pub fn duplicate_of(&self, app_id: &str, platform: &str, short_version: &str, version: &str) -> Option<&Upload> {
        self.uploads.values().find(|u| {
            u.app_id == app_id && u.platform == platform && u.short_version == short_version && u.version == version
        })
    }

    /// The highest build number used in a version train (for the 409's `previousBundleVersion`).
    pub fn highest_version(&self, app_id: &str, platform: &str, short_version: &str) -> Option<String> {
        self.uploads
            .values()
            .filter(|u| u.app_id == app_id && u.platform == platform && u.short_version == short_version)
            .map(|u| u.version.clone())
            .max_by(|a, b| compare_versions(a, b))
    }

    /// Moves every upload in PROCESSING along its plan up to `now`. Returns whether anything
    /// changed (so the caller persists).
    pub fn advance(&mut self, now: i64) -> bool {
        let due: Vec<String> = self
            .uploads
            .values()
            .filter(|u| u.state == UploadState::Processing && u.plan.is_some())
            .map(|u| u.id.clone())
            .collect();
        let mut changed = false;
        for id in due {
            changed |= self.advance_upload(&id, now);
        }
        changed
    }

    fn advance_upload(&mut self, id: &str, now: i64) -> bool {
        let Some(upload) = self.uploads.get(id) else {
            return false;
        };
        let Some(plan) = upload.plan.clone() else {
            return false;
        };
        let result: ProcessingResult = plan.result.parse().unwrap_or(ProcessingResult::Valid);
        let elapsed = now.saturating_sub(plan.committed_at);
        let mut changed = false;
        // Halfway through, Apple has created the Build record (still PROCESSING).
        if elapsed >= plan.duration_ms / 2
            && upload.build_id.is_none()
            && !matches!(result, ProcessingResult::Failed(_))
        {
            self.create_build(id, now);
            changed = true;
        }
        if elapsed >= plan.duration_ms {
            self.finish(id, &result, &plan.warnings);
            changed = true;
        }
        changed
    }

    fn create_build(&mut self, upload_id: &str, now: i64) {
        let Some(upload) = self.uploads.get(upload_id).cloned() else {
            return;
        };
        let prv_id =
            match self.pre_release_versions.values().find(|p| {
                p.app_id == upload.app_id && p.version == upload.short_version && p.platform == upload.platform
            }) {
                Some(p) => p.id.clone(),
                None => {
                    let seq = self.next_seq();
                    let prv = PreReleaseVersion {
                        id: keys::uuid(),
                        seq,
                        app_id: upload.app_id.clone(),
                        version: upload.short_version.clone(),
                        platform: upload.platform.clone(),
                    };
                    let id = prv.id.clone();
                    self.pre_release_versions.insert(id.clone(), prv);
                    id
                }
            };
        let seq = self.next_seq();
        let build = Build {
            id: keys::uuid(),
            seq,
            app_id: upload.app_id.clone(),
            upload_id: upload.id.clone(),
            pre_release_version_id: prv_id,
            beta_detail_id: keys::uuid(),
            version: upload.version.clone(),
            uploaded: upload.uploaded.unwrap_or(now),
            processing_state: "PROCESSING".into(),
            uses_non_exempt_encryption: None,
            expired: false,
            min_os_version: upload.min_os_version.clone().unwrap_or_else(|| "16.0".into()),
            auto_notify: self.auto_notify_default,
        };
        if let Some(u) = self.uploads.get_mut(upload_id) {
            u.build_id = Some(build.id.clone());
        }
        self.builds.insert(build.id.clone(), build);
    }

    fn finish(&mut self, upload_id: &str, result: &ProcessingResult, warnings: &[String]) {
        let Some(upload) = self.uploads.get_mut(upload_id) else {
            return;
        };
        upload.plan = None;
        let build_id = upload.build_id.clone();
        let verdict = match result {
            ProcessingResult::Valid => {
                upload.state = UploadState::Complete;
                upload
                    .warnings
                    .extend(warnings.iter().map(|c| super::beta::warning_for(c)));
                "VALID"
            }
            ProcessingResult::Invalid => {
                upload.state = UploadState::Failed;
                upload.errors.push(detail_for("90683"));
                "INVALID"
            }
            ProcessingResult::Failed(code) => {
                upload.state = UploadState::Failed;
                upload.errors.push(detail_for(code));
                "FAILED"
            }
        };
        if let Some(build) = build_id.and_then(|b| self.builds.get_mut(&b)) {
            build.processing_state = verdict.into();
        }
    }
}

/// Apple's description for a processing error code (the texts its emails and `state.errors`
/// carry), ending with the code in parentheses like Apple's.
pub(crate) fn detail_for(code: &str) -> StateDetail {
    let text = match code {
        "90725" => {
            "SDK version issue. This app was built with the iOS 17.5 SDK. All iOS and iPadOS apps must be built with the iOS 18 SDK or later, included in Xcode 16 or later, in order to be uploaded to App Store Connect or submitted for distribution."
        }
        "90683" => {
            "Missing purpose string in Info.plist. Your app's code references one or more APIs that access sensitive user data, or the app has one or more entitlements that permit such access. The Info.plist file for the \"Payload/Demo.app\" bundle should contain a NSCameraUsageDescription key with a user-facing purpose string explaining clearly and completely why your app needs the data."
        }
        "90054" | "90055" => {
            "Invalid Bundle Identifier. The bundle identifier of the uploaded build does not match the bundle identifier of the app record."
        }
        "90062" => {
            "This bundle is invalid. The value for key CFBundleShortVersionString must contain a higher version than that of the previously approved version."
        }
        "90186" => "Invalid Pre-Release Train. The train version is closed for new build submissions.",
        "90478" => {
            "Invalid Version. The build with the version was previously approved and a later version has been closed."
        }
        "90189" => {
            "Redundant Binary Upload. You've already uploaded a build with this build number for this version number."
        }
        _ => "The uploaded build could not be processed.",
    };
    StateDetail {
        code: code.to_owned(),
        description: format!("{text} ({code})"),
    }
}

/// Orders dotted build numbers numerically ("10" > "9", "1.2.10" > "1.2.9").
pub(crate) fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a).cmp(&parse(b)).then_with(|| a.cmp(b))
}

/// Where a part's bytes live when a state directory is used.
pub(crate) fn part_path(dir: &Path, file_id: &str, number: u64) -> PathBuf {
    dir.join("parts").join(file_id).join(number.to_string())
}

/// Splits a file of `size` bytes into Apple's 5 MiB parts, in order.
pub(crate) fn plan_parts(size: u64) -> Vec<PartPlan> {
    let mut parts = Vec::new();
    let mut offset = 0u64;
    let mut number = 1u64;
    while offset < size {
        let length = PART_SIZE.min(size - offset);
        parts.push(PartPlan { number, offset, length });
        offset += length;
        number += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_five_mib_with_a_remainder() {
        let p = plan_parts(PART_SIZE * 2 + 7);
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].offset, PART_SIZE * 2);
        assert_eq!(p[2].length, 7);
        assert_eq!(plan_parts(1).len(), 1);
        assert_eq!(plan_parts(PART_SIZE).len(), 1);
    }

    #[test]
    fn versions_compare_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("10", "9"), Greater);
        assert_eq!(compare_versions("1.2.9", "1.2.10"), Less);
    }

    #[test]
    fn descriptions_end_with_the_code() {
        assert!(detail_for("90725").description.ends_with("(90725)"));
        assert!(detail_for("90725").description.starts_with("SDK version issue"));
    }
}
