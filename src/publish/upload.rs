//! The upload engine: app lookup, build-number preflight, reservation (`buildUploads` +
//! `buildUploadFiles`), parts (whose bytes give the commit's MD5), commit, and the wait for
//! processing. It takes an [`UploadRequest`] and so does not depend on the IPA reader.
//!
//! The file must not change while it is uploaded: its identity (size, times, inode) is recorded
//! when the engine starts and checked before the commit, and the commit's checksum is of the
//! bytes sent, so neither a rewritten nor a replaced IPA is ever committed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::asc::error::AscError;
use crate::asc::retry::RetryPolicy;
use crate::asc::{
    AscClient, AssetDeliveryState, BuildUploadRecord, BuildUploadState, NewBuildUpload, NewUploadFile,
    UploadFileRecord, build_uploads,
};
use crate::error::Error;
use crate::outcome::{Outcome, Status, UploadMode};
use crate::publish::checksum::{FileIdentity, FileMd5};
use crate::publish::commit;
use crate::publish::error::PublishError;
use crate::publish::events::Events;
use crate::publish::parts::{self, PartsConfig};
use crate::publish::preflight::{self, Plan};
use crate::publish::processing::{self, WaitConfig, since};
use crate::publish::progress::{Progress, ProgressMode, mib};
use crate::publish::uploaded::Uploaded;

/// What to upload, as read from the IPA (or given by a test).
#[derive(Debug, Clone)]
pub struct UploadRequest {
    pub ipa_path: PathBuf,
    pub file_name: String,
    pub file_size: u64,
    pub bundle_id: String,
    pub short_version: String,
    pub version: String,
    /// `IOS`, `TV_OS`, `MAC_OS` or `VISION_OS`.
    pub platform: String,
    /// Info.plist's ITSAppUsesNonExemptEncryption, if set.
    pub uses_non_exempt_encryption: Option<bool>,
}

impl UploadRequest {
    /// Puts what identifies this build (bundle id, version, build number, platform, size) on the
    /// outcome, first thing in every upload path, so even a run that fails early names the build.
    pub fn record_in(&self, outcome: &mut Outcome) {
        outcome.bundle_id = Some(self.bundle_id.clone());
        outcome.version = Some(self.short_version.clone());
        outcome.build_number = Some(self.version.clone());
        outcome.platform = Some(self.platform.clone());
        outcome.file_size = self.file_size;
    }

    /// The file's identity when an upload path starts, to check before it commits; a file whose
    /// size is no longer the one inspected has already changed.
    pub fn identity(&self) -> Result<FileIdentity, PublishError> {
        let identity = FileIdentity::of(&self.ipa_path)?;
        if identity.size != self.file_size {
            return Err(PublishError::FileChanged {
                path: self.ipa_path.display().to_string(),
                detail: format!(
                    "it was {} bytes when inspected and is {} now",
                    self.file_size, identity.size
                ),
            });
        }
        Ok(identity)
    }
}

/// How to upload.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    pub app_id: Option<String>,
    pub concurrency: usize,
    pub wait: bool,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub poll_max_interval: Duration,
    /// The `--uses-non-exempt-encryption` answer; overrides Info.plist.
    pub uses_non_exempt_encryption: Option<bool>,
    pub progress: ProgressMode,
    pub part_retry: RetryPolicy,
    pub verbose: bool,
    /// Where the status lines go (nowhere: tests, JSON-only callers; the progress bar is
    /// silent then too).
    pub events: Events,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            app_id: None,
            concurrency: 8,
            wait: true,
            timeout: Duration::from_secs(30 * 60),
            poll_interval: Duration::from_secs(5),
            poll_max_interval: Duration::from_secs(30),
            uses_non_exempt_encryption: None,
            progress: ProgressMode::Lines,
            part_retry: RetryPolicy {
                max_attempts: 5,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
                max_total: Duration::from_secs(600),
            },
            verbose: false,
            events: Events::none(),
        }
    }
}

/// Runs the whole upload onto the run's outcome: the build's identity first, then whatever
/// [`upload`] established, also on error.
pub async fn run_upload(
    client: &AscClient,
    parts_http: &reqwest::Client,
    req: &UploadRequest,
    opts: &UploadOptions,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    req.record_in(outcome);
    let (uploaded, r) = upload(client, parts_http, req, opts).await;
    uploaded.record_in(outcome);
    r
}

/// Runs the whole upload: what it established (as far as it got) and how it ended.
pub async fn upload(
    client: &AscClient,
    parts_http: &reqwest::Client,
    req: &UploadRequest,
    opts: &UploadOptions,
) -> (Uploaded, Result<(), Error>) {
    let mut up = Uploaded::default();
    let r = run_inner(client, parts_http, req, opts, &mut up).await;
    up.requests = client.stats().requests();
    (up, r)
}

async fn run_inner(
    client: &AscClient,
    parts_http: &reqwest::Client,
    req: &UploadRequest,
    opts: &UploadOptions,
    up: &mut Uploaded,
) -> Result<(), Error> {
    let clock = client.clock();
    let identity = req.identity()?;
    // Only re-run detection needs a checksum before anything is sent; read the file only then.
    let md5 = &FileMd5::on_demand(&req.ipa_path);
    let say = |s: &str| opts.events.step(s);

    // 1. The app and the build number.
    let t = clock.now();
    let app_id = match &opts.app_id {
        Some(id) => preflight::check_app(client, id, &req.bundle_id).await?,
        None => preflight::find_app(client, &req.bundle_id).await?,
    };
    up.app_id = Some(app_id.clone());
    up.app_store_connect_url = Some(crate::outcome::testflight_url(&app_id, Some(&req.platform)));
    let plan = preflight::plan(client, &app_id, req, md5, &mut up.warnings).await?;
    up.time("preflight", since(clock.now(), t));

    // 2. Reservation and parts.
    let (upload_id, file) = match plan {
        Plan::AlreadyUploaded { upload } => {
            say(&format!(
                "{} ({}) was already uploaded from this file (upload {}); not sending it again",
                req.short_version, req.version, upload.id
            ));
            up.upload_mode = Some(UploadMode::AlreadyUploaded);
            up.upload_id = Some(upload.id.clone());
            up.md5 = Some(md5.get().await?);
            if let Some(b) = &upload.build_id {
                up.build_id = Some(b.clone());
            }
            (upload.id.clone(), None)
        }
        Plan::Resume { upload, file } => {
            say(&format!(
                "resuming the interrupted upload {} for {} ({})",
                upload.id, req.short_version, req.version
            ));
            up.upload_mode = Some(UploadMode::Resumed);
            (upload.id.clone(), Some(*file))
        }
        Plan::New => {
            let upload = create_upload(client, &app_id, req).await?;
            say(&format!(
                "reserved upload {} for {} ({})",
                upload.id, req.short_version, req.version
            ));
            let file = create_file(client, &upload.id, req).await?;
            up.upload_mode = Some(UploadMode::New);
            (upload.id.clone(), Some(file))
        }
    };
    up.upload_id = Some(upload_id.clone());

    if let Some(file) = file {
        up.upload_file_id = Some(file.id.clone());
        let ops = file.operations.clone().unwrap_or_default();
        let parts = parts::validate_operations(&ops, req.file_size, clock.now())?;
        say(&format!(
            "uploading {} in {} parts ({} at a time)",
            mib(req.file_size),
            parts.len(),
            opts.concurrency.max(1)
        ));
        let t = clock.now();
        let progress = Arc::new(Progress::new(
            if !opts.events.is_heard() {
                ProgressMode::Silent
            } else {
                opts.progress
            },
            req.file_size,
        ));
        let cfg = PartsConfig {
            concurrency: opts.concurrency,
            retry: opts.part_retry,
            verbose: opts.verbose,
            events: opts.events.clone(),
        };
        let report =
            parts::upload_parts(parts_http, &req.ipa_path, parts, &cfg, progress.clone(), clock.clone()).await?;
        progress.finish();
        up.bytes_sent = Some(report.bytes_sent);
        up.time("upload", since(clock.now(), t));

        // The checksum of what the parts sent; the file must still be the one inspected.
        let t = clock.now();
        identity.check(&req.ipa_path)?;
        let digest = report.md5.clone();
        up.md5 = Some(digest.clone());
        up.time("checksum", since(clock.now(), t));

        let t = clock.now();
        let committed = commit::commit(client, &upload_id, &file.id, &digest, &opts.events).await?;
        up.time("commit", since(clock.now(), t));
        for d in &committed.warnings {
            up.apple_messages.push(processing::message("warning", d));
        }
        for d in &committed.errors {
            up.apple_messages.push(processing::message("error", d));
        }
        if committed.state == AssetDeliveryState::Failed {
            up.status = Some(Status::Rejected);
            return Err(PublishError::Rejected("App Store Connect refused the uploaded file".into()).into());
        }
        say(&format!(
            "upload committed{}",
            if committed.reconciled {
                " (confirmed by reading it back)"
            } else {
                ""
            }
        ));
    }

    if !opts.wait {
        up.status = Some(Status::Uploaded);
        return Ok(());
    }
    let t = clock.now();
    let cfg = WaitConfig {
        timeout: opts.timeout,
        interval: opts.poll_interval,
        max_interval: opts.poll_max_interval,
        uses_non_exempt_encryption: opts.uses_non_exempt_encryption.or(req.uses_non_exempt_encryption),
        events: opts.events.clone(),
    };
    say("waiting for App Store Connect to process the build");
    let mut processed = processing::Processed {
        upload_id: up.upload_id.clone(),
        app_id: up.app_id.clone(),
        version: Some(req.short_version.clone()),
        build_number: Some(req.version.clone()),
        platform: Some(req.platform.clone()),
        build_id: up.build_id.clone(),
        upload_state: None,
        processing_state: None,
        uses_non_exempt_encryption: None,
        apple_messages: up.apple_messages.clone(),
        warnings: Vec::new(),
    };
    let r = processing::wait(client, &upload_id, &cfg, &mut processed).await;
    up.processed = Some(processed);
    up.time("processing", since(clock.now(), t));
    match r {
        Ok(()) => {
            up.status = Some(Status::Success);
            Ok(())
        }
        Err(e) => {
            if e.kind() == crate::ErrorKind::Rejected {
                up.status = Some(Status::Rejected);
            }
            Err(e)
        }
    }
}

/// `POST /v1/buildUploads`; a lost answer is reconciled by listing this version/build's uploads.
async fn create_upload(client: &AscClient, app_id: &str, req: &UploadRequest) -> Result<BuildUploadRecord, Error> {
    let new = NewBuildUpload {
        app_id,
        short_version: &req.short_version,
        build_number: &req.version,
        platform: &req.platform,
    };
    for round in 0..2 {
        match build_uploads::create(client, &new).await {
            Ok(upload) => return Ok(upload),
            Err(AscError::Api(a)) if a.status == 409 && a.has_code("ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE") => {
                return Err(preflight::duplicate(client, app_id, req, &a).await);
            }
            Err(AscError::Ambiguous { message, .. }) => {
                let found = preflight::list_uploads(client, app_id, req, Some(&req.version)).await?;
                if let Some(u) = found.into_iter().find(|u| {
                    u.status
                        .as_ref()
                        .is_some_and(|s| s.state == BuildUploadState::AwaitingUpload)
                }) {
                    return Ok(u);
                }
                if round == 1 {
                    return Err(PublishError::CommitNotConfirmed(message).into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PublishError::CommitNotConfirmed("no answer to creating the upload".into()).into())
}

/// `POST /v1/buildUploadFiles`; a lost answer is reconciled by listing the upload's files.
async fn create_file(client: &AscClient, upload_id: &str, req: &UploadRequest) -> Result<UploadFileRecord, Error> {
    let uti = if req.platform == "MAC_OS" {
        "com.apple.pkg"
    } else {
        "com.apple.ipa"
    };
    let new = NewUploadFile {
        upload_id,
        file_name: &req.file_name,
        file_size: req.file_size,
        uti,
    };
    for round in 0..2 {
        match build_uploads::create_file(client, &new).await {
            Ok(file) => return Ok(file),
            Err(AscError::Ambiguous { message, .. }) => {
                let files = build_uploads::files(client, upload_id).await?;
                if let Some(f) = files
                    .into_iter()
                    .find(|f| f.file_size == Some(req.file_size) && f.operations.is_some())
                {
                    return Ok(f);
                }
                if round == 1 {
                    return Err(PublishError::CommitNotConfirmed(message).into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PublishError::CommitNotConfirmed("no answer to reserving the file".into()).into())
}
