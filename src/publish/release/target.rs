//! Which build to release: by build id, by the upload an earlier job made (waiting for its
//! processing if needed), or by version and build number.

use crate::asc::AscClient;
use crate::error::Error;
use crate::publish::build_lookup::{Wanted, find_build};
use crate::publish::distribution::lookup;
use crate::publish::distribution::lookup::ProcessingState;
use crate::publish::preflight::find_app;
use crate::publish::processing::{self, Processed, WaitConfig};
use crate::publish::release::{ReleaseError, Released, Target};

/// How the build is named.
#[derive(Debug, Clone)]
pub enum BuildRef {
    Id(String),
    Upload(String),
    Version {
        app_id: Option<String>,
        bundle_id: Option<String>,
        version: String,
        number: String,
        platform: Option<String>,
    },
}

fn not_found(e: crate::asc::AscError, message: String) -> Error {
    if e.is_not_found() {
        ReleaseError::NotFound(message).into()
    } else {
        e.into()
    }
}

/// Finds the build and checks it can go to the App Store (VALID, unexpired); what it learns on
/// the way goes into `done`.
pub async fn resolve(
    client: &AscClient,
    build: &BuildRef,
    wait: &WaitConfig,
    done: &mut Released,
) -> Result<Target, Error> {
    let build_id = match build {
        BuildRef::Id(id) => id.clone(),
        BuildRef::Upload(upload_id) => {
            done.upload_id = Some(upload_id.clone());
            let mut p = Processed {
                upload_id: Some(upload_id.clone()),
                ..Processed::default()
            };
            let r = processing::wait(client, upload_id, wait, &mut p).await;
            let build_id = p.build_id.clone();
            done.processed = Some(p);
            r?;
            build_id.ok_or_else(|| ReleaseError::NotFound(format!("upload {upload_id} has no build yet")))?
        }
        BuildRef::Version {
            app_id,
            bundle_id,
            version,
            number,
            platform,
        } => {
            done.build_number = Some(number.clone());
            let app_id = match (app_id, bundle_id) {
                (Some(a), _) => a.clone(),
                (None, Some(b)) => find_app(client, b).await?,
                (None, None) => return Err(Error::usage("--version/--build-number need --app-id or --bundle-id")),
            };
            let found = find_build(
                client,
                Wanted {
                    app_id: &app_id,
                    version,
                    number,
                    platform: platform.as_deref(),
                    upload_id: None,
                },
            )
            .await?;
            found.map(|f| f.build_id).ok_or_else(|| {
                Error::from(ReleaseError::NotFound(format!(
                    "no build {version} ({number}) for app {app_id}"
                )))
            })?
        }
    };
    let facts = lookup::build_facts(client, &build_id)
        .await
        .map_err(|e| not_found(e, format!("no build with id {build_id}")))?;
    done.build_id = Some(build_id.clone());
    done.processing_state = Some(facts.state);
    let state = processing::state_name(&facts.state);
    if facts.state != ProcessingState::Valid || facts.expired {
        let state = if facts.expired { "expired" } else { state }.to_string();
        return Err(ReleaseError::NotReleasable { build_id, state }.into());
    }
    let app_id = facts
        .app_id
        .clone()
        .ok_or_else(|| ReleaseError::NotFound(format!("build {build_id} names no app")))?;
    let version_string = facts
        .train_version
        .clone()
        .ok_or_else(|| ReleaseError::NotFound(format!("build {build_id} has no version string")))?;
    let platform = facts.train_platform.clone().unwrap_or_else(|| "IOS".to_string());
    done.app_id = Some(app_id.clone());
    done.version = Some(version_string.clone());
    done.platform = Some(platform.clone());
    done.uses_non_exempt_encryption = facts.uses_non_exempt_encryption;
    Ok(Target {
        app_id,
        build_id,
        build_number: done.build_number.clone(),
        version_string,
        platform,
        uses_non_exempt_encryption: facts.uses_non_exempt_encryption,
    })
}
