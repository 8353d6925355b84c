//! The simulator's content-delivery service on the wire: sign-in answers, session digest checks,
//! the DS token cookie on provider calls, and the provider's duplicate check.

use asc_publish::appleid::session::session_digest;
use asc_sim::{SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};

const RPC: &str = "/WebObjects/MZLabelService.woa/json/MZITunesSoftwareService";

async fn sim() -> SimHandle {
    Simulator::start(SimConfig {
        apple_ids: vec![("dev@example.com".into(), "pw-1234-5678".into())],
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn rpc(
    sim: &SimHandle,
    method: &str,
    params: Value,
    session: Option<(&str, &str)>,
    tamper: bool,
) -> (u16, Value) {
    let body = serde_json::to_vec(&json!({"jsonrpc": "2.0", "method": method, "id": "20261121-001", "params": params}))
        .unwrap();
    let mut rb = reqwest::Client::new()
        .post(format!("{}{RPC}", sim.api_url))
        .body(body.clone());
    if let Some((sid, secret)) = session {
        let mut d = session_digest(sid, &body, "req-1", secret);
        if tamper {
            d = d.replace(|c: char| c.is_ascii_digit(), "a");
        }
        rb = rb
            .header("x-session-id", sid)
            .header("x-request-id", "req-1")
            .header("x-session-version", "2")
            .header("x-session-digest", d);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sign_in_digest_and_cookie_are_enforced() {
    let sim = sim().await;
    let creds = json!({"Username": "dev@example.com", "Password": "pw-1234-5678"});

    let (s, wrong) = rpc(
        &sim,
        "authenticateForSession",
        json!({"Username": "dev@example.com", "Password": "nope"}),
        None,
        false,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(wrong["result"]["Success"], false);
    assert_eq!(wrong["result"]["ErrorMessage"], "Unable to authenticate.");

    let (_, ok) = rpc(&sim, "authenticateForSession", creds.clone(), None, false).await;
    let sid = ok["result"]["SessionId"].as_str().unwrap().to_string();
    let secret = ok["result"]["SharedSecret"].as_str().unwrap().to_string();

    // Unsigned or badly signed calls are refused.
    let (s, _) = rpc(&sim, "generateAppleConnectToken", creds.clone(), None, false).await;
    assert_eq!(s, 401);
    let (s, _) = rpc(
        &sim,
        "generateAppleConnectToken",
        creds.clone(),
        Some((&sid, &secret)),
        true,
    )
    .await;
    assert_eq!(s, 401);
    let (s, tok) = rpc(&sim, "generateAppleConnectToken", creds, Some((&sid, &secret)), false).await;
    assert_eq!(s, 200);
    let cookie = format!(
        "{}={}",
        tok["result"]["DSTokenCookieName"].as_str().unwrap(),
        tok["result"]["DSToken"].as_str().unwrap()
    );

    let (_, look) = rpc(
        &sim,
        "lookupSoftwareForBundleId",
        json!({"BundleId": "com.example.demo"}),
        Some((&sid, &secret)),
        false,
    )
    .await;
    let provider = look["result"]["ProviderPublicId"].as_str().unwrap().to_string();
    assert_eq!(look["result"]["Attributes"][0]["AppleID"], asc_sim::DEFAULT_APP_ID);
    let (_, none) = rpc(
        &sim,
        "lookupSoftwareForBundleId",
        json!({"BundleId": "com.example.none"}),
        Some((&sid, &secret)),
        false,
    )
    .await;
    assert_eq!(none["result"]["Success"], false);

    let builds = format!(
        "{}/MZContentDeliveryService/iris/provider/{provider}/v1/builds",
        sim.api_url
    );
    let http = reqwest::Client::new();
    let no_cookie = http
        .get(format!("{builds}?filter[app]=6450000001"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status().as_u16(), 401);
    let listed = http
        .get(format!("{builds}?filter[app]=6450000001"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 200);

    let body = json!({"data": {"type": "builds",
        "attributes": {"cfBundleShortVersionString": "1.0", "cfBundleVersion": "3", "platform": "IOS"},
        "relationships": {"app": {"data": {"type": "apps", "id": "6450000001"}}}}});
    let first = http
        .post(&builds)
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let doc: Value = first.json().await.unwrap();
    assert_eq!(
        doc["data"]["attributes"]["processingState"],
        Value::Null,
        "nothing delivered yet"
    );
    let again = http
        .post(&builds)
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let err: Value = again.json().await.unwrap();
    assert_eq!(err["errors"][0]["code"], "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE");
    assert_eq!(err["errors"][0]["meta"]["previousBundleVersion"], "3");

    // Another provider's path does not see this app.
    let other = http
        .get(format!(
            "{}/MZContentDeliveryService/iris/provider/00000000-0000-0000-0000-000000000000/v1/builds?filter[app]=6450000001",
            sim.api_url
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);
    sim.shutdown().await;
}

#[test]
fn the_sim_flag_needs_email_equals_password() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["sim", "--apple-id", "dev@example.com"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EMAIL=PASSWORD"));
}
