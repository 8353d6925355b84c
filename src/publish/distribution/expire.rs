//! Expiring builds (App Store Connect's equivalent of deleting one): single builds, and the
//! older builds of a version once a new one is VALID.

use crate::asc::{AscClient, builds};
use crate::error::Error;
use crate::publish::distribution::Distributed;
use crate::publish::events::Events;
use crate::publish::preflight::{BuildQuery, TrainBuild, builds_of};

/// What expiring one build did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    Now,
    Already,
}

/// Expires one build; an already expired one is reported as such.
pub async fn expire(client: &AscClient, build_id: &str) -> Result<Expired, Error> {
    if builds::get(client, build_id).await?.expired == Some(true) {
        return Ok(Expired::Already);
    }
    builds::expire(client, build_id).await?;
    Ok(Expired::Now)
}

/// Expires each build in turn (`builds expire`): every id is tried, each with its own result.
pub async fn expire_each(client: &AscClient, build_ids: &[String]) -> Vec<(String, Result<Expired, Error>)> {
    let mut results = Vec::with_capacity(build_ids.len());
    for id in build_ids {
        results.push((id.clone(), expire(client, id).await));
    }
    results
}

/// Expires the app's other unexpired builds of `short_version` on `platform`. Only builds Apple
/// places on that platform's train are touched: an iOS 2.0 and a tvOS 2.0 are different trains,
/// and a build whose train Apple did not name is left alone (a wrong expiry cannot be undone).
pub async fn expire_previous(
    client: &AscClient,
    app_id: &str,
    short_version: &str,
    platform: &str,
    keep: &str,
    events: &Events,
    done: &mut Distributed,
) -> Result<(), Error> {
    let builds = builds_of(
        client,
        BuildQuery {
            app_id,
            short_version,
            platform: Some(platform),
            number: None,
            unexpired_only: true,
        },
    )
    .await?;
    for TrainBuild { build: b, platform: p } in builds.iter().filter(|t| t.build.id != keep) {
        if b.expired == Some(true) {
            continue;
        }
        let number = b.number.as_deref().unwrap_or("?");
        if p.is_none() {
            done.warnings.push(format!(
                "--expire-previous: build {short_version} ({number}), id {}, was not expired: App Store Connect \
                 did not say which platform it belongs to",
                b.id
            ));
            continue;
        }
        expire(client, &b.id).await?;
        events.step(format!("  expired build {short_version} ({number}), id {}", b.id));
        done.expired_builds.push(b.id.clone());
    }
    Ok(())
}
