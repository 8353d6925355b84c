//! The simulator's App Store release side over real HTTP, every answer checked against Apple's
//! OpenAPI: versions copied with their metadata, the build link, What's New, phased release,
//! review submissions through their states, Apple's 409 naming each missing attribute, and the
//! scene's submission in flight until cancelled.

use std::time::Duration;

use crate::support::testflight::{DEMO, scene};
use crate::support::{Api, id, str_at};
use asc_sim::{AppStoreScene, MissingMetadata, SimConfig};
use serde_json::json;

fn with(app_store: AppStoreScene) -> SimConfig {
    SimConfig { app_store, ..scene() }
}

fn fast() -> AppStoreScene {
    AppStoreScene {
        review_time: Duration::from_millis(300),
        ..AppStoreScene::default()
    }
}

async fn create_version(api: &Api, version: &str) -> crate::support::Answer {
    api.call(
        "POST",
        "/v1/appStoreVersions",
        Some(json!({ "data": { "type": "appStoreVersions",
            "attributes": { "platform": "IOS", "versionString": version },
            "relationships": { "app": { "data": { "type": "apps", "id": DEMO } } } } })),
    )
    .await
}

async fn add_item(api: &Api, submission: &str, version: &str) -> crate::support::Answer {
    api.call(
        "POST",
        "/v1/reviewSubmissionItems",
        Some(json!({ "data": { "type": "reviewSubmissionItems", "relationships": {
            "reviewSubmission": { "data": { "type": "reviewSubmissions", "id": submission } },
            "appStoreVersion": { "data": { "type": "appStoreVersions", "id": version } } } } })),
    )
    .await
}

async fn open_submission(api: &Api) -> String {
    let s = api
        .call(
            "POST",
            "/v1/reviewSubmissions",
            Some(
                json!({ "data": { "type": "reviewSubmissions", "attributes": { "platform": "IOS" },
                "relationships": { "app": { "data": { "type": "apps", "id": DEMO } } } } }),
            ),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.body);
    assert_eq!(s.body["data"]["attributes"]["state"], "READY_FOR_REVIEW");
    id(&s)
}

#[tokio::test]
async fn a_version_goes_through_review_to_the_store() {
    let api = Api::start(with(fast())).await;
    let listed = api
        .get(&format!("/v1/apps/{DEMO}/appStoreVersions?filter[platform]=IOS"))
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["data"][0]["attributes"]["appStoreState"], "READY_FOR_SALE");

    let created = create_version(&api, "1.0.0").await;
    assert_eq!(created.status, 201, "{}", created.body);
    let v = id(&created);
    assert_eq!(
        created.body["data"]["attributes"]["appVersionState"],
        "PREPARE_FOR_SUBMISSION"
    );
    // One open version per platform, one version string per platform.
    assert_eq!(
        create_version(&api, "1.0.1").await.code(),
        "STATE_ERROR.ENTITY_STATE_INVALID"
    );
    assert_eq!(
        create_version(&api, "1.0.0").await.code(),
        "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"
    );

    // The copied metadata, without What's New; an update needs one, and a build.
    let locs = api
        .get(&format!("/v1/appStoreVersions/{v}/appStoreVersionLocalizations"))
        .await;
    let loc = str_at(&locs.body, "/data/0/id").to_owned();
    assert!(locs.body["data"][0]["attributes"]["description"].is_string());
    assert!(locs.body["data"][0]["attributes"]["whatsNew"].is_null());
    let sets = api
        .get(&format!("/v1/appStoreVersionLocalizations/{loc}/appScreenshotSets"))
        .await;
    assert_eq!(sets.body["data"].as_array().unwrap().len(), 1);
    let detail = api.get(&format!("/v1/appStoreVersions/{v}/appStoreReviewDetail")).await;
    assert_eq!(detail.body["data"]["attributes"]["contactFirstName"], "Jane");

    let s = open_submission(&api).await;
    let refused = add_item(&api, &s, &v).await;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "STATE_ERROR.ENTITY_STATE_INVALID")
    );
    let assoc = refused.body["errors"][0]["meta"]["associatedErrors"]
        .as_object()
        .unwrap();
    let mut details: Vec<String> = assoc
        .values()
        .flat_map(|l| l.as_array().unwrap().iter())
        .map(|e| e["source"]["pointer"].as_str().unwrap().to_owned())
        .collect();
    details.sort();
    assert_eq!(details, ["/data/attributes/build", "/data/attributes/whatsNew"]);

    // A build of another version string is refused; 1.0.0 (40) is taken.
    let b41 = api.build_id(DEMO, "40").await;
    let link = |b: &str| json!({ "data": { "type": "builds", "id": b } });
    let attached = api
        .call(
            "PATCH",
            &format!("/v1/appStoreVersions/{v}/relationships/build"),
            Some(link(&b41)),
        )
        .await;
    assert_eq!(attached.status, 204, "{}", attached.body);
    let expired = api.build_id(DEMO, "44").await;
    let wrong = api
        .call(
            "PATCH",
            &format!("/v1/appStoreVersions/{v}/relationships/build"),
            Some(link(&expired)),
        )
        .await;
    assert_eq!(wrong.code(), "ENTITY_ERROR.RELATIONSHIP.INVALID");
    let patched = api
        .call(
            "PATCH",
            &format!("/v1/appStoreVersionLocalizations/{loc}"),
            Some(json!({ "data": { "type": "appStoreVersionLocalizations", "id": loc,
                "attributes": { "whatsNew": "Faster sync." } } })),
        )
        .await;
    assert_eq!(patched.status, 200);
    let scheduled = api
        .call(
            "PATCH",
            &format!("/v1/appStoreVersions/{v}"),
            Some(json!({ "data": { "type": "appStoreVersions", "id": v,
                "attributes": { "releaseType": "SCHEDULED" } } })),
        )
        .await;
    assert_eq!(scheduled.code(), "ENTITY_ERROR.ATTRIBUTE.REQUIRED", "no date");
    let manual = api
        .call(
            "PATCH",
            &format!("/v1/appStoreVersions/{v}"),
            Some(json!({ "data": { "type": "appStoreVersions", "id": v,
                "attributes": { "releaseType": "MANUAL", "earliestReleaseDate": null } } })),
        )
        .await;
    assert_eq!(manual.status, 200, "{}", manual.body);
    let phased = api
        .call(
            "POST",
            "/v1/appStoreVersionPhasedReleases",
            Some(json!({ "data": { "type": "appStoreVersionPhasedReleases",
                "relationships": { "appStoreVersion": { "data": { "type": "appStoreVersions", "id": v } } } } })),
        )
        .await;
    assert_eq!(phased.status, 201);
    assert_eq!(phased.body["data"]["attributes"]["phasedReleaseState"], "INACTIVE");

    let item = add_item(&api, &s, &v).await;
    assert_eq!(item.status, 201, "{}", item.body);
    let submit = |canceled: bool| {
        let attr = if canceled { "canceled" } else { "submitted" };
        json!({ "data": { "type": "reviewSubmissions", "id": s, "attributes": { attr: true } } })
    };
    let sent = api
        .call("PATCH", &format!("/v1/reviewSubmissions/{s}"), Some(submit(false)))
        .await;
    assert_eq!(sent.body["data"]["attributes"]["state"], "WAITING_FOR_REVIEW");
    assert!(sent.body["data"]["attributes"]["submittedDate"].is_string());
    // Submitted: the version is no longer editable.
    assert_eq!(patched_again(&api, &loc).await, "STATE_ERROR.ENTITY_STATE_INVALID");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let done = api
        .get(&format!(
            "/v1/reviewSubmissions?filter[app]={DEMO}&include=appStoreVersionForReview"
        ))
        .await;
    assert_eq!(done.body["data"][0]["attributes"]["state"], "COMPLETE");
    assert_eq!(
        done.body["included"][0]["attributes"]["appVersionState"], "PENDING_DEVELOPER_RELEASE",
        "manual release waits for the developer"
    );
    let items = api.get(&format!("/v1/reviewSubmissions/{s}/items")).await;
    assert_eq!(items.body["data"][0]["attributes"]["state"], "APPROVED");
    assert_eq!(
        api.get("/v1/reviewSubmissions").await.code(),
        "PARAMETER_ERROR.REQUIRED"
    );
    api.sim.shutdown().await;
}

async fn patched_again(api: &Api, loc: &str) -> String {
    api.call(
        "PATCH",
        &format!("/v1/appStoreVersionLocalizations/{loc}"),
        Some(json!({ "data": { "type": "appStoreVersionLocalizations", "id": loc,
            "attributes": { "whatsNew": "Changed." } } })),
    )
    .await
    .code()
    .to_owned()
}

#[tokio::test]
async fn missing_metadata_is_named_per_resource() {
    let api = Api::start(with(AppStoreScene {
        missing: vec![
            MissingMetadata::Screenshots,
            MissingMetadata::Description,
            MissingMetadata::ReviewContact,
        ],
        ..fast()
    }))
    .await;
    let v = id(&create_version(&api, "1.0.0").await);
    let s = open_submission(&api).await;
    let refused = add_item(&api, &s, &v).await;
    let text = refused.body.to_string();
    for attribute in [
        "'description'",
        "'appScreenshotSets'",
        "'contactPhone'",
        "'contactEmail'",
    ] {
        assert!(text.contains(attribute), "{attribute} in {text}");
    }
    api.sim.shutdown().await;
}

#[tokio::test]
async fn a_submission_in_flight_blocks_until_cancelled() {
    let api = Api::start(with(AppStoreScene {
        in_flight: Some("WAITING_FOR_REVIEW".into()),
        ..fast()
    }))
    .await;
    let inflight = api
        .get(&format!(
            "/v1/reviewSubmissions?filter[app]={DEMO}&filter[state]=WAITING_FOR_REVIEW"
        ))
        .await;
    let s = str_at(&inflight.body, "/data/0/id").to_owned();
    let of_app = api
        .get(&format!(
            "/v1/apps/{DEMO}/reviewSubmissions?filter[platform]=IOS&include=appStoreVersionForReview"
        ))
        .await;
    assert_eq!(str_at(&of_app.body, "/data/0/id"), s);
    assert_eq!(of_app.body["included"][0]["attributes"]["versionString"], "0.9.1");
    // Held by the scene: still waiting well after a review time.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        api.get(&format!("/v1/reviewSubmissions/{s}")).await.body["data"]["attributes"]["state"],
        "WAITING_FOR_REVIEW"
    );
    assert_eq!(
        create_version(&api, "1.0.0").await.code(),
        "STATE_ERROR.ENTITY_STATE_INVALID"
    );
    let second = api
        .call(
            "POST",
            "/v1/reviewSubmissions",
            Some(
                json!({ "data": { "type": "reviewSubmissions", "attributes": { "platform": "IOS" },
                "relationships": { "app": { "data": { "type": "apps", "id": DEMO } } } } }),
            ),
        )
        .await;
    assert_eq!(
        (second.status, second.code()),
        (409, "STATE_ERROR.ENTITY_STATE_INVALID")
    );
    let cancel = api
        .call(
            "PATCH",
            &format!("/v1/reviewSubmissions/{s}"),
            Some(json!({ "data": { "type": "reviewSubmissions", "id": s, "attributes": { "canceled": true } } })),
        )
        .await;
    assert_eq!(cancel.body["data"]["attributes"]["state"], "CANCELING");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = api
        .get(&format!("/v1/reviewSubmissions/{s}?include=appStoreVersionForReview"))
        .await;
    assert_eq!(after.body["data"]["attributes"]["state"], "COMPLETE");
    assert_eq!(
        after.body["included"][0]["attributes"]["appVersionState"],
        "DEVELOPER_REJECTED"
    );
    api.sim.shutdown().await;
}
