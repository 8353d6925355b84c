//! Typed operations on apps.

use super::endpoints::apps;
use super::model::{App, Document};
use super::records::AppRecord;
use super::{AscClient, AscError};

/// The apps whose bundle id filter matches `bundle_id` (Apple's filter; callers check exactness).
pub async fn find_by_bundle_id(c: &AscClient, bundle_id: &str) -> Result<Vec<AppRecord>, AscError> {
    let url = apps::list(
        c,
        &[
            ("filter[bundleId]", bundle_id),
            ("fields[apps]", "bundleId,name"),
            ("limit", "200"),
        ],
    )?;
    let found: Vec<App> = c.get_all(url).await?;
    Ok(found.into_iter().map(AppRecord::from).collect())
}

/// One app with its bundle id.
pub async fn get(c: &AscClient, app_id: &str) -> Result<AppRecord, AscError> {
    let url = apps::one(c, app_id, &[("fields[apps]", "bundleId")])?;
    let doc: Document<App> = c.get(url).await?;
    Ok(doc.data.into())
}
