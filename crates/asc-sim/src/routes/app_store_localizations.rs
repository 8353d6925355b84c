//! The localizations of an App Store version (description, keywords, What's New, …) and their
//! screenshot sets.

use serde_json::{Map, Value, json};

use super::app_store::{duplicate, editable, store_now};
use super::{
    Reply, Req, attributes, body_data, invalid_attribute, page, relationship_id, same_id, string_attr, unknown_related,
};
use crate::app_store::VersionLocalization;
use crate::json::ApiError;
use crate::json_app_store as js;
use crate::keys;

/// Apple's limit on What's New, in characters.
const WHATS_NEW_MAX: usize = 4000;

pub(super) fn localizations_of_version(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query
        .allow_only(&["filter[locale]", "limit", "cursor", "include"])?;
    req.query.include(&[])?;
    let locales = req.query.list("filter[locale]");
    let store = store_now(req);
    if !store.app_store.versions.contains_key(id) {
        return Err(ApiError::not_found("appStoreVersions", id));
    }
    let mut list: Vec<&VersionLocalization> = store
        .app_store
        .localizations
        .values()
        .filter(|l| l.version_id == id)
        .filter(|l| locales.as_ref().is_none_or(|s| s.contains(&l.locale)))
        .collect();
    list.sort_by_key(|l| l.seq);
    let items = list.iter().map(|l| js::localization(req.base(), l)).collect();
    page(req, items, Vec::new())
}

fn whats_new_of(attrs: &Map<String, Value>) -> Result<Option<Option<String>>, ApiError> {
    match attrs.get("whatsNew") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.chars().count() > WHATS_NEW_MAX => Err(ApiError::new(
            409,
            "ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG",
            "The provided entity includes an attribute with a value that is too long",
            format!("'whatsNew' can be at most {WHATS_NEW_MAX} characters"),
        )
        .pointer("/data/attributes/whatsNew")),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(invalid_attribute("whatsNew", "'whatsNew' must be a string")),
    }
}

const LOCALIZATION_ATTRIBUTES: &[&str] = &[
    "description",
    "locale",
    "keywords",
    "marketingUrl",
    "promotionalText",
    "supportUrl",
    "whatsNew",
];

fn apply_texts(l: &mut VersionLocalization, attrs: &Map<String, Value>) {
    for (name, slot) in [
        ("description", &mut l.description),
        ("keywords", &mut l.keywords),
        ("marketingUrl", &mut l.marketing_url),
        ("promotionalText", &mut l.promotional_text),
        ("supportUrl", &mut l.support_url),
    ] {
        match attrs.get(name) {
            Some(Value::String(s)) => *slot = Some(s.clone()),
            Some(Value::Null) => *slot = None,
            _ => {}
        }
    }
}

pub(super) fn create_localization(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "appStoreVersionLocalizations")?;
    let attrs = attributes(&data, "appStoreVersionLocalizations", LOCALIZATION_ATTRIBUTES)?;
    let locale = string_attr(&attrs, "locale")?;
    let whats_new = whats_new_of(&attrs)?;
    let version_id = relationship_id(&data, "appStoreVersion", "appStoreVersions")?;
    let mut store = store_now(req);
    let Some(v) = store.app_store.versions.get(&version_id).cloned() else {
        return Err(unknown_related("appStoreVersion", "appStoreVersions", &version_id));
    };
    editable(&v)?;
    if store
        .app_store
        .localizations
        .values()
        .any(|l| l.version_id == version_id && l.locale == locale)
    {
        return Err(duplicate(
            "locale",
            format!("A localization for {locale} already exists on this version."),
        ));
    }
    let seq = store.next_seq();
    let mut l = VersionLocalization {
        id: keys::uuid(),
        seq,
        version_id,
        locale,
        description: None,
        keywords: None,
        support_url: None,
        marketing_url: None,
        promotional_text: None,
        whats_new: whats_new.flatten(),
        screenshots: 0,
    };
    apply_texts(&mut l, &attrs);
    let doc = json!({
        "data": js::localization(req.base(), &l),
        "links": { "self": format!("{}/v1/appStoreVersionLocalizations/{}", req.base(), l.id) },
    });
    store.app_store.localizations.insert(l.id.clone(), l);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

pub(super) fn get_localization(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include"])?;
    req.query.include(&[])?;
    let store = store_now(req);
    let l = store
        .app_store
        .localizations
        .get(id)
        .ok_or_else(|| ApiError::not_found("appStoreVersionLocalizations", id))?;
    Ok(Reply::Json(
        200,
        json!({ "data": js::localization(req.base(), l), "links": { "self": req.self_link() } }),
    ))
}

pub(super) fn update_localization(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "appStoreVersionLocalizations")?;
    same_id(&data, id)?;
    let known: Vec<&str> = LOCALIZATION_ATTRIBUTES
        .iter()
        .copied()
        .filter(|a| *a != "locale")
        .collect();
    let attrs = attributes(&data, "appStoreVersionLocalizations", &known)?;
    let whats_new = whats_new_of(&attrs)?;
    let mut store = store_now(req);
    let l = store
        .app_store
        .localizations
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("appStoreVersionLocalizations", id))?;
    if let Some(v) = store.app_store.versions.get(&l.version_id) {
        editable(v)?;
    }
    let Some(m) = store.app_store.localizations.get_mut(id) else {
        return Err(ApiError::not_found("appStoreVersionLocalizations", id));
    };
    if let Some(w) = whats_new {
        m.whats_new = w;
    }
    apply_texts(m, &attrs);
    let l = m.clone();
    req.shared.persist(&store);
    Ok(Reply::Json(
        200,
        json!({ "data": js::localization(req.base(), &l), "links": { "self": req.self_link() } }),
    ))
}

pub(super) fn screenshot_sets(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "filter[screenshotDisplayType]",
        "limit",
        "cursor",
        "include",
        "limit[appScreenshots]",
    ])?;
    let include = req.query.include(&["appScreenshots"])?;
    let store = store_now(req);
    let l = store
        .app_store
        .localizations
        .get(id)
        .ok_or_else(|| ApiError::not_found("appStoreVersionLocalizations", id))?;
    if l.screenshots == 0 {
        return page(req, Vec::new(), Vec::new());
    }
    let set = js::screenshot_set(req.base(), l);
    let included = if include.iter().any(|i| i == "appScreenshots") {
        js::screenshots(req.base(), l)
    } else {
        Vec::new()
    };
    page(req, vec![set], included)
}
