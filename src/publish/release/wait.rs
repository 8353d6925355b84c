//! Waiting on a review submission (out of CANCELING, or through App Review with
//! `--wait-for-review`), on the same schedule as processing: intervals growing ×1.5, a heartbeat
//! line under a minute apart, and every poll a fresh request through the client, which re-mints
//! its token before it expires.

use std::time::Duration;

use crate::asc::AscClient;
use crate::asc::app_store_submissions::{SubmissionState, submission_state};
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::publish::duration::format_duration;
use crate::publish::events::{Event, Events};
use crate::publish::processing::{heartbeat_due, next_sleep};
use crate::publish::release::ReleaseError;

#[derive(Debug, Clone)]
pub struct WaitFor {
    pub timeout: Duration,
    pub interval: Duration,
    pub events: Events,
}

/// Polls submission `id` until `done` says its state is final for the caller.
pub async fn until(
    client: &AscClient,
    id: &str,
    done: impl Fn(&SubmissionState) -> bool,
    cfg: &WaitFor,
    doing: &str,
) -> Result<SubmissionState, Error> {
    let clock = client.clock();
    let start = clock.now();
    let mut interval = cfg.interval;
    let mut last_heartbeat = Duration::ZERO;
    // The caller has just said the state it left the submission in.
    let mut first = true;
    let mut last_state = None;
    loop {
        let state = submission_state(client, id).await?;
        if done(&state) {
            return Ok(state);
        }
        if last_state.as_ref() != Some(&state) && !first {
            cfg.events.send(Event::State {
                of: format!("review submission {}", sanitize(id)),
                state: state.to_string(),
            });
        }
        last_state = Some(state.clone());
        first = false;
        let waited = clock.now().duration_since(start).unwrap_or_default();
        if waited >= cfg.timeout {
            return Err(ReleaseError::StillWaiting {
                id: sanitize(id),
                state: state.to_string(),
                waited: format_duration(waited),
            }
            .into());
        }
        if heartbeat_due(waited, last_heartbeat) {
            last_heartbeat = waited;
            cfg.events.send(Event::Heartbeat(format!(
                "  still waiting after {}: {doing} (submission {state}; timeout {})",
                format_duration(waited),
                format_duration(cfg.timeout)
            )));
        }
        clock
            .sleep(next_sleep(interval, waited, cfg.timeout, last_heartbeat))
            .await;
        let cap = Duration::from_secs(30).max(cfg.interval);
        interval = Duration::try_from_secs_f64(interval.as_secs_f64() * 1.5).map_or(cap, |d| d.min(cap));
    }
}
