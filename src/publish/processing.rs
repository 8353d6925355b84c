//! Waiting for Apple: poll the upload until COMPLETE/FAILED, then the build until VALID/INVALID,
//! answer export compliance when asked, and collect Apple's messages with their ITMS codes.

use std::time::{Duration, SystemTime};

use reqwest::Method;

use crate::asc::AscClient;
use crate::asc::endpoints::{build_uploads, builds};
use crate::asc::error::{AscError, sanitize};
use crate::asc::model::{Build, BuildUpload, BuildUploadState, Document, ProcessingState, StateDetail, request};
use crate::error::Error;
use crate::outcome::{Message, Outcome};
use crate::publish::duration::format_duration;
use crate::publish::error::PublishError;

/// How often a waiting run says it is still waiting: under a minute apart even with a slow poll
/// request in between (CI users and their log watchdogs expect a line at least every 60 s).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(45);

/// Polling settings.
#[derive(Debug, Clone)]
pub struct WaitConfig {
    pub timeout: Duration,
    /// First poll interval; grows ×1.5 per poll up to `max_interval`.
    pub interval: Duration,
    pub max_interval: Duration,
    /// The export-compliance answer (flag, else Info.plist), if known.
    pub uses_non_exempt_encryption: Option<bool>,
    pub quiet: bool,
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

fn record_messages(outcome: &mut Outcome, upload: &BuildUpload, quiet: bool) {
    let Some(st) = upload.attributes.as_ref().and_then(|a| a.state.as_ref()) else {
        return;
    };
    for (level, list) in [("error", &st.errors), ("warning", &st.warnings), ("info", &st.infos)] {
        for d in list.iter().flatten() {
            let m = message(level, d);
            if !outcome.apple_messages.contains(&m) {
                if !quiet {
                    crate::output::eprintln_redacted!(
                        "  Apple {level}: {}{}",
                        m.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
                        m.description
                    );
                }
                outcome.apple_messages.push(m);
            }
        }
    }
}

/// Polls until Apple's verdict. `Ok` means VALID; a rejection is a `Rejected` error.
pub async fn wait(client: &AscClient, upload_id: &str, cfg: &WaitConfig, outcome: &mut Outcome) -> Result<(), Error> {
    let _section = crate::ci::gitlab::Section::open("asc_publish_processing", "Waiting for Apple's processing");
    let clock = client.clock();
    let start = clock.now();
    let mut interval = cfg.interval;
    let mut compliance_done = false;
    let mut stage = "upload processing";
    let mut upload_done = false;
    let mut polls = 0u32;
    let mut last_heartbeat = Duration::ZERO;
    loop {
        polls += 1;
        if !upload_done {
            let url = build_uploads::one(client, upload_id, &[("include", "build")])?;
            let doc: Document<BuildUpload> = client.get(url).await?;
            let state = doc
                .data
                .attributes
                .as_ref()
                .and_then(|a| a.state.as_ref())
                .map_or(BuildUploadState::Unknown, |s| s.state);
            set_upload_state(outcome, state, cfg.quiet);
            record_messages(outcome, &doc.data, cfg.quiet);
            if let Some(b) = doc.data.related_id("build") {
                outcome.build_id = Some(b.to_string());
            }
            match state {
                BuildUploadState::Failed => {
                    if let Some(b) = outcome.build_id.clone() {
                        // Best effort: record the build's own verdict next to the upload's.
                        if let Ok(url) = builds::one(client, &b, &[]) {
                            if let Ok(doc) = client.get::<Document<Build>>(url).await {
                                if let Some(ps) = doc.data.attributes.and_then(|a| a.processing_state) {
                                    outcome.processing_state = Some(state_name(&ps).to_string());
                                }
                            }
                        }
                    }
                    return Err(PublishError::Rejected(summary(outcome, "the upload failed processing")).into());
                }
                BuildUploadState::Complete => upload_done = true,
                _ => {}
            }
        }
        if let Some(build_id) = outcome.build_id.clone() {
            stage = "build processing";
            let url = builds::one(client, &build_id, &[])?;
            let doc: Document<Build> = client.get(url).await?;
            let attrs = doc.data.attributes.as_ref();
            let ps = attrs
                .and_then(|a| a.processing_state)
                .unwrap_or(ProcessingState::Unknown);
            if outcome.processing_state.as_deref() != Some(state_name(&ps)) {
                outcome.processing_state = Some(state_name(&ps).to_string());
                if !cfg.quiet {
                    crate::output::eprintln_redacted!("  build {build_id}: {}", state_name(&ps));
                }
            }
            let encryption = attrs.and_then(|a| a.uses_non_exempt_encryption);
            outcome.uses_non_exempt_encryption = encryption.or(outcome.uses_non_exempt_encryption);
            if !compliance_done && encryption.is_none() {
                compliance_done = answer_compliance(client, &build_id, cfg, outcome, ps).await?;
            } else {
                compliance_done = true;
            }
            match ps {
                ProcessingState::Valid if compliance_done => {
                    if !upload_done {
                        refresh_upload(client, upload_id, cfg, outcome).await;
                    }
                    return Ok(());
                }
                ProcessingState::Invalid | ProcessingState::Failed => {
                    if !upload_done {
                        refresh_upload(client, upload_id, cfg, outcome).await;
                    }
                    return Err(PublishError::Rejected(summary(
                        outcome,
                        &format!("build processing ended {}", state_name(&ps)),
                    ))
                    .into());
                }
                _ => {}
            }
        } else if upload_done || polls % 4 == 0 {
            // No linked build yet: look it up the classic way (every poll once the upload is
            // COMPLETE; now and then before, as upload records have been seen lagging the build).
            if let Some(id) = find_build(client, outcome).await? {
                outcome.build_id = Some(id);
                continue;
            }
        }
        let waited = clock.now().duration_since(start).unwrap_or_default();
        if waited >= cfg.timeout {
            return Err(PublishError::Timeout {
                waited: format_duration(waited),
                stage: stage.to_string(),
            }
            .into());
        }
        // A line at least a minute apart in CI logs, so a long wait visibly is one and not a hang.
        if heartbeat_due(waited, last_heartbeat) {
            // Kept in step when quiet too: the sleep below is capped at the next heartbeat.
            last_heartbeat = waited;
            if !cfg.quiet {
                crate::output::eprintln_redacted!("{}", heartbeat_line(outcome, stage, waited, cfg.timeout));
            }
        }
        clock
            .sleep(next_sleep(interval, waited, cfg.timeout, last_heartbeat))
            .await;
        let cap = cfg.max_interval.max(cfg.interval);
        interval = Duration::try_from_secs_f64(interval.as_secs_f64() * 1.5).map_or(cap, |d| d.min(cap));
    }
}

pub(crate) fn heartbeat_due(waited: Duration, last_heartbeat: Duration) -> bool {
    waited.saturating_sub(last_heartbeat) >= HEARTBEAT
}

/// How long to sleep before the next poll: the poll interval, but never past the timeout or the
/// next heartbeat.
pub(crate) fn next_sleep(
    interval: Duration,
    waited: Duration,
    timeout: Duration,
    last_heartbeat: Duration,
) -> Duration {
    let to_heartbeat = (last_heartbeat + HEARTBEAT).saturating_sub(waited);
    interval
        .min(timeout.saturating_sub(waited))
        .min(to_heartbeat)
        .max(Duration::from_millis(1))
}

/// `still waiting after 2m 15s: Apple is processing the build (upload COMPLETE, build PROCESSING;
/// timeout 30m)`.
fn heartbeat_line(outcome: &Outcome, stage: &str, waited: Duration, timeout: Duration) -> String {
    let doing = if stage == "build processing" {
        "Apple is processing the build"
    } else {
        "Apple is processing the upload"
    };
    let mut states = Vec::new();
    if let Some(u) = &outcome.upload_state {
        states.push(format!("upload {u}"));
    }
    if let Some(b) = &outcome.processing_state {
        states.push(format!("build {b}"));
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
async fn refresh_upload(client: &AscClient, upload_id: &str, cfg: &WaitConfig, outcome: &mut Outcome) {
    let Ok(url) = build_uploads::one(client, upload_id, &[]) else {
        return;
    };
    if let Ok(doc) = client.get::<Document<BuildUpload>>(url).await {
        if let Some(state) = doc.data.attributes.as_ref().and_then(|a| a.state.as_ref()) {
            set_upload_state(outcome, state.state, cfg.quiet);
        }
        record_messages(outcome, &doc.data, cfg.quiet);
    }
}

fn set_upload_state(outcome: &mut Outcome, state: BuildUploadState, quiet: bool) {
    let name = match state {
        BuildUploadState::AwaitingUpload => "AWAITING_UPLOAD",
        BuildUploadState::Processing => "PROCESSING",
        BuildUploadState::Failed => "FAILED",
        BuildUploadState::Complete => "COMPLETE",
        BuildUploadState::Unknown => "UNKNOWN",
    };
    if outcome.upload_state.as_deref() != Some(name) {
        if !quiet {
            crate::output::eprintln_redacted!("  upload: {name}");
        }
        outcome.upload_state = Some(name.to_string());
    }
}

fn state_name(s: &ProcessingState) -> &'static str {
    match s {
        ProcessingState::Processing => "PROCESSING",
        ProcessingState::Failed => "FAILED",
        ProcessingState::Invalid => "INVALID",
        ProcessingState::Valid => "VALID",
        ProcessingState::Unknown => "UNKNOWN",
    }
}

fn summary(outcome: &Outcome, what: &str) -> String {
    let errs: Vec<String> = outcome
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
    outcome: &mut Outcome,
    ps: ProcessingState,
) -> Result<bool, Error> {
    let Some(uses) = cfg.uses_non_exempt_encryption else {
        if ps == ProcessingState::Valid {
            outcome.warnings.push(
                "export compliance is unanswered: the build waits in App Store Connect until you answer it; pass \
                 --uses-non-exempt-encryption true|false or set ITSAppUsesNonExemptEncryption in Info.plist"
                    .into(),
            );
            return Ok(true);
        }
        return Ok(false);
    };
    let url = builds::one(client, build_id, &[])?;
    match client
        .mutate(Method::PATCH, url, Some(&request::set_encryption(build_id, uses)))
        .await
    {
        Ok(_) => {
            outcome.uses_non_exempt_encryption = Some(uses);
            if !cfg.quiet {
                crate::output::eprintln_redacted!("  export compliance answered: usesNonExemptEncryption = {uses}");
            }
            Ok(true)
        }
        // Not yet patchable (still processing); a lost answer is verified by the next GET.
        Err(AscError::Api(a)) if matches!(a.status, 409 | 422) && ps != ProcessingState::Valid => Ok(false),
        Err(AscError::Ambiguous { .. }) => Ok(false),
        Err(e) if ps == ProcessingState::Valid => {
            outcome
                .warnings
                .push(format!("could not answer export compliance: {e}"));
            Ok(true)
        }
        Err(_) => Ok(false),
    }
}

/// Finds the build for the version/build number on the upload's platform through `/v1/builds`.
/// A build Apple links to another upload is someone else's (the same number re-sent elsewhere).
async fn find_build(client: &AscClient, outcome: &Outcome) -> Result<Option<String>, Error> {
    let (Some(app), Some(short), Some(build)) = (&outcome.app_id, &outcome.version, &outcome.build_number) else {
        return Ok(None);
    };
    let found = crate::publish::preflight::builds_of(
        client,
        crate::publish::preflight::BuildQuery {
            app_id: app,
            short_version: short,
            platform: outcome.platform.as_deref(),
            number: Some(build),
            unexpired_only: false,
        },
    )
    .await?;
    Ok(found
        .into_iter()
        .find(|t| {
            t.build
                .related_id("buildUpload")
                .is_none_or(|u| outcome.upload_id.as_deref().is_none_or(|mine| u == mine))
        })
        .map(|t| t.build.id))
}

/// Seconds since `start`, for stage timings.
pub fn since(clock_now: SystemTime, start: SystemTime) -> Duration {
    clock_now.duration_since(start).unwrap_or_default()
}

#[cfg(test)]
mod heartbeat_tests {
    use super::*;

    /// The wait loop's schedule with real poll intervals (5 s growing ×1.5 to 30 s) and polls that
    /// take `poll` each: heartbeat lines are never more than a minute apart.
    fn gaps(poll: Duration, timeout: Duration) -> Vec<Duration> {
        let (mut waited, mut last, mut interval) = (Duration::ZERO, Duration::ZERO, Duration::from_secs(5));
        let mut lines = vec![Duration::ZERO];
        while waited < timeout {
            waited += poll;
            if heartbeat_due(waited, last) {
                last = waited;
                lines.push(waited);
            }
            waited += next_sleep(interval, waited, timeout, last);
            interval = (interval.mul_f64(1.5)).min(Duration::from_secs(30));
        }
        lines.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[test]
    fn heartbeat_lines_are_at_most_a_minute_apart() {
        for poll in [Duration::ZERO, Duration::from_millis(300), Duration::from_secs(10)] {
            let g = gaps(poll, Duration::from_secs(30 * 60));
            assert!(g.len() > 25, "{poll:?}: {g:?}");
            assert!(g.iter().all(|d| *d <= Duration::from_secs(60)), "{poll:?}: {g:?}");
        }
    }

    #[test]
    fn the_line_says_what_apple_is_doing() {
        let mut o = Outcome::new();
        let line = heartbeat_line(
            &o,
            "upload processing",
            Duration::from_secs(135),
            Duration::from_secs(1800),
        );
        assert!(line.contains("after 2m 15s"), "{line}");
        assert!(
            line.contains("Apple is processing the upload (no state from Apple yet"),
            "{line}"
        );
        o.upload_state = Some("COMPLETE".into());
        o.processing_state = Some("PROCESSING".into());
        let line = heartbeat_line(
            &o,
            "build processing",
            Duration::from_secs(61),
            Duration::from_secs(1800),
        );
        assert!(
            line.contains("Apple is processing the build (upload COMPLETE, build PROCESSING; timeout 30m 00s)"),
            "{line}"
        );
    }
}
