//! `builds` (list with Apple's VALID-only default, read, export compliance / expiry PATCH),
//! `builds/{id}/buildBetaDetail` and `preReleaseVersions`.

use serde_json::{Value, json};

use super::build_uploads::PLATFORMS;
use super::{Reply, Req, attributes, body_data, invalid_attribute, page};
use crate::json::{self, ApiError};
use crate::state::{Build, compare_versions};

const BUILD_INCLUDES: &[&str] = &[
    "buildBetaDetail",
    "preReleaseVersion",
    "app",
    "buildUpload",
    "betaGroups",
    "individualTesters",
    "betaBuildLocalizations",
    "betaAppReviewSubmission",
];
const REVIEW_STATES: &[&str] = &["WAITING_FOR_REVIEW", "IN_REVIEW", "REJECTED", "APPROVED"];
const PROCESSING_STATES: &[&str] = &["PROCESSING", "FAILED", "INVALID", "VALID"];

pub(super) fn list(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "filter[app]",
        "filter[version]",
        "filter[preReleaseVersion.version]",
        "filter[preReleaseVersion]",
        "filter[preReleaseVersion.platform]",
        "filter[processingState]",
        "filter[expired]",
        "filter[id]",
        "filter[betaGroups]",
        "filter[betaAppReviewSubmission.betaReviewState]",
        "filter[usesNonExemptEncryption]",
        "filter[buildAudienceType]",
        "exists[usesNonExemptEncryption]",
        "sort",
        "limit",
        "cursor",
        "include",
        "limit[betaGroups]",
        "limit[individualTesters]",
        "limit[betaBuildLocalizations]",
    ])?;
    let include = req.query.include(BUILD_INCLUDES)?;
    // Without filter[processingState], Apple lists only VALID builds.
    let states = req
        .query
        .enum_list("filter[processingState]", PROCESSING_STATES)?
        .unwrap_or_else(|| vec!["VALID".to_owned()]);
    let platforms = req.query.enum_list("filter[preReleaseVersion.platform]", PLATFORMS)?;
    let expired = match req.query.get("filter[expired]") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => {
            return Err(ApiError::bad_param(
                "filter[expired]",
                format!("'{v}' is not a valid value for 'filter[expired]'; expected true or false"),
            ));
        }
    };
    let bool_filter = |name: &str| match req.query.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(v) => Err(ApiError::bad_param(
            name,
            format!("'{v}' is not a valid value for '{name}'; expected true or false"),
        )),
    };
    let encryption = bool_filter("filter[usesNonExemptEncryption]")?;
    let encryption_answered = bool_filter("exists[usesNonExemptEncryption]")?;
    let review_states = req
        .query
        .enum_list("filter[betaAppReviewSubmission.betaReviewState]", REVIEW_STATES)?;
    let audiences = req
        .query
        .enum_list("filter[buildAudienceType]", &["INTERNAL_ONLY", "APP_STORE_ELIGIBLE"])?;
    let groups = req.query.list("filter[betaGroups]");
    let apps = req.query.list("filter[app]");
    let versions = req.query.list("filter[version]");
    let train_versions = req.query.list("filter[preReleaseVersion.version]");
    let trains = req.query.list("filter[preReleaseVersion]");
    let ids = req.query.list("filter[id]");
    let sort = req.query.get("sort").unwrap_or("");
    if ![
        "",
        "version",
        "-version",
        "uploadedDate",
        "-uploadedDate",
        "preReleaseVersion",
        "-preReleaseVersion",
    ]
    .contains(&sort)
    {
        return Err(ApiError::bad_param(
            "sort",
            format!("'{sort}' is not a valid sort field"),
        ));
    }
    let store = req.shared.store();
    let train_of = |b: &Build| store.pre_release_versions.get(&b.pre_release_version_id);
    let mut builds: Vec<&Build> = store
        .builds
        .values()
        .filter(|b| states.contains(&b.processing_state))
        .filter(|b| apps.as_ref().is_none_or(|l| l.contains(&b.app_id)))
        .filter(|b| versions.as_ref().is_none_or(|l| l.contains(&b.version)))
        .filter(|b| trains.as_ref().is_none_or(|l| l.contains(&b.pre_release_version_id)))
        .filter(|b| ids.as_ref().is_none_or(|l| l.contains(&b.id)))
        .filter(|b| expired.is_none_or(|e| e == b.expired))
        .filter(|b| encryption.is_none_or(|e| b.uses_non_exempt_encryption == Some(e)))
        .filter(|b| encryption_answered.is_none_or(|e| b.uses_non_exempt_encryption.is_some() == e))
        .filter(|_| {
            audiences
                .as_ref()
                .is_none_or(|l| l.iter().any(|a| a == "APP_STORE_ELIGIBLE"))
        })
        .filter(|b| {
            groups
                .as_ref()
                .is_none_or(|l| store.groups_of(b).iter().any(|g| l.contains(&g.id)))
        })
        .filter(|b| {
            review_states
                .as_ref()
                .is_none_or(|l| store.submission_of(&b.id).is_some_and(|s| l.contains(&s.state)))
        })
        .filter(|b| {
            train_versions
                .as_ref()
                .is_none_or(|l| train_of(b).is_some_and(|p| l.contains(&p.version)))
        })
        .filter(|b| {
            platforms
                .as_ref()
                .is_none_or(|l| train_of(b).is_some_and(|p| l.contains(&p.platform)))
        })
        .collect();
    builds.sort_by_key(|b| b.seq);
    let train_version = |b: &Build| train_of(b).map(|p| p.version.clone()).unwrap_or_default();
    match sort {
        "version" => builds.sort_by(|a, b| compare_versions(&a.version, &b.version)),
        "-version" => builds.sort_by(|a, b| compare_versions(&b.version, &a.version)),
        "uploadedDate" => builds.sort_by_key(|b| b.uploaded),
        "-uploadedDate" => builds.sort_by_key(|b| std::cmp::Reverse(b.uploaded)),
        "preReleaseVersion" => builds.sort_by(|a, b| compare_versions(&train_version(a), &train_version(b))),
        "-preReleaseVersion" => builds.sort_by(|a, b| compare_versions(&train_version(b), &train_version(a))),
        _ => {}
    }
    let mut included = Vec::new();
    for b in &builds {
        json::push_unique(&mut included, json::build_includes(req.base(), &store, b, &include));
    }
    let items = builds
        .iter()
        .map(|b| json::build_in(req.base(), &store, b, &include))
        .collect();
    page(req, items, included)
}

fn one(req: &Req<'_>, b: &Build, include: &[String], store: &crate::state::Store) -> Value {
    let mut doc =
        json!({ "data": json::build_in(req.base(), store, b, include), "links": { "self": req.self_link() } });
    let included = json::build_includes(req.base(), store, b, include);
    if !included.is_empty() {
        doc["included"] = Value::Array(included);
    }
    doc
}

pub(super) fn get(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "include",
        "limit[betaGroups]",
        "limit[individualTesters]",
        "limit[betaBuildLocalizations]",
    ])?;
    let include = req.query.include(BUILD_INCLUDES)?;
    let store = req.shared.store();
    let b = store.builds.get(id).ok_or_else(|| ApiError::not_found("builds", id))?;
    Ok(Reply::Json(200, one(req, b, &include, &store)))
}

fn optional_bool(attrs: &serde_json::Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match attrs.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid_attribute(name, format!("'{name}' must be a boolean"))),
    }
}

pub(super) fn update(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "builds")?;
    super::same_id(&data, id)?;
    let attrs = attributes(&data, "builds", &["expired", "usesNonExemptEncryption"])?;
    let expired = optional_bool(&attrs, "expired")?;
    let encryption = optional_bool(&attrs, "usesNonExemptEncryption")?;
    let mut store = req.shared.store();
    let b = store
        .builds
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("builds", id))?;
    if expired == Some(false) && b.expired {
        return Err(invalid_attribute(
            "expired",
            "An expired build cannot be made available again.",
        ));
    }

    if let Some(e) = encryption {
        b.uses_non_exempt_encryption = Some(e);
    }
    if expired == Some(true) {
        b.expired = true;
    }
    let b = b.clone();
    req.shared.persist(&store);
    Ok(Reply::Json(200, one(req, &b, &[], &store)))
}

pub(super) fn beta_detail(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let store = req.shared.store();
    let b = store.builds.get(id).ok_or_else(|| ApiError::not_found("builds", id))?;
    Ok(Reply::Json(
        200,
        json!({ "data": json::beta_detail(req.base(), &store, b), "links": { "self": req.self_link() } }),
    ))
}

pub(super) fn pre_release_versions(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "filter[app]",
        "filter[version]",
        "filter[platform]",
        "sort",
        "limit",
        "cursor",
    ])?;
    let apps = req.query.list("filter[app]");
    let versions = req.query.list("filter[version]");
    let platforms = req.query.enum_list("filter[platform]", PLATFORMS)?;
    let sort = req.query.get("sort").unwrap_or("");
    if !["", "version", "-version"].contains(&sort) {
        return Err(ApiError::bad_param(
            "sort",
            format!("'{sort}' is not a valid sort field"),
        ));
    }
    let store = req.shared.store();
    let mut list: Vec<_> = store
        .pre_release_versions
        .values()
        .filter(|p| apps.as_ref().is_none_or(|l| l.contains(&p.app_id)))
        .filter(|p| versions.as_ref().is_none_or(|l| l.contains(&p.version)))
        .filter(|p| platforms.as_ref().is_none_or(|l| l.contains(&p.platform)))
        .collect();
    list.sort_by_key(|p| p.seq);
    match sort {
        "version" => list.sort_by(|a, b| compare_versions(&a.version, &b.version)),
        "-version" => list.sort_by(|a, b| compare_versions(&b.version, &a.version)),
        _ => {}
    }
    let items = list.iter().map(|p| json::pre_release_version(req.base(), p)).collect();
    page(req, items, Vec::new())
}
