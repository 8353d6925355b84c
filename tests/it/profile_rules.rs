//! The profile rules over hand-built inspections: each rule fires once and passes once.

use std::time::{Duration, SystemTime};

use asc_publish::ipa::{AppSummary, Bundle, BundleKind, EntrySource, FileFacts, Inspection, Located, Parsed, Platform};
use asc_publish::profile::{Profile, ProfileKind, TrustStore, decode};
use asc_publish::sample::pki::TestPki;
use asc_publish::sample::profile::{ProfileBuilder, tamper};
use asc_publish::validate::rules::profile::check;
use asc_publish::validate::{Finding, RuleContext, Severity};

const APP: &str = "Payload/Demo.app";
const APPEX: &str = "Payload/Demo.app/PlugIns/Share.appex";
const DAY: Duration = Duration::from_secs(86_400);

struct NoEntries;

impl EntrySource for NoEntries {
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
    fn contains(&self, _: &str) -> bool {
        false
    }
    fn read(&self, name: &str, _: u64) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, name.to_string()))
    }
    fn stream(&self, name: &str, _: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, name.to_string()))
    }
}

fn located(bundle_path: &str, profile: Profile) -> Located<Profile> {
    Located {
        path: format!("{bundle_path}/embedded.mobileprovision"),
        size: 1000,
        parsed: Parsed::Ok(profile),
    }
}

fn bundle(path: &str, kind: BundleKind, id: &str, profile: Option<Located<Profile>>) -> Bundle {
    Bundle {
        path: path.to_string(),
        kind,
        parent: if kind == BundleKind::App { None } else { Some(0) },
        info: None,
        info_error: None,
        identifier: Some(id.to_string()),
        short_version: Some("1.0".into()),
        version: Some("1".into()),
        executable_name: None,
        minimum_os: None,
        executable: None,
        profile,
    }
}

fn inspection(bundles: Vec<Bundle>, platform: Platform) -> Inspection {
    Inspection {
        file: FileFacts {
            path: "Demo.ipa".into(),
            file_name: "Demo.ipa".into(),
            size: 0,
            uncompressed_size: 0,
            entry_count: 0,
        },
        app: AppSummary {
            bundle_id: bundles.first().and_then(|b| b.identifier.clone()),
            short_version: None,
            version: None,
            platform,
            minimum_os: None,
            sdk: None,
            xcode: None,
            uses_non_exempt_encryption: None,
            signing_identity: None,
        },
        bundles,
    }
}

fn run_at(ipa: &Inspection, now: SystemTime) -> Vec<Finding> {
    let trust = TrustStore::apple();
    let ctx = RuleContext {
        ipa,
        entries: &NoEntries,
        now,
        trust: &trust,
        deep: false,
    };
    let mut out = Vec::new();
    check(&ctx, &mut out);
    out
}

fn run(ipa: &Inspection) -> Vec<Finding> {
    run_at(ipa, SystemTime::now())
}

struct Kit {
    pki: TestPki,
    trust: TrustStore,
}

impl Kit {
    fn new() -> Kit {
        let pki = TestPki::generate().unwrap();
        let trust = pki.trust_store().unwrap();
        Kit { pki, trust }
    }

    fn builder(&self, kind: ProfileKind, bundle_id: &str) -> ProfileBuilder {
        ProfileBuilder::for_pki(kind, &self.pki, bundle_id)
    }

    fn profile(&self, b: &ProfileBuilder) -> Profile {
        decode(&b.build_signed(&self.pki).unwrap(), &self.trust).unwrap()
    }

    /// A one-bundle app whose profile comes from `b`.
    fn app(&self, b: &ProfileBuilder) -> Inspection {
        let p = self.profile(b);
        inspection(
            vec![bundle(APP, BundleKind::App, "com.example.demo", Some(located(APP, p)))],
            Platform::Ios,
        )
    }
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn a_good_app_store_profile_passes() {
    let kit = Kit::new();
    let findings = run(&kit.app(&kit.builder(ProfileKind::AppStore, "com.example.demo")));
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn missing_profile_is_itms_90174_for_apps_and_extensions_not_frameworks() {
    let kit = Kit::new();
    let p = kit.profile(&kit.builder(ProfileKind::AppStore, "com.example.demo"));
    let ipa = inspection(
        vec![
            bundle(APP, BundleKind::App, "com.example.demo", Some(located(APP, p))),
            bundle(APPEX, BundleKind::AppExtension, "com.example.demo.share", None),
            bundle(
                "Payload/Demo.app/Frameworks/K.framework",
                BundleKind::Framework,
                "com.k",
                None,
            ),
        ],
        Platform::Ios,
    );
    let findings = run(&ipa);
    assert_eq!(codes(&findings), ["ITMS-90174"]);
    assert_eq!(findings[0].path, format!("{APPEX}/embedded.mobileprovision"));
    assert!(
        findings[0]
            .message
            .starts_with("Missing Provisioning Profile - Apps must contain")
    );
}

#[test]
fn unreadable_profile_is_reported() {
    let ipa = inspection(
        vec![bundle(
            APP,
            BundleKind::App,
            "com.example.demo",
            Some(Located {
                path: format!("{APP}/embedded.mobileprovision"),
                size: 3,
                parsed: Parsed::Err {
                    error: "not a provisioning profile".into(),
                },
            }),
        )],
        Platform::Ios,
    );
    let findings = run(&ipa);
    assert_eq!(codes(&findings), ["ITMS-90161"]);
    assert!(findings[0].message.contains("cannot be read"));
}

#[test]
fn profile_not_signed_by_apple_is_an_error() {
    let kit = Kit::new();
    let b = kit.builder(ProfileKind::AppStore, "com.example.demo");
    let p = decode(&b.build_signed(&kit.pki).unwrap(), &TrustStore::apple()).unwrap();
    let ipa = inspection(
        vec![bundle(APP, BundleKind::App, "com.example.demo", Some(located(APP, p)))],
        Platform::Ios,
    );
    let findings = run(&ipa);
    assert_eq!(codes(&findings), ["ITMS-90161"]);
    let f = &findings[0];
    assert!(f.is_error());
    assert!(f.message.contains("not signed by Apple"), "{}", f.message);
    assert!(f.message.starts_with("Invalid Provisioning Profile. The provisioning profile included in the bundle com.example.demo [Payload/Demo.app] is invalid."));
    assert_eq!(f.path, format!("{APP}/embedded.mobileprovision"));
}

#[test]
fn tampered_and_unsigned_profiles_are_errors() {
    let kit = Kit::new();
    let b = kit.builder(ProfileKind::AppStore, "com.example.demo");
    let tampered = decode(&tamper(&b.build_signed(&kit.pki).unwrap()).unwrap(), &kit.trust).unwrap();
    let unsigned = decode(&b.build_unsigned(), &kit.trust).unwrap();
    for (p, words) in [
        (tampered, "content does not match its signature"),
        (unsigned, "not signed by Apple"),
    ] {
        let ipa = inspection(
            vec![bundle(APP, BundleKind::App, "com.example.demo", Some(located(APP, p)))],
            Platform::Ios,
        );
        let findings = run(&ipa);
        assert_eq!(codes(&findings), ["ITMS-90161"]);
        assert!(findings[0].message.contains(words), "{}", findings[0].message);
    }
}

#[test]
fn non_app_store_kinds_are_itms_90161() {
    let kit = Kit::new();
    for (kind, words) in [
        (ProfileKind::AdHoc, "Ad Hoc profile"),
        (ProfileKind::Development, "get-task-allow is true"),
        (ProfileKind::Enterprise, "Enterprise (In-House) profile"),
    ] {
        let findings = run(&kit.app(&kit.builder(kind, "com.example.demo")));
        assert_eq!(codes(&findings), ["ITMS-90161"], "{kind:?}");
        let m = &findings[0].message;
        assert!(m.contains(words), "{m}");
        assert!(
            m.ends_with("A Distribution Provisioning profile should be used when submitting apps to the App Store.")
        );
    }
}

#[test]
fn expired_profile_is_an_error_and_expiring_soon_a_warning() {
    let kit = Kit::new();
    let mut b = kit.builder(ProfileKind::AppStore, "com.example.demo");
    let now = SystemTime::now();
    b.created = now - DAY * 400;
    b.expires = now - DAY;
    let findings = run(&kit.app(&b));
    assert_eq!(codes(&findings), ["ITMS-90161"]);
    assert!(findings[0].message.contains("[Expired profile."));

    b.expires = now + DAY * 5;
    let findings = run(&kit.app(&b));
    assert_eq!(codes(&findings), ["ASC-PROFILE-EXPIRING"]);
    assert_eq!(findings[0].severity, Severity::Warning);

    b.expires = now + DAY * 30;
    assert!(run(&kit.app(&b)).is_empty());
}

#[test]
fn extension_from_another_team_is_flagged() {
    let kit = Kit::new();
    let other = TestPki::generate_for_team("ZZZZZ99999", "Other Team").unwrap();
    let other_trust = other.trust_store().unwrap();
    let app = kit.profile(&kit.builder(ProfileKind::AppStore, "com.example.demo"));
    let same = kit.profile(&kit.builder(ProfileKind::AppStore, "com.example.demo.share"));
    let foreign = decode(
        &ProfileBuilder::for_pki(ProfileKind::AppStore, &other, "com.example.demo.share")
            .build_signed(&other)
            .unwrap(),
        &other_trust,
    )
    .unwrap();

    let ipa = |ext: Profile| {
        inspection(
            vec![
                bundle(
                    APP,
                    BundleKind::App,
                    "com.example.demo",
                    Some(located(APP, app.clone())),
                ),
                bundle(
                    APPEX,
                    BundleKind::AppExtension,
                    "com.example.demo.share",
                    Some(located(APPEX, ext)),
                ),
            ],
            Platform::Ios,
        )
    };
    assert!(run(&ipa(same)).is_empty());
    let findings = run(&ipa(foreign));
    assert_eq!(codes(&findings), ["ASC-PROFILE-TEAM"]);
    assert!(findings[0].message.contains("ZZZZZ99999") && findings[0].message.contains(&kit.pki.team_id));
    assert_eq!(findings[0].path, format!("{APPEX}/embedded.mobileprovision"));
}

#[test]
fn inconsistent_team_inside_a_profile_is_flagged() {
    let kit = Kit::new();
    let mut b = kit.builder(ProfileKind::AppStore, "com.example.demo");
    b.entitlements.insert(
        "com.apple.developer.team-identifier".into(),
        plist::Value::String("QQQQQ11111".into()),
    );
    let findings = run(&kit.app(&b));
    assert_eq!(codes(&findings), ["ASC-PROFILE-TEAM"]);
    assert!(findings[0].is_error());
    assert!(findings[0].message.contains("QQQQQ11111"));
}

#[test]
fn bundle_id_must_match_the_profile_app_id() {
    let kit = Kit::new();
    let findings = run(&kit.app(&kit.builder(ProfileKind::AppStore, "com.example.other")));
    assert_eq!(codes(&findings), ["ASC-PROFILE-APP-ID"]);
    assert!(findings[0].message.contains("com.example.other") && findings[0].message.contains("com.example.demo"));

    let mut wildcard = kit.builder(ProfileKind::AppStore, "com.example.demo");
    wildcard.app_id = format!("{}.com.example.*", kit.pki.team_id);
    assert!(run(&kit.app(&wildcard)).is_empty());
    wildcard.app_id = format!("{}.*", kit.pki.team_id);
    assert!(run(&kit.app(&wildcard)).is_empty());
}

#[test]
fn ios_app_needs_an_ios_profile() {
    let kit = Kit::new();
    let mut b = kit.builder(ProfileKind::AppStore, "com.example.demo");
    b.platforms = vec!["tvOS".into()];
    let findings = run(&kit.app(&b));
    assert_eq!(codes(&findings), ["ITMS-90161"]);
    assert!(findings[0].message.contains("for tvOS, not iOS"));
    b.platforms = vec!["iOS".into(), "xrOS".into()];
    assert!(run(&kit.app(&b)).is_empty());
}

#[test]
fn real_app_store_profile_passes_while_valid_and_fails_once_expired() {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/icyleaf__app_info__ios_appstore.mobileprovision",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let p = decode(&bytes, &TrustStore::apple()).unwrap();
    let ipa = inspection(
        vec![bundle(
            APP,
            BundleKind::App,
            "com.icyleaf.appinfo.test",
            Some(located(APP, p)),
        )],
        Platform::Ios,
    );
    // 2020-08-01, while it was valid.
    let valid_then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_596_240_000);
    assert!(run_at(&ipa, valid_then).is_empty(), "{:#?}", run_at(&ipa, valid_then));
    let findings = run(&ipa);
    assert_eq!(codes(&findings), ["ITMS-90161"]);
    assert!(findings[0].message.contains("Expired profile"));
}
