//! The processing wait's source for an Apple ID upload: its build record on the content-delivery
//! service (`crate::appleid`), read without an API key. The loop is [`super::poll`]'s.

use crate::error::Error;
use crate::outcome::Message;
use crate::publish::error::PublishError;
use crate::publish::events::Event;

use super::{Processed, ProcessingState, Source, Subject, WaitConfig, state_name, summary};

/// A build record read without an API key (an Apple ID upload's, `crate::appleid`).
pub trait DeliveryRecord: Send + Sync {
    /// The record as it is now.
    fn look(&self) -> futures_util::future::BoxFuture<'_, Result<DeliveryLook, Error>>;
}

/// One look at a [`DeliveryRecord`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryLook {
    /// Apple's processing state in its spelling; `None` until Apple starts on the delivered files.
    pub state: Option<String>,
    /// Apple's messages about the build, with their ITMS codes.
    pub messages: Vec<Message>,
}

/// [`wait`](super::wait) for a build delivered with an Apple ID: the same loop, schedule,
/// heartbeat and verdict, read from its content-delivery record `build_id`.
pub async fn wait_for_delivery(
    record: &dyn DeliveryRecord,
    build_id: &str,
    clock: crate::asc::clock::SharedClock,
    cfg: &WaitConfig,
    p: &mut Processed,
) -> Result<(), Error> {
    super::poll(Source::ContentDelivery(record), clock, Subject::Build(build_id), cfg, p).await
}

/// One poll of a content-delivery record: its state and new messages recorded (and sent as
/// events), and the verdict once there is one: VALID is `Ok`, INVALID or FAILED a rejection.
pub(super) async fn look(
    record: &dyn DeliveryRecord,
    cfg: &WaitConfig,
    p: &mut Processed,
) -> Result<Option<Result<(), Error>>, Error> {
    let look = record.look().await?;
    for m in look.messages {
        if !p.apple_messages.contains(&m) {
            cfg.events.send(Event::Apple(m.clone()));
            p.apple_messages.push(m);
        }
    }
    // `null` until Apple starts: no state yet, as the heartbeat says.
    let Some(ps) = look.state.as_deref().map(processing_state) else {
        return Ok(None);
    };
    if p.processing_state != Some(ps) {
        p.processing_state = Some(ps);
        cfg.events.send(Event::State {
            of: format!("build {}", p.build_id.as_deref().unwrap_or_default()),
            state: look.state.clone().unwrap_or_default(),
        });
    }
    Ok(match ps {
        ProcessingState::Valid => Some(Ok(())),
        ProcessingState::Invalid | ProcessingState::Failed => Some(Err(PublishError::Rejected(summary(
            p,
            &format!("build processing ended {}", state_name(&ps)),
        ))
        .into())),
        ProcessingState::Processing | ProcessingState::Unknown => None,
    })
}

/// Apple's processing state from its spelling (anything else is `Unknown`: keep waiting).
fn processing_state(name: &str) -> ProcessingState {
    match name {
        "PROCESSING" => ProcessingState::Processing,
        "FAILED" => ProcessingState::Failed,
        "INVALID" => ProcessingState::Invalid,
        "VALID" => ProcessingState::Valid,
        _ => ProcessingState::Unknown,
    }
}
