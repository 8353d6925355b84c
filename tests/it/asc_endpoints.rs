//! The client's endpoint functions: every path is one Apple documents (checked against the trimmed
//! OpenAPI subset) for the method the publish and distribute code sends, an id is escaped so it can
//! never change the path, and query pairs go out in the order given.

use std::time::{Duration, SystemTime};

use crate::support::asc::engine_clients;
use crate::support::openapi::Spec;
use asc_publish::asc::AscClient;
use asc_publish::asc::clock::ManualClock;
use asc_publish::asc::endpoints::{apps, beta, build_uploads, builds};

/// Never contacted: the functions only build URLs.
fn client() -> AscClient {
    let clock = ManualClock::new(SystemTime::now());
    engine_clients(
        "http://127.0.0.1:9",
        &clock,
        Duration::from_secs(1),
        Duration::from_secs(1),
    )
    .0
}

/// A hostile id: a slash, a query, a fragment and a dot-segment.
const ID: &str = "../a/b?c#d";
const ESC: &str = "..%2Fa%2Fb%3Fc%23d";

fn path_and_query(u: &url::Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

#[test]
fn every_endpoint_is_documented_for_its_method_and_escapes_ids() {
    let c = client();
    let q: &[(&str, &str)] = &[("filter[app]", "1"), ("limit", "200")];
    let qs = "filter%5Bapp%5D=1&limit=200";
    let cases: Vec<(&str, url::Url, String)> = vec![
        ("GET", apps::list(&c, q).unwrap(), format!("/v1/apps?{qs}")),
        ("GET", apps::one(&c, ID, q).unwrap(), format!("/v1/apps/{ESC}?{qs}")),
        (
            "GET",
            apps::build_uploads(&c, ID, q).unwrap(),
            format!("/v1/apps/{ESC}/buildUploads?{qs}"),
        ),
        (
            "GET",
            apps::beta_app_localizations(&c, ID, q).unwrap(),
            format!("/v1/apps/{ESC}/betaAppLocalizations?{qs}"),
        ),
        (
            "GET",
            apps::beta_app_review_detail(&c, ID).unwrap(),
            format!("/v1/apps/{ESC}/betaAppReviewDetail"),
        ),
        (
            "GET",
            apps::beta_groups(&c, ID, q).unwrap(),
            format!("/v1/apps/{ESC}/betaGroups?{qs}"),
        ),
        ("GET", builds::list(&c, q).unwrap(), format!("/v1/builds?{qs}")),
        ("GET", builds::one(&c, ID, q).unwrap(), format!("/v1/builds/{ESC}?{qs}")),
        ("PATCH", builds::one(&c, ID, &[]).unwrap(), format!("/v1/builds/{ESC}")),
        (
            "GET",
            builds::beta_build_localizations(&c, ID, q).unwrap(),
            format!("/v1/builds/{ESC}/betaBuildLocalizations?{qs}"),
        ),
        (
            "POST",
            builds::beta_groups_link(&c, ID).unwrap(),
            format!("/v1/builds/{ESC}/relationships/betaGroups"),
        ),
        (
            "POST",
            builds::individual_testers_link(&c, ID).unwrap(),
            format!("/v1/builds/{ESC}/relationships/individualTesters"),
        ),
        (
            "POST",
            build_uploads::collection(&c).unwrap(),
            "/v1/buildUploads".into(),
        ),
        (
            "GET",
            build_uploads::one(&c, ID, q).unwrap(),
            format!("/v1/buildUploads/{ESC}?{qs}"),
        ),
        (
            "DELETE",
            build_uploads::one(&c, ID, &[]).unwrap(),
            format!("/v1/buildUploads/{ESC}"),
        ),
        (
            "GET",
            build_uploads::files_of(&c, ID, q).unwrap(),
            format!("/v1/buildUploads/{ESC}/buildUploadFiles?{qs}"),
        ),
        ("POST", build_uploads::files(&c).unwrap(), "/v1/buildUploadFiles".into()),
        (
            "PATCH",
            build_uploads::file(&c, ID).unwrap(),
            format!("/v1/buildUploadFiles/{ESC}"),
        ),
        (
            "GET",
            build_uploads::file(&c, ID).unwrap(),
            format!("/v1/buildUploadFiles/{ESC}"),
        ),
        ("GET", beta::groups(&c, q).unwrap(), format!("/v1/betaGroups?{qs}")),
        ("GET", beta::testers(&c, q).unwrap(), format!("/v1/betaTesters?{qs}")),
        (
            "POST",
            beta::build_localizations(&c).unwrap(),
            "/v1/betaBuildLocalizations".into(),
        ),
        (
            "PATCH",
            beta::build_localization(&c, ID).unwrap(),
            format!("/v1/betaBuildLocalizations/{ESC}"),
        ),
        (
            "GET",
            beta::review_submissions(&c, q).unwrap(),
            format!("/v1/betaAppReviewSubmissions?{qs}"),
        ),
        (
            "POST",
            beta::review_submissions(&c, &[]).unwrap(),
            "/v1/betaAppReviewSubmissions".into(),
        ),
        (
            "POST",
            beta::build_notifications(&c).unwrap(),
            "/v1/buildBetaNotifications".into(),
        ),
    ];
    let spec = Spec::load();
    for (method, url, want) in cases {
        assert_eq!(url.host_str(), Some("127.0.0.1"), "{want}: stays on the API host");
        assert_eq!(path_and_query(&url), want);
        assert!(
            spec.operation(method, url.path()).is_some(),
            "{method} {} is not in Apple's OpenAPI description",
            url.path()
        );
    }
}

#[test]
fn query_pairs_keep_their_order() {
    let c = client();
    let u = builds::list(
        &c,
        &[("limit", "200"), ("filter[app]", "1"), ("include", "preReleaseVersion")],
    )
    .unwrap();
    let got: Vec<(String, String)> = u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(
        got,
        [("limit", "200"), ("filter[app]", "1"), ("include", "preReleaseVersion")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}
