//! App Store versions and what hangs off one: App Review details, the build link and the phased
//! release (localizations and screenshot sets are in `app_store_localizations.rs`). Every handler
//! first lets time move the reviews on (see `Store::advance_reviews`).

use serde_json::{Map, Value, json};

use super::{
    Reply, Req, attributes, body_data, enum_attr, invalid_attribute, page, relationship_id, same_id, string_attr,
    unknown_related,
};
use crate::app_store::{EDITABLE, PhasedRelease, Version, VersionLocalization};
use crate::json::{self, ApiError};
use crate::json_app_store as js;
use crate::keys;
use crate::state::Store;

pub(crate) const PLATFORMS: &[&str] = &["IOS", "MAC_OS", "TV_OS", "VISION_OS"];
const RELEASE_TYPES: &[&str] = &["MANUAL", "AFTER_APPROVAL", "SCHEDULED"];
const VERSION_INCLUDES: &[&str] = &["build", "appStoreVersionPhasedRelease", "appStoreReviewDetail"];

pub(crate) fn conflict(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        409,
        "STATE_ERROR.ENTITY_STATE_INVALID",
        "The request cannot be fulfilled because of the state of another resource.",
        detail,
    )
}

pub(super) fn duplicate(name: &str, detail: String) -> ApiError {
    ApiError::new(
        409,
        "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
        "The provided entity includes an attribute with a value that has already been used",
        detail,
    )
    .pointer(format!("/data/attributes/{name}"))
}

/// The store after the reviews moved on to now.
pub(crate) fn store_now<'a>(req: &'a Req<'_>) -> std::sync::MutexGuard<'a, Store> {
    let now = req.shared.now_millis();
    let mut store = req.shared.store();
    store.advance_reviews(now);
    store
}

pub(super) fn editable(v: &Version) -> Result<(), ApiError> {
    if EDITABLE.contains(&v.state.as_str()) {
        Ok(())
    } else {
        Err(conflict(format!(
            "The App Store version {} is in state {} and cannot be edited.",
            v.version_string, v.state
        )))
    }
}

fn version_doc(req: &Req<'_>, store: &Store, v: &Version, include: &[String]) -> Value {
    let mut included = Vec::new();
    for name in include {
        match name.as_str() {
            "build" => {
                if let Some(b) = v.build_id.as_deref().and_then(|b| store.builds.get(b)) {
                    included.push(json::build(req.base(), b));
                }
            }
            "appStoreVersionPhasedRelease" => {
                if let Some(p) = store.app_store.phased.values().find(|p| p.version_id == v.id) {
                    included.push(js::phased_release(req.base(), p));
                }
            }
            "appStoreReviewDetail" => {
                if let Some(d) = store.app_store.review_details.get(&v.review_detail_id) {
                    included.push(js::review_detail(req.base(), d));
                }
            }
            _ => {}
        }
    }
    let mut doc = json!({ "data": js::version(req.base(), store, v), "links": { "self": req.self_link() } });
    if !included.is_empty() {
        doc["included"] = Value::Array(included);
    }
    doc
}

pub(super) fn versions_of_app(req: &Req<'_>, app_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "filter[platform]",
        "filter[versionString]",
        "filter[appStoreState]",
        "filter[appVersionState]",
        "filter[id]",
        "limit",
        "cursor",
        "include",
    ])?;
    let include = req.query.include(VERSION_INCLUDES)?;
    let platforms = req.query.enum_list("filter[platform]", PLATFORMS)?;
    let strings = req.query.list("filter[versionString]");
    let states = req.query.list("filter[appVersionState]");
    let store_states = req.query.list("filter[appStoreState]");
    let ids = req.query.list("filter[id]");
    let store = store_now(req);
    if store.app(app_id).is_none() {
        return Err(ApiError::not_found("apps", app_id));
    }
    let mut list: Vec<&Version> = store
        .app_store
        .versions
        .values()
        .filter(|v| v.app_id == app_id)
        .filter(|v| platforms.as_ref().is_none_or(|p| p.contains(&v.platform)))
        .filter(|v| strings.as_ref().is_none_or(|s| s.contains(&v.version_string)))
        .filter(|v| states.as_ref().is_none_or(|s| s.contains(&v.state)))
        .filter(|v| {
            store_states
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| x == crate::app_store::app_store_state(&v.state)))
        })
        .filter(|v| ids.as_ref().is_none_or(|s| s.contains(&v.id)))
        .collect();
    // Newest first, as App Store Connect lists them.
    list.sort_by_key(|v| std::cmp::Reverse(v.seq));
    let mut included = Vec::new();
    for v in &list {
        if let Some(Value::Array(inc)) = version_doc(req, &store, v, &include).get("included") {
            json::push_unique(&mut included, inc.clone());
        }
    }
    let items = list.iter().map(|v| js::version(req.base(), &store, v)).collect();
    page(req, items, included)
}

pub(super) fn get_version(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include"])?;
    let include = req.query.include(VERSION_INCLUDES)?;
    let store = store_now(req);
    let v = version(&store, id)?;
    Ok(Reply::Json(200, version_doc(req, &store, v, &include)))
}

fn check_date(attrs: &Map<String, Value>) -> Result<Option<Option<String>>, ApiError> {
    match attrs.get("earliestReleaseDate") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s))
            if time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok() =>
        {
            Ok(Some(Some(s.clone())))
        }
        Some(_) => Err(invalid_attribute(
            "earliestReleaseDate",
            "'earliestReleaseDate' must be an ISO 8601 date-time, e.g. 2026-03-01T08:00:00Z",
        )),
    }
}

/// `POST /v1/appStoreVersions`: a new version copies the metadata of the newest one. Refused
/// while the platform has a version that is still open (editable, waiting or in review), and for
/// a version string already used on the platform.
pub(super) fn create_version(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "appStoreVersions")?;
    let attrs = attributes(
        &data,
        "appStoreVersions",
        &[
            "platform",
            "versionString",
            "copyright",
            "reviewType",
            "releaseType",
            "earliestReleaseDate",
            "usesIdfa",
        ],
    )?;
    let platform = enum_attr(&attrs, "platform", PLATFORMS)?;
    let version_string = string_attr(&attrs, "versionString")?;
    let app_id = relationship_id(&data, "app", "apps")?;
    let release_type = match attrs.get("releaseType") {
        None | Some(Value::Null) => None,
        Some(_) => Some(enum_attr(&attrs, "releaseType", RELEASE_TYPES)?),
    };
    let date = check_date(&attrs)?;
    let now = req.shared.now_millis();
    let mut store = store_now(req);
    if store.app(&app_id).is_none() {
        return Err(unknown_related("app", "apps", &app_id));
    }
    let same_platform = |v: &&Version| v.app_id == app_id && v.platform == platform;
    if store
        .app_store
        .versions
        .values()
        .filter(same_platform)
        .any(|v| v.version_string == version_string)
    {
        return Err(duplicate(
            "versionString",
            format!("The version number {version_string} has already been used on {platform}."),
        ));
    }
    if let Some(open) = store.app_store.versions.values().filter(same_platform).find(|v| {
        EDITABLE.contains(&v.state.as_str()) || matches!(v.state.as_str(), "WAITING_FOR_REVIEW" | "IN_REVIEW")
    }) {
        return Err(conflict(format!(
            "You cannot create a new version of the App in the current state: version {} is {}.",
            open.version_string, open.state
        ))
        .meta(json!({ "appStoreVersion": open.id })));
    }
    let source = store.metadata_source(&app_id, &platform);
    let id = match source {
        Some(from) => store.copy_version(&from, &app_id, &platform, &version_string, now),
        None => {
            let id = store.copy_version("", &app_id, &platform, &version_string, now);
            let seq = store.next_seq();
            let loc = VersionLocalization {
                id: keys::uuid(),
                seq,
                version_id: id.clone(),
                locale: "en-US".into(),
                description: None,
                keywords: None,
                support_url: None,
                marketing_url: None,
                promotional_text: None,
                whats_new: None,
                screenshots: 0,
            };
            store.app_store.localizations.insert(loc.id.clone(), loc);
            id
        }
    };
    if let Some(v) = store.app_store.versions.get_mut(&id) {
        if let Some(r) = release_type {
            v.release_type = r;
        }
        if let Some(d) = date {
            v.earliest_release_date = d;
        }
        if let Some(Value::String(c)) = attrs.get("copyright") {
            v.copyright = Some(c.clone());
        }
    }
    let v = store.app_store.versions[&id].clone();
    let doc = json!({
        "data": js::version(req.base(), &store, &v),
        "links": { "self": format!("{}/v1/appStoreVersions/{}", req.base(), v.id) },
    });
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

/// `PATCH /v1/appStoreVersions/{id}`: version string, copyright, release type and date, while
/// the version is editable. SCHEDULED needs an earliestReleaseDate.
pub(super) fn update_version(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "appStoreVersions")?;
    same_id(&data, id)?;
    let attrs = attributes(
        &data,
        "appStoreVersions",
        &[
            "versionString",
            "copyright",
            "reviewType",
            "releaseType",
            "earliestReleaseDate",
            "usesIdfa",
            "downloadable",
        ],
    )?;
    let release_type = match attrs.get("releaseType") {
        None | Some(Value::Null) => None,
        Some(_) => Some(enum_attr(&attrs, "releaseType", RELEASE_TYPES)?),
    };
    let version_string = match attrs.get("versionString") {
        None | Some(Value::Null) => None,
        Some(_) => Some(string_attr(&attrs, "versionString")?),
    };
    let date = check_date(&attrs)?;
    let mut store = store_now(req);
    let v = version(&store, id)?.clone();
    editable(&v)?;
    if let Some(s) = &version_string {
        if store
            .app_store
            .versions
            .values()
            .any(|o| o.id != v.id && o.app_id == v.app_id && o.platform == v.platform && &o.version_string == s)
        {
            return Err(duplicate(
                "versionString",
                format!("The version number {s} has already been used on {}.", v.platform),
            ));
        }
    }
    let next_type = release_type.clone().unwrap_or_else(|| v.release_type.clone());
    let next_date = date.clone().unwrap_or_else(|| v.earliest_release_date.clone());
    if next_type == "SCHEDULED" && next_date.is_none() {
        return Err(super::required(
            "earliestReleaseDate",
            "/data/attributes/earliestReleaseDate",
        ));
    }
    let Some(m) = store.app_store.versions.get_mut(id) else {
        return Err(ApiError::not_found("appStoreVersions", id));
    };
    if let Some(s) = version_string {
        m.version_string = s;
    }
    if let Some(Value::String(c)) = attrs.get("copyright") {
        m.copyright = Some(c.clone());
    }
    m.release_type = next_type;
    m.earliest_release_date = next_date;
    let v = m.clone();
    let doc = version_doc(req, &store, &v, &[]);
    req.shared.persist(&store);
    Ok(Reply::Json(200, doc))
}

/// `PATCH /v1/appStoreVersions/{id}/relationships/build`: the build must be this app's, VALID,
/// unexpired, of the version's platform and of the same version string.
pub(super) fn attach_build(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let doc = super::parse_body(req)?;
    let build_id = match (doc["data"]["type"].as_str(), doc["data"]["id"].as_str()) {
        (Some("builds"), Some(b)) if !b.is_empty() => b.to_owned(),
        _ => {
            return Err(ApiError::new(
                409,
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "The provided entity includes a relationship with an invalid value",
                "The body must be a linkage to one build: {\"data\": {\"type\": \"builds\", \"id\": \"…\"}}",
            )
            .pointer("/data"));
        }
    };
    let mut store = store_now(req);
    let v = version(&store, id)?.clone();
    editable(&v)?;
    let Some(b) = store.builds.get(&build_id) else {
        return Err(unknown_related("build", "builds", &build_id));
    };
    let train = store.pre_release_versions.get(&b.pre_release_version_id);
    let invalid = |detail: String| {
        ApiError::new(
            409,
            "ENTITY_ERROR.RELATIONSHIP.INVALID",
            "The provided entity includes a relationship with an invalid value",
            detail,
        )
        .pointer("/data")
    };
    if b.app_id != v.app_id {
        return Err(invalid(format!("Build {build_id} belongs to another app.")));
    }
    if b.expired || b.processing_state != "VALID" {
        return Err(invalid(format!(
            "Build {} is {} and cannot be selected for the App Store.",
            b.version,
            if b.expired {
                "expired"
            } else {
                b.processing_state.as_str()
            }
        )));
    }
    if let Some(t) = train {
        if t.platform != v.platform || t.version != v.version_string {
            return Err(invalid(format!(
                "Build {} ({}, {}) does not match App Store version {} on {}.",
                b.version, t.version, t.platform, v.version_string, v.platform
            )));
        }
    }
    if let Some(m) = store.app_store.versions.get_mut(id) {
        m.build_id = Some(build_id);
    }
    req.shared.persist(&store);
    Ok(Reply::Empty(204))
}

pub(super) fn review_detail_of_version(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let store = store_now(req);
    let v = version(&store, id)?;
    let d = store
        .app_store
        .review_details
        .get(&v.review_detail_id)
        .ok_or_else(|| ApiError::not_found("appStoreReviewDetails", &v.review_detail_id))?;
    Ok(Reply::Json(
        200,
        json!({ "data": js::review_detail(req.base(), d), "links": { "self": req.self_link() } }),
    ))
}

/// `GET /v1/appStoreVersions/{id}/appStoreVersionPhasedRelease`: 404 when phased release is off.
pub(super) fn phased_release_of_version(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let store = store_now(req);
    if !store.app_store.versions.contains_key(id) {
        return Err(ApiError::not_found("appStoreVersions", id));
    }
    let p = store
        .app_store
        .phased
        .values()
        .find(|p| p.version_id == id)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NOT_FOUND",
                "The specified resource does not exist",
                format!("There is no resource of type 'appStoreVersionPhasedReleases' for the version with id '{id}'"),
            )
        })?;
    Ok(Reply::Json(
        200,
        json!({ "data": js::phased_release(req.base(), p), "links": { "self": req.self_link() } }),
    ))
}

pub(super) fn create_phased_release(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "appStoreVersionPhasedReleases")?;
    let attrs = attributes(&data, "appStoreVersionPhasedReleases", &["phasedReleaseState"])?;
    let state = match attrs.get("phasedReleaseState") {
        None | Some(Value::Null) => "INACTIVE".to_owned(),
        Some(_) => enum_attr(
            &attrs,
            "phasedReleaseState",
            &["INACTIVE", "ACTIVE", "PAUSED", "COMPLETE"],
        )?,
    };
    let version_id = relationship_id(&data, "appStoreVersion", "appStoreVersions")?;
    let mut store = store_now(req);
    let Some(v) = store.app_store.versions.get(&version_id).cloned() else {
        return Err(unknown_related("appStoreVersion", "appStoreVersions", &version_id));
    };
    editable(&v)?;
    if store.app_store.phased.values().any(|p| p.version_id == version_id) {
        return Err(conflict(format!(
            "The App Store version {} already has a phased release.",
            v.version_string
        )));
    }
    let p = PhasedRelease {
        id: keys::uuid(),
        version_id,
        state,
    };
    let doc = json!({
        "data": js::phased_release(req.base(), &p),
        "links": { "self": format!("{}/v1/appStoreVersionPhasedReleases/{}", req.base(), p.id) },
    });
    store.app_store.phased.insert(p.id.clone(), p);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

pub(super) fn delete_phased_release(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let mut store = store_now(req);
    let p = store
        .app_store
        .phased
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("appStoreVersionPhasedReleases", id))?;
    if let Some(v) = store.app_store.versions.get(&p.version_id) {
        editable(v)?;
    }
    store.app_store.phased.remove(id);
    req.shared.persist(&store);
    Ok(Reply::Empty(204))
}

/// The App Store version `id`, or Apple's 404 for it.
fn version<'a>(store: &'a Store, id: &str) -> Result<&'a Version, ApiError> {
    store
        .app_store
        .versions
        .get(id)
        .ok_or_else(|| ApiError::not_found("appStoreVersions", id))
}
