//! Committing the uploaded file (`uploaded: true` plus the MD5). A lost answer is reconciled by
//! reading the file and the upload back, never by replaying the PATCH blindly.

use crate::publish::events::{Event, Events};
use reqwest::Method;

use crate::asc::AscClient;
use crate::asc::endpoints::build_uploads;
use crate::asc::error::AscError;
use crate::asc::model::{
    AssetDeliveryState, BuildUpload, BuildUploadFile, BuildUploadState, Document, StateDetail, request,
};
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
    let url = build_uploads::file(client, file_id)?;
    let body = request::commit_build_upload_file(file_id, md5);
    // At most one re-send, and only after reading proved the first one was not applied.
    for round in 0..2 {
        match client
            .mutate_json::<Document<BuildUploadFile>>(Method::PATCH, url.clone(), &body)
            .await
        {
            Ok(doc) => return Ok(from_file(&doc.data, round > 0)),
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

fn from_file(f: &BuildUploadFile, reconciled: bool) -> Committed {
    let st = f.attributes.as_ref().and_then(|a| a.asset_delivery_state.as_ref());
    Committed {
        state: st.map_or(AssetDeliveryState::Unknown, |s| s.state),
        reconciled,
        errors: st.and_then(|s| s.errors.clone()).unwrap_or_default(),
        warnings: st.and_then(|s| s.warnings.clone()).unwrap_or_default(),
    }
}

/// Reads the file, then the upload: `Some` when the commit evidently took effect.
async fn reconcile(client: &AscClient, upload_id: &str, file_id: &str) -> Result<Option<Committed>, Error> {
    let url = build_uploads::file(client, file_id)?;
    let file: Document<BuildUploadFile> = client.get(url).await?;
    let c = from_file(&file.data, true);
    if matches!(
        c.state,
        AssetDeliveryState::Complete | AssetDeliveryState::UploadComplete | AssetDeliveryState::Failed
    ) {
        return Ok(Some(c));
    }
    let url = build_uploads::one(client, upload_id, &[])?;
    let upload: Document<BuildUpload> = client.get(url).await?;
    let state = upload
        .data
        .attributes
        .as_ref()
        .and_then(|a| a.state.as_ref())
        .map(|s| s.state);
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
