//! Committing the uploaded file (`uploaded: true` plus the MD5). A lost answer is reconciled by
//! reading the file and the upload back, never by replaying the PATCH blindly.

use crate::publish::events::{Event, Events};

use crate::asc::error::AscError;
use crate::asc::{AscClient, AssetDeliveryState, BuildUploadState, StateDetail, UploadFileRecord, build_uploads};
use crate::error::Error;
use crate::publish::error::PublishError;

/// What the commit established.
#[derive(Debug, Clone)]
pub struct Committed {
    pub state: AssetDeliveryState,
    /// True when the answer was lost and the state was read back instead.
    pub reconciled: bool,
    pub errors: Vec<StateDetail>,
    pub warnings: Vec<StateDetail>,
}

pub async fn commit(
    client: &AscClient,
    upload_id: &str,
    file_id: &str,
    md5: &str,
    events: &Events,
) -> Result<Committed, Error> {
    // At most one re-send, and only after reading proved the first one was not applied.
    for round in 0..2 {
        match build_uploads::commit_file(client, file_id, md5).await {
            Ok(file) => return Ok(from_file(&file, round > 0)),
            Err(AscError::Ambiguous { message, .. }) => {
                if client.verbose() {
                    events.send(Event::Detail(format!(
                        "  commit answer lost ({message}); reading the upload back"
                    )));
                }
                if let Some(c) = reconcile(client, upload_id, file_id).await? {
                    return Ok(c);
                }
                if round == 1 {
                    return Err(PublishError::CommitNotConfirmed(message).into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PublishError::CommitNotConfirmed("no answer".into()).into())
}

fn from_file(f: &UploadFileRecord, reconciled: bool) -> Committed {
    let st = f.delivery.as_ref();
    Committed {
        state: st.map_or(AssetDeliveryState::Unknown, |s| s.state),
        reconciled,
        errors: st.map(|s| s.errors.clone()).unwrap_or_default(),
        warnings: st.map(|s| s.warnings.clone()).unwrap_or_default(),
    }
}

/// Reads the file, then the upload: `Some` when the commit evidently took effect.
async fn reconcile(client: &AscClient, upload_id: &str, file_id: &str) -> Result<Option<Committed>, Error> {
    let file = build_uploads::file(client, file_id).await?;
    let c = from_file(&file, true);
    if matches!(
        c.state,
        AssetDeliveryState::Complete | AssetDeliveryState::UploadComplete | AssetDeliveryState::Failed
    ) {
        return Ok(Some(c));
    }
    let upload = build_uploads::get(client, upload_id, false).await?;
    let state = upload.status.map(|s| s.state);
    Ok(match state {
        Some(BuildUploadState::Processing | BuildUploadState::Complete) => Some(Committed {
            state: AssetDeliveryState::Complete,
            reconciled: true,
            errors: Vec::new(),
            warnings: Vec::new(),
        }),
        _ => None,
    })
}
