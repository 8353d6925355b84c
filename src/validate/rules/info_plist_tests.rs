//! Tests of the Info.plist rules: for each rule, a case that fires and one that passes.

use plist::{Dictionary, Value};

use super::testutil::{TestIpa, app_info, appex_info, dict, framework_info, none, one, strings, today};
use super::{check, has_placeholder};
use crate::ipa::BundleKind;
use crate::validate::{Finding, Severity};

const APP: &str = "Payload/App.app";
const APP_PLIST: &str = "Payload/App.app/Info.plist";
const EXT: &str = "Payload/App.app/PlugIns/Share.appex";
const EXT_PLIST: &str = "Payload/App.app/PlugIns/Share.appex/Info.plist";
const FW: &str = "Payload/App.app/Frameworks/Kit.framework";
const FW_PLIST: &str = "Payload/App.app/Frameworks/Kit.framework/Info.plist";

/// App + extension + framework, each Info.plist edited by the closures.
fn run_with(
    app: impl FnOnce(&mut Dictionary),
    ext: impl FnOnce(&mut Dictionary),
    fw: impl FnOnce(&mut Dictionary),
) -> Vec<Finding> {
    let (mut a, mut e, mut f) = (
        app_info("com.example.app"),
        appex_info("com.example.app.share"),
        framework_info("com.vendor.kit", "Kit"),
    );
    app(&mut a);
    ext(&mut e);
    fw(&mut f);
    TestIpa::new()
        .app(APP, a)
        .bundle(EXT, BundleKind::AppExtension, Some(0), e)
        .bundle(FW, BundleKind::Framework, Some(0), f)
        .run(check, today())
}

fn app_only(edit: impl FnOnce(&mut Dictionary)) -> Vec<Finding> {
    run_with(edit, |_| {}, |_| {})
}

fn set(d: &mut Dictionary, key: &str, value: impl Into<Value>) {
    d.insert(key.into(), value.into());
}

#[test]
fn a_complete_ipa_has_no_findings() {
    let f = run_with(|_| {}, |_| {}, |_| {});
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn required_keys_are_checked_in_frameworks_too() {
    let f = run_with(
        |_| {},
        |_| {},
        |fw| {
            fw.remove("CFBundleVersion");
            set(fw, "CFBundleShortVersionString", "");
            fw.remove("CFBundlePackageType");
        },
    );
    let hit = one(&f, "ITMS-90056", Severity::Error, FW_PLIST);
    assert!(hit.message.contains("CFBundleVersion"), "{}", hit.message);
    one(&f, "ITMS-90057", Severity::Error, FW_PLIST);
    one(&f, "ASC-INFO-REQUIRED-KEY", Severity::Error, FW_PLIST);
}

#[test]
fn version_formats_and_length() {
    let f = run_with(
        |a| set(a, "CFBundleShortVersionString", "3.0.0-beta.1"),
        |e| set(e, "CFBundleVersion", "8.22.3-beta.0"),
        |fw| set(fw, "CFBundleVersion", "1234567890.1234567890"),
    );
    let hit = one(&f, "ITMS-90060", Severity::Error, APP_PLIST);
    assert!(hit.message.contains("'3.0.0-beta.1'"));
    one(&f, "ITMS-90058", Severity::Error, EXT_PLIST);
    one(&f, "ITMS-90059", Severity::Error, FW_PLIST);
    let ok = app_only(|a| {
        set(a, "CFBundleShortVersionString", "10.2");
        set(a, "CFBundleVersion", "2026.11.21");
    });
    none(&ok, "ITMS-90060");
    none(&ok, "ITMS-90058");
    none(&ok, "ITMS-90059");
}

#[test]
fn bundle_identifier_characters() {
    let f = run_with(
        |_| {},
        |_| {},
        |fw| set(fw, "CFBundleIdentifier", "com.jwtio.JWT_iOS_Framework"),
    );
    let hit = one(&f, "ITMS-90049", Severity::Error, FW_PLIST);
    assert!(hit.fix.contains("com.jwtio.JWT-iOS-Framework"), "{}", hit.fix);
    one(
        &app_only(|a| set(a, "CFBundleIdentifier", "com.example.")),
        "ITMS-90049",
        Severity::Error,
        APP_PLIST,
    );
    one(
        &app_only(|a| drop(a.remove("CFBundleIdentifier"))),
        "ITMS-90049",
        Severity::Error,
        APP_PLIST,
    );
    none(
        &app_only(|a| set(a, "CFBundleIdentifier", "com.Example-1.app")),
        "ITMS-90049",
    );
}

#[test]
fn supported_platforms_apply_to_resource_bundles() {
    let bundle = "Payload/App.app/Pingpp.bundle";
    let mut res = Dictionary::new();
    set(&mut res, "CFBundleSupportedPlatforms", strings(&["iPhoneSimulator"]));
    let f = TestIpa::new()
        .app(APP, app_info("com.example.app"))
        .bundle(bundle, BundleKind::Resource, Some(0), res.clone())
        .run(check, today());
    let hit = one(&f, "ITMS-90542", Severity::Error, &format!("{bundle}/Info.plist"));
    assert!(hit.message.contains("[iPhoneSimulator]"), "{}", hit.message);

    set(&mut res, "CFBundleSupportedPlatforms", strings(&["iPhoneOS"]));
    let f = TestIpa::new()
        .app(APP, app_info("com.example.app"))
        .bundle(bundle, BundleKind::Resource, Some(0), res)
        .run(check, today());
    assert!(f.is_empty(), "{f:#?}");

    let sim = app_only(|a| set(a, "DTPlatformName", "iphonesimulator"));
    one(&sim, "ITMS-90542", Severity::Error, APP_PLIST);
}

#[test]
fn resource_bundle_naming_a_missing_executable() {
    let bundle = "Payload/App.app/SDK.bundle";
    let mut res = Dictionary::new();
    set(&mut res, "CFBundleExecutable", "SDK");
    set(&mut res, "CFBundlePackageType", "BNDL");
    let ipa = || {
        TestIpa::new()
            .app(APP, app_info("com.example.app"))
            .bundle(bundle, BundleKind::Resource, Some(0), res.clone())
    };
    // The test builder writes the named executable; remove it to make the key a lie.
    let without = ipa().without("Payload/App.app/SDK.bundle/SDK");
    one(
        &without.run(check, today()),
        "ITMS-90535",
        Severity::Error,
        &format!("{bundle}/Info.plist"),
    );
    none(&ipa().run(check, today()), "ITMS-90535");
}

#[test]
fn stray_info_plists_naming_a_missing_executable() {
    let mut stray = Dictionary::new();
    set(&mut stray, "CFBundleExecutable", "Libsifir");
    let mut xml = Vec::new();
    plist::to_writer_xml(&mut xml, &stray).unwrap();
    let path = "Payload/App.app/Frameworks/Kit.framework/Resources/Info.plist";
    let ipa = || {
        TestIpa::new()
            .app(APP, app_info("com.example.app"))
            .bundle(
                FW,
                BundleKind::Framework,
                Some(0),
                framework_info("com.vendor.kit", "Kit"),
            )
            .file(path, xml.clone())
            // A compiled storyboard's Info.plist names no executable: not a bundle.
            .file(
                "Payload/App.app/Base.lproj/Main.storyboardc/Info.plist",
                b"<plist><dict/></plist>".to_vec(),
            )
    };
    let f = ipa().run(check, today());
    one(&f, "ITMS-90535", Severity::Error, path);
    let ok = ipa().file(
        "Payload/App.app/Frameworks/Kit.framework/Resources/Libsifir",
        b"x".to_vec(),
    );
    none(&ok.run(check, today()), "ITMS-90535");
}

#[test]
fn minimum_os_version_presence_emptiness_and_floor() {
    let f = run_with(
        |a| set(a, "MinimumOSVersion", "7.0"),
        |e| set(e, "MinimumOSVersion", ""),
        |fw| drop(fw.remove("MinimumOSVersion")),
    );
    let hit = one(&f, "ITMS-90362", Severity::Error, APP_PLIST);
    assert!(hit.message.contains("The minimum value is 8.0"), "{}", hit.message);
    one(&f, "ITMS-90530", Severity::Error, EXT_PLIST);
    let hit = one(&f, "ITMS-90360", Severity::Error, FW_PLIST);
    assert!(
        hit.message
            .contains("'MinimumOSVersion' in bundle App.app/Frameworks/Kit.framework")
    );
    one(
        &app_only(|a| set(a, "MinimumOSVersion", "fifteen")),
        "ITMS-90362",
        Severity::Error,
        APP_PLIST,
    );
    one(
        &app_only(|a| set(a, "MinimumOSVersion", 15)),
        "ITMS-90362",
        Severity::Error,
        APP_PLIST,
    );
    none(&app_only(|a| set(a, "MinimumOSVersion", "12")), "ITMS-90362");
}

#[test]
fn watch_apps_follow_watchos_rules() {
    let watch = "Payload/App.app/Watch/W.app";
    let mut w = app_info("com.example.app.watchkitapp");
    set(&mut w, "MinimumOSVersion", "7.0");
    set(&mut w, "CFBundleSupportedPlatforms", strings(&["WatchOS"]));
    set(&mut w, "UIDeviceFamily", Value::Array(vec![4.into()]));
    w.remove("ITSAppUsesNonExemptEncryption");
    let f = TestIpa::new()
        .app(APP, app_info("com.example.app"))
        .bundle(watch, BundleKind::WatchApp, Some(0), w)
        .run(check, today());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn bundle_and_display_names() {
    let f = run_with(
        |a| set(a, "CFBundleDisplayName", " "),
        |e| {
            e.remove("CFBundleName");
            e.remove("CFBundleDisplayName");
        },
        |fw| drop(fw.remove("CFBundleName")),
    );
    one(&f, "ITMS-90783", Severity::Error, APP_PLIST);
    one(&f, "ITMS-90784", Severity::Error, EXT_PLIST);
    let hit = one(&f, "ITMS-90360", Severity::Error, EXT_PLIST);
    assert!(hit.message.contains("CFBundleDisplayName"));
    // Frameworks need no CFBundleName; an app without a display name is fine.
    assert!(f.iter().all(|x| x.path != FW_PLIST), "{f:#?}");
}

#[test]
fn unexpanded_build_settings_anywhere() {
    let f = app_only(|a| {
        set(a, "CFBundleDisplayName", "$(PRODUCT_NAME)");
        set(
            a,
            "NSExtensionAttributes",
            dict(vec![("Deep", Value::Array(vec!["${TEAM_ID}.group".into()]))]),
        );
    });
    let hit = one(&f, "ASC-UNEXPANDED-VARIABLE", Severity::Warning, APP_PLIST);
    assert!(
        hit.message.contains("CFBundleDisplayName = '$(PRODUCT_NAME)'"),
        "{}",
        hit.message
    );
    assert!(hit.message.contains("NSExtensionAttributes.Deep[0]"), "{}", hit.message);
    none(
        &app_only(|a| set(a, "CFBundleDisplayName", "Pay $(5) now")),
        "ASC-UNEXPANDED-VARIABLE",
    );
    let long = format!("$(GREETING) {}", "é".repeat(300));
    let f = app_only(|a| set(a, "NSHumanReadableCopyright", long.as_str()));
    let hit = one(&f, "ASC-UNEXPANDED-VARIABLE", Severity::Warning, APP_PLIST);
    assert!(hit.message.contains("…'") && hit.message.len() < 400, "{}", hit.message);
}

#[test]
fn placeholder_syntax() {
    assert!(has_placeholder("$(CURRENT_PROJECT_VERSION)"));
    assert!(has_placeholder("li$(APP_ID:lower)"));
    assert!(has_placeholder("${PRODUCT_BUNDLE_IDENTIFIER}"));
    assert!(!has_placeholder("$(1abc)"));
    assert!(!has_placeholder("$( )"));
    assert!(!has_placeholder("$(unterminated"));
    assert!(!has_placeholder("$"));
}

const ALL_FOUR: [&str; 4] = [
    "UIInterfaceOrientationPortrait",
    "UIInterfaceOrientationPortraitUpsideDown",
    "UIInterfaceOrientationLandscapeLeft",
    "UIInterfaceOrientationLandscapeRight",
];

fn ipad(edit: impl FnOnce(&mut Dictionary)) -> TestIpa {
    let mut a = app_info("com.example.app");
    set(&mut a, "UIDeviceFamily", Value::Array(vec![1.into(), 2.into()]));
    set(&mut a, "UISupportedInterfaceOrientations", strings(&ALL_FOUR));
    edit(&mut a);
    TestIpa::new().app(APP, a)
}

#[test]
fn ipad_multitasking_needs_all_orientations() {
    let three = [
        "UIInterfaceOrientationPortrait",
        "UIInterfaceOrientationLandscapeLeft",
        "UIInterfaceOrientationLandscapeRight",
    ];
    let f = ipad(|a| set(a, "UISupportedInterfaceOrientations~ipad", strings(&three))).run(check, today());
    let hit = one(&f, "ITMS-90474", Severity::Error, APP_PLIST);
    assert!(
        hit.message
            .contains("'UIInterfaceOrientationPortrait,UIInterfaceOrientationLandscapeLeft")
    );
    none(&ipad(|_| {}).run(check, today()), "ITMS-90474");
    let full = ipad(|a| {
        set(a, "UISupportedInterfaceOrientations", strings(&three));
        set(a, "UIRequiresFullScreen", true);
    });
    none(&full.run(check, today()), "ITMS-90474");
}

#[test]
fn ipad_multitasking_needs_a_launch_storyboard() {
    let storyboard = |a: &mut Dictionary| {
        a.remove("UILaunchScreen");
        set(a, "UILaunchStoryboardName", "LaunchScreen");
    };
    let f = ipad(storyboard).run(check, today());
    let hit = one(&f, "ITMS-90475", Severity::Error, APP_PLIST);
    assert!(hit.message.contains("LaunchScreen.storyboardc"), "{}", hit.message);

    let compiled = ipad(storyboard).file("Payload/App.app/Base.lproj/LaunchScreen.storyboardc/Info.plist", "x");
    none(&compiled.run(check, today()), "ITMS-90475");
    // Xcode 7 compiled launch screens to a nib (the bitrise fixture has Base.lproj/LaunchScreen.nib).
    let nib = ipad(storyboard).file("Payload/App.app/Base.lproj/LaunchScreen.nib", "x");
    none(&nib.run(check, today()), "ITMS-90475");

    let nothing = ipad(|a| drop(a.remove("UILaunchScreen"))).run(check, today());
    one(&nothing, "ITMS-90475", Severity::Error, APP_PLIST);
    // iPhone-only apps are not concerned.
    none(&app_only(|a| drop(a.remove("UILaunchScreen"))), "ITMS-90475");
}

#[test]
fn url_schemes_format() {
    let types = |schemes: &[&str]| Value::Array(vec![dict(vec![("CFBundleURLSchemes", strings(schemes))])]);
    let f = app_only(|a| {
        set(
            a,
            "CFBundleURLTypes",
            types(&["fb123", "msauth.com.company.ourappv3://auth", "1app"]),
        )
    });
    let hit = one(&f, "ITMS-90158", Severity::Error, APP_PLIST);
    assert!(
        hit.message.contains("[msauth.com.company.ourappv3://auth, 1app]"),
        "{}",
        hit.message
    );
    none(
        &app_only(|a| {
            set(
                a,
                "CFBundleURLTypes",
                types(&["fb123", "com.example.app", "x-callback+v2"]),
            )
        }),
        "ITMS-90158",
    );
}

#[test]
fn background_processing_needs_task_identifiers() {
    let f = app_only(|a| set(a, "UIBackgroundModes", strings(&["fetch", "processing"])));
    one(&f, "ITMS-90771", Severity::Error, APP_PLIST);
    let ok = app_only(|a| {
        set(a, "UIBackgroundModes", strings(&["processing"]));
        set(
            a,
            "BGTaskSchedulerPermittedIdentifiers",
            strings(&["com.example.app.refresh"]),
        );
    });
    none(&ok, "ITMS-90771");
}

#[test]
fn purpose_strings_must_not_be_empty() {
    let f = run_with(|_| {}, |e| set(e, "NSCameraUsageDescription", ""), |_| {});
    let hit = one(&f, "ITMS-90683", Severity::Error, EXT_PLIST);
    assert!(hit.message.contains("NSCameraUsageDescription"));
    none(
        &app_only(|a| set(a, "NSCameraUsageDescription", "Scan receipts.")),
        "ITMS-90683",
    );
}

#[test]
fn device_capabilities_hints() {
    let f = app_only(|a| set(a, "UIRequiredDeviceCapabilities", strings(&["armv7"])));
    one(&f, "ITMS-90109", Severity::Warning, APP_PLIST);
    let f = app_only(|a| {
        set(a, "UIRequiredDeviceCapabilities", dict(vec![("arm64", true.into())]));
        set(a, "MinimumOSVersion", "7.1");
    });
    one(&f, "ITMS-90098", Severity::Warning, APP_PLIST);
    let ok = app_only(|a| set(a, "UIRequiredDeviceCapabilities", strings(&["arm64"])));
    none(&ok, "ITMS-90098");
    none(&ok, "ITMS-90109");
}

#[test]
fn export_compliance_key_on_the_main_app_only() {
    let f = app_only(|a| drop(a.remove("ITSAppUsesNonExemptEncryption")));
    let hit = one(&f, "ASC-EXPORT-COMPLIANCE", Severity::Warning, APP_PLIST);
    assert!(hit.fix.contains("--uses-non-exempt-encryption"));
    let f = app_only(|a| set(a, "ITSAppUsesNonExemptEncryption", "NO"));
    one(&f, "ASC-EXPORT-COMPLIANCE", Severity::Warning, APP_PLIST);
    // Extensions do not carry the key.
    none(&run_with(|_| {}, |_| {}, |_| {}), "ASC-EXPORT-COMPLIANCE");
}
