//! No client that carries a credential follows a redirect to another host with it: each one is
//! pointed at a loopback server answering `302` to a second loopback server on another port (a
//! different origin), which records what it receives. The credential must never arrive there.

use std::sync::{Arc, Mutex};

use crate::support::forge_mock::{Handler, Req, mock, view};
use asc_publish::appleid::credentials::AppleIdCredentials;
use asc_publish::appleid::session::Session;
use asc_publish::asc::clock::SystemClock;
use asc_publish::asc::{AscClient, ClientConfig, CredentialFlags, Credentials, Env, Secret, TokenSource};
use asc_publish::forge::Token;
use asc_publish::forge::github_pr::{self, GitHubTarget, Publish};
use asc_publish::forge::gitlab_mr::{self, GitLabTarget};

/// The trap (another port: another origin) and a redirector sending everything there.
async fn trap_and_redirector() -> (String, Arc<Mutex<Vec<Req>>>) {
    let ok: Handler = Arc::new(|_, _| (200, vec![], "[]".into()));
    let (trap, trap_log) = mock(ok).await;
    let to_trap: Handler = Arc::new(move |req, _| {
        (
            302,
            vec![("location".into(), format!("{trap}{}", req.uri))],
            String::new(),
        )
    });
    let (redirector, _) = mock(to_trap).await;
    (redirector, trap_log)
}

fn leaked(log: &Arc<Mutex<Vec<Req>>>, secret: &str) -> Vec<String> {
    log.lock()
        .map(|l| {
            l.iter()
                .filter(|r| {
                    r.headers.iter().any(|(_, v)| v.contains(secret))
                        || r.body.contains(secret)
                        || r.uri.contains(secret)
                })
                .map(|r| format!("{} {}", r.method, r.uri))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_never_sends_its_token_to_another_host() {
    let (redirector, trap) = trap_and_redirector().await;
    let t = GitLabTarget {
        api_v4_url: format!("{redirector}/api/v4"),
        project_id: "99".into(),
        mr_iid: 7,
    };
    let report = gitlab_mr::publish(&t, &Token::new("glpat-redirect-secret"), &view(1)).await;
    assert_eq!(leaked(&trap, "glpat-redirect-secret"), Vec::<String>::new());
    assert!(
        trap.lock().map(|l| l.is_empty()).unwrap_or(false),
        "followed to another host"
    );
    let w = report.warning.unwrap_or_default();
    assert!(w.contains("redirect"), "{w}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_never_sends_its_token_to_another_host() {
    let (redirector, trap) = trap_and_redirector().await;
    let t = GitHubTarget {
        api_url: redirector.clone(),
        owner: "octo".into(),
        repo: "app".into(),
        pr_number: Some(5),
        head_sha: Some("abc123".into()),
        details_url: None,
    };
    let _ = github_pr::publish(
        &t,
        &Token::new("ghs_redirect_secret"),
        &view(1),
        Publish {
            comment: true,
            check_run: true,
        },
    )
    .await;
    assert_eq!(leaked(&trap, "ghs_redirect_secret"), Vec::<String>::new());
}

fn credentials() -> Credentials {
    let der = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .expect("key");
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der.as_ref());
    let env = Env::from_pairs([("ASC_KEY_ID", "ZX9R4HXF34"), ("ASC_PRIVATE_KEY_B64", b64.as_str())]);
    Credentials::resolve(&CredentialFlags::default(), &env).expect("credentials")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_store_connect_client_does_not_follow_redirects() {
    let (redirector, trap) = trap_and_redirector().await;
    let config = ClientConfig {
        api_url: redirector,
        ..ClientConfig::default()
    };
    let http = asc_publish::asc::client::build_http(None, None).expect("http");
    let client = AscClient::new(
        &config,
        TokenSource::new(credentials(), Arc::new(SystemClock)),
        Arc::new(SystemClock),
        http,
    )
    .expect("client");
    let url = client.url("/v1/apps", &[]).expect("url");
    let r = client.get::<serde_json::Value>(url).await;
    assert!(r.is_err(), "{r:?}");
    let log = trap.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(log.is_empty(), "the JWT client followed a redirect: {log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_uploads_do_not_follow_redirects() {
    let (redirector, trap) = trap_and_redirector().await;
    let http = asc_publish::asc::client::build_parts_http(None, None).expect("http");
    let r = http
        .put(format!("{redirector}/part/1?X-Amz-Signature=sig"))
        .header("authorization", "Bearer part-secret")
        .body("bytes")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 302);
    assert!(trap.lock().map(|l| l.is_empty()).unwrap_or(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apple_id_sign_in_does_not_follow_redirects() {
    let (redirector, trap) = trap_and_redirector().await;
    let http = asc_publish::asc::client::build_http(None, None).expect("http");
    let creds = AppleIdCredentials {
        apple_id: "dev@example.com".into(),
        password: Secret::new("pw-redirect-secret".into()),
        password_var: "PW".into(),
        provider_public_id: None,
    };
    let base = url::Url::parse(&redirector).expect("url");
    let r = Session::sign_in(&http, &base, &creds, asc_publish::publish::events::Events::none()).await;
    assert!(r.is_err());
    assert_eq!(leaked(&trap, "pw-redirect-secret"), Vec::<String>::new());
    assert!(trap.lock().map(|l| l.is_empty()).unwrap_or(false));
}
