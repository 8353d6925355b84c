//! Decoding Apple-signed profiles from public repositories (tests/fixtures, see SOURCES.md).

use std::time::{Duration, SystemTime};

use asc_publish::profile::{ProfileKind, SignatureVerdict, TrustStore, decode};
use asc_publish::sample::profile::tamper;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture present")
}

fn at(rfc3339: &str) -> SystemTime {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).unwrap();
    SystemTime::UNIX_EPOCH + Duration::from_secs(t.unix_timestamp() as u64)
}

#[test]
fn app_store_profile_decodes_and_chains_to_apple() {
    let p = decode(
        &fixture("icyleaf__app_info__ios_appstore.mobileprovision"),
        &TrustStore::apple(),
    )
    .unwrap();
    assert_eq!(p.kind, ProfileKind::AppStore);
    assert_eq!(p.name.as_deref(), Some("iOS Full AppStore"));
    assert_eq!(p.team_ids, ["WKR87TTKML"]);
    assert_eq!(p.team_id(), Some("WKR87TTKML"));
    assert_eq!(p.app_id_prefixes, ["WKR87TTKML"]);
    assert_eq!(
        p.application_identifier.as_deref(),
        Some("WKR87TTKML.com.icyleaf.appinfo.test")
    );
    assert!(p.app_id_matches("com.icyleaf.appinfo.test"));
    assert_eq!(p.platforms, ["iOS"]);
    assert_eq!(p.device_count, 0);
    assert!(!p.get_task_allow && p.beta_reports_active && !p.provisions_all_devices);
    assert_eq!(
        p.signature,
        SignatureVerdict::AppleSigned {
            signer: "Apple iPhone OS Provisioning Profile Signing".into()
        }
    );
    assert_eq!(p.expires.as_deref(), Some("2020-10-24T08:40:28Z"));
    assert!(p.is_expired_at(at("2020-10-25T00:00:00Z")));
    assert!(!p.is_expired_at(at("2020-10-01T00:00:00Z")));
    assert_eq!(p.developer_certificates.len(), 1);
    let cert = &p.certificates[0];
    assert_eq!(
        cert.subject.as_deref(),
        Some("Apple Distribution: Niceliving (Beijing) Technology Co., Ltd. (WKR87TTKML)")
    );
    assert_eq!(cert.team_id.as_deref(), Some("WKR87TTKML"));
    assert_eq!(cert.sha1.len(), 59);
}

#[test]
fn ad_hoc_profile_classifies_as_ad_hoc() {
    let p = decode(
        &fixture("icyleaf__app_info__ios_adhoc.mobileprovision"),
        &TrustStore::apple(),
    )
    .unwrap();
    assert_eq!(p.kind, ProfileKind::AdHoc);
    assert_eq!(p.device_count, 1);
    assert!(p.signature.is_apple());
}

#[test]
fn json_never_carries_udids_or_certificate_bytes() {
    let bytes = fixture("icyleaf__app_info__ios_adhoc.mobileprovision");
    let p = decode(&bytes, &TrustStore::apple()).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["kind"], "ad-hoc");
    assert_eq!(v["device_count"], 1);
    assert_eq!(v["signature"]["status"], "apple-signed");
    assert_eq!(
        v["entitlements"]["application-identifier"],
        "WKR87TTKML.com.icyleaf.appinfo.test"
    );
    assert!(v["developer_certificates"][0]["sha1"].is_string());
    assert!(!json.contains("ProvisionedDevices") && !json.contains("MIIF"));
    // The device UDID from the profile (found without printing it) is absent from the JSON.
    let text = String::from_utf8_lossy(&bytes);
    let devices = text.split("<key>ProvisionedDevices</key>").nth(1).unwrap();
    let udid = devices
        .split("<string>")
        .nth(1)
        .unwrap()
        .split("</string>")
        .next()
        .unwrap();
    assert!(udid.len() > 20);
    assert!(!json.contains(udid), "the UDID leaked into the JSON");
}

#[test]
fn one_flipped_byte_in_the_content_breaks_the_signature() {
    let bytes = fixture("icyleaf__app_info__ios_appstore.mobileprovision");
    let tampered = tamper(&bytes).unwrap();
    assert_eq!(bytes.iter().zip(&tampered).filter(|(a, b)| a != b).count(), 1);
    let p = decode(&tampered, &TrustStore::apple()).unwrap();
    assert_eq!(p.name.as_deref(), Some("IOS Full AppStore"));
    match &p.signature {
        SignatureVerdict::Invalid { reason } => {
            assert!(reason.contains("does not match its signature"), "{reason}")
        }
        other => panic!("tampered profile verified: {other:?}"),
    }
}

#[test]
fn flipped_signature_byte_is_invalid() {
    let mut bytes = fixture("icyleaf__app_info__ios_appstore.mobileprovision");
    let last = bytes.len() - 1;
    bytes[last] ^= 1; // the RSA signature is the last element
    let p = decode(&bytes, &TrustStore::apple()).unwrap();
    assert!(
        matches!(p.signature, SignatureVerdict::Invalid { .. }),
        "{:?}",
        p.signature
    );
}

#[test]
fn profile_inside_the_bitrise_ipa_is_an_apple_signed_development_profile() {
    let file = std::fs::File::open(format!(
        "{}/tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut entry = zip
        .by_name("Payload/ios-simple-objc.app/embedded.mobileprovision")
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
    let p = decode(&bytes, &TrustStore::apple()).unwrap();
    assert_eq!(p.kind, ProfileKind::Development);
    assert!(p.get_task_allow);
    assert_eq!(p.application_identifier.as_deref(), Some("72SA8V3WYL.*"));
    assert!(p.app_id_matches("Bitrise.ios-simple-objc"));
    // Carries the legacy "Apple Root Certificate Authority" too; the chain still ends at Apple Root CA.
    assert!(p.signature.is_apple(), "{:?}", p.signature);
}

#[test]
fn ber_streamed_cms_from_openssl_decodes_and_verifies() {
    let bytes = fixture("generated__openssl_ber_streamed.mobileprovision");
    let p = decode(&bytes, &TrustStore::apple()).unwrap();
    assert_eq!(p.name.as_deref(), Some("BER streamed profile"));
    assert_eq!(p.kind, ProfileKind::AppStore);
    match &p.signature {
        SignatureVerdict::Untrusted { signer, .. } => assert_eq!(signer, "openssl BER test signer"),
        other => panic!("expected untrusted, got {other:?}"),
    }
    let root = String::from_utf8(fixture("generated__openssl_ber_root.pem")).unwrap();
    let trust = TrustStore::apple().with_extra_root_pem(&root).unwrap();
    let p = decode(&bytes, &trust).unwrap();
    assert_eq!(
        p.signature,
        SignatureVerdict::TrustedExtraRoot {
            signer: "openssl BER test signer".into(),
            root: "openssl BER test root (NOT APPLE)".into()
        }
    );
    let tampered = decode(&tamper(&bytes).unwrap(), &trust).unwrap();
    assert!(matches!(tampered.signature, SignatureVerdict::Invalid { .. }));
}
