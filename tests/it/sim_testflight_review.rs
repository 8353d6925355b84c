//! Beta App Review against the simulator over real HTTP: review information complete vs missing,
//! submissions (201, duplicate 409, missing details 422, required filter 400), the build's
//! external state; plus processing warnings and TestFlight state surviving a restart.

use std::time::Duration;

use crate::support::testflight::{DEMO, OTHER, ids, scene, titles};
use crate::support::{Api, bytes, id, str_at};
use asc_sim::{Processing, ProcessingResult, SimConfig};
use serde_json::{Value, json};

#[tokio::test]
async fn review_information_when_complete() {
    let api = Api::start(scene()).await;
    let detail = api.get(&format!("/v1/apps/{DEMO}/betaAppReviewDetail")).await;
    assert_eq!(detail.status, 200);
    let attrs = &detail.body["data"]["attributes"];
    for field in ["contactFirstName", "contactLastName", "contactPhone", "contactEmail"] {
        assert!(attrs[field].as_str().is_some_and(|s| !s.is_empty()), "{field}");
    }
    assert_eq!(attrs["demoAccountRequired"], false);
    assert!(attrs["demoAccountPassword"].is_null());
    assert_eq!(detail.body["data"]["id"], DEMO);

    let listed = api
        .get(&format!("/v1/betaAppReviewDetails?filter[app]={DEMO}&include=app"))
        .await;
    assert_eq!(ids(listed.body["data"].as_array().unwrap()), vec![DEMO.to_owned()]);
    assert_eq!(listed.body["included"][0]["type"], "apps");
    let no_filter = api.get("/v1/betaAppReviewDetails").await;
    assert_eq!((no_filter.status, no_filter.code()), (400, "PARAMETER_ERROR.REQUIRED"));
    assert_eq!(str_at(&no_filter.body, "/errors/0/source/parameter"), "filter[app]");
    assert_eq!(api.get(&format!("/v1/betaAppReviewDetails/{DEMO}")).await.status, 200);
    assert_eq!(api.get("/v1/apps/0000000000/betaAppReviewDetail").await.status, 404);

    let locs = api.get(&format!("/v1/betaAppLocalizations?filter[app]={DEMO}")).await;
    let loc = &locs.body["data"][0]["attributes"];
    assert_eq!(loc["locale"], "en-US");
    assert!(loc["feedbackEmail"].as_str().is_some_and(|s| s.contains('@')));
    assert!(loc["description"].as_str().is_some_and(|s| !s.is_empty()));
    let per_app = api.get(&format!("/v1/apps/{OTHER}/betaAppLocalizations")).await;
    assert_eq!(per_app.body["data"].as_array().unwrap().len(), 1);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn missing_review_information_blocks_submission_naming_each_gap() {
    let mut config = scene();
    config.testflight.beta_review_details = false;
    let api = Api::start(config).await;
    let detail = api.get(&format!("/v1/apps/{DEMO}/betaAppReviewDetail")).await;
    let attrs = &detail.body["data"]["attributes"];
    assert!(attrs["contactEmail"].is_null() && attrs["contactPhone"].is_null());
    let locs = api.get(&format!("/v1/apps/{DEMO}/betaAppLocalizations")).await;
    assert!(locs.body["data"][0]["attributes"]["description"].is_null());

    let build = api.build_id(DEMO, "41").await;
    assert_eq!(api.what_to_test(&build, "en-US", "Login").await.status, 201);
    let refused = api.submit_for_review(&build).await;
    assert_eq!((refused.status, refused.code()), (422, "ENTITY_UNPROCESSABLE"));
    let t = titles(&refused);
    assert_eq!(t.first().map(String::as_str), Some("Beta App Description is missing."));
    assert!(t.iter().any(|x| x == "Feedback Email is missing."), "{t:?}");
    assert_eq!(
        t.iter().filter(|x| x.contains("Beta App Review Information")).count(),
        4
    );
    assert!(str_at(&refused.body, "/errors/0/detail").contains("required to submit a build for external testing"));

    // Filling in the contact fields leaves only the app-level gaps.
    let fill = json!({ "data": { "type": "betaAppReviewDetails", "id": DEMO, "attributes": {
        "contactFirstName": "Ada", "contactLastName": "Lovelace", "contactPhone": "+44 20 7946 0000",
        "contactEmail": "ada@example.com", "demoAccountRequired": false,
    } } });
    let patched = api
        .call("PATCH", &format!("/v1/betaAppReviewDetails/{DEMO}"), Some(fill))
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["data"]["attributes"]["contactFirstName"], "Ada");
    let again = api.submit_for_review(&build).await;
    assert_eq!(titles(&again).len(), 2, "{}", again.body);
    assert_eq!(
        api.get(&format!("/v1/builds/{build}/betaAppReviewSubmission"))
            .await
            .status,
        404
    );
    api.sim.shutdown().await;
}

#[tokio::test]
async fn submission_lifecycle() {
    let api = Api::start(scene()).await;
    let build = api.build_id(DEMO, "41").await;

    // What to Test is required first.
    let no_notes = api.submit_for_review(&build).await;
    assert_eq!(no_notes.status, 422);
    assert_eq!(titles(&no_notes), ["What to Test is missing."]);
    assert_eq!(api.what_to_test(&build, "en-US", "Checkout flow").await.status, 201);

    let none = api.get(&format!("/v1/builds/{build}/betaAppReviewSubmission")).await;
    assert_eq!((none.status, none.code()), (404, "NOT_FOUND"));
    let submitted = api.submit_for_review(&build).await;
    assert_eq!(submitted.status, 201, "{}", submitted.body);
    assert_eq!(
        submitted.body["data"]["attributes"]["betaReviewState"],
        "WAITING_FOR_REVIEW"
    );
    assert!(submitted.body["data"]["attributes"]["submittedDate"].is_string());
    let sub_id = id(&submitted);

    let dup = api.submit_for_review(&build).await;
    assert_eq!((dup.status, dup.code()), (409, "STATE_ERROR.ENTITY_STATE_INVALID"));
    assert!(str_at(&dup.body, "/errors/0/detail").contains("already been submitted"));

    let no_filter = api.get("/v1/betaAppReviewSubmissions").await;
    assert_eq!((no_filter.status, no_filter.code()), (400, "PARAMETER_ERROR.REQUIRED"));
    assert_eq!(str_at(&no_filter.body, "/errors/0/source/parameter"), "filter[build]");
    let listed = api
        .get(&format!(
            "/v1/betaAppReviewSubmissions?filter[build]={build}&include=build"
        ))
        .await;
    assert_eq!(ids(listed.body["data"].as_array().unwrap()), vec![sub_id.clone()]);
    assert_eq!(listed.body["included"][0]["id"], build.as_str());
    let waiting = api
        .get(&format!(
            "/v1/betaAppReviewSubmissions?filter[build]={build}&filter[betaReviewState]=APPROVED"
        ))
        .await;
    assert_eq!(waiting.body["data"], json!([]));
    let of_build = api.get(&format!("/v1/builds/{build}/betaAppReviewSubmission")).await;
    assert_eq!(of_build.body["data"]["id"], sub_id.as_str());
    assert_eq!(
        api.get(&format!("/v1/betaAppReviewSubmissions/{sub_id}")).await.status,
        200
    );

    let (_, external, _) = api.beta_detail(&build).await;
    assert_eq!(external, "WAITING_FOR_BETA_REVIEW");
    let by_state = api
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&filter[betaAppReviewSubmission.betaReviewState]=WAITING_FOR_REVIEW&include=betaAppReviewSubmission"
        ))
        .await;
    assert_eq!(ids(by_state.body["data"].as_array().unwrap()), vec![build.clone()]);
    assert_eq!(
        by_state.body["data"][0]["relationships"]["betaAppReviewSubmission"]["data"]["id"],
        sub_id.as_str()
    );

    // Another build of the same version while this one waits: Apple's "Another build is in review."
    let sibling = api.build_id(DEMO, "40").await;
    assert_eq!(api.what_to_test(&sibling, "en-US", "Older").await.status, 201);
    let busy = api.submit_for_review(&sibling).await;
    assert_eq!(busy.status, 409);
    assert_eq!(str_at(&busy.body, "/errors/0/detail"), "Another build is in review.");

    // Not ready builds.
    let no_compliance = api.build_id(DEMO, "43").await;
    let refused = api.submit_for_review(&no_compliance).await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "STATE_ERROR.ENTITY_STATE_INVALID")
    );
    let expired = api.build_id(DEMO, "44").await;
    assert_eq!(api.submit_for_review(&expired).await.status, 422);
    let unknown = api.submit_for_review("nope").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (409, "ENTITY_ERROR.RELATIONSHIP.INVALID")
    );
    api.sim.shutdown().await;
}

#[tokio::test]
async fn processing_warnings_and_auto_notify_reach_new_builds() {
    let mut config = scene();
    config.processing = Processing {
        duration: Duration::ZERO,
        result: ProcessingResult::Valid,
    };
    config.testflight.processing_warnings = vec!["91053".into(), "90725".into()];
    config.testflight.auto_notify = true;
    let api = Api::start(config).await;
    let upload_id = id(&api.create_upload(DEMO, "2.0.0", "100").await);
    let data = bytes(2048);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    assert!(api.put_all(&reserved.body, &data).await.iter().all(|s| *s == 200));
    assert_eq!(api.commit(&id(&reserved), None).await.status, 200);
    let done = api.wait_processed(&upload_id).await;
    let state = &done.body["data"]["attributes"]["state"];
    assert_eq!(state["state"], "COMPLETE");
    assert_eq!(state["errors"], json!([]));
    let codes: Vec<&str> = state["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["91053", "90725"]);
    assert!(str_at(state, "/warnings/0/description").ends_with("(91053)"));

    let build = str_at(&done.body, "/data/relationships/build/data/id").to_owned();
    assert!(
        api.beta_detail(&build).await.2,
        "auto-notify comes from the configuration"
    );
    // A fresh VALID build joins the all-builds internal group by itself.
    let everyone = api.group_id(DEMO, "Everyone").await;
    let group_builds = api.get(&format!("/v1/betaGroups/{everyone}/builds")).await;
    assert!(ids(group_builds.body["data"].as_array().unwrap()).contains(&build));
    api.sim.shutdown().await;
}

#[tokio::test]
async fn testflight_state_survives_a_restart_without_duplicating_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let config = || SimConfig {
        state_dir: Some(dir.path().to_path_buf()),
        ..scene()
    };
    let first = Api::start(config()).await;
    let build = first.build_id(DEMO, "41").await;
    let qa = first.group_id(DEMO, "QA").await;
    let path = format!("/v1/builds/{build}/relationships/betaGroups");
    assert_eq!(first.link("POST", &path, "betaGroups", &[&qa]).await.status, 204);
    assert_eq!(first.what_to_test(&build, "en-US", "Persisted").await.status, 201);
    first.sim.shutdown().await;

    let second = Api::start(config()).await;
    assert_eq!(second.get("/v1/betaGroups").await.body["meta"]["paging"]["total"], 4);
    assert_eq!(second.get("/v1/betaTesters").await.body["meta"]["paging"]["total"], 3);
    let all: Value = second
        .get("/v1/builds?filter[processingState]=PROCESSING,FAILED,INVALID,VALID")
        .await
        .body;
    assert_eq!(all["meta"]["paging"]["total"], 7);
    let group_builds = second.get(&format!("/v1/betaGroups/{qa}/builds")).await;
    assert_eq!(ids(group_builds.body["data"].as_array().unwrap()), vec![build.clone()]);
    let notes = second.get(&format!("/v1/builds/{build}/betaBuildLocalizations")).await;
    assert_eq!(notes.body["data"][0]["attributes"]["whatsNew"], "Persisted");
    second.sim.shutdown().await;
}

#[tokio::test]
async fn a_seed_for_an_unknown_app_is_refused_at_start() {
    let mut config = scene();
    config.testflight.groups = vec!["com.example.nowhere:QA=internal".parse().unwrap()];
    let err = asc_sim::Simulator::start(config).await.unwrap_err();
    assert!(err.to_string().contains("com.example.nowhere"), "{err}");
    assert!(err.hint().contains("--app"), "{}", err.hint());
    // What a user of `asc-publish sim` sees: a usage error (2) naming the app.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["sim", "--group", "com.example.nowhere:QA=internal"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("com.example.nowhere"));
}
