//! Apple's JSON:API documents for the App Store release resources (appStoreVersions,
//! appStoreVersionLocalizations, appScreenshotSets, appStoreReviewDetails,
//! appStoreVersionPhasedReleases, reviewSubmissions, reviewSubmissionItems).

use serde_json::{Value, json};

use super::app_store::{
    Item, PhasedRelease, StoreReviewDetail, Submission, Version, VersionLocalization, app_store_state,
};
use super::json::{date, rel_links};
use super::state::Store;

pub(crate) fn version(base: &str, store: &Store, v: &Version) -> Value {
    let phased = store.app_store.phased.values().find(|p| p.version_id == v.id);
    json!({
        "type": "appStoreVersions",
        "id": v.id,
        "attributes": {
            "platform": v.platform,
            "versionString": v.version_string,
            "appStoreState": app_store_state(&v.state),
            "appVersionState": v.state,
            "copyright": v.copyright,
            "reviewType": "APP_STORE",
            "releaseType": v.release_type,
            "earliestReleaseDate": v.earliest_release_date,
            "downloadable": true,
            "createdDate": date(v.created),
        },
        "relationships": {
            "app": { "data": { "type": "apps", "id": v.app_id } },
            "build": {
                "links": rel_links(base, "appStoreVersions", &v.id, "build"),
                "data": v.build_id.as_ref().map(|b| json!({ "type": "builds", "id": b })),
            },
            "appStoreVersionLocalizations": {
                "links": rel_links(base, "appStoreVersions", &v.id, "appStoreVersionLocalizations"),
            },
            "appStoreReviewDetail": {
                "links": rel_links(base, "appStoreVersions", &v.id, "appStoreReviewDetail"),
                "data": { "type": "appStoreReviewDetails", "id": v.review_detail_id },
            },
            "appStoreVersionPhasedRelease": {
                "links": rel_links(base, "appStoreVersions", &v.id, "appStoreVersionPhasedRelease"),
                "data": phased.map(|p| json!({ "type": "appStoreVersionPhasedReleases", "id": p.id })),
            },
        },
        "links": { "self": format!("{base}/v1/appStoreVersions/{}", v.id) },
    })
}

pub(crate) fn localization(base: &str, l: &VersionLocalization) -> Value {
    json!({
        "type": "appStoreVersionLocalizations",
        "id": l.id,
        "attributes": {
            "description": l.description,
            "locale": l.locale,
            "keywords": l.keywords,
            "marketingUrl": l.marketing_url,
            "promotionalText": l.promotional_text,
            "supportUrl": l.support_url,
            "whatsNew": l.whats_new,
        },
        "relationships": {
            "appStoreVersion": { "data": { "type": "appStoreVersions", "id": l.version_id } },
            "appScreenshotSets": {
                "links": rel_links(base, "appStoreVersionLocalizations", &l.id, "appScreenshotSets"),
            },
        },
        "links": { "self": format!("{base}/v1/appStoreVersionLocalizations/{}", l.id) },
    })
}

/// The one screenshot set (6.7" iPhone) of a localization with screenshots; its id derives from
/// the localization's.
pub(crate) fn screenshot_set(base: &str, l: &VersionLocalization) -> Value {
    let id = format!("{}-APP_IPHONE_67", l.id);
    let shots: Vec<Value> = (1..=l.screenshots)
        .map(|n| json!({ "type": "appScreenshots", "id": format!("{id}-{n}") }))
        .collect();
    json!({
        "type": "appScreenshotSets",
        "id": id,
        "attributes": { "screenshotDisplayType": "APP_IPHONE_67" },
        "relationships": {
            "appStoreVersionLocalization": {
                "data": { "type": "appStoreVersionLocalizations", "id": l.id },
            },
            "appScreenshots": {
                "meta": { "paging": { "total": l.screenshots, "limit": 10 } },
                "data": shots,
            },
        },
        "links": { "self": format!("{base}/v1/appScreenshotSets/{id}") },
    })
}

/// The screenshots of a localization's set (uploaded, complete).
pub(crate) fn screenshots(base: &str, l: &VersionLocalization) -> Vec<Value> {
    (1..=l.screenshots)
        .map(|n| {
            let id = format!("{}-APP_IPHONE_67-{n}", l.id);
            json!({
                "type": "appScreenshots",
                "id": id,
                "attributes": {
                    "fileName": format!("screenshot-{n}.png"),
                    "fileSize": 402_117,
                    "assetDeliveryState": { "state": "COMPLETE", "errors": [], "warnings": [] },
                },
                "links": { "self": format!("{base}/v1/appScreenshots/{id}") },
            })
        })
        .collect()
}

/// Apple answers unset fields as null; the demo password is never stored, so never shown.
pub(crate) fn review_detail(base: &str, d: &StoreReviewDetail) -> Value {
    json!({
        "type": "appStoreReviewDetails",
        "id": d.id,
        "attributes": {
            "contactFirstName": d.contact_first_name,
            "contactLastName": d.contact_last_name,
            "contactPhone": d.contact_phone,
            "contactEmail": d.contact_email,
            "demoAccountName": d.demo_account_name,
            "demoAccountPassword": null,
            "demoAccountRequired": d.demo_account_required,
            "notes": d.notes,
        },
        "relationships": {
            "appStoreVersion": { "data": { "type": "appStoreVersions", "id": d.version_id } },
        },
        "links": { "self": format!("{base}/v1/appStoreReviewDetails/{}", d.id) },
    })
}

pub(crate) fn phased_release(base: &str, p: &PhasedRelease) -> Value {
    json!({
        "type": "appStoreVersionPhasedReleases",
        "id": p.id,
        "attributes": {
            "phasedReleaseState": p.state,
            "startDate": null,
            "totalPauseDuration": 0,
            "currentDayNumber": 0,
        },
        "links": { "self": format!("{base}/v1/appStoreVersionPhasedReleases/{}", p.id) },
    })
}

pub(crate) fn submission(base: &str, store: &Store, s: &Submission) -> Value {
    let items: Vec<Value> = store
        .items_of(&s.id)
        .iter()
        .map(|i| json!({ "type": "reviewSubmissionItems", "id": i.id }))
        .collect();
    let version = store.items_of(&s.id).first().map(|i| i.version_id.clone());
    json!({
        "type": "reviewSubmissions",
        "id": s.id,
        "attributes": {
            "platform": s.platform,
            "submittedDate": s.submitted.map(date),
            "state": s.state,
        },
        "relationships": {
            "app": { "data": { "type": "apps", "id": s.app_id } },
            "items": { "links": rel_links(base, "reviewSubmissions", &s.id, "items"), "data": items },
            "appStoreVersionForReview": {
                "data": version.map(|v| json!({ "type": "appStoreVersions", "id": v })),
            },
        },
        "links": { "self": format!("{base}/v1/reviewSubmissions/{}", s.id) },
    })
}

pub(crate) fn item(base: &str, i: &Item) -> Value {
    json!({
        "type": "reviewSubmissionItems",
        "id": i.id,
        "attributes": { "state": i.state },
        "relationships": {
            "appStoreVersion": { "data": { "type": "appStoreVersions", "id": i.version_id } },
        },
        "links": { "self": format!("{base}/v1/reviewSubmissionItems/{}", i.id) },
    })
}
