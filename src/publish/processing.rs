//! Waiting for Apple: poll the upload until COMPLETE/FAILED, then the build until VALID/INVALID,
//! answer export compliance when asked, and collect Apple's messages with their ITMS codes.

use std::time::{Duration, SystemTime};

use crate::asc::error::{AscError, sanitize};
use crate::asc::{AscClient, BuildUploadRecord, BuildUploadState, ProcessingState, StateDetail, build_uploads, builds};
use crate::error::Error;
use crate::outcome::{Message, Outcome};
use crate::publish::duration::format_duration;
use crate::publish::error::PublishError;
use crate::publish::events::{Event, Events};
use crate::publish::schedule::Poller;

/// Polling settings.
#[derive(Debug, Clone)]
pub struct WaitConfig {
    pub timeout: Duration,
    /// First poll interval; grows ×1.5 per poll up to `max_interval`.
    pub interval: Duration,
    pub max_interval: Duration,
    /// The export-compliance answer (flag, else Info.plist), if known.
    pub uses_non_exempt_encryption: Option<bool>,
    /// Where the wait's states, Apple's messages and heartbeats go.
    pub events: Events,
}

/// What the processing wait learnt from Apple, also when it ended in an error: the states as
/// Apple's enums, its messages, and what it needed to find the build. Put on the outcome once.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    pub upload_id: Option<String>,
    pub app_id: Option<String>,
    pub version: Option<String>,
    pub build_number: Option<String>,
    pub platform: Option<String>,
    pub build_id: Option<String>,
    pub upload_state: Option<BuildUploadState>,
    pub processing_state: Option<ProcessingState>,
    pub uses_non_exempt_encryption: Option<bool>,
    /// Every message so far, the ones known before the wait first (a message is recorded once).
    pub apple_messages: Vec<Message>,
    pub warnings: Vec<String>,
}

impl Processed {
    /// Starts from what the run already knows: the build to find, its id if known, and the
    /// messages already recorded (commit's).
    pub fn from_outcome(o: &Outcome) -> Processed {
        Processed {
            upload_id: o.upload_id.clone(),
            app_id: o.app_id.clone(),
            version: o.version.clone(),
            build_number: o.build_number.clone(),
            platform: o.platform.clone(),
            build_id: o.build_id.clone(),
            upload_state: None,
            processing_state: None,
            uses_non_exempt_encryption: o.uses_non_exempt_encryption,
            apple_messages: o.apple_messages.clone(),
            warnings: Vec::new(),
        }
    }

    /// Puts what the wait learnt on the outcome, states in Apple's spelling.
    pub fn record_in(self, o: &mut Outcome) {
        o.build_id = self.build_id;
        if let Some(u) = self.upload_state {
            o.upload_state = Some(upload_state_name(u).to_string());
        }
        if let Some(ps) = self.processing_state {
            o.processing_state = Some(state_name(&ps).to_string());
        }
        o.uses_non_exempt_encryption = self.uses_non_exempt_encryption;
        o.apple_messages = self.apple_messages;
        o.warnings.extend(self.warnings);
    }

    /// Whether Apple's verdict is VALID.
    pub fn is_valid(&self) -> bool {
        self.processing_state == Some(ProcessingState::Valid)
    }
}

/// Apple's `{code, description}` as our message, with the code as an ITMS code.
pub fn message(level: &str, d: &StateDetail) -> Message {
    let code = d.code.as_deref().map(|c| {
        let c = sanitize(c);
        if c.chars().all(|ch| ch.is_ascii_digit()) {
            format!("ITMS-{c}")
        } else {
            c
        }
    });
    Message {
        level: level.to_string(),
        code,
        description: sanitize(d.description.as_deref().unwrap_or("")),
    }
}

fn record_messages(p: &mut Processed, upload: &BuildUploadRecord, events: &Events) {
    let Some(st) = upload.status.as_ref() else {
        return;
    };
    for (level, list) in [("error", &st.errors), ("warning", &st.warnings), ("info", &st.infos)] {
        for d in list {
            let m = message(level, d);
            if !p.apple_messages.contains(&m) {
                events.send(Event::Apple(m.clone()));
                p.apple_messages.push(m);
            }
        }
    }
}

mod delivery;

pub use delivery::{DeliveryLook, DeliveryRecord, wait_for_delivery};

/// What a wait follows: an upload (then the build Apple makes of it), or an existing build.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    Upload(&'a str),
    Build(&'a str),
}

/// Who answers the polls.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// The App Store Connect API; its client re-mints the key's token as it nears expiry.
    Api(&'a AscClient),
    /// An Apple ID upload has no API key, so no token to re-mint and no export compliance to
    /// answer: its build record is read through the content-delivery session that created it.
    ContentDelivery(&'a dyn DeliveryRecord),
}

/// Polls until Apple's verdict. `Ok` means VALID; a rejection is a `Rejected` error.
pub async fn wait(client: &AscClient, upload_id: &str, cfg: &WaitConfig, p: &mut Processed) -> Result<(), Error> {
    poll(Source::Api(client), client.clock(), Subject::Upload(upload_id), cfg, p).await
}

/// Polls an existing build until it leaves PROCESSING, whatever its verdict: `distribute` judges
/// the verdict and answers export compliance itself. The same schedule and heartbeat as [`wait`].
pub async fn wait_for_build(
    client: &AscClient,
    build_id: &str,
    cfg: &WaitConfig,
    p: &mut Processed,
) -> Result<(), Error> {
    poll(Source::Api(client), client.clock(), Subject::Build(build_id), cfg, p).await
}

/// The one processing loop: the upload's state until COMPLETE (when following an upload), the
/// build's until its verdict, on the one poll schedule ([`Poller`]: backoff and heartbeat).
async fn poll(
    source: Source<'_>,
    clock: crate::asc::clock::SharedClock,
    subject: Subject<'_>,
    cfg: &WaitConfig,
    p: &mut Processed,
) -> Result<(), Error> {
    let _stage = cfg
        .events
        .stage("asc_publish_processing", "Waiting for Apple's processing");
    let mut poller = Poller::start(clock, cfg.timeout, cfg.interval, cfg.max_interval);
    let mut compliance_done = false;
    let upload_id = match subject {
        Subject::Upload(id) => Some(id),
        Subject::Build(id) => {
            p.build_id = Some(id.to_string());
            None
        }
    };
    let mut upload_done = upload_id.is_none();
    let mut stage = if upload_done {
        "build processing"
    } else {
        "upload processing"
    };
    let mut polls = 0u32;
    loop {
        polls += 1;
        let client = match source {
            Source::Api(client) => client,
            Source::ContentDelivery(record) => {
                if let Some(verdict) = delivery::look(record, cfg, p).await? {
                    return verdict;
                }
                if let Some(waited) = poller.timed_out() {
                    return Err(timeout(stage, waited));
                }
                pause(&mut poller, cfg, p, stage).await;
                continue;
            }
        };
        if let (false, Some(upload_id)) = (upload_done, upload_id) {
            let upload = build_uploads::get(client, upload_id, true).await?;
            let state = upload.state();
            set_upload_state(p, state, &cfg.events);
            record_messages(p, &upload, &cfg.events);
            if let Some(b) = upload.build_id {
                p.build_id = Some(b);
            }
            match state {
                BuildUploadState::Failed => {
                    if let Some(b) = p.build_id.clone() {
                        // Best effort: record the build's own verdict next to the upload's.
                        if let Ok(build) = builds::get(client, &b).await {
                            if let Some(ps) = build.processing_state {
                                p.processing_state = Some(ps);
                            }
                        }
                    }
                    return Err(PublishError::Rejected(summary(p, "the upload failed processing")).into());
                }
                BuildUploadState::Complete => upload_done = true,
                _ => {}
            }
        }
        if let Some(build_id) = p.build_id.clone() {
            stage = "build processing";
            let build = builds::get(client, &build_id).await?;
            let ps = build.processing_state.unwrap_or(ProcessingState::Unknown);
            if p.processing_state != Some(ps) {
                p.processing_state = Some(ps);
                cfg.events.send(Event::State {
                    of: format!("build {build_id}"),
                    state: state_name(&ps).to_string(),
                });
            }
            let encryption = build.uses_non_exempt_encryption;
            p.uses_non_exempt_encryption = encryption.or(p.uses_non_exempt_encryption);
            let Some(upload_id) = upload_id else {
                if ps != ProcessingState::Processing {
                    return Ok(());
                }
                if let Some(waited) = poller.timed_out() {
                    return Err(still_processing(&build_id, waited));
                }
                pause(&mut poller, cfg, p, stage).await;
                continue;
            };
            if !compliance_done && encryption.is_none() {
                compliance_done = answer_compliance(client, &build_id, cfg, p, ps).await?;
            } else {
                compliance_done = true;
            }
            match ps {
                ProcessingState::Valid if compliance_done => {
                    if !upload_done {
                        refresh_upload(client, upload_id, cfg, p).await;
                    }
                    return Ok(());
                }
                ProcessingState::Invalid | ProcessingState::Failed => {
                    if !upload_done {
                        refresh_upload(client, upload_id, cfg, p).await;
                    }
                    return Err(PublishError::Rejected(summary(
                        p,
                        &format!("build processing ended {}", state_name(&ps)),
                    ))
                    .into());
                }
                _ => {}
            }
        } else if upload_done || polls % 4 == 0 {
            // No linked build yet: look it up the classic way (every poll once the upload is
            // COMPLETE; now and then before, as upload records have been seen lagging the build).
            if let Some(id) = find_upload_build(client, p).await? {
                p.build_id = Some(id);
                continue;
            }
        }
        if let Some(waited) = poller.timed_out() {
            return Err(timeout(stage, waited));
        }
        pause(&mut poller, cfg, p, stage).await;
    }
}

/// Between two polls, with the heartbeat line saying what Apple is doing.
async fn pause(poller: &mut Poller, cfg: &WaitConfig, p: &Processed, stage: &str) {
    poller
        .pause(&cfg.events, |waited| heartbeat_line(p, stage, waited, cfg.timeout))
        .await;
}

/// The wait ran out while Apple was still at `stage` (exit 5).
fn timeout(stage: &str, waited: Duration) -> Error {
    PublishError::Timeout {
        waited: format_duration(waited),
        stage: stage.to_string(),
    }
    .into()
}

/// An existing build that did not leave PROCESSING in time (exit 5: worth re-running later).
fn still_processing(build_id: &str, waited: Duration) -> Error {
    Error::new(
        crate::error::ErrorKind::Transient,
        format!("build {build_id} is still processing after {}", format_duration(waited)),
    )
    .with_hint("raise --timeout, or re-run distribute later")
}

/// `still waiting after 2m 15s: Apple is processing the build (upload COMPLETE, build PROCESSING;
/// timeout 30m)`.
fn heartbeat_line(p: &Processed, stage: &str, waited: Duration, timeout: Duration) -> String {
    let doing = if stage == "build processing" {
        "Apple is processing the build"
    } else {
        "Apple is processing the upload"
    };
    let mut states = Vec::new();
    if let Some(u) = p.upload_state {
        states.push(format!("upload {}", upload_state_name(u)));
    }
    if let Some(b) = &p.processing_state {
        states.push(format!("build {}", state_name(b)));
    }
    if states.is_empty() {
        states.push("no state from Apple yet".to_string());
    }
    format!(
        "  still waiting after {}: {doing} ({}; timeout {})",
        format_duration(waited),
        states.join(", "),
        format_duration(timeout)
    )
}

/// The build can reach its verdict a moment before its upload record does, and Apple's reasons
/// (`state.errors`, with the ITMS codes) live on the upload: read it once more, best effort, so the
/// outcome carries the upload's final state and every message.
async fn refresh_upload(client: &AscClient, upload_id: &str, cfg: &WaitConfig, p: &mut Processed) {
    if let Ok(upload) = build_uploads::get(client, upload_id, false).await {
        if let Some(status) = &upload.status {
            set_upload_state(p, status.state, &cfg.events);
        }
        record_messages(p, &upload, &cfg.events);
    }
}

fn set_upload_state(p: &mut Processed, state: BuildUploadState, events: &Events) {
    if p.upload_state != Some(state) {
        events.send(Event::State {
            of: "upload".into(),
            state: upload_state_name(state).into(),
        });
        p.upload_state = Some(state);
    }
}

/// Apple's spelling of an upload state.
pub fn upload_state_name(state: BuildUploadState) -> &'static str {
    match state {
        BuildUploadState::AwaitingUpload => "AWAITING_UPLOAD",
        BuildUploadState::Processing => "PROCESSING",
        BuildUploadState::Failed => "FAILED",
        BuildUploadState::Complete => "COMPLETE",
        BuildUploadState::Unknown => "UNKNOWN",
    }
}

/// Apple's spelling of a processing state.
pub fn state_name(s: &ProcessingState) -> &'static str {
    match s {
        ProcessingState::Processing => "PROCESSING",
        ProcessingState::Failed => "FAILED",
        ProcessingState::Invalid => "INVALID",
        ProcessingState::Valid => "VALID",
        ProcessingState::Unknown => "UNKNOWN",
    }
}

fn summary(p: &Processed, what: &str) -> String {
    let errs: Vec<String> = p
        .apple_messages
        .iter()
        .filter(|m| m.level == "error")
        .map(|m| {
            format!(
                "{}{}",
                m.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
                m.description
            )
        })
        .collect();
    if errs.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {}", errs.join("; "))
    }
}

/// PATCHes `usesNonExemptEncryption` when we know the answer. Returns whether nothing more is to be
/// done; a state conflict while processing is retried on the next poll.
async fn answer_compliance(
    client: &AscClient,
    build_id: &str,
    cfg: &WaitConfig,
    p: &mut Processed,
    ps: ProcessingState,
) -> Result<bool, Error> {
    let Some(uses) = cfg.uses_non_exempt_encryption else {
        if ps == ProcessingState::Valid {
            p.warnings.push(
                "export compliance is unanswered: the build waits in App Store Connect until you answer it; pass \
                 --uses-non-exempt-encryption true|false or set ITSAppUsesNonExemptEncryption in Info.plist"
                    .into(),
            );
            return Ok(true);
        }
        return Ok(false);
    };
    match builds::set_encryption(client, build_id, uses).await {
        Ok(_) => {
            p.uses_non_exempt_encryption = Some(uses);
            cfg.events.step(format!(
                "  export compliance answered: usesNonExemptEncryption = {uses}"
            ));
            Ok(true)
        }
        // Not yet patchable (still processing); a lost answer is verified by the next GET.
        Err(AscError::Api(a)) if matches!(a.status, 409 | 422) && ps != ProcessingState::Valid => Ok(false),
        Err(AscError::Ambiguous { .. }) => Ok(false),
        Err(e) if ps == ProcessingState::Valid => {
            p.warnings.push(format!("could not answer export compliance: {e}"));
            Ok(true)
        }
        Err(_) => Ok(false),
    }
}

/// The build of the upload's version and number, through the one build lookup
/// ([`find_build`](crate::publish::build_lookup::find_build)).
async fn find_upload_build(client: &AscClient, p: &Processed) -> Result<Option<String>, Error> {
    let (Some(app), Some(short), Some(build)) = (&p.app_id, &p.version, &p.build_number) else {
        return Ok(None);
    };
    let query = crate::publish::build_lookup::Wanted {
        app_id: app,
        version: short,
        number: build,
        platform: p.platform.as_deref(),
        upload_id: p.upload_id.as_deref(),
    };
    Ok(crate::publish::build_lookup::find_build(client, query)
        .await?
        .map(|f| f.build_id))
}

/// Seconds since `start`, for stage timings.
pub fn since(clock_now: SystemTime, start: SystemTime) -> Duration {
    clock_now.duration_since(start).unwrap_or_default()
}

#[cfg(test)]
mod heartbeat_tests {
    use super::*;

    #[test]
    fn the_line_says_what_apple_is_doing() {
        let mut p = Processed::default();
        let line = heartbeat_line(
            &p,
            "upload processing",
            Duration::from_secs(135),
            Duration::from_secs(1800),
        );
        assert!(line.contains("after 2m 15s"), "{line}");
        assert!(
            line.contains("Apple is processing the upload (no state from Apple yet"),
            "{line}"
        );
        p.upload_state = Some(BuildUploadState::Complete);
        p.processing_state = Some(ProcessingState::Processing);
        let line = heartbeat_line(
            &p,
            "build processing",
            Duration::from_secs(61),
            Duration::from_secs(1800),
        );
        assert!(
            line.contains("Apple is processing the build (upload COMPLETE, build PROCESSING; timeout 30m 00s)"),
            "{line}"
        );
    }

    #[test]
    fn what_the_wait_learnt_lands_on_the_outcome_in_apples_spelling() {
        let mut o = Outcome::new();
        o.build_id = Some("b1".into());
        o.warnings.push("earlier".into());
        let mut p = Processed::from_outcome(&o);
        assert_eq!(p.build_id.as_deref(), Some("b1"));
        p.upload_state = Some(BuildUploadState::AwaitingUpload);
        p.processing_state = Some(ProcessingState::Invalid);
        p.warnings.push("later".into());
        assert!(!p.is_valid());
        p.record_in(&mut o);
        assert_eq!(o.upload_state.as_deref(), Some("AWAITING_UPLOAD"));
        assert_eq!(o.processing_state.as_deref(), Some("INVALID"));
        assert_eq!(o.warnings, ["earlier", "later"]);
    }
}
