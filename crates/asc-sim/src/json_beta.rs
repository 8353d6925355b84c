//! Apple's JSON:API documents for the TestFlight resources (betaGroups, betaTesters,
//! betaBuildLocalizations, buildBetaNotifications, betaAppReviewSubmissions,
//! betaAppReviewDetails, betaAppLocalizations) and the builds' TestFlight includes.

use serde_json::{Value, json};

use super::beta::{
    AppLocalization, BetaGroup, BetaTester, BuildLocalization, Notification, ReviewDetail, ReviewSubmission,
};
use super::json::{date, rel_links};
use super::state::{Build, Store};

pub(crate) fn beta_group(base: &str, g: &BetaGroup) -> Value {
    json!({
        "type": "betaGroups",
        "id": g.id,
        "attributes": {
            "name": g.name,
            "createdDate": date(g.created),
            "isInternalGroup": g.internal,
            "hasAccessToAllBuilds": g.all_builds,
            "publicLinkEnabled": g.public_link_enabled,
            "publicLinkId": null,
            "publicLinkLimitEnabled": false,
            "publicLinkLimit": null,
            "publicLink": null,
            "feedbackEnabled": g.feedback_enabled,
            "iosBuildsAvailableForAppleSiliconMac": false,
            "iosBuildsAvailableForAppleVision": false,
        },
        "relationships": {
            "app": { "links": rel_links(base, "betaGroups", &g.id, "app"), "data": { "type": "apps", "id": g.app_id } },
            "builds": { "links": rel_links(base, "betaGroups", &g.id, "builds") },
            "betaTesters": { "links": rel_links(base, "betaGroups", &g.id, "betaTesters") },
        },
        "links": { "self": format!("{base}/v1/betaGroups/{}", g.id) },
    })
}

pub(crate) fn beta_tester(base: &str, t: &BetaTester) -> Value {
    json!({
        "type": "betaTesters",
        "id": t.id,
        "attributes": {
            "firstName": t.first_name,
            "lastName": t.last_name,
            "email": t.email,
            "inviteType": "EMAIL",
            "state": "ACCEPTED",
            "appDevices": [],
        },
        "relationships": {
            "apps": { "links": rel_links(base, "betaTesters", &t.id, "apps") },
            "betaGroups": { "links": rel_links(base, "betaTesters", &t.id, "betaGroups") },
            "builds": { "links": rel_links(base, "betaTesters", &t.id, "builds") },
        },
        "links": { "self": format!("{base}/v1/betaTesters/{}", t.id) },
    })
}

pub(crate) fn build_localization(base: &str, l: &BuildLocalization) -> Value {
    json!({
        "type": "betaBuildLocalizations",
        "id": l.id,
        "attributes": { "whatsNew": l.whats_new, "locale": l.locale },
        "relationships": {
            "build": {
                "links": rel_links(base, "betaBuildLocalizations", &l.id, "build"),
                "data": { "type": "builds", "id": l.build_id },
            },
        },
        "links": { "self": format!("{base}/v1/betaBuildLocalizations/{}", l.id) },
    })
}

pub(crate) fn notification(base: &str, n: &Notification) -> Value {
    json!({
        "type": "buildBetaNotifications",
        "id": n.id,
        "links": { "self": format!("{base}/v1/buildBetaNotifications/{}", n.id) },
    })
}

pub(crate) fn submission(base: &str, s: &ReviewSubmission) -> Value {
    json!({
        "type": "betaAppReviewSubmissions",
        "id": s.id,
        "attributes": { "betaReviewState": s.state, "submittedDate": date(s.submitted) },
        "relationships": {
            "build": {
                "links": rel_links(base, "betaAppReviewSubmissions", &s.id, "build"),
                "data": { "type": "builds", "id": s.build_id },
            },
        },
        "links": { "self": format!("{base}/v1/betaAppReviewSubmissions/{}", s.id) },
    })
}

/// Apple answers unset review fields as null; the demo password is never stored, so never shown.
pub(crate) fn review_detail(base: &str, d: &ReviewDetail) -> Value {
    json!({
        "type": "betaAppReviewDetails",
        "id": d.app_id,
        "attributes": {
            "contactFirstName": d.contact_first_name,
            "contactLastName": d.contact_last_name,
            "contactPhone": d.contact_phone,
            "contactEmail": d.contact_email,
            "demoAccountName": null,
            "demoAccountPassword": null,
            "demoAccountRequired": d.demo_account_required,
            "notes": d.notes,
        },
        "relationships": {
            "app": {
                "links": rel_links(base, "betaAppReviewDetails", &d.app_id, "app"),
                "data": { "type": "apps", "id": d.app_id },
            },
        },
        "links": { "self": format!("{base}/v1/betaAppReviewDetails/{}", d.app_id) },
    })
}

pub(crate) fn app_localization(base: &str, l: &AppLocalization) -> Value {
    json!({
        "type": "betaAppLocalizations",
        "id": l.id,
        "attributes": {
            "feedbackEmail": l.feedback_email,
            "marketingUrl": l.marketing_url,
            "privacyPolicyUrl": l.privacy_policy_url,
            "tvOsPrivacyPolicy": null,
            "description": l.description,
            "locale": l.locale,
        },
        "relationships": {
            "app": {
                "links": rel_links(base, "betaAppLocalizations", &l.id, "app"),
                "data": { "type": "apps", "id": l.app_id },
            },
        },
        "links": { "self": format!("{base}/v1/betaAppLocalizations/{}", l.id) },
    })
}

/// The TestFlight resources a build can `include`.
pub(crate) fn build_includes(base: &str, store: &Store, b: &Build, name: &str) -> Vec<Value> {
    match name {
        "betaGroups" => store.groups_of(b).into_iter().map(|g| beta_group(base, g)).collect(),
        "individualTesters" => store
            .testers_of(&b.id)
            .into_iter()
            .map(|t| beta_tester(base, t))
            .collect(),
        "betaBuildLocalizations" => store
            .localizations_of(&b.id)
            .into_iter()
            .map(|l| build_localization(base, l))
            .collect(),
        "betaAppReviewSubmission" => store
            .submission_of(&b.id)
            .map(|s| submission(base, s))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// `relationships.NAME.data` of a build for an included relationship, when it is one of these.
pub(crate) fn build_linkage(store: &Store, b: &Build, name: &str) -> Option<Value> {
    let ids =
        |kind: &str, ids: Vec<&str>| -> Value { ids.into_iter().map(|id| json!({ "type": kind, "id": id })).collect() };
    match name {
        "betaGroups" => Some(ids(
            "betaGroups",
            store.groups_of(b).into_iter().map(|g| g.id.as_str()).collect(),
        )),
        "individualTesters" => Some(ids(
            "betaTesters",
            store.testers_of(&b.id).into_iter().map(|t| t.id.as_str()).collect(),
        )),
        "betaBuildLocalizations" => Some(ids(
            "betaBuildLocalizations",
            store
                .localizations_of(&b.id)
                .into_iter()
                .map(|l| l.id.as_str())
                .collect(),
        )),
        "betaAppReviewSubmission" => Some(match store.submission_of(&b.id) {
            Some(s) => json!({ "type": "betaAppReviewSubmissions", "id": s.id }),
            None => Value::Null,
        }),
        // To-one relationships already carry their linkage.
        _ => None,
    }
}
