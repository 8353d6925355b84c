//! The native backend: Apple's undocumented content-delivery protocol as ios-uploader 4.0 speaks it
//! (docs/apple-id.md). Sign in, look the app up, create the build record (Apple refuses a used
//! build number before any byte is sent; an interrupted upload's record is finished instead),
//! upload the asset description and the IPA through the shared part engine, commit, and poll the
//! verdict.
//!
//! The IPA must not change while it is delivered (issue 10), as on the API-key path: its identity
//! is recorded when the run starts and checked before the commit, and what was sent must be what
//! the checksum declared (see [`send_file`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use url::Url;

use futures_util::future::BoxFuture;

use crate::appleid::AppleIdError;
use crate::appleid::asset_description;
use crate::appleid::credentials::AppleIdCredentials;
use crate::appleid::provider::{ApiFailure, CallError, Provider, ProviderBuild};
use crate::appleid::session::Session;
use crate::asc::clock::SharedClock;
use crate::asc::retry::RetryPolicy;
use crate::error::Error;
use crate::outcome::{Message, Status, UploadMode};
use crate::publish::UploadRequest;
use crate::publish::Uploaded;
use crate::publish::checksum::{self, FileIdentity};
use crate::publish::error::PublishError;
use crate::publish::events::Events;
use crate::publish::parts::{self, PartsConfig};
use crate::publish::preflight::{compare_build_numbers, next_build_number};
use crate::publish::processing::{self, DeliveryLook, DeliveryRecord, Processed, WaitConfig, since};
use crate::publish::progress::{Progress, ProgressMode, mib};

/// Default content-delivery host.
pub const DEFAULT_CONTENT_DELIVERY_URL: &str = "https://contentdelivery.itunes.apple.com";

/// Settings of one native run.
#[derive(Debug, Clone)]
pub struct NativeOptions {
    pub base: Url,
    pub concurrency: usize,
    pub wait: bool,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub progress: ProgressMode,
    pub verbose: bool,
    /// Where the run's progress goes.
    pub events: Events,
}

impl NativeOptions {
    /// Where the content-delivery calls are told: the run's events with verbose, else nowhere.
    fn request_log(&self) -> Events {
        if self.verbose {
            self.events.clone()
        } else {
            Events::none()
        }
    }
}

/// Checks the content-delivery URL: https, or plain http to loopback only.
pub fn parse_base(s: &str) -> Result<Url, AppleIdError> {
    let u = Url::parse(s.trim())
        .map_err(|_| AppleIdError::BadUrl(format!("'{}' is not a URL", crate::asc::error::sanitize(s))))?;
    let ok = u.scheme() == "https" || (u.scheme() == "http" && crate::asc::client::is_loopback(&u));
    if !ok || u.host_str().is_none() {
        return Err(AppleIdError::BadUrl(format!(
            "the content-delivery URL must be https (plain http only to loopback), not {}",
            crate::asc::error::sanitize(s)
        )));
    }
    Ok(u)
}

/// Runs the whole native upload; `up` is filled in as far as the run got.
#[allow(clippy::too_many_arguments)]
pub async fn upload(
    http: &reqwest::Client,
    parts_http: &reqwest::Client,
    creds: &AppleIdCredentials,
    req: &UploadRequest,
    description: &asset_description::DescriptionInput,
    opts: &NativeOptions,
    clock: SharedClock,
    up: &mut Uploaded,
) -> Result<(), Error> {
    up.uses_non_exempt_encryption = req.uses_non_exempt_encryption;
    let identity = req.identity()?;

    let t = clock.now();
    let session = Session::sign_in(http, &opts.base, creds, opts.request_log()).await?;
    let token = session.apple_connect_token(creds).await?;
    let software = session.lookup(&req.bundle_id, creds).await?;
    let provider_id = creds
        .provider_public_id
        .clone()
        .unwrap_or_else(|| software.provider_public_id.clone());
    opts.events.step(format!(
        "signed in as {}; app {} (provider {})",
        crate::asc::error::sanitize(&creds.apple_id),
        software.apple_id,
        crate::asc::error::sanitize(&provider_id)
    ));
    let app = software.apple_id.clone();
    up.app_id = Some(app.clone());
    up.app_store_connect_url = Some(crate::outcome::testflight_url(&app, Some(&req.platform)));
    let provider = Provider::new(http, &opts.base, &provider_id, token.cookie(), opts.request_log())?;
    let r = run(
        &provider,
        parts_http,
        req,
        &identity,
        description,
        opts,
        &clock,
        &app,
        up,
        t,
    )
    .await;
    up.requests = session
        .requests
        .load(Ordering::Relaxed)
        .saturating_add(provider.requests.load(Ordering::Relaxed))
        .saturating_add(up.requests);
    r
}

#[allow(clippy::too_many_arguments)]
async fn run(
    provider: &Provider,
    parts_http: &reqwest::Client,
    req: &UploadRequest,
    identity: &FileIdentity,
    description: &asset_description::DescriptionInput,
    opts: &NativeOptions,
    clock: &SharedClock,
    app: &str,
    up: &mut Uploaded,
    started: std::time::SystemTime,
) -> Result<(), Error> {
    // 1. The build record. The records Apple lists do not name their version train, so only its
    //    answer to `POST builds` says whether this number is used in this train; a refusal comes
    //    before any byte is sent.
    let (build, mode) = match provider
        .create_build(app, &req.short_version, &req.version, &req.platform)
        .await
    {
        Ok(b) => (b, UploadMode::New),
        Err(CallError::Api(a)) if a.is_duplicate() => match resumable(provider, app, req).await? {
            Some(b) => (b, UploadMode::Resumed),
            None => return Err(duplicate(provider, app, req, &a).await),
        },
        Err(CallError::Lost(m)) => {
            // The record may exist now: it is the one nothing was delivered to.
            match resumable(provider, app, req).await? {
                Some(b) => (b, UploadMode::New),
                None => return Err(AppleIdError::Network(m).into()),
            }
        }
        Err(e) => return Err(AppleIdError::from(e).into()),
    };
    up.time("preflight", since(clock.now(), started));
    if mode == UploadMode::Resumed {
        opts.events.step(format!(
            "resuming build {} for {} ({}): an earlier upload created it and delivered nothing",
            build.id, req.short_version, req.version
        ));
    } else {
        opts.events.step(format!(
            "created build {} for {} ({})",
            build.id, req.short_version, req.version
        ));
    }
    up.upload_id = Some(build.id.clone());
    up.upload_mode = Some(mode);

    // 3. The asset description, then the IPA (processing starts with the IPA's commit).
    let dir =
        tempfile::tempdir().map_err(|e| AppleIdError::Ipa(format!("cannot create a temporary directory: {e}")))?;
    let desc_path = dir.path().join(asset_description::FILE_NAME);
    let bytes = asset_description::generate(description)?;
    std::fs::write(&desc_path, &bytes)
        .map_err(|e| AppleIdError::Ipa(format!("cannot write the asset description: {e}")))?;
    let desc_identity = FileIdentity::of(&desc_path)?;
    let desc = FileToSend {
        path: desc_path,
        name: asset_description::FILE_NAME.to_string(),
        size: bytes.len() as u64,
        asset_type: "ASSET_DESCRIPTION",
        uti: "com.apple.binary-property-list",
        quiet: true,
    };
    send_file(provider, parts_http, &build.id, &desc, &desc_identity, opts, clock, up).await?;
    let ipa = FileToSend {
        path: req.ipa_path.clone(),
        name: req.file_name.replace([':', ' '], "_"),
        size: req.file_size,
        asset_type: "ASSET",
        uti: "com.apple.ipa",
        quiet: false,
    };
    let t = clock.now();
    let reconciled = send_file(provider, parts_http, &build.id, &ipa, identity, opts, clock, up).await?;
    opts.events.step(format!(
        "upload committed{}",
        if reconciled {
            " (confirmed by reading it back)"
        } else {
            ""
        }
    ));
    up.time("upload", since(clock.now(), t));

    if !opts.wait {
        up.status = Some(Status::Uploaded);
        return Ok(());
    }
    opts.events.step("waiting for App Store Connect to process the build");
    let t = clock.now();
    let cfg = WaitConfig {
        timeout: opts.timeout,
        interval: opts.poll_interval.max(Duration::from_millis(50)),
        max_interval: Duration::from_secs(30),
        // Export compliance needs the API; an Apple ID sign-in cannot answer it.
        uses_non_exempt_encryption: None,
        events: opts.events.clone(),
    };
    let record = Record {
        provider,
        build: &build.id,
    };
    let mut processed = Processed::default();
    let r = processing::wait_for_delivery(&record, &build.id, clock.clone(), &cfg, &mut processed).await;
    up.time("processing", since(clock.now(), t));
    // The wait follows the content-delivery record, whose id is the upload's (`upload_id`), not
    // an App Store Connect build id: the outcome names no build.
    processed.build_id = None;
    up.processed = Some(processed);
    match &r {
        Ok(()) => up.status = Some(Status::Success),
        Err(e) if e.kind() == crate::ErrorKind::Rejected => up.status = Some(Status::Rejected),
        Err(_) => {}
    }
    r
}

/// The build record on the content-delivery service, as the processing wait reads it.
struct Record<'a> {
    provider: &'a Provider,
    build: &'a str,
}

impl DeliveryRecord for Record<'_> {
    fn look(&self) -> BoxFuture<'_, Result<DeliveryLook, Error>> {
        Box::pin(async move {
            let b: ProviderBuild = self.provider.build(self.build).await?;
            Ok(look(&b))
        })
    }
}

/// `processingState` is the verdict (`null` until Apple starts on the delivered files); the
/// messages carry bare numeric codes, which are ITMS codes.
fn look(b: &ProviderBuild) -> DeliveryLook {
    DeliveryLook {
        state: b.processing_state.clone(),
        messages: b
            .messages
            .iter()
            .map(|(level, code, d)| Message {
                level: level.clone(),
                code: code.as_ref().map(|c| {
                    if c.bytes().all(|x| x.is_ascii_digit()) {
                        format!("ITMS-{c}")
                    } else {
                        c.clone()
                    }
                }),
                description: d.clone(),
            })
            .collect(),
    }
}

struct FileToSend {
    path: std::path::PathBuf,
    name: String,
    size: u64,
    asset_type: &'static str,
    uti: &'static str,
    quiet: bool,
}

/// Reserve, PUT the parts, commit. Returns whether the commit was confirmed by reading back.
///
/// `identity` is the file as recorded when the run started. The protocol declares the file's MD5
/// (`sourceFileChecksum`) when the file is reserved, before any part is sent, and the commit
/// carries no checksum; so the declared MD5 comes from a read of the file, and before the commit
/// the MD5 of the bytes the parts actually sent (`sent_md5`) must equal it, and the file must
/// still be the one recorded. Otherwise Apple would be told it received one file while it
/// received (parts of) another, so the delivery is not committed ([`PublishError::FileChanged`]).
#[allow(clippy::too_many_arguments)]
async fn send_file(
    provider: &Provider,
    parts_http: &reqwest::Client,
    build: &str,
    f: &FileToSend,
    identity: &FileIdentity,
    opts: &NativeOptions,
    clock: &SharedClock,
    up: &mut Uploaded,
) -> Result<bool, Error> {
    let md5 = checksum::md5_file(&f.path).await?.to_ascii_uppercase();
    let file = provider
        .create_file(build, f.asset_type, &f.name, f.size, &md5, f.uti)
        .await?;
    let parts_list = parts::validate_operations(&file.operations, f.size, clock.now())?;
    if !f.quiet {
        up.upload_file_id = Some(file.id.clone());
        up.md5 = Some(md5.clone());
        opts.events.step(format!(
            "uploading {} in {} parts ({} at a time)",
            mib(f.size),
            parts_list.len(),
            opts.concurrency.max(1)
        ));
    }
    let mode = if f.quiet || !opts.events.is_heard() {
        ProgressMode::Silent
    } else {
        opts.progress
    };
    let progress = Arc::new(Progress::new(mode, f.size));
    let cfg = PartsConfig {
        concurrency: opts.concurrency,
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_total: Duration::from_secs(600),
        },
        verbose: opts.verbose,
        events: opts.events.clone(),
    };
    let report = parts::upload_parts(parts_http, &f.path, parts_list, &cfg, progress.clone(), clock.clone()).await?;
    progress.finish();
    up.bytes_sent = Some(up.bytes_sent.unwrap_or(0).saturating_add(report.bytes_sent));
    up.requests = up.requests.saturating_add(report.parts as u64 + report.retries);
    verify_sent(&f.path, identity, &md5, &report.md5)?;
    Ok(provider.commit_file(&file.id).await?)
}

/// Before a commit: the file is still the one recorded, and `sent` (the MD5 of the bytes the parts
/// sent) is the `declared` one.
fn verify_sent(
    path: &std::path::Path,
    identity: &FileIdentity,
    declared: &str,
    sent: &str,
) -> Result<(), PublishError> {
    identity.check(path)?;
    if !sent.eq_ignore_ascii_case(declared) {
        return Err(PublishError::FileChanged {
            path: path.display().to_string(),
            detail: format!(
                "the bytes sent have MD5 {}, not the {} declared before sending",
                sent.to_ascii_uppercase(),
                declared.to_ascii_uppercase()
            ),
        });
    }
    Ok(())
}

/// A record of this build number that nothing was delivered to (`processingState: null`), left by
/// an interrupted upload: finishing it is the only way to use the number again (ios-uploader does
/// the same). The record does not say its version train; Apple refused a new record for this
/// train, so the interrupted one is taken to be it.
async fn resumable(provider: &Provider, app: &str, req: &UploadRequest) -> Result<Option<ProviderBuild>, Error> {
    Ok(provider
        .builds(app, &req.version)
        .await?
        .into_iter()
        .find(|b| b.processing_state.is_none()))
}

/// The used-build-number error. Apple's 409 names the number the new build must exceed
/// (`meta.previousBundleVersion`); without it, the hint is one above every number listed for this
/// build number's records, which is free in every train.
async fn duplicate(provider: &Provider, app: &str, req: &UploadRequest, failure: &ApiFailure) -> Error {
    let highest = match &failure.previous_bundle_version {
        Some(p) => Some(p.clone()),
        None => provider.builds(app, &req.version).await.ok().and_then(|all| {
            all.into_iter()
                .filter_map(|b| b.version)
                .chain(std::iter::once(req.version.clone()))
                .max_by(|a, b| compare_build_numbers(a, b))
        }),
    };
    PublishError::BuildNumberUsed {
        version: req.short_version.clone(),
        build: req.version.clone(),
        next: highest.as_deref().map(next_build_number),
        highest,
        detail: format!(": {}", failure.detail),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::asc::clock::ManualClock;
    use crate::publish::events::{Event, Recorder};

    /// A record answering `null` for a while, then PROCESSING, then `last`.
    struct Scripted {
        looks: Mutex<Vec<DeliveryLook>>,
    }

    impl Scripted {
        fn new(waiting: usize, processing: usize, last: ProviderBuild) -> Scripted {
            let mut looks = vec![DeliveryLook::default(); waiting];
            looks.extend(std::iter::repeat_n(
                DeliveryLook {
                    state: Some("PROCESSING".into()),
                    messages: Vec::new(),
                },
                processing,
            ));
            looks.push(look(&last));
            looks.reverse();
            Scripted {
                looks: Mutex::new(looks),
            }
        }
    }

    impl DeliveryRecord for Scripted {
        fn look(&self) -> BoxFuture<'_, Result<DeliveryLook, Error>> {
            let next = self
                .looks
                .lock()
                .ok()
                .and_then(|mut l| if l.len() > 1 { l.pop() } else { l.last().cloned() });
            Box::pin(async move { next.ok_or_else(|| Error::usage("no more looks")) })
        }
    }

    fn build(state: &str, messages: Vec<(String, Option<String>, String)>) -> ProviderBuild {
        ProviderBuild {
            id: "b-1".into(),
            version: Some("7".into()),
            uploaded_date: None,
            processing_state: Some(state.into()),
            delivery_state: None,
            messages,
        }
    }

    async fn wait(record: &Scripted, timeout: Duration) -> (Result<(), Error>, Processed, Vec<Event>, ManualClock) {
        let clock = ManualClock::new(std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let rec = Arc::new(Recorder::default());
        let cfg = WaitConfig {
            timeout,
            interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            uses_non_exempt_encryption: None,
            events: Events::to(rec.clone()),
        };
        let mut p = Processed::default();
        let r = processing::wait_for_delivery(record, "b-1", Arc::new(clock.clone()), &cfg, &mut p).await;
        (r, p, rec.events(), clock)
    }

    #[tokio::test]
    async fn the_apple_id_wait_is_the_processing_wait_with_its_heartbeat_schedule_and_verdict() {
        let rejected = build(
            "INVALID",
            vec![("error".into(), Some("90725".into()), "SDK version issue".into())],
        );
        // Ten minutes of `null`, then ten of PROCESSING (polls every 30 s at most), then INVALID.
        let record = Scripted::new(25, 20, rejected);
        let (r, p, events, clock) = wait(&record, Duration::from_secs(3600)).await;
        let err = r.err().map(|e| (e.kind(), e.message().to_string()));
        assert_eq!(
            err,
            Some((
                crate::ErrorKind::Rejected,
                "App Store Connect rejected the build: build processing ended INVALID: ITMS-90725: SDK version issue"
                    .to_string()
            ))
        );
        assert_eq!(
            p.apple_messages.first().and_then(|m| m.code.as_deref()),
            Some("ITMS-90725")
        );
        assert_eq!(p.processing_state.as_ref().map(processing::state_name), Some("INVALID"));
        // The shared schedule: 5 s growing ×1.5 to 30 s, never past the next heartbeat.
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.first(), Some(&Duration::from_secs(5)));
        assert_eq!(sleeps.get(1), Some(&Duration::from_millis(7500)));
        assert!(sleeps.iter().all(|d| *d <= Duration::from_secs(30)), "{sleeps:?}");
        // A heartbeat at least every minute, first naming that Apple has not started.
        let beats: Vec<&String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Heartbeat(l) => Some(l),
                _ => None,
            })
            .collect();
        let waited: Duration = sleeps.iter().sum();
        assert!(beats.len() as u64 >= waited.as_secs() / 60, "{beats:?} in {waited:?}");
        assert!(beats[0].contains("no state from Apple yet"), "{}", beats[0]);
        assert!(beats.iter().any(|b| b.contains("build PROCESSING")), "{beats:?}");
        let states: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::State { of, state } => Some(format!("{of}: {state}")),
                _ => None,
            })
            .collect();
        assert_eq!(states, ["build b-1: PROCESSING", "build b-1: INVALID"]);
    }

    #[tokio::test]
    async fn an_apple_id_wait_ends_valid_or_times_out_transient() {
        let (r, p, _, _) = wait(
            &Scripted::new(1, 1, build("VALID", Vec::new())),
            Duration::from_secs(600),
        )
        .await;
        assert!(r.is_ok() && p.is_valid());
        // Apple never starts: a timeout (exit 5), not a verdict.
        let (r, p, _, clock) = wait(
            &Scripted::new(1000, 0, build("VALID", Vec::new())),
            Duration::from_secs(120),
        )
        .await;
        let e = r.err().unwrap_or_else(|| panic!("timed out"));
        assert_eq!(e.exit_code(), 5, "{e:?}");
        assert_eq!(p.processing_state, None);
        assert!(clock.sleeps().iter().sum::<Duration>() <= Duration::from_secs(120));
    }

    #[test]
    fn a_commit_needs_the_same_file_and_the_declared_checksum_of_what_was_sent() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("App.ipa");
        std::fs::write(&path, b"the bytes").unwrap_or_else(|e| panic!("{e}"));
        let id = FileIdentity::of(&path).unwrap_or_else(|e| panic!("{e}"));
        let declared = "0123456789ABCDEF0123456789ABCDEF";
        assert!(verify_sent(&path, &id, declared, &declared.to_ascii_lowercase()).is_ok());
        // The file unchanged on disk, but other bytes went out than the ones declared.
        match verify_sent(&path, &id, declared, "ffffffffffffffffffffffffffffffff") {
            Err(PublishError::FileChanged { detail, .. }) => assert!(detail.contains("declared"), "{detail}"),
            other => panic!("expected FileChanged, got {other:?}"),
        }
        // The declared checksum matches, but the file was rewritten meanwhile.
        std::fs::write(&path, b"other bytes").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            verify_sent(&path, &id, declared, declared),
            Err(PublishError::FileChanged { .. })
        ));
    }
}
