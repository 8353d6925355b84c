//! Apple's error answers: duplicate build numbers, deletes, unknown ids and routes, bad
//! parameters and bodies, and cursor pagination.

use crate::support::{Api, id, str_at};
use asc_sim::{DEFAULT_APP_ID, SimConfig};
use serde_json::{Value, json};

#[tokio::test]
async fn duplicate_build_numbers_conflict_like_apple() {
    let api = Api::start(SimConfig::default()).await;
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "1.0", "7").await.status, 201);
    // Still AWAITING_UPLOAD, and already taken.
    let dup = api.create_upload(DEFAULT_APP_ID, "1.0", "7").await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE");
    assert_eq!(dup.body["errors"][0]["status"], "409");
    assert_eq!(
        dup.body["errors"][0]["source"],
        json!({ "pointer": "/data/attributes/cfBundleVersion" })
    );
    assert_eq!(dup.body["errors"][0]["meta"]["previousBundleVersion"], "7");
    assert_eq!(
        dup.body["errors"][0]["title"],
        "The provided entity includes an attribute with a value that has already been used"
    );
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "1.0", "10").await.status, 201);
    let dup = api.create_upload(DEFAULT_APP_ID, "1.0", "7").await;
    assert_eq!(dup.body["errors"][0]["meta"]["previousBundleVersion"], "10");
    // Another version train is free to reuse the number.
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "1.1", "7").await.status, 201);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn deleting_an_abandoned_reservation_frees_its_build_number() {
    let api = Api::start(SimConfig::default()).await;
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "2.0", "3").await);
    api.reserve(&upload_id, 10).await;
    let del = api.call("DELETE", &format!("/v1/buildUploads/{upload_id}"), None).await;
    assert_eq!(del.status, 204);
    assert_eq!(api.get(&format!("/v1/buildUploads/{upload_id}")).await.status, 404);
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "2.0", "3").await.status, 201);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_routes_and_parameters() {
    let api = Api::start(SimConfig::default()).await;
    for path in [
        "/v1/buildUploads/nope",
        "/v1/buildUploadFiles/nope",
        "/v1/builds/nope",
        "/v1/apps/1",
        "/v1/apps/1/buildUploads",
        "/v1/builds/nope/buildBetaDetail",
    ] {
        let a = api.get(path).await;
        assert_eq!((a.status, a.code()), (404, "NOT_FOUND"), "{path}");
        assert!(a.body["errors"][0]["detail"].as_str().unwrap().contains("nope") || path.contains("apps"));
    }
    let a = api
        .get(&format!("/v1/apps/{DEFAULT_APP_ID}/buildUploads?limit=500"))
        .await;
    assert_eq!((a.status, a.code()), (400, "PARAMETER_ERROR.INVALID"));
    assert_eq!(a.body["errors"][0]["source"], json!({ "parameter": "limit" }));
    let a = api
        .get(&format!(
            "/v1/apps/{DEFAULT_APP_ID}/buildUploads?filter[platform]=ANDROID"
        ))
        .await;
    assert_eq!(a.status, 400);
    let a = api.get("/v1/builds?filter[processingState]=DONE").await;
    assert_eq!(a.status, 400);
    let a = api.get("/v1/builds?filter[colour]=red").await;
    assert_eq!(
        (a.status, a.body["errors"][0]["source"]["parameter"].as_str()),
        (400, Some("filter[colour]"))
    );
    let a = api.get("/v1/builds?cursor=garbage").await;
    assert_eq!(a.status, 400);

    // Routes outside the spec: still Apple's error document.
    let spec = &api.spec;
    let http = &api.http;
    let token = api.token();
    for (method, path, status) in [
        ("GET", "/v1/nothing", 404),
        ("PUT", "/v1/buildUploads/x", 405),
        ("GET", "/elsewhere", 404),
    ] {
        let resp = http
            .request(method.parse().unwrap(), format!("{}{path}", api.sim.api_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        assert!(resp.headers().contains_key("x-rate-limit"));
        let body: Value = resp.json().await.unwrap();
        spec.validate_named("ErrorResponse", &body, crate::support::openapi::Mode::Response)
            .unwrap();
    }
    api.sim.shutdown().await;
}

#[tokio::test]
async fn invalid_bodies_are_entity_errors() {
    let api = Api::start(SimConfig::default()).await;
    let token = api.token();
    let post = |body: Value| api.raw("POST", "/v1/buildUploads", Some(body), Some(&token));

    let mut wrong_type = crate::support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    wrong_type["data"]["type"] = json!("builds");
    let a = post(wrong_type).await;
    assert_eq!(
        (a.status, a.body["errors"][0]["source"]["pointer"].as_str()),
        (409, Some("/data/type"))
    );

    let mut missing = crate::support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    missing["data"]["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("cfBundleVersion");
    let a = post(missing).await;
    assert_eq!((a.status, a.code()), (409, "ENTITY_ERROR.ATTRIBUTE.REQUIRED"));
    assert_eq!(
        a.body["errors"][0]["source"]["pointer"],
        "/data/attributes/cfBundleVersion"
    );

    let mut number = crate::support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    number["data"]["attributes"]["cfBundleVersion"] = json!(1);
    assert_eq!(post(number).await.code(), "ENTITY_ERROR.ATTRIBUTE.INVALID");

    let mut platform = crate::support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    platform["data"]["attributes"]["platform"] = json!("ANDROID");
    assert_eq!(post(platform).await.status, 409);

    let a = post(crate::support::upload_body("999", "1.0", "1")).await;
    assert_eq!((a.status, a.code()), (409, "ENTITY_ERROR.RELATIONSHIP.INVALID"));

    let mut extra = crate::support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    extra["data"]["attributes"]["sourceFileChecksum"] = json!("abc");
    assert_eq!(post(extra).await.code(), "ENTITY_ERROR.ATTRIBUTE.UNKNOWN");

    let a = api
        .raw("POST", "/v1/buildUploads", Some(json!("not json:api")), Some(&token))
        .await;
    assert_eq!(a.status, 409);

    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", "1").await);
    let mut zero = crate::support::file_body(&upload_id, 1);
    zero["data"]["attributes"]["fileSize"] = json!(0);
    let a = api.raw("POST", "/v1/buildUploadFiles", Some(zero), Some(&token)).await;
    assert_eq!((a.status, a.code()), (409, "ENTITY_ERROR.ATTRIBUTE.INVALID"));
    let a = api
        .raw(
            "POST",
            "/v1/buildUploadFiles",
            Some(crate::support::file_body("nope", 1)),
            Some(&token),
        )
        .await;
    assert_eq!(a.code(), "ENTITY_ERROR.RELATIONSHIP.INVALID");
    api.sim.shutdown().await;
}

#[tokio::test]
async fn lists_paginate_with_links_next() {
    let api = Api::start(SimConfig::default()).await;
    for v in ["1", "2", "3", "4", "10"] {
        api.create_upload(DEFAULT_APP_ID, "1.0", v).await;
    }
    let mut path = format!("/v1/apps/{DEFAULT_APP_ID}/buildUploads?sort=-cfBundleVersion&limit=2");
    let mut versions = Vec::new();
    let mut pages = 0;
    loop {
        let page = api.get(&path).await;
        pages += 1;
        assert_eq!(page.body["meta"]["paging"]["total"], 5);
        assert_eq!(page.body["meta"]["paging"]["limit"], 2);
        for item in page.body["data"].as_array().unwrap() {
            versions.push(str_at(item, "/attributes/cfBundleVersion").to_owned());
        }
        match page.body["links"]["next"].as_str() {
            Some(next) => {
                assert!(page.body["meta"]["paging"]["nextCursor"].is_string());
                path = next
                    .strip_prefix(&api.sim.api_url)
                    .expect("absolute link to this server")
                    .to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(versions, ["10", "4", "3", "2", "1"]);
    api.sim.shutdown().await;
}
