//! Contract tests against responses real App Store Connect servers sent (recorded in public
//! projects' fixtures, see tests/fixtures/recorded/SOURCES.md): every recording parses through
//! the client's model, and every resource the simulator serves has the recorded field set and
//! nullability (a shape diff that fails on an invented or missing attribute).

use crate::support::recorded::{Declared, Shapes, add_body, diff, load, recorded_shapes, resources};
use crate::support::testflight::{ALL_STATES, DEMO, scene};
use crate::support::{Api, bytes, id, md5_upper};
use asc_publish::asc::error::ApiError;
use asc_publish::asc::wire::testflight::{BetaBuildLocalization, BetaGroup};
use asc_publish::asc::wire::{
    App, AssetDeliveryState, Build, BuildBetaDetail, BuildUpload, BuildUploadFile, BuildUploadState, Document,
    ErrorResponse, ListDocument, PreReleaseVersion, ProcessingState,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Decodes `body` as a document (or bare resource) of `T`, and checks every resource kept its id.
fn parse_as<T: DeserializeOwned>(name: &str, body: &Value) -> Vec<asc_publish::asc::wire::Resource<T>> {
    let list = match body.get("data") {
        Some(Value::Array(_)) => {
            serde_json::from_value::<ListDocument<asc_publish::asc::wire::Resource<T>>>(body.clone())
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .data
        }
        Some(_) => vec![
            serde_json::from_value::<Document<asc_publish::asc::wire::Resource<T>>>(body.clone())
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .data,
        ],
        None => vec![serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{name}: {e}"))],
    };
    let ids: Vec<&str> = resources(body).iter().filter_map(|r| r["id"].as_str()).collect();
    for r in &list {
        assert!(ids.contains(&r.id.as_str()), "{name}: lost id {}", r.id);
        assert!(
            r.attributes.is_some() || name.contains("sparse"),
            "{name}: attributes lost"
        );
    }
    list
}

#[test]
fn every_recording_parses_through_the_model() {
    let recordings = load();
    assert!(recordings.len() >= 20, "only {} recordings", recordings.len());
    let mut covered = std::collections::BTreeSet::new();
    for r in &recordings {
        let (name, body) = (r.name.as_str(), &r.body);
        let t = resources(body)
            .first()
            .and_then(|x| x["type"].as_str())
            .unwrap_or("errors");
        covered.insert(t.to_string());
        match t {
            "apps" => {
                for a in parse_as::<asc_publish::asc::wire::AppAttributes>(name, body) {
                    let bundle = a.attributes.unwrap().bundle_id.unwrap();
                    assert!(bundle.contains('.'), "{name}: {bundle}");
                }
            }
            "builds" => {
                for b in parse_as::<asc_publish::asc::wire::BuildAttributes>(name, body) {
                    let a = b.attributes.unwrap();
                    assert!(a.version.is_some() && a.uploaded_date.is_some(), "{name}");
                    assert_eq!(a.processing_state, Some(ProcessingState::Valid), "{name}");
                    assert_eq!(a.expired, Some(false), "{name}");
                }
            }
            "buildUploads" => {
                for u in parse_as::<asc_publish::asc::wire::BuildUploadAttributes>(name, body) {
                    let state = u.attributes.unwrap().state.unwrap().state;
                    assert_ne!(state, BuildUploadState::Unknown, "{name}");
                }
            }
            "buildUploadFiles" => {
                for f in parse_as::<asc_publish::asc::wire::BuildUploadFileAttributes>(name, body) {
                    let a = f.attributes.unwrap();
                    assert_ne!(
                        a.asset_delivery_state.unwrap().state,
                        AssetDeliveryState::Unknown,
                        "{name}"
                    );
                    if let Some(c) = a.source_file_checksums {
                        // Apple answers `file: null` to clients that send no checksum.
                        assert!(c.file.is_none(), "{name}");
                    }
                    for op in a.upload_operations.iter().flatten() {
                        assert!(
                            op.url.is_some() && op.length.is_some() && op.part_number.is_some(),
                            "{name}"
                        );
                    }
                }
            }
            "betaGroups" => {
                for g in parse_as::<asc_publish::asc::wire::testflight::BetaGroupAttributes>(name, body) {
                    assert!(g.attributes.unwrap().name.is_some(), "{name}");
                }
            }
            "betaBuildLocalizations" => {
                for l in parse_as::<asc_publish::asc::wire::testflight::BetaBuildLocalizationAttributes>(name, body) {
                    let a = l.attributes.unwrap();
                    assert!(a.locale.is_some() && a.whats_new.is_some(), "{name}");
                }
            }
            "buildBetaDetails" => {
                for d in parse_as::<asc_publish::asc::wire::BuildBetaDetailAttributes>(name, body) {
                    let a = d.attributes.unwrap();
                    assert!(
                        a.internal_build_state.is_some_and(|s| format!("{s:?}") != "Unknown"),
                        "{name}"
                    );
                }
            }
            "preReleaseVersions" => {
                for p in parse_as::<asc_publish::asc::wire::PreReleaseVersionAttributes>(name, body) {
                    assert_eq!(p.attributes.unwrap().platform.as_deref(), Some("IOS"), "{name}");
                }
            }
            "errors" => {
                let e: ErrorResponse = serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!e.errors.is_empty(), "{name}");
                let status: u16 = e.errors[0].status.parse().unwrap();
                let api = ApiError::from_body(status, "GET", "/v1/x", body.to_string().as_bytes());
                assert_eq!(api.errors.len(), e.errors.len(), "{name}");
                assert!(
                    !api.errors[0].code.is_empty() && !api.errors[0].title.is_empty(),
                    "{name}"
                );
                if name.contains("duplicate") {
                    assert_eq!(api.previous_bundle_version(), Some("2.0.53.731"));
                    assert!(api.has_code("ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"));
                }
            }
            other => panic!("{name}: no model for resource type {other}"),
        }
    }
    for t in [
        "apps",
        "builds",
        "buildUploads",
        "buildUploadFiles",
        "betaGroups",
        "betaBuildLocalizations",
        "buildBetaDetails",
        "preReleaseVersions",
        "errors",
    ] {
        assert!(covered.contains(t), "no recording of {t}");
    }
    // The aliases the client uses decode the same documents.
    let _: ListDocument<Build> =
        serde_json::from_value(crate::support::recorded::get("builds/fastlane-builds.json")).unwrap();
    let _: Document<BuildUpload> = serde_json::from_value(crate::support::recorded::get(
        "buildUploads/eas-post-buildUploads-200.json",
    ))
    .unwrap();
    let _: Document<BuildUploadFile> = serde_json::from_value(crate::support::recorded::get(
        "buildUploadFiles/eas-patch-buildUploadFiles-200.json",
    ))
    .unwrap();
    let _: ListDocument<BetaGroup> =
        serde_json::from_value(crate::support::recorded::get("betaGroups/fastlane-beta_groups.json")).unwrap();
    let _: ListDocument<BetaBuildLocalization> = serde_json::from_value(crate::support::recorded::get(
        "betaBuildLocalizations/fastlane-beta_build_localizations.json",
    ))
    .unwrap();
    let _: ListDocument<BuildBetaDetail> = serde_json::from_value(crate::support::recorded::get(
        "buildBetaDetails/fastlane-build_beta_details.json",
    ))
    .unwrap();
    let _: ListDocument<PreReleaseVersion> = serde_json::from_value(crate::support::recorded::get(
        "preReleaseVersions/fastlane-pre_release_versions.json",
    ))
    .unwrap();
    let _: Document<App> =
        serde_json::from_value(crate::support::recorded::get("apps/eas-get-apps-200-sparse.json")).unwrap();
}

/// Drives the simulator through what the client does (find the app, reserve, send, commit with and
/// without a checksum, wait, list builds with their train and beta detail, groups, What to Test)
/// plus its refusals (401, 404, 409), collecting the shape of every resource it answers.
async fn simulator_shapes() -> Shapes {
    let api = Api::start(scene()).await;
    let mut shapes = Shapes::new();
    let take = |shapes: &mut Shapes, a: &crate::support::Answer| add_body(shapes, &a.body, false);

    take(
        &mut shapes,
        &api.get("/v1/apps?filter[bundleId]=com.example.demo").await,
    );
    for (version, checksum) in [("60", false), ("61", true)] {
        let upload = api.create_upload(DEMO, "1.0.0", version).await;
        take(&mut shapes, &upload);
        let upload_id = id(&upload);
        let data = bytes(6 * 1024 * 1024 + 3);
        let file = api.reserve(&upload_id, data.len() as u64).await;
        take(&mut shapes, &file);
        assert!(api.put_all(&file.body, &data).await.iter().all(|s| *s == 200));
        let sums = checksum.then(|| json!({ "file": { "hash": md5_upper(&data), "algorithm": "MD5" } }));
        take(&mut shapes, &api.commit(&id(&file), sums).await);
        take(&mut shapes, &api.wait_processed(&upload_id).await);
        take(
            &mut shapes,
            &api.get(&format!("/v1/buildUploads/{upload_id}/buildUploadFiles")).await,
        );
    }
    take(&mut shapes, &api.get(&format!("/v1/apps/{DEMO}/buildUploads")).await);
    let builds = api
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&{ALL_STATES}&include=preReleaseVersion,buildBetaDetail"
        ))
        .await;
    assert_eq!(builds.status, 200, "{}", builds.body);
    take(&mut shapes, &builds);
    let build = api.build_id(DEMO, "40").await;
    take(&mut shapes, &api.get(&format!("/v1/builds/{build}")).await);
    take(
        &mut shapes,
        &api.get(&format!("/v1/builds/{build}/buildBetaDetail")).await,
    );
    take(
        &mut shapes,
        &api.get(&format!("/v1/preReleaseVersions?filter[app]={DEMO}")).await,
    );
    take(&mut shapes, &api.get(&format!("/v1/apps/{DEMO}/betaGroups")).await);
    let loc = api.what_to_test(&build, "en-US", "Try the new login.").await;
    take(&mut shapes, &loc);
    take(
        &mut shapes,
        &api.get(&format!("/v1/builds/{build}/betaBuildLocalizations")).await,
    );
    take(&mut shapes, &api.get("/v1/builds/nope").await);
    take(
        &mut shapes,
        &api.raw("GET", "/v1/apps", None, Some("not-a-token")).await,
    );
    take(&mut shapes, &api.create_upload(DEMO, "1.0.0", "60").await);
    shapes
}

#[tokio::test]
async fn the_simulator_serves_the_recorded_shapes() {
    let sim = simulator_shapes().await;
    for t in [
        "apps",
        "builds",
        "buildUploads",
        "buildUploadFiles",
        "betaGroups",
        "betaBuildLocalizations",
        "buildBetaDetails",
        "preReleaseVersions",
        "errors",
    ] {
        assert!(sim.contains_key(t), "the flow above never saw the simulator answer {t}");
    }
    let problems = diff(&recorded_shapes(), &sim, &Declared::load());
    assert!(
        problems.is_empty(),
        "simulator vs recorded Apple:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn the_shape_diff_fails_on_invented_missing_and_null_attributes() {
    let recorded = recorded_shapes();
    let declared = Declared::load();
    let mut sim = simulator_shapes().await;
    assert!(diff(&recorded, &sim, &declared).is_empty());

    let builds = sim.get_mut("builds").unwrap();
    builds.kinds.insert("cfBundleVersion".into(), ["string"].into());
    builds.kinds.remove("version");
    builds.present.remove("version");
    builds.kinds.insert("processingState".into(), ["null"].into());
    let files = sim.get_mut("buildUploadFiles").unwrap();
    files
        .kinds
        .insert("sourceFileChecksums.composite.hash".into(), ["number"].into());
    let problems = diff(&recorded, &sim, &declared).join("\n");
    assert!(problems.contains("builds.cfBundleVersion: invented"), "{problems}");
    assert!(problems.contains("builds.version: missing"), "{problems}");
    assert!(problems.contains("builds.processingState: null"), "{problems}");
    assert!(
        problems.contains("sourceFileChecksums.composite.hash: number"),
        "{problems}"
    );
}

/// Apple's 409 for a version App Review would refuse (recorded by codemagic) names each missing
/// attribute under `meta.associatedErrors`; the client reads them out.
#[test]
fn associated_errors_name_each_missing_attribute() {
    let body = crate::support::recorded::get("errors/codemagic-409-state.json");
    let e = ApiError::from_body(409, "POST", "/v1/reviewSubmissionItems", body.to_string().as_bytes());
    let named: Vec<String> = e.associated().into_iter().map(|(_, attr)| attr).collect();
    assert_eq!(named, ["description", "keywords", "supportUrl"]);
    assert!(e.associated()[0].0.starts_with("/v1/appStoreVersionLocalizations/"));
}
