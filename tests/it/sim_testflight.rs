//! TestFlight distribution against the simulator over real HTTP: beta groups, build assignment
//! (and Apple's 422s), What to Test, notifications, testers. Every request and answer is checked
//! against Apple's OpenAPI subset.

use crate::support::testflight::{ALL_STATES, DEMO, OTHER, ids, scene};
use crate::support::{Api, id, str_at};
use asc_sim::{SimConfig, TestFlightConfig};
use serde_json::{Value, json};

#[tokio::test]
async fn groups_list_filter_sort_and_page() {
    let api = Api::start(scene()).await;
    let all = api.get("/v1/betaGroups").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["meta"]["paging"]["total"], 4);

    let demo = api.get(&format!("/v1/betaGroups?filter[app]={DEMO}&sort=name")).await;
    let names: Vec<&str> = demo.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["attributes"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Everyone", "Public", "QA"]);

    let qa = api
        .get(&format!("/v1/betaGroups?filter[app]={DEMO}&filter[name]=QA"))
        .await;
    assert_eq!(qa.body["data"].as_array().unwrap().len(), 1);
    let attrs = &qa.body["data"][0]["attributes"];
    assert_eq!(attrs["isInternalGroup"], true);
    assert_eq!(attrs["hasAccessToAllBuilds"], false);
    assert!(attrs["createdDate"].is_string());
    assert_eq!(qa.body["data"][0]["relationships"]["app"]["data"]["id"], DEMO);

    let everyone = api.get("/v1/betaGroups?filter[name]=Everyone").await;
    assert_eq!(everyone.body["data"][0]["attributes"]["hasAccessToAllBuilds"], true);
    let external = api.get("/v1/betaGroups?filter[isInternalGroup]=false").await;
    assert_eq!(str_at(&external.body, "/data/0/attributes/name"), "Public");
    let spaced = api.get("/v1/betaGroups?filter[name]=Other%20QA").await;
    assert_eq!(spaced.body["data"][0]["relationships"]["app"]["data"]["id"], OTHER);
    let nobody = api.get("/v1/betaGroups?filter[name]=qa").await;
    assert_eq!(nobody.body["data"], json!([]), "names match exactly");

    // Paging: limit 1 walks all four through links.next.
    let paged = api.all_pages("/v1/betaGroups?limit=1").await;
    assert_eq!(ids(&paged), ids(all.body["data"].as_array().unwrap()));

    let per_app = api.get(&format!("/v1/apps/{DEMO}/betaGroups?limit=200")).await;
    assert_eq!(per_app.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(api.get("/v1/apps/0000000000/betaGroups").await.status, 404);

    let gid = api.group_id(DEMO, "QA").await;
    let one = api.get(&format!("/v1/betaGroups/{gid}?include=app")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["included"][0]["type"], "apps");
    assert_eq!(api.get("/v1/betaGroups/nope").await.status, 404);
    let bad = api.get("/v1/betaGroups?sort=size").await;
    assert_eq!((bad.status, bad.code()), (400, "PARAMETER_ERROR.INVALID"));
    api.sim.shutdown().await;
}

#[tokio::test]
async fn assignment_is_204_and_visible_from_every_side() {
    let api = Api::start(scene()).await;
    let build = api.build_id(DEMO, "41").await;
    let (qa, everyone, public) = (
        api.group_id(DEMO, "QA").await,
        api.group_id(DEMO, "Everyone").await,
        api.group_id(DEMO, "Public").await,
    );
    // Before: only the all-builds group sees the VALID build, automatically.
    let before = api.get(&format!("/v1/builds/{build}?include=betaGroups")).await;
    let linked: Vec<&str> = before.body["data"]["relationships"]["betaGroups"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(linked, [everyone.as_str()]);
    assert_eq!(api.beta_detail(&build).await.0, "IN_BETA_TESTING");

    let path = format!("/v1/builds/{build}/relationships/betaGroups");
    let added = api.link("POST", &path, "betaGroups", &[&qa, &public]).await;
    assert_eq!(added.status, 204);
    assert_eq!(
        api.link("POST", &path, "betaGroups", &[&qa]).await.status,
        204,
        "idempotent"
    );

    let after = api
        .get(&format!("/v1/builds/{build}?include=betaGroups,buildBetaDetail"))
        .await;
    let mut linked = ids(after.body["data"]["relationships"]["betaGroups"]["data"]
        .as_array()
        .unwrap());
    linked.sort();
    let mut expected = vec![qa.clone(), everyone.clone(), public.clone()];
    expected.sort();
    assert_eq!(linked, expected);
    let included_groups = after.body["included"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "betaGroups")
        .count();
    assert_eq!(included_groups, 3);

    let by_group = api
        .get(&format!("/v1/builds?filter[betaGroups]={qa}&filter[app]={DEMO}"))
        .await;
    assert_eq!(ids(by_group.body["data"].as_array().unwrap()), vec![build.clone()]);
    let group_builds = api.get(&format!("/v1/betaGroups/{qa}/builds")).await;
    assert_eq!(ids(group_builds.body["data"].as_array().unwrap()), vec![build.clone()]);
    let linkages = api.get(&format!("/v1/betaGroups/{qa}/relationships/builds")).await;
    assert_eq!(linkages.body["data"], json!([{ "type": "builds", "id": build }]));
    let groups_of_build = api.get(&format!("/v1/betaGroups?filter[builds]={build}")).await;
    assert_eq!(groups_of_build.body["data"].as_array().unwrap().len(), 3);

    // Removal, then the reverse relationship adds it back.
    assert_eq!(api.link("DELETE", &path, "betaGroups", &[&qa]).await.status, 204);
    let group_builds = api.get(&format!("/v1/betaGroups/{qa}/builds")).await;
    assert_eq!(group_builds.body["data"], json!([]));
    let reverse = format!("/v1/betaGroups/{qa}/relationships/builds");
    assert_eq!(api.link("POST", &reverse, "builds", &[&build]).await.status, 204);
    let group_builds = api.get(&format!("/v1/betaGroups/{qa}/builds")).await;
    assert_eq!(ids(group_builds.body["data"].as_array().unwrap()), vec![build.clone()]);
    assert_eq!(api.link("DELETE", &reverse, "builds", &[&build]).await.status, 204);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn assignment_refusals_match_apple() {
    let api = Api::start(scene()).await;
    let (qa, everyone, public, other) = (
        api.group_id(DEMO, "QA").await,
        api.group_id(DEMO, "Everyone").await,
        api.group_id(DEMO, "Public").await,
        api.group_id(OTHER, "Other QA").await,
    );
    let valid = api.build_id(DEMO, "41").await;
    let link = |build: String, group: String| {
        let api = &api;
        async move {
            api.link(
                "POST",
                &format!("/v1/builds/{build}/relationships/betaGroups"),
                "betaGroups",
                &[&group],
            )
            .await
        }
    };

    let all = link(valid.clone(), everyone.clone()).await;
    assert_eq!((all.status, all.code()), (422, "ENTITY_UNPROCESSABLE"));
    assert_eq!(
        str_at(&all.body, "/errors/0/title"),
        "Builds cannot be assigned to this internal group."
    );
    assert_eq!(
        str_at(&all.body, "/errors/0/detail"),
        "Cannot add internal group to a build."
    );
    let reverse = api
        .link(
            "POST",
            &format!("/v1/betaGroups/{everyone}/relationships/builds"),
            "builds",
            &[&valid],
        )
        .await;
    assert_eq!(reverse.status, 422);

    for (version, why) in [("42", "INVALID"), ("45", "PROCESSING"), ("44", "expired")] {
        let b = api.build_id(DEMO, version).await;
        let a = link(b, qa.clone()).await;
        assert_eq!(
            (a.status, a.code()),
            (422, "STATE_ERROR.ENTITY_STATE_INVALID"),
            "{version}"
        );
        assert!(str_at(&a.body, "/errors/0/detail").contains(why), "{}", a.body);
    }

    // Missing export compliance: external groups refuse, internal groups accept.
    let no_compliance = api.build_id(DEMO, "43").await;
    let ext = link(no_compliance.clone(), public.clone()).await;
    assert_eq!((ext.status, ext.code()), (422, "STATE_ERROR.ENTITY_STATE_INVALID"));
    assert!(str_at(&ext.body, "/errors/0/title").contains("export compliance"));
    assert_eq!(link(no_compliance, qa.clone()).await.status, 204);

    let unknown = link(valid.clone(), "no-such-group".into()).await;
    assert_eq!((unknown.status, unknown.code()), (404, "NOT_FOUND"));
    assert_eq!(link("no-such-build".into(), qa.clone()).await.status, 404);
    let wrong_app = link(valid.clone(), other).await;
    assert_eq!(wrong_app.status, 422);
    let unknown_build = api
        .link(
            "POST",
            &format!("/v1/betaGroups/{qa}/relationships/builds"),
            "builds",
            &["nope"],
        )
        .await;
    assert_eq!(unknown_build.status, 404);
    // Nothing was half-applied by the refused requests.
    let group_builds = api.get(&format!("/v1/betaGroups/{public}/builds")).await;
    assert_eq!(group_builds.body["data"], json!([]));
    api.sim.shutdown().await;
}

#[tokio::test]
async fn what_to_test_create_update_duplicate_and_length() {
    let api = Api::start(scene()).await;
    let build = api.build_id(DEMO, "41").await;
    let created = api.what_to_test(&build, "en-US", "Try the new login.").await;
    assert_eq!(created.status, 201);
    let loc = id(&created);
    assert_eq!(created.body["data"]["attributes"]["whatsNew"], "Try the new login.");
    assert_eq!(
        created.body["data"]["relationships"]["build"]["data"]["id"],
        build.as_str()
    );

    let dup = api.what_to_test(&build, "en-US", "again").await;
    assert_eq!(
        (dup.status, dup.code()),
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE")
    );
    assert_eq!(str_at(&dup.body, "/errors/0/source/pointer"), "/data/attributes/locale");
    assert_eq!(api.what_to_test(&build, "fr-FR", "Essayez.").await.status, 201);

    let listed = api
        .get(&format!(
            "/v1/betaBuildLocalizations?filter[build]={build}&filter[locale]=en-US"
        ))
        .await;
    assert_eq!(ids(listed.body["data"].as_array().unwrap()), vec![loc.clone()]);
    let per_build = api.get(&format!("/v1/builds/{build}/betaBuildLocalizations")).await;
    assert_eq!(per_build.body["data"].as_array().unwrap().len(), 2);

    let patch = |text: Value| json!({ "data": { "type": "betaBuildLocalizations", "id": loc, "attributes": { "whatsNew": text } } });
    let updated = api
        .call(
            "PATCH",
            &format!("/v1/betaBuildLocalizations/{loc}"),
            Some(patch(json!("Now with dark mode."))),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["data"]["attributes"]["whatsNew"], "Now with dark mode.");

    // Apple counts UTF-8 bytes: 4000 bytes pass, 2001 two-byte characters (4002 bytes) do not.
    let exact = format!("{}{}", "é".repeat(1999), "xx");
    let ok = api
        .call(
            "PATCH",
            &format!("/v1/betaBuildLocalizations/{loc}"),
            Some(patch(json!(exact))),
        )
        .await;
    assert_eq!(ok.status, 200);
    let long = api
        .call(
            "PATCH",
            &format!("/v1/betaBuildLocalizations/{loc}"),
            Some(patch(json!("é".repeat(2001)))),
        )
        .await;
    assert_eq!(
        (long.status, long.code()),
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG")
    );
    assert_eq!(
        str_at(&long.body, "/errors/0/source/pointer"),
        "/data/attributes/whatsNew"
    );
    let long_new = api.what_to_test(&build, "de-DE", &"y".repeat(5000)).await;
    assert_eq!(long_new.status, 409);
    let read = api.get(&format!("/v1/betaBuildLocalizations/{loc}")).await;
    assert_eq!(
        read.body["data"]["attributes"]["whatsNew"].as_str().unwrap().len(),
        4000
    );

    let unknown = api.what_to_test("no-such-build", "en-US", "x").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (409, "ENTITY_ERROR.RELATIONSHIP.INVALID")
    );
    let wrong_id = api
        .raw(
            "PATCH",
            &format!("/v1/betaBuildLocalizations/{loc}"),
            Some(json!({ "data": { "type": "betaBuildLocalizations", "id": "other", "attributes": {} } })),
            Some(&api.token()),
        )
        .await;
    assert_eq!((wrong_id.status, wrong_id.code()), (409, "ENTITY_ERROR.ID.INVALID"));
    api.sim.shutdown().await;
}

#[tokio::test]
async fn notifications_respect_auto_notify() {
    let api = Api::start(scene()).await;
    let build = api.build_id(DEMO, "41").await;
    let notify = |build: String| {
        let api = &api;
        async move {
            let body = json!({ "data": {
                "type": "buildBetaNotifications",
                "relationships": { "build": { "data": { "type": "builds", "id": build } } },
            } });
            api.call("POST", "/v1/buildBetaNotifications", Some(body)).await
        }
    };
    assert!(!api.beta_detail(&build).await.2, "auto-notify is off by default");
    let sent = notify(build.clone()).await;
    assert_eq!(sent.status, 201);
    assert_eq!(sent.body["data"]["type"], "buildBetaNotifications");

    let detail = api.get(&format!("/v1/buildBetaDetails?filter[build]={build}")).await;
    let detail_id = str_at(&detail.body, "/data/0/id").to_owned();
    let on =
        json!({ "data": { "type": "buildBetaDetails", "id": detail_id, "attributes": { "autoNotifyEnabled": true } } });
    let patched = api
        .call("PATCH", &format!("/v1/buildBetaDetails/{detail_id}"), Some(on))
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["data"]["attributes"]["autoNotifyEnabled"], true);
    let refused = notify(build.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "STATE_ERROR.ENTITY_STATE_INVALID")
    );
    assert!(str_at(&refused.body, "/errors/0/detail").contains("auto-notify already enabled"));
    assert_eq!(api.get(&format!("/v1/buildBetaDetails/{detail_id}")).await.status, 200);

    let expired = api.build_id(DEMO, "44").await;
    assert_eq!(notify(expired).await.status, 409);
    assert_eq!(notify("nope".into()).await.status, 409);
    api.sim.shutdown().await;

    // --auto-notify on: new (and seeded) builds start with it enabled.
    let mut config = scene();
    config.testflight.auto_notify = true;
    let api = Api::start(config).await;
    let build = api.build_id(DEMO, "40").await;
    assert!(api.beta_detail(&build).await.2);
    let body = json!({ "data": {
        "type": "buildBetaNotifications",
        "relationships": { "build": { "data": { "type": "builds", "id": build } } },
    } });
    let refused = api.call("POST", "/v1/buildBetaNotifications", Some(body)).await;
    assert!(str_at(&refused.body, "/errors/0/detail").contains("auto-notify already enabled"));
    api.sim.shutdown().await;
}

#[tokio::test]
async fn testers_lookup_and_individual_assignment() {
    let api = Api::start(scene()).await;
    let found = api
        .get(&format!(
            "/v1/betaTesters?filter[email]=QA@example.com&filter[apps]={DEMO}"
        ))
        .await;
    assert_eq!(
        found.body["data"].as_array().unwrap().len(),
        1,
        "emails match case-insensitively"
    );
    assert_eq!(found.body["data"][0]["attributes"]["email"], "qa@example.com");
    let jane = api.get("/v1/betaTesters?filter[email]=jane.doe@example.com").await;
    assert_eq!(jane.body["data"][0]["attributes"]["firstName"], "Jane");
    let demo_testers = api
        .get(&format!("/v1/betaTesters?filter[apps]={DEMO}&sort=email"))
        .await;
    assert_eq!(demo_testers.body["meta"]["paging"]["total"], 2);

    let build = api.build_id(DEMO, "41").await;
    let qa = api.tester_id("qa@example.com").await;
    let path = format!("/v1/builds/{build}/relationships/individualTesters");
    assert_eq!(api.link("POST", &path, "betaTesters", &[&qa]).await.status, 204);
    let listed = api.get(&format!("/v1/builds/{build}/individualTesters")).await;
    assert_eq!(ids(listed.body["data"].as_array().unwrap()), vec![qa.clone()]);
    let linkages = api.get(&path).await;
    assert_eq!(linkages.body["data"], json!([{ "type": "betaTesters", "id": qa }]));
    let by_build = api
        .get(&format!("/v1/betaTesters?filter[builds]={build}&include=builds,apps"))
        .await;
    assert_eq!(
        by_build.body["data"][0]["relationships"]["builds"]["data"][0]["id"],
        build.as_str()
    );
    let included: Vec<&str> = by_build.body["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(included, ["builds", "apps"]);
    assert_eq!(ids(by_build.body["data"].as_array().unwrap()), vec![qa.clone()]);
    let included = api.get(&format!("/v1/builds/{build}?include=individualTesters")).await;
    assert_eq!(included.body["included"][0]["type"], "betaTesters");

    let unknown = api.link("POST", &path, "betaTesters", &["nobody"]).await;
    assert_eq!((unknown.status, unknown.code()), (404, "NOT_FOUND"));
    let other = api.tester_id("x@example.com").await;
    assert_eq!(api.link("POST", &path, "betaTesters", &[&other]).await.status, 422);
    assert_eq!(api.link("DELETE", &path, "betaTesters", &[&qa]).await.status, 204);
    assert_eq!(api.get(&path).await.body["data"], json!([]));
    api.sim.shutdown().await;
}

#[tokio::test]
async fn builds_list_filters_sort_include_page_and_expire() {
    let api = Api::start(scene()).await;
    // Apple's default lists VALID builds only (expired ones included).
    let valid = api.get(&format!("/v1/builds?filter[app]={DEMO}&sort=version")).await;
    let versions: Vec<&str> = valid.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["attributes"]["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["40", "41", "43", "44"]);
    let live = api
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&filter[expired]=false&sort=-version"
        ))
        .await;
    let versions: Vec<&str> = live.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["attributes"]["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["43", "41", "40"]);
    let newest = api
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&{ALL_STATES}&sort=-uploadedDate&limit=1"
        ))
        .await;
    assert_eq!(newest.body["data"][0]["attributes"]["version"], "45");
    let train = api
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&filter[preReleaseVersion.version]=1.1.0&{ALL_STATES}"
        ))
        .await;
    assert_eq!(train.body["meta"]["paging"]["total"], 2);
    let invalid = api
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&filter[processingState]=INVALID"
        ))
        .await;
    assert_eq!(invalid.body["data"][0]["attributes"]["version"], "42");

    // Compound document.
    let full = api
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&filter[version]=41&include=buildBetaDetail,preReleaseVersion,betaGroups"
        ))
        .await;
    let types: Vec<&str> = full.body["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["buildBetaDetails", "preReleaseVersions", "betaGroups"]);

    // Paging across every build of every app.
    let everything = api.all_pages(&format!("/v1/builds?{ALL_STATES}&limit=2")).await;
    assert_eq!(everything.len(), 7);

    // Expire: expired, both beta states EXPIRED, out of the all-builds group, not reversible.
    let build = api.build_id(DEMO, "41").await;
    let expire = |v: bool| json!({ "data": { "type": "builds", "id": build, "attributes": { "expired": v } } });
    let done = api
        .call("PATCH", &format!("/v1/builds/{build}"), Some(expire(true)))
        .await;
    assert_eq!(done.status, 200);
    assert_eq!(done.body["data"]["attributes"]["expired"], true);
    let (internal, external, _) = api.beta_detail(&build).await;
    assert_eq!((internal.as_str(), external.as_str()), ("EXPIRED", "EXPIRED"));
    let everyone = api.group_id(DEMO, "Everyone").await;
    let seen = api.get(&format!("/v1/betaGroups/{everyone}/builds")).await;
    assert!(!ids(seen.body["data"].as_array().unwrap()).contains(&build));
    let back = api
        .call("PATCH", &format!("/v1/builds/{build}"), Some(expire(false)))
        .await;
    assert_eq!(back.status, 409);
    let expired = api
        .get(&format!("/v1/builds?filter[app]={DEMO}&filter[expired]=true"))
        .await;
    assert_eq!(expired.body["meta"]["paging"]["total"], 2);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn an_empty_scene_still_answers_every_list() {
    let api = Api::start(SimConfig {
        testflight: TestFlightConfig::default(),
        ..SimConfig::default()
    })
    .await;
    for path in [
        "/v1/betaGroups",
        "/v1/betaTesters",
        "/v1/betaBuildLocalizations",
        "/v1/buildBetaDetails",
        "/v1/betaAppLocalizations",
    ] {
        let a = api.get(path).await;
        assert_eq!(a.status, 200, "{path}");
    }
    api.sim.shutdown().await;
}
