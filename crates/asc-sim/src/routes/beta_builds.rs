//! Per-build TestFlight resources: What to Test (`betaBuildLocalizations`), tester notifications
//! (`buildBetaNotifications`), `buildBetaDetails` (auto-notify), and individual testers.

use serde_json::{Map, Value, json};

use super::beta_groups::linkage_ids;
use super::{Reply, Req, attributes, body_data, invalid_attribute, page, relationship_id, same_id, unknown_related};
use crate::beta::{BetaTester, BuildLocalization, Notification, WHATS_NEW_MAX};
use crate::json::{self, ApiError};
use crate::json_beta;
use crate::keys;
use crate::state::Build;

/// Locales look like `en-US`, `fr`, `zh-Hans`.
fn valid_locale(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang = parts.next().unwrap_or("");
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `whatsNew`: a string or null, at most 4000 bytes of UTF-8 (field reports, which fastlane
/// follows: a text of fewer than 4000 characters but more bytes is refused).
fn whats_new(attrs: &Map<String, Value>) -> Result<Option<Option<String>>, ApiError> {
    match attrs.get("whatsNew") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => {
            let n = s.len();
            if n > WHATS_NEW_MAX {
                return Err(ApiError::new(
                    409,
                    "ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG",
                    "The provided entity includes an attribute with a value that is too long",
                    format!("'whatsNew' is {n} bytes long; the maximum is {WHATS_NEW_MAX}."),
                )
                .pointer("/data/attributes/whatsNew")
                .meta(json!({ "maxLength": WHATS_NEW_MAX, "length": n })));
            }
            Ok(Some(Some(s.clone())))
        }
        Some(_) => Err(invalid_attribute("whatsNew", "'whatsNew' must be a string")),
    }
}

pub(super) fn list_localizations(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query
        .allow_only(&["filter[locale]", "filter[build]", "limit", "cursor", "include"])?;
    let include = req.query.include(&["build"])?;
    let locales = req.query.list("filter[locale]");
    let builds = req.query.list("filter[build]");
    let store = req.shared.store();
    let mut list: Vec<&BuildLocalization> = store
        .beta
        .localizations
        .values()
        .filter(|l| locales.as_ref().is_none_or(|x| x.contains(&l.locale)))
        .filter(|l| builds.as_ref().is_none_or(|x| x.contains(&l.build_id)))
        .collect();
    list.sort_by_key(|l| l.seq);
    let mut included = Vec::new();
    if include.iter().any(|i| i == "build") {
        for l in &list {
            if let Some(b) = store.builds.get(&l.build_id) {
                json::push_unique(&mut included, vec![json::build(req.base(), b)]);
            }
        }
    }
    let items = list
        .iter()
        .map(|l| json_beta::build_localization(req.base(), l))
        .collect();
    page(req, items, included)
}

pub(super) fn localizations_of_build(req: &Req<'_>, build_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["limit", "cursor"])?;
    let store = req.shared.store();
    if !store.builds.contains_key(build_id) {
        return Err(ApiError::not_found("builds", build_id));
    }
    let items = store
        .localizations_of(build_id)
        .iter()
        .map(|l| json_beta::build_localization(req.base(), l))
        .collect();
    page(req, items, Vec::new())
}

pub(super) fn get_localization(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include"])?;
    req.query.include(&["build"])?;
    let store = req.shared.store();
    let l = store
        .beta
        .localizations
        .get(id)
        .ok_or_else(|| ApiError::not_found("betaBuildLocalizations", id))?;
    Ok(Reply::Json(
        200,
        json!({ "data": json_beta::build_localization(req.base(), l), "links": { "self": req.self_link() } }),
    ))
}

pub(super) fn create_localization(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "betaBuildLocalizations")?;
    let attrs = attributes(&data, "betaBuildLocalizations", &["locale", "whatsNew"])?;
    let locale = super::string_attr(&attrs, "locale")?;
    if !valid_locale(&locale) {
        return Err(invalid_attribute("locale", format!("'{locale}' is not a valid locale")));
    }
    let text = whats_new(&attrs)?.flatten();
    let build_id = relationship_id(&data, "build", "builds")?;
    let mut store = req.shared.store();
    if !store.builds.contains_key(&build_id) {
        return Err(unknown_related("build", "builds", &build_id));
    }
    if store.localizations_of(&build_id).iter().any(|l| l.locale == locale) {
        return Err(ApiError::new(
            409,
            "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
            "The provided entity includes an attribute with a value that has already been used",
            format!("A beta build localization for locale '{locale}' already exists for this build."),
        )
        .pointer("/data/attributes/locale"));
    }
    let seq = store.next_seq();
    let l = BuildLocalization {
        id: keys::uuid(),
        seq,
        build_id,
        locale,
        whats_new: text,
    };
    let doc = json!({
        "data": json_beta::build_localization(req.base(), &l),
        "links": { "self": format!("{}/v1/betaBuildLocalizations/{}", req.base(), l.id) },
    });
    store.beta.localizations.insert(l.id.clone(), l);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

pub(super) fn update_localization(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "betaBuildLocalizations")?;
    same_id(&data, id)?;
    let attrs = attributes(&data, "betaBuildLocalizations", &["whatsNew"])?;
    let text = whats_new(&attrs)?;
    let mut store = req.shared.store();
    let l = store
        .beta
        .localizations
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("betaBuildLocalizations", id))?;
    if let Some(t) = text {
        l.whats_new = t;
    }
    let doc = json!({ "data": json_beta::build_localization(req.base(), l), "links": { "self": req.self_link() } });
    req.shared.persist(&store);
    Ok(Reply::Json(200, doc))
}

pub(super) fn delete_localization(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let mut store = req.shared.store();
    if store.beta.localizations.remove(id).is_none() {
        return Err(ApiError::not_found("betaBuildLocalizations", id));
    }
    req.shared.persist(&store);
    Ok(Reply::Empty(204))
}

/// `POST /v1/buildBetaNotifications`: refused (409 STATE_ERROR.ENTITY_STATE_INVALID) while the
/// build's auto-notify is on, or when the build is not a processed, unexpired build.
pub(super) fn notify(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "buildBetaNotifications")?;
    attributes(&data, "buildBetaNotifications", &[])?;
    let build_id = relationship_id(&data, "build", "builds")?;
    let mut store = req.shared.store();
    let Some(b) = store.builds.get(&build_id) else {
        return Err(unknown_related("build", "builds", &build_id));
    };
    let state = |detail: String| {
        ApiError::new(
            409,
            "STATE_ERROR.ENTITY_STATE_INVALID",
            "The request cannot be fulfilled because of the state of another resource.",
            detail,
        )
    };
    if b.auto_notify {
        return Err(state(format!(
            "Cannot notify testers about build {}: auto-notify already enabled for this build.",
            b.version
        )));
    }
    if b.expired || b.processing_state != "VALID" {
        return Err(state(format!(
            "Build {} cannot be sent to testers: it is {}.",
            b.version,
            if b.expired {
                "expired".to_owned()
            } else {
                b.processing_state.clone()
            }
        )));
    }
    let n = Notification {
        id: keys::uuid(),
        build_id,
        created: req.shared.now_millis(),
    };
    let doc = json!({
        "data": json_beta::notification(req.base(), &n),
        "links": { "self": format!("{}/v1/buildBetaNotifications/{}", req.base(), n.id) },
    });
    store.beta.notifications.push(n);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

fn by_detail_id<'s>(store: &'s crate::state::Store, id: &str) -> Result<&'s Build, ApiError> {
    store
        .builds
        .values()
        .find(|b| b.beta_detail_id == id)
        .ok_or_else(|| ApiError::not_found("buildBetaDetails", id))
}

pub(super) fn list_beta_details(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query
        .allow_only(&["filter[build]", "filter[id]", "limit", "cursor", "include"])?;
    let include = req.query.include(&["build"])?;
    let builds = req.query.list("filter[build]");
    let ids = req.query.list("filter[id]");
    let store = req.shared.store();
    let mut list: Vec<&Build> = store
        .builds
        .values()
        .filter(|b| builds.as_ref().is_none_or(|l| l.contains(&b.id)))
        .filter(|b| ids.as_ref().is_none_or(|l| l.contains(&b.beta_detail_id)))
        .collect();
    list.sort_by_key(|b| b.seq);
    let included = if include.iter().any(|i| i == "build") {
        list.iter().map(|b| json::build(req.base(), b)).collect()
    } else {
        Vec::new()
    };
    let items = list.iter().map(|b| json::beta_detail(req.base(), &store, b)).collect();
    page(req, items, included)
}

pub(super) fn get_beta_detail(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include"])?;
    let include = req.query.include(&["build"])?;
    let store = req.shared.store();
    let b = by_detail_id(&store, id)?;
    let mut doc = json!({ "data": json::beta_detail(req.base(), &store, b), "links": { "self": req.self_link() } });
    if include.iter().any(|i| i == "build") {
        doc["included"] = json!([json::build(req.base(), b)]);
    }
    Ok(Reply::Json(200, doc))
}

pub(super) fn update_beta_detail(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "buildBetaDetails")?;
    same_id(&data, id)?;
    let attrs = attributes(&data, "buildBetaDetails", &["autoNotifyEnabled"])?;
    let auto = match attrs.get("autoNotifyEnabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(invalid_attribute(
                "autoNotifyEnabled",
                "'autoNotifyEnabled' must be a boolean",
            ));
        }
    };
    let mut store = req.shared.store();
    let build_id = by_detail_id(&store, id)?.id.clone();
    if let (Some(a), Some(b)) = (auto, store.builds.get_mut(&build_id)) {
        b.auto_notify = a;
    }
    let b = store
        .builds
        .get(&build_id)
        .ok_or_else(|| ApiError::not_found("buildBetaDetails", id))?;
    let doc = json!({ "data": json::beta_detail(req.base(), &store, b), "links": { "self": req.self_link() } });
    req.shared.persist(&store);
    Ok(Reply::Json(200, doc))
}

pub(super) fn list_testers(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "filter[firstName]",
        "filter[lastName]",
        "filter[email]",
        "filter[inviteType]",
        "filter[apps]",
        "filter[betaGroups]",
        "filter[builds]",
        "filter[id]",
        "sort",
        "limit",
        "cursor",
        "include",
        "limit[apps]",
        "limit[betaGroups]",
        "limit[builds]",
    ])?;
    let include = req.query.include(&["apps", "betaGroups", "builds"])?;
    let lower = |name: &str| {
        req.query
            .list(name)
            .map(|l| l.into_iter().map(|s| s.to_lowercase()).collect::<Vec<_>>())
    };
    let emails = lower("filter[email]");
    let firsts = req.query.list("filter[firstName]");
    let lasts = req.query.list("filter[lastName]");
    let invites = req.query.enum_list("filter[inviteType]", &["EMAIL", "PUBLIC_LINK"])?;
    let apps = req.query.list("filter[apps]");
    let groups = req.query.list("filter[betaGroups]");
    let builds = req.query.list("filter[builds]");
    let ids = req.query.list("filter[id]");
    let sort = req.query.get("sort").unwrap_or("");
    let sorts = [
        "",
        "email",
        "-email",
        "firstName",
        "-firstName",
        "lastName",
        "-lastName",
        "inviteType",
        "-inviteType",
        "state",
        "-state",
    ];
    if !sorts.contains(&sort) {
        return Err(ApiError::bad_param(
            "sort",
            format!("'{sort}' is not a valid sort field"),
        ));
    }
    let store = req.shared.store();
    let mut list: Vec<&BetaTester> = store
        .beta
        .testers
        .values()
        .filter(|t| emails.as_ref().is_none_or(|l| l.contains(&t.email.to_lowercase())))
        .filter(|t| firsts.as_ref().is_none_or(|l| l.contains(&t.first_name)))
        .filter(|t| lasts.as_ref().is_none_or(|l| l.contains(&t.last_name)))
        .filter(|_| invites.as_ref().is_none_or(|l| l.iter().any(|i| i == "EMAIL")))
        .filter(|t| apps.as_ref().is_none_or(|l| l.contains(&t.app_id)))
        // Seeded testers belong to no group.
        .filter(|_| groups.is_none())
        .filter(|t| builds.as_ref().is_none_or(|l| t.builds.iter().any(|b| l.contains(b))))
        .filter(|t| ids.as_ref().is_none_or(|l| l.contains(&t.id)))
        .collect();
    list.sort_by_key(|t| t.seq);
    match sort {
        "email" => list.sort_by(|a, b| a.email.cmp(&b.email)),
        "-email" => list.sort_by(|a, b| b.email.cmp(&a.email)),
        "firstName" => list.sort_by(|a, b| a.first_name.cmp(&b.first_name)),
        "-firstName" => list.sort_by(|a, b| b.first_name.cmp(&a.first_name)),
        "lastName" => list.sort_by(|a, b| a.last_name.cmp(&b.last_name)),
        "-lastName" => list.sort_by(|a, b| b.last_name.cmp(&a.last_name)),
        _ => {}
    }
    let mut included = Vec::new();
    let items = list
        .iter()
        .map(|t| {
            let mut v = json_beta::beta_tester(req.base(), t);
            for name in &include {
                match name.as_str() {
                    "apps" => {
                        v["relationships"]["apps"]["data"] = json!([{ "type": "apps", "id": t.app_id }]);
                        if let Some(a) = store.app(&t.app_id) {
                            json::push_unique(&mut included, vec![json::app(req.base(), a)]);
                        }
                    }
                    "builds" => {
                        let builds: Vec<&Build> = t.builds.iter().filter_map(|b| store.builds.get(b)).collect();
                        v["relationships"]["builds"]["data"] =
                            builds.iter().map(|b| json!({ "type": "builds", "id": b.id })).collect();
                        json::push_unique(
                            &mut included,
                            builds.iter().map(|b| json::build(req.base(), b)).collect(),
                        );
                    }
                    // Seeded testers belong to no group.
                    _ => v["relationships"]["betaGroups"]["data"] = json!([]),
                }
            }
            v
        })
        .collect();
    page(req, items, included)
}

/// `GET /v1/builds/{id}/individualTesters` (full testers) or `.../relationships/...` (linkages).
pub(super) fn testers_of_build(req: &Req<'_>, build_id: &str, linkages: bool) -> Result<Reply, ApiError> {
    req.query.allow_only(&["limit", "cursor"])?;
    let store = req.shared.store();
    if !store.builds.contains_key(build_id) {
        return Err(ApiError::not_found("builds", build_id));
    }
    let items = store
        .testers_of(build_id)
        .iter()
        .map(|t| {
            if linkages {
                json!({ "type": "betaTesters", "id": t.id })
            } else {
                json_beta::beta_tester(req.base(), t)
            }
        })
        .collect();
    page(req, items, Vec::new())
}

/// POST/DELETE `/v1/builds/{id}/relationships/individualTesters`.
pub(super) fn link_testers(req: &Req<'_>, build_id: &str, adding: bool) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let tester_ids = linkage_ids(req, "betaTesters")?;
    let mut store = req.shared.store();
    let b = store
        .builds
        .get(build_id)
        .ok_or_else(|| ApiError::not_found("builds", build_id))?;
    for tid in &tester_ids {
        let t = store
            .beta
            .testers
            .get(tid)
            .ok_or_else(|| ApiError::not_found("betaTesters", tid))?;
        if t.app_id != b.app_id {
            return Err(ApiError::new(
                422,
                "ENTITY_UNPROCESSABLE",
                "The request entity is not processable",
                format!("Beta tester {} is not a tester of this build's app.", t.email),
            ));
        }
        if adding {
            super::beta_groups::check_build_ready(b, false)?;
        }
    }
    for tid in &tester_ids {
        if let Some(t) = store.beta.testers.get_mut(tid) {
            if adding {
                t.builds.insert(build_id.to_owned());
            } else {
                t.builds.remove(build_id);
            }
        }
    }
    req.shared.persist(&store);
    Ok(Reply::Empty(204))
}
