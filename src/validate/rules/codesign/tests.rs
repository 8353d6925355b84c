//! Tests for the code-signature rules: one firing and one passing case per rule, and the real
//! fixture (a development export).
use super::*;
use crate::macho::testkit::{
    MemEntries, TestIdentity, bundle, dict, identity, inspection, parse_ok, profile, run_with, signer_closure,
};
use crate::profile::TrustStore;
use crate::sample::macho::{Arch, MachOBuilder, SignatureSpec, SliceSpec};

const TEAM: &str = "ABCDE12345";
const DIST: &str = "Apple Distribution: Example Ltd (ABCDE12345)";

fn good_entitlements() -> plist::Dictionary {
    dict(&[
        ("application-identifier", "ABCDE12345.com.example.app".into()),
        ("com.apple.developer.team-identifier", TEAM.into()),
        ("get-task-allow", false.into()),
        ("beta-reports-active", true.into()),
        ("aps-environment", "production".into()),
        (
            "keychain-access-groups",
            Value::Array(vec!["ABCDE12345.com.example.app".into()]),
        ),
    ])
}

fn profile_entitlements() -> plist::Dictionary {
    dict(&[
        ("application-identifier", "ABCDE12345.*".into()),
        ("com.apple.developer.team-identifier", TEAM.into()),
        ("get-task-allow", false.into()),
        ("beta-reports-active", true.into()),
        ("aps-environment", "production".into()),
        (
            "keychain-access-groups",
            Value::Array(vec!["ABCDE12345.*".into(), "com.apple.token".into()]),
        ),
    ])
}

struct Case {
    id: TestIdentity,
    entitlements: Option<plist::Dictionary>,
    adhoc: bool,
    unsigned: bool,
    cd_team: &'static str,
    profile_certs: Option<Vec<Vec<u8>>>,
}

fn case(cn: &str) -> Case {
    let id = identity(cn, TEAM);
    let certs = vec![id.leaf_der.clone()];
    Case {
        id,
        entitlements: Some(good_entitlements()),
        adhoc: false,
        unsigned: false,
        cd_team: TEAM,
        profile_certs: Some(certs),
    }
}

fn findings(c: &Case, trust: &TrustStore) -> Vec<Finding> {
    let mut sig = SignatureSpec::new("com.example.app");
    sig.team_id = Some(c.cd_team.to_string());
    sig.entitlements = c.entitlements.clone();
    if !c.adhoc {
        sig.cms = Some(signer_closure(&c.id));
    }
    let mut spec = SliceSpec::new(Arch::Arm64);
    if !c.unsigned {
        spec = spec.signature(sig);
    }
    let exe = parse_ok(&MachOBuilder::new().slice(spec).build());
    let prof = c
        .profile_certs
        .clone()
        .map(|certs| profile(TEAM, profile_entitlements(), certs));
    let b = bundle("Payload/A.app", BundleKind::App, "com.example.app", Some(exe), prof);
    run_with(check, &inspection(vec![b]), &MemEntries::default(), false, trust)
}

fn codes(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn distribution_signed_matching_profile_passes_except_trust() {
    let c = case(DIST);
    let trust = TrustStore::apple().with_extra_root_pem(&c.id.ca_pem).unwrap();
    let chain_ok = trust
        .verify_chain(&c.id.leaf_der, std::slice::from_ref(&c.id.ca_der))
        .is_ok();
    let f = findings(&c, &trust);
    if chain_ok {
        assert!(f.is_empty(), "{f:#?}");
    } else {
        assert_eq!(codes(&f), ["ITMS-90034"], "{f:#?}");
        assert!(f[0].message.contains("was not issued by Apple"));
    }
    // Apple's roots alone never trust the test CA.
    let f = findings(&c, &TrustStore::apple());
    assert_eq!(codes(&f), ["ITMS-90034"]);
    assert!(f[0].message.contains("was not issued by Apple"), "{}", f[0].message);
}

#[test]
fn unsigned_and_adhoc_are_90034() {
    let mut c = case(DIST);
    c.unsigned = true;
    let f = findings(&c, &TrustStore::apple());
    assert_eq!(codes(&f), ["ITMS-90034"]);
    assert!(f[0].message.contains("no code signature"));
    let mut c = case(DIST);
    c.adhoc = true;
    let f = findings(&c, &TrustStore::apple());
    assert_eq!(codes(&f), ["ITMS-90034"]);
    assert!(
        f[0].message
            .starts_with("Missing or invalid signature. The bundle 'com.example.app' at bundle path 'Payload/A.app'")
    );
    assert!(f[0].message.contains("ad-hoc"));
}

#[test]
fn development_certificate_is_90034_with_export_fix() {
    let c = case("Apple Development: Jane Doe (XYZ9876543)");
    let f = findings(&c, &TrustStore::apple());
    assert_eq!(codes(&f), ["ITMS-90034"]);
    assert!(f[0].message.contains("development certificate"));
    assert!(f[0].fix.contains("App Store Connect method"));
}

#[test]
fn certificate_not_in_profile_is_90179() {
    let mut c = case(DIST);
    c.profile_certs = Some(vec![identity(DIST, TEAM).leaf_der]);
    let f = findings(&c, &TrustStore::apple());
    assert_eq!(codes(&f), ["ITMS-90034", "ITMS-90179"]);
}

#[test]
fn team_mismatch_is_90034() {
    let mut c = case(DIST);
    c.cd_team = "ZZZZZ99999";
    let f = findings(&c, &TrustStore::apple());
    assert!(
        f.iter()
            .any(|f| f.code == "ITMS-90034" && f.message.contains("'ZZZZZ99999' does not match")),
        "{f:#?}"
    );
}

#[test]
fn entitlements_outside_the_profile_are_90164() {
    let mut c = case(DIST);
    let mut e = good_entitlements();
    e.insert("get-task-allow".into(), true.into());
    e.insert("com.apple.developer.healthkit".into(), true.into());
    e.insert("aps-environment".into(), "sandbox".into());
    e.insert("application-identifier".into(), "ABCDE12345.com.other.app".into());
    c.entitlements = Some(e);
    let f = findings(&c, &TrustStore::apple());
    let msgs: Vec<&str> = f
        .iter()
        .filter(|f| f.code == "ITMS-90164")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("'true' for the key 'get-task-allow' in 'A.app'"))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("not included in the provisioning profile: 'com.apple.developer.healthkit'"))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("'sandbox' for the key 'aps-environment'"))
    );
    assert!(msgs.iter().any(|m| m.contains("'ABCDE12345.com.other.app'")));
}

#[test]
fn denied_values_are_90046_and_missing_beta_warns_90191() {
    let mut c = case(DIST);
    let mut e = good_entitlements();
    e.insert("aps-environment".into(), "development".into());
    e.insert(
        "com.apple.developer.associated-domains".into(),
        Value::Array(vec!["*".into()]),
    );
    e.insert(
        "com.apple.developer.icloud-container-environment".into(),
        "Development".into(),
    );
    e.remove("beta-reports-active");
    c.entitlements = Some(e);
    c.profile_certs = None;
    let f = findings(&c, &TrustStore::apple());
    let denied: Vec<&str> = f
        .iter()
        .filter(|f| f.code == "ITMS-90046")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(denied.len(), 3, "{denied:#?}");
    assert!(
        denied
            .iter()
            .any(|m| m.contains("Specifically, value 'development' for key 'aps-environment' in 'A.app'"))
    );
    assert!(
        denied
            .iter()
            .any(|m| m.contains("value '*' for key 'com.apple.developer.associated-domains'"))
    );
    assert!(f.iter().any(|f| f.code == "ITMS-90191" && !f.is_error()));
    let mut c = case(DIST);
    let mut e = good_entitlements();
    e.insert("beta-reports-active".into(), false.into());
    c.entitlements = Some(e);
    let f = findings(&c, &TrustStore::apple());
    assert!(
        f.iter()
            .any(|f| f.code == "ITMS-90046" && f.message.contains("'false' for key 'beta-reports-active'"))
    );
    assert!(!f.iter().any(|f| f.code == "ITMS-90191"));
}

#[test]
fn get_task_allow_fires_even_without_profile() {
    let mut c = case(DIST);
    let mut e = good_entitlements();
    e.insert("get-task-allow".into(), true.into());
    c.entitlements = Some(e);
    c.profile_certs = None;
    let f = findings(&c, &TrustStore::apple());
    assert!(
        f.iter()
            .any(|f| f.code == "ITMS-90164" && f.message.contains("'get-task-allow'"))
    );
    c.entitlements = Some(good_entitlements());
    let f = findings(&c, &TrustStore::apple());
    assert!(!f.iter().any(|f| f.code == "ITMS-90164"), "{f:#?}");
}

#[test]
fn real_fixture_development_export() {
    use std::io::Read;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa"
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut b = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut b).unwrap();
        b
    };
    let exe = parse_ok(&read("Payload/ios-simple-objc.app/ios-simple-objc"));
    let raw = read("Payload/ios-simple-objc.app/embedded.mobileprovision");
    let start = raw.windows(5).position(|w| w == b"<?xml").unwrap();
    let end = raw.windows(8).position(|w| w == b"</plist>").unwrap() + 8;
    let p: plist::Dictionary = plist::from_bytes(&raw[start..end]).unwrap();
    let team = p["TeamIdentifier"].as_array().unwrap()[0]
        .as_string()
        .unwrap()
        .to_string();
    let certs = p["DeveloperCertificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_data().unwrap().to_vec())
        .collect();
    let ents = p["Entitlements"].as_dictionary().unwrap().clone();
    let prof = profile(&team, ents, certs);
    let b = bundle(
        "Payload/ios-simple-objc.app",
        BundleKind::App,
        "Bitrise.ios-simple-objc",
        Some(exe),
        Some(prof),
    );
    let f = run_with(
        check,
        &inspection(vec![b]),
        &MemEntries::default(),
        false,
        &TrustStore::apple(),
    );
    // Development certificate, get-task-allow, no beta entitlement; the certificate is the
    // profile's and the rest of the entitlements fit its wildcard app id.
    assert_eq!(codes(&f), ["ITMS-90034", "ITMS-90164", "ITMS-90191"]);
    assert!(f[0].message.contains("development certificate"));
    assert!(f[1].message.contains("'get-task-allow'"));
}

#[test]
fn wildcards_and_subsets() {
    assert!(glob("ABCDE12345.*", "ABCDE12345.com.x"));
    assert!(glob("*", ""));
    assert!(glob("a*c*e", "abcde"));
    assert!(!glob("ABCDE12345.*", "ZZZ.com.x"));
    assert!(!glob("abc", "abcd"));
    let arr = |v: &[&str]| Value::Array(v.iter().map(|s| Value::from(*s)).collect());
    assert!(permitted(&arr(&["T.a", "T.b"]), &arr(&["T.*"])));
    assert!(!permitted(&arr(&["T.a", "U.b"]), &arr(&["T.*"])));
    assert!(permitted(&arr(&["applinks:x.com"]), &Value::from("*")));
    assert!(permitted(&Value::from(false), &Value::from(true)));
    assert!(!permitted(&Value::from(true), &Value::from(false)));
}
