//! Review submissions (`reviewSubmissions`) and their items (`reviewSubmissionItems`): a draft
//! (READY_FOR_REVIEW) per app and platform, versions added as items (refused with Apple's 409 and
//! `meta.associatedErrors` naming each missing attribute), then submitted or cancelled.

use serde_json::{Map, Value, json};

use super::app_store::{PLATFORMS, conflict, store_now};
use super::{Reply, Req, attributes, body_data, enum_attr, page, relationship_id, same_id, unknown_related};
use crate::app_store::{EDITABLE, IN_FLIGHT, Item, Submission};
use crate::json::{self, ApiError};
use crate::json_app_store as js;
use crate::keys;
use crate::state::Store;

const STATES: &[&str] = &[
    "READY_FOR_REVIEW",
    "WAITING_FOR_REVIEW",
    "IN_REVIEW",
    "UNRESOLVED_ISSUES",
    "CANCELING",
    "COMPLETING",
    "COMPLETE",
];
const INCLUDES: &[&str] = &["items", "appStoreVersionForReview"];

fn includes(req: &Req<'_>, store: &Store, s: &Submission, include: &[String], out: &mut Vec<Value>) {
    for name in include {
        match name.as_str() {
            "items" => {
                let items = store.items_of(&s.id).iter().map(|i| js::item(req.base(), i)).collect();
                json::push_unique(out, items);
            }
            "appStoreVersionForReview" => {
                if let Some(v) = store
                    .items_of(&s.id)
                    .first()
                    .and_then(|i| store.app_store.versions.get(&i.version_id))
                {
                    json::push_unique(out, vec![js::version(req.base(), store, v)]);
                }
            }
            _ => {}
        }
    }
}

fn one(req: &Req<'_>, store: &Store, s: &Submission, include: &[String], status: u16) -> Reply {
    let mut included = Vec::new();
    includes(req, store, s, include, &mut included);
    let mut doc = json!({
        "data": js::submission(req.base(), store, s),
        "links": { "self": format!("{}/v1/reviewSubmissions/{}", req.base(), s.id) },
    });
    if !included.is_empty() {
        doc["included"] = Value::Array(included);
    }
    Reply::Json(status, doc)
}

pub(super) fn list(req: &Req<'_>) -> Result<Reply, ApiError> {
    let Some(apps) = req.query.list("filter[app]") else {
        return Err(ApiError::new(
            400,
            "PARAMETER_ERROR.REQUIRED",
            "A required parameter is missing",
            "The parameter 'filter[app]' is required for this request",
        )
        .parameter("filter[app]"));
    };
    list_of(req, &apps, true)
}

/// `GET /v1/apps/{id}/reviewSubmissions`.
pub(super) fn list_for_app(req: &Req<'_>, app_id: &str) -> Result<Reply, ApiError> {
    if req.shared.store().app(app_id).is_none() {
        return Err(ApiError::not_found("apps", app_id));
    }
    list_of(req, &[app_id.to_owned()], false)
}

fn list_of(req: &Req<'_>, apps: &[String], app_filter: bool) -> Result<Reply, ApiError> {
    let mut allowed = vec![
        "filter[platform]",
        "filter[state]",
        "limit",
        "cursor",
        "include",
        "limit[items]",
    ];
    if app_filter {
        allowed.push("filter[app]");
    }
    req.query.allow_only(&allowed)?;
    let include = req.query.include(INCLUDES)?;
    let platforms = req.query.enum_list("filter[platform]", PLATFORMS)?;
    let states = req.query.enum_list("filter[state]", STATES)?;
    let store = store_now(req);
    let mut list: Vec<&Submission> = store
        .app_store
        .submissions
        .values()
        .filter(|s| apps.contains(&s.app_id))
        .filter(|s| platforms.as_ref().is_none_or(|p| p.contains(&s.platform)))
        .filter(|s| states.as_ref().is_none_or(|p| p.contains(&s.state)))
        .collect();
    list.sort_by_key(|s| std::cmp::Reverse(s.seq));
    let mut included = Vec::new();
    for s in &list {
        includes(req, &store, s, &include, &mut included);
    }
    let items = list.iter().map(|s| js::submission(req.base(), &store, s)).collect();
    page(req, items, included)
}

pub(super) fn get(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include", "limit[items]"])?;
    let include = req.query.include(INCLUDES)?;
    let store = store_now(req);
    let s = store
        .app_store
        .submissions
        .get(id)
        .ok_or_else(|| ApiError::not_found("reviewSubmissions", id))?;
    Ok(one(req, &store, s, &include, 200))
}

/// `POST /v1/reviewSubmissions`: one open submission per app and platform; a second, while a
/// draft or one with Apple exists, is a 409.
pub(super) fn create(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "reviewSubmissions")?;
    let attrs = attributes(&data, "reviewSubmissions", &["platform"])?;
    let platform = match attrs.get("platform") {
        None | Some(Value::Null) => "IOS".to_owned(),
        Some(_) => enum_attr(&attrs, "platform", PLATFORMS)?,
    };
    let app_id = relationship_id(&data, "app", "apps")?;
    let mut store = store_now(req);
    if store.app(&app_id).is_none() {
        return Err(unknown_related("app", "apps", &app_id));
    }
    if let Some(open) = store
        .app_store
        .submissions
        .values()
        .find(|s| s.app_id == app_id && s.platform == platform && s.state != "COMPLETE")
    {
        return Err(conflict(format!(
            "A review submission for this app on {platform} is already {} ({}).",
            open.state, open.id
        ))
        .meta(json!({ "reviewSubmission": open.id })));
    }
    let seq = store.next_seq();
    let s = Submission {
        id: keys::uuid(),
        seq,
        app_id,
        platform,
        state: "READY_FOR_REVIEW".into(),
        submitted: None,
        canceled: None,
        held: false,
    };
    store.app_store.submissions.insert(s.id.clone(), s.clone());
    let reply = one(req, &store, &s, &[], 201);
    req.shared.persist(&store);
    Ok(reply)
}

fn flag(attrs: &Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    match attrs.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(super::invalid_attribute(name, format!("'{name}' must be a boolean"))),
    }
}

/// `PATCH /v1/reviewSubmissions/{id}`: `submitted: true` sends a draft with items to App Review;
/// `canceled: true` withdraws a submission (CANCELING, then COMPLETE).
pub(super) fn update(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "reviewSubmissions")?;
    same_id(&data, id)?;
    let attrs = attributes(&data, "reviewSubmissions", &["platform", "submitted", "canceled"])?;
    let (submit, cancel) = (flag(&attrs, "submitted")?, flag(&attrs, "canceled")?);
    let now = req.shared.now_millis();
    let mut store = store_now(req);
    let s = store
        .app_store
        .submissions
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("reviewSubmissions", id))?;
    let versions: Vec<String> = store.items_of(id).iter().map(|i| i.version_id.clone()).collect();
    if cancel {
        if !matches!(
            s.state.as_str(),
            "READY_FOR_REVIEW" | "WAITING_FOR_REVIEW" | "IN_REVIEW" | "UNRESOLVED_ISSUES"
        ) {
            return Err(conflict(format!(
                "A review submission in state {} cannot be canceled.",
                s.state
            )));
        }
        if let Some(m) = store.app_store.submissions.get_mut(id) {
            m.state = "CANCELING".into();
            m.canceled = Some(now);
        }
    } else if submit {
        if !matches!(s.state.as_str(), "READY_FOR_REVIEW" | "UNRESOLVED_ISSUES") {
            return Err(conflict(format!(
                "A review submission in state {} cannot be submitted.",
                s.state
            )));
        }
        if versions.is_empty() {
            return Err(conflict("The review submission has no items to review."));
        }
        if let Some(m) = store.app_store.submissions.get_mut(id) {
            m.state = "WAITING_FOR_REVIEW".into();
            m.submitted = Some(now);
        }
        for v in &versions {
            store.set_version_state(v, "WAITING_FOR_REVIEW");
        }
    }
    let s = store.app_store.submissions[id].clone();
    let reply = one(req, &store, &s, &[], 200);
    req.shared.persist(&store);
    Ok(reply)
}

pub(super) fn items(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["limit", "cursor", "include"])?;
    req.query.include(&["appStoreVersion"])?;
    let store = store_now(req);
    if !store.app_store.submissions.contains_key(id) {
        return Err(ApiError::not_found("reviewSubmissions", id));
    }
    let items = store.items_of(id).iter().map(|i| js::item(req.base(), i)).collect();
    page(req, items, Vec::new())
}

/// `POST /v1/reviewSubmissionItems`: adds an editable version to a draft. A version App Review
/// would refuse is a 409 `STATE_ERROR.ENTITY_STATE_INVALID` whose `meta.associatedErrors` lists,
/// per resource, an `ENTITY_ERROR.ATTRIBUTE.REQUIRED` for each missing attribute (the shape
/// recorded from App Store Connect in tests/fixtures/recorded/asc/errors/codemagic-409-state.json).
pub(super) fn add_item(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "reviewSubmissionItems")?;
    attributes(&data, "reviewSubmissionItems", &[])?;
    let submission_id = relationship_id(&data, "reviewSubmission", "reviewSubmissions")?;
    let version_id = relationship_id(&data, "appStoreVersion", "appStoreVersions")?;
    let mut store = store_now(req);
    let Some(s) = store.app_store.submissions.get(&submission_id).cloned() else {
        return Err(unknown_related("reviewSubmission", "reviewSubmissions", &submission_id));
    };
    let Some(v) = store.app_store.versions.get(&version_id).cloned() else {
        return Err(unknown_related("appStoreVersion", "appStoreVersions", &version_id));
    };
    if IN_FLIGHT.contains(&s.state.as_str()) || s.state == "COMPLETE" {
        return Err(conflict(format!(
            "Items cannot be added to a review submission in state {}.",
            s.state
        )));
    }
    if v.app_id != s.app_id || v.platform != s.platform {
        return Err(conflict(format!(
            "App Store version {} ({}) does not belong to this submission's app and platform.",
            v.version_string, v.platform
        )));
    }
    if !EDITABLE.contains(&v.state.as_str()) {
        return Err(conflict(format!(
            "App Store version {} is {} and cannot be submitted.",
            v.version_string, v.state
        )));
    }
    if store
        .items_of(&submission_id)
        .iter()
        .any(|i| i.version_id == version_id)
    {
        return Err(conflict(format!(
            "App Store version {} is already in this submission.",
            v.version_string
        )));
    }
    let gaps = store.version_gaps(&version_id);
    if !gaps.is_empty() {
        let mut associated = Map::new();
        for (path, attribute) in &gaps {
            let entry = ApiError::new(
                409,
                "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
                "The provided entity is missing a required attribute",
                format!("You must provide a value for the attribute '{attribute}' with this request"),
            )
            .pointer(format!("/data/attributes/{attribute}"))
            .to_json();
            let list = associated
                .entry(path.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let (Value::Array(l), Some(e)) = (list, entry["errors"].get(0)) {
                l.push(e.clone());
            }
        }
        return Err(ApiError::new(
            409,
            "STATE_ERROR.ENTITY_STATE_INVALID",
            format!("appStoreVersions with id '{version_id}' is not in valid state."),
            "This resource cannot be reviewed, please check associated errors to see why.",
        )
        .meta(json!({ "associatedErrors": associated })));
    }
    let seq = store.next_seq();
    let item = Item {
        id: keys::uuid(),
        seq,
        submission_id,
        version_id,
        state: "READY_FOR_REVIEW".into(),
    };
    let doc = json!({
        "data": js::item(req.base(), &item),
        "links": { "self": format!("{}/v1/reviewSubmissionItems/{}", req.base(), item.id) },
    });
    store.app_store.items.insert(item.id.clone(), item);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}
