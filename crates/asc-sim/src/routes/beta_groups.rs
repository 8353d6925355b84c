//! `betaGroups` (list with Apple's filters, read, per app) and build assignment through both
//! to-many relationships (`builds/{id}/relationships/betaGroups`,
//! `betaGroups/{id}/relationships/builds`), with Apple's 422s for all-builds internal groups and
//! builds that are not ready.

use serde_json::{Value, json};

use super::{Reply, Req, page};
use crate::beta::BetaGroup;
use crate::json::{self, ApiError};
use crate::json_beta;
use crate::state::{Build, Store};

const SORTS: &[&str] = &[
    "",
    "name",
    "-name",
    "createdDate",
    "-createdDate",
    "publicLinkEnabled",
    "-publicLinkEnabled",
    "publicLinkLimit",
    "-publicLinkLimit",
];

fn bool_param(req: &Req<'_>, name: &str) -> Result<Option<bool>, ApiError> {
    match req.query.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(v) => Err(ApiError::bad_param(
            name,
            format!("'{v}' is not a valid value for '{name}'; expected true or false"),
        )),
    }
}

pub(super) fn list(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "filter[name]",
        "filter[isInternalGroup]",
        "filter[publicLinkEnabled]",
        "filter[publicLinkLimitEnabled]",
        "filter[publicLink]",
        "filter[app]",
        "filter[builds]",
        "filter[id]",
        "sort",
        "limit",
        "cursor",
        "include",
        "limit[betaTesters]",
        "limit[builds]",
    ])?;
    let include = req
        .query
        .include(&["app", "builds", "betaTesters", "betaRecruitmentCriteria"])?;
    let names = req.query.list("filter[name]");
    let internal = bool_param(req, "filter[isInternalGroup]")?;
    let public = bool_param(req, "filter[publicLinkEnabled]")?;
    let limit_enabled = bool_param(req, "filter[publicLinkLimitEnabled]")?;
    let public_links = req.query.list("filter[publicLink]");
    let apps = req.query.list("filter[app]");
    let builds = req.query.list("filter[builds]");
    let ids = req.query.list("filter[id]");
    let sort = req.query.get("sort").unwrap_or("");
    if !SORTS.contains(&sort) {
        return Err(ApiError::bad_param(
            "sort",
            format!("'{sort}' is not a valid sort field"),
        ));
    }
    let store = req.shared.store();
    let mut groups: Vec<&BetaGroup> = store
        .beta
        .groups
        .values()
        // Exact names: Apple's matching is not documented; clients should compare themselves.
        .filter(|g| names.as_ref().is_none_or(|l| l.contains(&g.name)))
        .filter(|g| internal.is_none_or(|i| i == g.internal))
        .filter(|g| public.is_none_or(|p| p == g.public_link_enabled))
        .filter(|_| limit_enabled.is_none_or(|l| !l))
        .filter(|_| public_links.is_none())
        .filter(|g| apps.as_ref().is_none_or(|l| l.contains(&g.app_id)))
        .filter(|g| ids.as_ref().is_none_or(|l| l.contains(&g.id)))
        .filter(|g| {
            builds
                .as_ref()
                .is_none_or(|l| store.builds_of(g).iter().any(|b| l.contains(&b.id)))
        })
        .collect();
    groups.sort_by_key(|g| g.seq);
    match sort {
        "name" => groups.sort_by(|a, b| a.name.cmp(&b.name)),
        "-name" => groups.sort_by(|a, b| b.name.cmp(&a.name)),
        "createdDate" => groups.sort_by_key(|g| (g.created, g.seq)),
        "-createdDate" => groups.sort_by_key(|g| std::cmp::Reverse((g.created, g.seq))),
        "publicLinkEnabled" => groups.sort_by_key(|g| g.public_link_enabled),
        "-publicLinkEnabled" => groups.sort_by_key(|g| std::cmp::Reverse(g.public_link_enabled)),
        _ => {}
    }
    let mut included = Vec::new();
    let items = groups
        .iter()
        .map(|g| render(req, &store, g, &include, &mut included))
        .collect();
    page(req, items, included)
}

/// One group, with `builds` linkage and included resources when asked for.
fn render(req: &Req<'_>, store: &Store, g: &BetaGroup, include: &[String], included: &mut Vec<Value>) -> Value {
    let mut v = json_beta::beta_group(req.base(), g);
    for name in include {
        match name.as_str() {
            "builds" => {
                let builds = store.builds_of(g);
                v["relationships"]["builds"]["data"] =
                    builds.iter().map(|b| json!({ "type": "builds", "id": b.id })).collect();
                json::push_unique(included, builds.iter().map(|b| json::build(req.base(), b)).collect());
            }
            "app" => {
                if let Some(a) = store.app(&g.app_id) {
                    json::push_unique(included, vec![json::app(req.base(), a)]);
                }
            }
            "betaTesters" => v["relationships"]["betaTesters"]["data"] = json!([]),
            _ => {}
        }
    }
    v
}

pub(super) fn get(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query
        .allow_only(&["include", "limit[betaTesters]", "limit[builds]"])?;
    let include = req
        .query
        .include(&["app", "builds", "betaTesters", "betaRecruitmentCriteria"])?;
    let store = req.shared.store();
    let g = store
        .beta
        .groups
        .get(id)
        .ok_or_else(|| ApiError::not_found("betaGroups", id))?;
    let mut included = Vec::new();
    let data = render(req, &store, g, &include, &mut included);
    let mut doc = json!({ "data": data, "links": { "self": req.self_link() } });
    if !included.is_empty() {
        doc["included"] = Value::Array(included);
    }
    Ok(Reply::Json(200, doc))
}

pub(super) fn list_for_app(req: &Req<'_>, app_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["limit", "cursor"])?;
    let store = req.shared.store();
    if store.app(app_id).is_none() {
        return Err(ApiError::not_found("apps", app_id));
    }
    let mut groups: Vec<&BetaGroup> = store.beta.groups.values().filter(|g| g.app_id == app_id).collect();
    groups.sort_by_key(|g| g.seq);
    let items = groups.iter().map(|g| json_beta::beta_group(req.base(), g)).collect();
    page(req, items, Vec::new())
}

/// `GET /v1/betaGroups/{id}/builds` (full builds) or `.../relationships/builds` (linkages).
pub(super) fn builds_of_group(req: &Req<'_>, id: &str, linkages: bool) -> Result<Reply, ApiError> {
    req.query.allow_only(&["limit", "cursor"])?;
    let store = req.shared.store();
    let g = store
        .beta
        .groups
        .get(id)
        .ok_or_else(|| ApiError::not_found("betaGroups", id))?;
    let items = store
        .builds_of(g)
        .iter()
        .map(|b| {
            if linkages {
                json!({ "type": "builds", "id": b.id })
            } else {
                json::build(req.base(), b)
            }
        })
        .collect();
    page(req, items, Vec::new())
}

/// The `[{type, id}]` ids of a to-many linkage request body of `kind`.
pub(super) fn linkage_ids(req: &Req<'_>, kind: &str) -> Result<Vec<String>, ApiError> {
    let doc = super::parse_body(req)?;
    let Some(items) = doc.get("data").and_then(Value::as_array) else {
        return Err(ApiError::new(
            409,
            "ENTITY_ERROR",
            "The provided entity is invalid",
            "The request body must be a JSON:API document with a 'data' array of resource identifiers.",
        )
        .pointer("/data"));
    };
    let mut ids = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.get("type").and_then(Value::as_str) != Some(kind) {
            return Err(ApiError::new(
                409,
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "The provided entity includes a relationship with an invalid value",
                format!("Each resource identifier must have type '{kind}'"),
            )
            .pointer(format!("/data/{i}/type")));
        }
        match item.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => ids.push(id.to_owned()),
            _ => {
                return Err(super::required("id", &format!("/data/{i}/id")));
            }
        }
    }
    Ok(ids)
}

/// The build is processed, unexpired (and, for external groups, export-compliant): Apple's 422s.
pub(crate) fn check_build_ready(b: &Build, external: bool) -> Result<(), ApiError> {
    let state = |title: &str, detail: String| ApiError::new(422, "STATE_ERROR.ENTITY_STATE_INVALID", title, detail);
    if b.expired {
        return Err(state(
            "The build is not in a valid state for this operation.",
            format!("Build {} has expired; expired builds cannot be tested.", b.version),
        ));
    }
    if b.processing_state != "VALID" {
        return Err(state(
            "The build is not in a valid processing state for this operation.",
            format!(
                "The build is not in a valid processing state for this operation (processingState {}).",
                b.processing_state
            ),
        ));
    }
    if external && b.uses_non_exempt_encryption.is_none() {
        return Err(state(
            "The build is missing export compliance information.",
            "Answer usesNonExemptEncryption (PATCH /v1/builds/{id}) before distributing the build to external testers."
                .to_owned(),
        ));
    }
    Ok(())
}

fn all_builds_group() -> ApiError {
    ApiError::new(
        422,
        "ENTITY_UNPROCESSABLE",
        "Builds cannot be assigned to this internal group.",
        "Cannot add internal group to a build.",
    )
}

/// Checks one (build, group) pair for assignment or removal.
fn check_pair(b: &Build, g: &BetaGroup, adding: bool) -> Result<(), ApiError> {
    if g.app_id != b.app_id {
        return Err(ApiError::new(
            422,
            "ENTITY_UNPROCESSABLE",
            "The request entity is not processable",
            format!(
                "Beta group '{}' belongs to another app than build {}.",
                g.name, b.version
            ),
        ));
    }
    if g.all_builds {
        return Err(all_builds_group());
    }
    if adding {
        check_build_ready(b, !g.internal)?;
    }
    Ok(())
}

/// POST/DELETE `/v1/builds/{id}/relationships/betaGroups`.
pub(super) fn link_groups(req: &Req<'_>, build_id: &str, adding: bool) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let group_ids = linkage_ids(req, "betaGroups")?;
    let mut store = req.shared.store();
    let b = store
        .builds
        .get(build_id)
        .ok_or_else(|| ApiError::not_found("builds", build_id))?;
    for gid in &group_ids {
        let g = store
            .beta
            .groups
            .get(gid)
            .ok_or_else(|| ApiError::not_found("betaGroups", gid))?;
        check_pair(b, g, adding)?;
    }
    for gid in &group_ids {
        if let Some(g) = store.beta.groups.get_mut(gid) {
            if adding {
                g.builds.insert(build_id.to_owned());
            } else {
                g.builds.remove(build_id);
            }
        }
    }
    req.shared.persist(&store);
    Ok(Reply::Empty(204))
}

/// POST/DELETE `/v1/betaGroups/{id}/relationships/builds`.
pub(super) fn link_builds(req: &Req<'_>, group_id: &str, adding: bool) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let build_ids = linkage_ids(req, "builds")?;
    let mut store = req.shared.store();
    let g = store
        .beta
        .groups
        .get(group_id)
        .ok_or_else(|| ApiError::not_found("betaGroups", group_id))?;
    for bid in &build_ids {
        let b = store
            .builds
            .get(bid)
            .ok_or_else(|| ApiError::not_found("builds", bid))?;
        check_pair(b, g, adding)?;
    }
    if let Some(g) = store.beta.groups.get_mut(group_id) {
        for bid in build_ids {
            if adding {
                g.builds.insert(bid);
            } else {
                g.builds.remove(&bid);
            }
        }
    }
    req.shared.persist(&store);
    Ok(Reply::Empty(204))
}
