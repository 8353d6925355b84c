//! JWT checks (Apple's 401 for every way a token can be wrong), token re-minting, and the rate
//! limit headers and 429 bursts.

use std::time::Duration;

use crate::support::{Api, mint, now, team_claims};
use asc_sim::{Faults, SimConfig};
use serde_json::json;

const DETAIL: &str = "Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens";

async fn expect_401(api: &Api, token: Option<&str>, why: &str) {
    let a = api.raw("GET", "/v1/apps", None, token).await;
    assert_eq!(a.status, 401, "{why}");
    assert_eq!(
        a.body,
        json!({ "errors": [{
            "id": a.body["errors"][0]["id"],
            "status": "401",
            "code": "NOT_AUTHORIZED",
            "title": "Authentication credentials are missing or invalid.",
            "detail": DETAIL,
        }] }),
        "{why}"
    );
}

#[tokio::test]
async fn every_bad_token_gets_apples_401() {
    let api = Api::start(SimConfig::default()).await;
    let (pem, kid, iss) = (&api.sim.private_key_pem, &api.sim.key_id, &api.sim.issuer_id);
    let t = now();
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .unwrap()
        .serialize_pem();

    expect_401(&api, None, "no token").await;
    expect_401(&api, Some("not-a-jwt"), "garbage").await;
    expect_401(
        &api,
        Some(&mint(&other, kid, &team_claims(iss))),
        "signed by another key",
    )
    .await;
    expect_401(&api, Some(&mint(pem, "UNKNOWNKID", &team_claims(iss))), "unknown kid").await;
    let cases = [
        (
            json!({ "iss": iss, "iat": t, "exp": t + 600, "aud": "appstoreconnect-v2" }),
            "wrong aud",
        ),
        (
            json!({ "iss": iss, "iat": t, "exp": t + 600, "aud": ["appstoreconnect-v1", "x"] }),
            "two audiences",
        ),
        (json!({ "iss": iss, "iat": t, "exp": t + 600 }), "no aud"),
        (
            json!({ "iss": iss, "iat": t, "exp": t + 1300, "aud": "appstoreconnect-v1" }),
            "exp more than 20 min ahead",
        ),
        (
            json!({ "iss": iss, "iat": t - 1000, "exp": t + 300, "aud": "appstoreconnect-v1" }),
            "lifetime over 20 min",
        ),
        (
            json!({ "iss": iss, "iat": t - 900, "exp": t - 5, "aud": "appstoreconnect-v1" }),
            "expired",
        ),
        (json!({ "iss": iss, "iat": t, "aud": "appstoreconnect-v1" }), "no exp"),
        (
            json!({ "iat": t, "exp": t + 600, "aud": "appstoreconnect-v1" }),
            "neither iss nor sub",
        ),
        (
            json!({ "sub": "admin", "iat": t, "exp": t + 600, "aud": "appstoreconnect-v1" }),
            "sub other than user",
        ),
        (
            json!({ "iss": "another-issuer", "iat": t, "exp": t + 600, "aud": "appstoreconnect-v1" }),
            "issuer of another team",
        ),
    ];
    for (claims, why) in cases {
        expect_401(&api, Some(&mint(pem, kid, &claims)), why).await;
    }
    // The token must not be HS256 or unsigned either.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(kid.clone()),
            ..Default::default()
        },
        &team_claims(iss),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    expect_401(&api, Some(&hs), "HS256").await;

    // Accepted: team key (aud as string or one-element array), individual key.
    let ok = [
        json!({ "iss": iss, "iat": t, "exp": t + 1200, "aud": "appstoreconnect-v1" }),
        json!({ "iss": iss, "iat": t, "exp": t + 600, "aud": ["appstoreconnect-v1"] }),
        json!({ "iss": iss, "exp": t + 600, "aud": "appstoreconnect-v1" }),
        json!({ "sub": "user", "iat": t, "exp": t + 600, "aud": "appstoreconnect-v1" }),
    ];
    for claims in ok {
        let a = api.raw("GET", "/v1/apps", None, Some(&mint(pem, kid, &claims))).await;
        assert_eq!(a.status, 200, "{claims}");
    }
    let log = api.sim.requests();
    assert!(log.iter().any(|r| r.status == 401 && !r.has_authorization));
    api.sim.shutdown().await;
}

#[tokio::test]
async fn trusted_keys_are_accepted_too() {
    let extra = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let api = Api::start(SimConfig {
        trusted_keys: vec![("EXTRAKEY01".into(), extra.public_key_pem())],
        ..SimConfig::default()
    })
    .await;
    let token = mint(&extra.serialize_pem(), "EXTRAKEY01", &team_claims("any-issuer"));
    assert_eq!(api.raw("GET", "/v1/apps", None, Some(&token)).await.status, 200);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn tokens_older_than_the_max_age_are_refused() {
    let api = Api::start(SimConfig {
        faults: Faults {
            token_max_age: Some(Duration::from_secs(60)),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let (pem, kid, iss) = (&api.sim.private_key_pem, &api.sim.key_id, &api.sim.issuer_id);
    let t = now();
    let old = mint(
        pem,
        kid,
        &json!({ "iss": iss, "iat": t - 120, "exp": t + 600, "aud": "appstoreconnect-v1" }),
    );
    expect_401(&api, Some(&old), "older than max age").await;
    let no_iat = mint(
        pem,
        kid,
        &json!({ "iss": iss, "exp": t + 600, "aud": "appstoreconnect-v1" }),
    );
    expect_401(&api, Some(&no_iat), "no iat under --token-max-age").await;
    assert_eq!(
        api.raw("GET", "/v1/apps", None, Some(&api.token())).await.status,
        200,
        "a fresh token works"
    );
    api.sim.shutdown().await;
}

fn remaining(a: &crate::support::Answer) -> u64 {
    let h = a.header("x-rate-limit").expect("X-Rate-Limit on every API response");
    assert!(
        h.starts_with("user-hour-lim:3600;user-hour-rem:") && h.ends_with(';'),
        "{h}"
    );
    h.trim_start_matches("user-hour-lim:3600;user-hour-rem:")
        .trim_end_matches(';')
        .parse()
        .unwrap()
}

#[tokio::test]
async fn rate_limit_counts_down_and_bursts_429_with_retry_after() {
    let api = Api::start(SimConfig {
        faults: Faults {
            rate_limit_after: Some(3),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    let mut rems = Vec::new();
    for _ in 0..10 {
        let a = api.get("/v1/apps").await;
        statuses.push(a.status);
        rems.push(remaining(&a));
        if a.status == 429 {
            assert_eq!(a.code(), "RATE_LIMIT_EXCEEDED");
            assert_eq!(a.header("retry-after"), Some("1"));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 200, 200, 200, 429, 429]);
    assert!(rems.windows(2).all(|w| w[1] + 1 == w[0]), "{rems:?}");
    assert_eq!(rems[0], 3599);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_to_responses() {
    let api = Api::start(SimConfig {
        faults: Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let start = std::time::Instant::now();
    let a = api.get("/v1/apps").await;
    assert_eq!(a.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert!(a.body["data"].is_array() && a.body["data"][0]["attributes"]["bundleId"] == "com.example.demo");
    api.sim.shutdown().await;
}
