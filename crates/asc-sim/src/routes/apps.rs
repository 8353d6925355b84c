//! `GET /v1/apps` (by bundle id) and `GET /v1/apps/{id}`.

use serde_json::json;

use super::{Reply, Req, page};
use crate::json::{self, ApiError};

pub(super) fn list(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query
        .allow_only(&["filter[bundleId]", "filter[id]", "limit", "cursor", "sort"])?;
    // altool sends the value quoted (`filter[bundleId]="com.x.y"`); Apple accepts both.
    let bundle_ids: Option<Vec<String>> = req
        .query
        .list("filter[bundleId]")
        .map(|l| l.into_iter().map(|b| b.trim_matches('"').to_owned()).collect());
    let ids = req.query.list("filter[id]");
    let store = req.shared.store();
    let items = store
        .apps
        .iter()
        .filter(|a| bundle_ids.as_ref().is_none_or(|l| l.contains(&a.bundle_id)))
        .filter(|a| ids.as_ref().is_none_or(|l| l.contains(&a.id)))
        .map(|a| json::app(req.base(), a))
        .collect();
    page(req, items, Vec::new())
}

pub(super) fn get(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let store = req.shared.store();
    let app = store.app(id).ok_or_else(|| ApiError::not_found("apps", id))?;
    Ok(Reply::Json(
        200,
        json!({ "data": json::app(req.base(), app), "links": { "self": req.self_link() } }),
    ))
}
