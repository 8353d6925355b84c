//! Credentials from every flag, environment name and key form; useful errors naming the source;
//! and the key never shown anywhere.

use crate::support::asc::*;
use asc_publish::asc::{CredentialFlags, Credentials, Env, Secret};
use base64::Engine as _;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn resolve(pairs: &[(&str, &str)]) -> Result<Credentials, asc_publish::asc::CredentialError> {
    Credentials::resolve(&CredentialFlags::default(), &Env::from_pairs(pairs.iter().copied()))
}

#[test]
fn every_env_name_and_key_form_is_accepted() {
    let (pem, sec1, _) = test_key();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("AuthKey_ABC.p8");
    std::fs::write(&path, &pem).unwrap();
    let path = path.to_str().unwrap().to_string();
    let escaped = pem.replace('\n', "\\n");
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![
            ("ASC_KEY_ID", "A".into()),
            ("ASC_ISSUER_ID", "I".into()),
            ("ASC_PRIVATE_KEY", pem.clone()),
        ],
        vec![("ASC_KEY_ID", "A".into()), ("ASC_PRIVATE_KEY", path.clone())],
        vec![("ASC_KEY_ID", "A".into()), ("ASC_PRIVATE_KEY", b64(&pem))],
        vec![("ASC_KEY_ID", "A".into()), ("ASC_PRIVATE_KEY", escaped)],
        vec![("ASC_KEY_ID", "A".into()), ("ASC_PRIVATE_KEY", sec1.clone())],
        vec![("ASC_KEY_ID", "A".into()), ("ASC_PRIVATE_KEY_B64", b64(&pem))],
        vec![("ASC_KEY_ID", "A".into()), ("ASC_PRIVATE_KEY_PATH", path.clone())],
        vec![
            ("APP_STORE_CONNECT_API_KEY_KEY_ID", "A".into()),
            ("APP_STORE_CONNECT_API_KEY_ISSUER_ID", "I".into()),
            ("APP_STORE_CONNECT_API_KEY_KEY", pem.clone()),
        ],
        vec![
            ("APP_STORE_CONNECT_API_KEY_KEY_ID", "A".into()),
            ("APP_STORE_CONNECT_API_KEY_KEY", b64(&pem)),
            ("APP_STORE_CONNECT_API_KEY_IS_KEY_CONTENT_BASE64", "true".into()),
        ],
        vec![
            ("APP_STORE_CONNECT_KEY_IDENTIFIER", "A".into()),
            ("APP_STORE_CONNECT_ISSUER_ID", "I".into()),
            ("APP_STORE_CONNECT_PRIVATE_KEY", pem.clone()),
        ],
    ];
    for case in cases {
        let pairs: Vec<(&str, &str)> = case.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let c = resolve(&pairs).unwrap_or_else(|e| panic!("{:?}: {e}", case.iter().map(|c| c.0).collect::<Vec<_>>()));
        assert_eq!(c.key_id, "A");
    }
    // Flags win over the environment; no issuer means an individual key.
    let flags = CredentialFlags {
        key_id: Some("FLAG".into()),
        issuer_id: None,
        private_key: Some(Secret::new(path)),
    };
    let env = Env::from_pairs([("ASC_KEY_ID", "ENV"), ("ASC_PRIVATE_KEY", "garbage")]);
    let c = Credentials::resolve(&flags, &env).unwrap();
    assert_eq!(c.key_id, "FLAG");
    assert_eq!(c.issuer_id, None);
    assert_eq!(c.key_source, "--private-key");
}

#[test]
fn bad_keys_are_explained_naming_the_variable() {
    let (pem, _, _) = test_key();
    let p384 = {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        kp.serialize_pem()
    };
    let cert_like = pem.replace("PRIVATE KEY", "CERTIFICATE");
    let truncated: String = pem.lines().take(2).collect::<Vec<_>>().join("\n");
    let cases: Vec<(&str, String, &str)> = vec![
        ("ASC_PRIVATE_KEY", "hello world".into(), "neither a path"),
        ("ASC_PRIVATE_KEY", "/nonexistent/AuthKey_X.p8".into(), "no such file"),
        ("ASC_PRIVATE_KEY_B64", "%%%not-base64%%%".into(), "not valid base64"),
        ("ASC_PRIVATE_KEY_B64", b64("just text"), "not a P-256"),
        (
            "ASC_PRIVATE_KEY_PATH",
            "/nonexistent/key.p8".into(),
            "cannot read the key file",
        ),
        ("APP_STORE_CONNECT_PRIVATE_KEY", p384, "not a P-256"),
        ("ASC_PRIVATE_KEY", cert_like, "certificate"),
        ("ASC_PRIVATE_KEY", truncated, "-----END"),
    ];
    for (name, value, expect) in cases {
        let e = resolve(&[("ASC_KEY_ID", "A"), (name, value.as_str())]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("{name}:")), "{msg}");
        assert!(msg.contains(expect), "{name}: {msg}");
        let err: asc_publish::Error = e.into();
        assert_eq!(err.exit_code(), 3);
        for m in key_material(&pem) {
            assert!(!err.message().contains(&m));
        }
    }
    let e = resolve(&[("ASC_PRIVATE_KEY", pem.as_str())]).unwrap_err();
    assert!(e.to_string().contains("--key-id") && e.to_string().contains("ASC_KEY_ID"));
    let e = resolve(&[("ASC_KEY_ID", "A")]).unwrap_err();
    assert!(e.to_string().contains("ASC_PRIVATE_KEY"));
    // An empty variable (how CI exports unset secrets) counts as unset.
    let e = resolve(&[("ASC_KEY_ID", "A"), ("ASC_PRIVATE_KEY", "  ")]).unwrap_err();
    assert!(e.to_string().contains("no App Store Connect private key"));
}

#[test]
fn the_key_never_appears_in_debug_output() {
    let (pem, _, _) = test_key();
    let env = Env::from_pairs([("ASC_KEY_ID", "A"), ("ASC_PRIVATE_KEY", pem.as_str())]);
    let flags = CredentialFlags {
        key_id: None,
        issuer_id: None,
        private_key: Some(Secret::new(pem.clone())),
    };
    let c = Credentials::resolve(&flags, &env).unwrap();
    let shown = format!("{c:?} {env:?} {flags:?} {:#?}", c);
    for m in key_material(&pem) {
        assert!(!shown.contains(&m), "key material in {shown}");
    }
    assert!(shown.contains("[redacted]"));
}
