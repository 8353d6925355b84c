//! A TestFlight scene for the sim_testflight tests: two apps, groups of every kind, testers, and
//! seeded builds in every state, plus lookups by name and version.

use asc_sim::{SimConfig, TestFlightConfig};
use serde_json::{Value, json};

use super::{Answer, Api, str_at};

pub const DEMO: &str = "6450000001";
pub const OTHER: &str = "6450000002";
pub const ALL_STATES: &str = "filter[processingState]=PROCESSING,FAILED,INVALID,VALID";

/// The scene: demo app groups QA (internal), Everyone (internal-all), Public (external); the other
/// app's group "Other QA"; testers; builds 1.0.0 (40, 41 valid; 42 invalid; 43 without export
/// compliance), 1.1.0 (44 expired, 45 processing) and the other app's 2.0 (7).
pub fn scene() -> SimConfig {
    SimConfig {
        apps: vec![
            ("com.example.demo".into(), DEMO.into()),
            ("com.example.other".into(), OTHER.into()),
        ],
        testflight: TestFlightConfig {
            groups: parse(&[
                "QA=internal",
                "Everyone=internal-all",
                "Public=external",
                "com.example.other:Other QA=internal",
            ]),
            testers: parse(&[
                "qa@example.com",
                "jane.doe@example.com",
                "com.example.other:x@example.com",
            ]),
            builds: parse(&[
                "1.0.0=40",
                "1.0.0=41",
                "1.0.0=42:invalid",
                "1.0.0=43:no-compliance",
                "1.1.0=44:expired",
                "1.1.0=45:processing",
                "com.example.other:2.0=7",
            ]),
            ..TestFlightConfig::default()
        },
        ..SimConfig::default()
    }
}

impl Api {
    /// The id of build number `version` of `app` (any processing state).
    pub async fn build_id(&self, app: &str, version: &str) -> String {
        let a = self
            .get(&format!(
                "/v1/builds?filter[app]={app}&filter[version]={version}&{ALL_STATES}"
            ))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        str_at(&a.body, "/data/0/id").to_owned()
    }

    /// The id of the beta group called `name` in `app`.
    pub async fn group_id(&self, app: &str, name: &str) -> String {
        let q = url_encode(name);
        let a = self
            .get(&format!("/v1/betaGroups?filter[app]={app}&filter[name]={q}"))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        str_at(&a.body, "/data/0/id").to_owned()
    }

    pub async fn tester_id(&self, email: &str) -> String {
        let a = self.get(&format!("/v1/betaTesters?filter[email]={email}")).await;
        str_at(&a.body, "/data/0/id").to_owned()
    }

    /// POST (or DELETE) a to-many linkage.
    pub async fn link(&self, method: &str, path: &str, kind: &str, ids: &[&str]) -> Answer {
        let data: Vec<Value> = ids.iter().map(|id| json!({ "type": kind, "id": id })).collect();
        self.call(method, path, Some(json!({ "data": data }))).await
    }

    /// Follows `links.next` from `first` and collects every `data` item.
    pub async fn all_pages(&self, first: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut path = first.to_owned();
        for _ in 0..100 {
            let a = self.get(&path).await;
            assert_eq!(a.status, 200, "{}", a.body);
            items.extend(a.body["data"].as_array().cloned().unwrap_or_default());
            match a.body.pointer("/links/next").and_then(Value::as_str) {
                Some(next) => {
                    path = next
                        .strip_prefix(&self.sim.api_url)
                        .expect("links.next is absolute, on this server")
                        .to_owned()
                }
                None => return items,
            }
        }
        panic!("paging never ended");
    }

    /// `(internalBuildState, externalBuildState, autoNotifyEnabled)` of a build.
    pub async fn beta_detail(&self, build_id: &str) -> (String, String, bool) {
        let a = self.get(&format!("/v1/builds/{build_id}/buildBetaDetail")).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let attrs = &a.body["data"]["attributes"];
        (
            attrs["internalBuildState"].as_str().unwrap_or("").to_owned(),
            attrs["externalBuildState"].as_str().unwrap_or("").to_owned(),
            attrs["autoNotifyEnabled"].as_bool().unwrap_or(false),
        )
    }

    /// Creates a What to Test localization.
    pub async fn what_to_test(&self, build_id: &str, locale: &str, text: &str) -> Answer {
        let body = json!({ "data": {
            "type": "betaBuildLocalizations",
            "attributes": { "locale": locale, "whatsNew": text },
            "relationships": { "build": { "data": { "type": "builds", "id": build_id } } },
        } });
        self.call("POST", "/v1/betaBuildLocalizations", Some(body)).await
    }

    pub async fn submit_for_review(&self, build_id: &str) -> Answer {
        let body = json!({ "data": {
            "type": "betaAppReviewSubmissions",
            "relationships": { "build": { "data": { "type": "builds", "id": build_id } } },
        } });
        self.call("POST", "/v1/betaAppReviewSubmissions", Some(body)).await
    }
}

fn parse<T: std::str::FromStr>(items: &[&str]) -> Vec<T>
where
    T::Err: std::fmt::Debug,
{
    items.iter().map(|s| s.parse().expect("seed")).collect()
}

pub fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `id`s of a list of resources.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Every `errors[].title` of an error answer.
pub fn titles(a: &Answer) -> Vec<String> {
    a.body["errors"]
        .as_array()
        .map(|e| e.iter().map(|x| x["title"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}
