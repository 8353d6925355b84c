//! Expiring builds (App Store Connect's equivalent of deleting one): single builds, and the
//! older builds of a version once a new one is VALID.

use reqwest::Method;

use crate::asc::AscClient;
use crate::asc::model::{Build, Document};
use crate::asc::testflight::request;
use crate::error::Error;
use crate::outcome::Outcome;
use crate::publish::distribution::say;
use crate::publish::preflight::seg;

/// What expiring one build did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    Now,
    Already,
}

/// Expires one build; an already expired one is reported as such.
pub async fn expire(client: &AscClient, build_id: &str) -> Result<Expired, Error> {
    let url = client.url(&format!("/v1/builds/{}", seg(build_id)), &[])?;
    let doc: Document<Build> = client.get(url.clone()).await?;
    if doc.data.attributes.as_ref().and_then(|a| a.expired) == Some(true) {
        return Ok(Expired::Already);
    }
    client
        .mutate(Method::PATCH, url, Some(&request::expire_build(build_id)))
        .await?;
    Ok(Expired::Now)
}

/// Expires the app's other unexpired builds of `short_version`.
pub async fn expire_previous(
    client: &AscClient,
    app_id: &str,
    short_version: &str,
    keep: &str,
    quiet: bool,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let url = client.url(
        "/v1/builds",
        &[
            ("filter[app]", app_id),
            ("filter[preReleaseVersion.version]", short_version),
            ("filter[expired]", "false"),
            ("filter[processingState]", "PROCESSING,FAILED,INVALID,VALID"),
            ("limit", "200"),
        ],
    )?;
    let builds: Vec<Build> = client.get_all(url).await?;
    for b in builds.iter().filter(|b| b.id != keep) {
        if b.attributes.as_ref().and_then(|a| a.expired) == Some(true) {
            continue;
        }
        expire(client, &b.id).await?;
        let number = b.attributes.as_ref().and_then(|a| a.version.as_deref()).unwrap_or("?");
        say(
            quiet,
            &format!("  expired build {short_version} ({number}), id {}", b.id),
        );
        outcome.expired_builds.push(b.id.clone());
    }
    Ok(())
}
