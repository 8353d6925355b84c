//! The read-only build-number check `preflight` reports: what upload would find for the requested
//! version and build number, in our terms rather than Apple's records.

use crate::asc::AscClient;
use crate::asc::endpoints::builds;
use crate::asc::model::{Build, BuildUploadState};
use crate::error::Error;
use crate::publish::UploadRequest;
use crate::publish::checksum::md5_file;
use crate::publish::preflight::{asset_file, compare_build_numbers, list_uploads, recognised_without_checksum};

/// What exists for the requested build number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberState {
    /// Nothing: upload would reserve it.
    Free,
    /// An interrupted reservation that upload can resume or replace.
    Interrupted,
    /// An upload of it failed processing.
    Failed,
    /// This very file was already uploaded: upload would only wait for it.
    SameFile,
    /// Another file holds the number.
    Used,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberCheck {
    pub state: NumberState,
    /// The highest build number of the version, uploads and builds together.
    pub highest: Option<String>,
}

/// Reads the uploads and builds of the version (no writes: upload's own preflight may also
/// delete abandoned reservations) and, when the number is held, whether by this same file.
pub async fn check_build_number(client: &AscClient, app_id: &str, req: &UploadRequest) -> Result<NumberCheck, Error> {
    let uploads = list_uploads(client, app_id, req, None).await?;
    let url = builds::list(
        client,
        &[
            ("filter[app]", app_id),
            ("filter[preReleaseVersion.version]", req.short_version.as_str()),
            ("filter[processingState]", "PROCESSING,FAILED,INVALID,VALID"),
            ("limit", "200"),
        ],
    )?;
    let builds: Vec<Build> = client.get_all(url).await?;
    let numbers = uploads
        .iter()
        .filter_map(|u| u.attributes.as_ref()?.cf_bundle_version.clone())
        .chain(builds.iter().filter_map(|b| b.attributes.as_ref()?.version.clone()));
    let highest = numbers.max_by(|a, b| compare_build_numbers(a, b));
    let same = uploads
        .iter()
        .find(|u| u.attributes.as_ref().and_then(|a| a.cf_bundle_version.as_deref()) == Some(req.version.as_str()));
    let upload_state = same.and_then(|u| u.attributes.as_ref()?.state.as_ref().map(|s| s.state));
    let taken = builds
        .iter()
        .any(|b| b.attributes.as_ref().and_then(|a| a.version.as_deref()) == Some(req.version.as_str()));
    let state = match upload_state {
        Some(BuildUploadState::AwaitingUpload) => NumberState::Interrupted,
        Some(BuildUploadState::Failed) => NumberState::Failed,
        Some(_) | None if same.is_some() || taken => {
            let md5 = md5_file(&req.ipa_path).await?;
            let file = match same {
                Some(u) => asset_file(client, &u.id).await?,
                None => None,
            };
            let attrs = file.as_ref().and_then(|f| f.attributes.as_ref());
            let server = attrs
                .and_then(|a| a.source_file_checksums.as_ref()?.file.as_ref())
                .filter(|c| !c.hash.is_empty())
                .map(|c| c.hash.clone());
            // Without Apple's checksum, the same name and size is how `upload` recognises it too.
            let same_file = match server {
                Some(s) => s.eq_ignore_ascii_case(&md5),
                None => recognised_without_checksum(attrs, req) == Some(true),
            };
            if same_file {
                NumberState::SameFile
            } else {
                NumberState::Used
            }
        }
        _ => NumberState::Free,
    };
    Ok(NumberCheck { state, highest })
}
