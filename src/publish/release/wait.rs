//! Waiting on a review submission (out of CANCELING, or through App Review with
//! `--wait-for-review`), on the same schedule as processing (the one [`Poller`]: intervals growing
//! ×1.5 to [`MAX_INTERVAL`], a heartbeat line under a minute apart), and every poll a fresh request through the client, which re-mints
//! its token before it expires.

use std::time::Duration;

use crate::asc::AscClient;
use crate::asc::app_store_submissions::{SubmissionState, submission_state};
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::publish::duration::format_duration;
use crate::publish::events::{Event, Events};
use crate::publish::release::ReleaseError;
use crate::publish::schedule::Poller;

/// The longest pause between two polls of a submission.
pub const MAX_INTERVAL: Duration = Duration::from_secs(30);

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
    let mut poller = Poller::start(client.clock(), cfg.timeout, cfg.interval, MAX_INTERVAL);
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
        if let Some(waited) = poller.timed_out() {
            return Err(ReleaseError::StillWaiting {
                id: sanitize(id),
                state: state.to_string(),
                waited: format_duration(waited),
            }
            .into());
        }
        poller
            .pause(&cfg.events, |waited| {
                format!(
                    "  still waiting after {}: {doing} (submission {state}; timeout {})",
                    format_duration(waited),
                    format_duration(cfg.timeout)
                )
            })
            .await;
    }
}
