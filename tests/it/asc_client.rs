//! The App Store Connect client against real HTTP on loopback: retries, no replay of writes,
//! 401 → re-mint once, token re-minting over time, pagination, typed errors, rate-limit header.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::support::asc::*;
use asc_publish::asc::clock::ManualClock;
use asc_publish::asc::wire::{App, Document};
use asc_publish::asc::{AscClient, AscError, ClientConfig, CredentialFlags, Credentials, Env, TokenSource};
use reqwest::Method;
use serde_json::json;

fn client(url: &str, clock: &ManualClock) -> (AscClient, Vec<u8>) {
    let (pem, _, public) = test_key();
    let env = Env::from_pairs([
        ("ASC_KEY_ID", "KEY1234567"),
        ("ASC_ISSUER_ID", "issuer-1"),
        ("ASC_PRIVATE_KEY", pem.as_str()),
    ]);
    let creds = Credentials::resolve(&CredentialFlags::default(), &env).unwrap();
    let config = ClientConfig {
        api_url: url.to_string(),
        ..ClientConfig::default()
    };
    let clock: Arc<dyn asc_publish::asc::Clock> = Arc::new(clock.clone());
    let http = asc_publish::asc::client::build_http(Some(Duration::from_secs(10)), None).unwrap();
    (
        AscClient::new(&config, TokenSource::new(creds, clock.clone()), clock, http).unwrap(),
        public,
    )
}

fn app_doc(id: &str) -> serde_json::Value {
    json!({"data": {"type": "apps", "id": id, "attributes": {"bundleId": "com.example.app"}}})
}

#[tokio::test]
async fn get_is_retried_honouring_retry_after() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = serve(Arc::new(move |_r: &Req| {
        if n2.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::Status(503, vec![("retry-after".into(), "7".into())], "{}".into())
        } else {
            json(200, app_doc("1"))
        }
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    let doc: Document<App> = c.get(c.url("/v1/apps/1", &[]).unwrap()).await.unwrap();
    assert_eq!(doc.data.id, "1");
    assert_eq!(server.count("GET", "/v1/apps/1"), 3);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(7), Duration::from_secs(7)]);
    assert_eq!(c.stats().requests(), 3);
    let rl = c.stats().rate_limit().unwrap();
    assert_eq!((rl.limit, rl.remaining), (Some(3600), Some(3500)));
}

#[tokio::test]
async fn get_gives_up_after_bounded_attempts_with_apples_words() {
    let server = serve(Arc::new(|_r: &Req| {
        json(
            429,
            json!({"errors":[{"status":"429","code":"RATE_LIMIT_EXCEEDED","title":"The request rate limit has been reached."}]}),
        )
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    let err = c
        .get::<Document<App>>(c.url("/v1/apps/1", &[]).unwrap())
        .await
        .unwrap_err();
    assert_eq!(server.count("GET", "/v1/apps"), 5);
    assert!(err.to_string().contains("RATE_LIMIT_EXCEEDED"), "{err}");
    let e: asc_publish::Error = err.into();
    assert_eq!(e.exit_code(), 5);
}

#[tokio::test]
async fn post_is_never_replayed_after_a_5xx_or_a_dropped_connection() {
    for drop in [false, true] {
        let server = serve(Arc::new(
            move |_r: &Req| if drop { Reply::Drop } else { json(500, json!({})) },
        ))
        .await;
        let clock = ManualClock::new(SystemTime::now());
        let (c, _) = client(&server.url(), &clock);
        let err = c
            .mutate(
                Method::POST,
                c.url("/v1/buildUploads", &[]).unwrap(),
                Some(&json!({"data": {}})),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AscError::Ambiguous { .. }), "{err:?}");
        assert_eq!(server.count("POST", "/v1/buildUploads"), 1, "drop={drop}");
    }
}

#[tokio::test]
async fn post_is_retried_after_429_because_it_was_not_applied() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = serve(Arc::new(move |_r: &Req| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Status(429, vec![("retry-after".into(), "3".into())], String::new())
        } else {
            json(201, app_doc("9"))
        }
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    c.mutate(Method::POST, c.url("/v1/x", &[]).unwrap(), Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(server.count("POST", "/v1/x"), 2);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(3)]);
}

#[tokio::test]
async fn a_401_mints_a_new_token_and_retries_once() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen2 = seen.clone();
    let server = serve(Arc::new(move |r: &Req| {
        let mut s = seen2.lock().unwrap();
        s.push(bearer(r));
        if s.len() == 1 {
            json(401, json!({"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid."}]}))
        } else {
            json(201, app_doc("1"))
        }
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    // Even a POST: a 401 was not applied.
    c.mutate(Method::POST, c.url("/v1/buildUploads", &[]).unwrap(), Some(&json!({})))
        .await
        .unwrap();
    let s = seen.lock().unwrap().clone();
    assert_eq!(s.len(), 2);
    assert_ne!(s[0], s[1], "a new token was minted");
    assert_eq!(c.tokens().minted(), 2);
}

#[tokio::test]
async fn a_persistent_401_stops_after_one_retry_with_exit_3() {
    let server = serve(Arc::new(|_r: &Req| {
        json(401, json!({"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid."}]}))
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    let err = c
        .get::<Document<App>>(c.url("/v1/apps", &[]).unwrap())
        .await
        .unwrap_err();
    assert_eq!(server.count("GET", "/v1/apps"), 2);
    let e: asc_publish::Error = err.into();
    assert_eq!(e.exit_code(), 3);
    assert!(e.message().contains("NOT_AUTHORIZED"));
    assert!(e.hint().unwrap().contains("key"));
}

#[tokio::test]
async fn tokens_are_valid_es256_and_reminted_before_expiry() {
    let server = serve(Arc::new(|_r: &Req| json(200, app_doc("1")))).await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, public) = client(&server.url(), &clock);
    let url = c.url("/v1/apps/1", &[]).unwrap();
    c.get::<Document<App>>(url.clone()).await.unwrap();
    clock.advance(Duration::from_secs(5 * 60));
    c.get::<Document<App>>(url.clone()).await.unwrap(); // 5 min left: reused
    clock.advance(Duration::from_secs(4 * 60));
    c.get::<Document<App>>(url.clone()).await.unwrap(); // 1 min left: re-minted
    clock.advance(Duration::from_secs(60 * 60)); // a long processing wait
    c.get::<Document<App>>(url.clone()).await.unwrap();
    let tokens: Vec<String> = server.requests().iter().map(bearer).collect();
    assert_eq!(tokens[0], tokens[1]);
    assert_ne!(tokens[1], tokens[2]);
    assert_ne!(tokens[2], tokens[3]);
    let now = clock.now_unix();
    let (header, claims) = decode_jwt(&tokens[3], &public);
    assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}));
    assert_eq!(claims["iss"], "issuer-1");
    assert_eq!(claims["aud"], "appstoreconnect-v1");
    let (iat, exp) = (claims["iat"].as_u64().unwrap(), claims["exp"].as_u64().unwrap());
    assert!(iat < now && now - iat <= 120, "iat a bit in the past");
    assert!(exp > now && exp - iat <= 1200, "lifetime within Apple's 20 minutes");
}

trait NowUnix {
    fn now_unix(&self) -> u64;
}
impl NowUnix for ManualClock {
    fn now_unix(&self) -> u64 {
        use asc_publish::asc::Clock;
        self.now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
    }
}

#[tokio::test]
async fn pagination_follows_next_on_the_same_host_only() {
    let server = serve(Arc::new(|r: &Req| {
        let page: usize = r.query.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
        let host = r.header("host").unwrap().to_string();
        let next = if page < 2 {
            json!(format!("http://{host}/v1/apps?cursor={}", page + 1))
        } else {
            json!(null)
        };
        json(
            200,
            json!({"data": [{"type": "apps", "id": format!("a{page}")}], "links": {"next": next}}),
        )
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    let apps: Vec<App> = c.get_all(c.url("/v1/apps", &[]).unwrap()).await.unwrap();
    assert_eq!(
        apps.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["a0", "a1", "a2"]
    );

    let evil = serve(Arc::new(|_r: &Req| {
        json(
            200,
            json!({"data": [], "links": {"next": "http://127.0.0.2:1/v1/apps?cursor=1"}}),
        )
    }))
    .await;
    let (c, _) = client(&evil.url(), &clock);
    let err = c.get_all::<App>(c.url("/v1/apps", &[]).unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("off the API host"), "{err}");
}

#[tokio::test]
async fn apple_error_bodies_become_typed_errors_and_exit_codes() {
    let server = serve(Arc::new(|r: &Req| match r.path.as_str() {
        "/v1/apps/404" => json(404, json!({"errors":[{"status":"404","code":"NOT_FOUND","title":"The specified resource does not exist","detail":"There is no resource of type 'apps' with id '404'"}]})),
        "/v1/apps/403" => json(403, json!({"errors":[{"status":"403","code":"FORBIDDEN_ERROR","title":"This request is forbidden for security reasons","detail":"The API key in use does not allow this request\u{1b}[2J"}]})),
        _ => json(409, json!({"errors":[{"status":"409","code":"ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE","title":"dup","source":{"pointer":"/data/attributes/cfBundleVersion"}}]})),
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    let e404 = c
        .get::<Document<App>>(c.url("/v1/apps/404", &[]).unwrap())
        .await
        .unwrap_err();
    assert!(e404.is_not_found());
    let e: asc_publish::Error = e404.into();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("There is no resource of type 'apps'"));
    let e: asc_publish::Error = c
        .get::<Document<App>>(c.url("/v1/apps/403", &[]).unwrap())
        .await
        .unwrap_err()
        .into();
    assert_eq!(e.exit_code(), 3);
    assert!(e.hint().unwrap().contains("App Manager"));
    assert!(!e.message().contains('\u{1b}'), "server text is sanitised");
    let err = c
        .mutate(Method::POST, c.url("/v1/buildUploads", &[]).unwrap(), Some(&json!({})))
        .await
        .unwrap_err();
    assert!(err.api().unwrap().has_code("ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"));
    assert!(err.to_string().contains("/data/attributes/cfBundleVersion"));
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused() {
    let clock = ManualClock::new(SystemTime::now());
    let (pem, _, _) = test_key();
    let env = Env::from_pairs([("ASC_KEY_ID", "K"), ("ASC_PRIVATE_KEY", pem.as_str())]);
    let creds = Credentials::resolve(&CredentialFlags::default(), &env).unwrap();
    let clock: Arc<dyn asc_publish::asc::Clock> = Arc::new(clock);
    let config = ClientConfig {
        api_url: "http://api.example.com".into(),
        ..ClientConfig::default()
    };
    let http = reqwest::Client::new();
    let err = AscClient::new(&config, TokenSource::new(creds, clock.clone()), clock, http).unwrap_err();
    let e: asc_publish::Error = err.into();
    assert_eq!(e.exit_code(), 2);
    assert!(e.message().contains("loopback") || e.message().contains("this machine"));
}

#[tokio::test]
async fn an_individual_key_signs_with_sub_user_and_no_issuer() {
    let server = serve(Arc::new(|_r: &Req| json(200, app_doc("1")))).await;
    let clock = ManualClock::new(SystemTime::now());
    let (pem, _, public) = test_key();
    let env = Env::from_pairs([("ASC_KEY_ID", "INDIVIDUAL"), ("ASC_PRIVATE_KEY", pem.as_str())]);
    let creds = Credentials::resolve(&CredentialFlags::default(), &env).unwrap();
    let shared: Arc<dyn asc_publish::asc::Clock> = Arc::new(clock.clone());
    let config = ClientConfig {
        api_url: server.url(),
        ..ClientConfig::default()
    };
    let c = AscClient::new(
        &config,
        TokenSource::new(creds, shared.clone()),
        shared,
        reqwest::Client::new(),
    )
    .unwrap();
    c.get::<Document<App>>(c.url("/v1/apps/1", &[]).unwrap()).await.unwrap();
    let (header, claims) = decode_jwt(&bearer(&server.requests()[0]), &public);
    assert_eq!(header["kid"], "INDIVIDUAL");
    assert_eq!(claims["sub"], "user");
    assert!(claims.get("iss").is_none());
    assert_eq!(claims["aud"], "appstoreconnect-v1");
}

#[test]
fn an_extra_root_ca_must_be_readable_pem() {
    use asc_publish::asc::client::build_http;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let e: asc_publish::Error = build_http(None, Some(&missing)).unwrap_err().into();
    assert_eq!(e.exit_code(), 2);
    assert!(e.message().contains("--extra-root-ca"));
    let cert = rcgen::generate_simple_self_signed(vec!["proxy.example".into()]).unwrap();
    let good = dir.path().join("ca.pem");
    std::fs::write(&good, cert.cert.pem()).unwrap();
    build_http(None, Some(&good)).unwrap();
}

#[tokio::test]
async fn a_get_whose_connection_drops_is_retried() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = serve(Arc::new(move |_r: &Req| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Drop
        } else {
            json(200, app_doc("1"))
        }
    }))
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let (c, _) = client(&server.url(), &clock);
    c.get::<Document<App>>(c.url("/v1/apps/1", &[]).unwrap()).await.unwrap();
    assert_eq!(server.count("GET", "/v1/apps/1"), 2);
    assert_eq!(clock.sleeps().len(), 1);
}
