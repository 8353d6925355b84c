use plist::Value;

use crate::ipa::Platform;
use crate::sample::ipa::{BundleSpec, IpaBuilder};
use crate::sample::macho::{Arch, MachOBuilder, SliceSpec};
use crate::sample::platform::{apply_app_keys, apply_bundle_keys, catalog_names, facts};
use crate::validate::Severity;
use crate::validate::testing::report_for;

const PLATFORM_CODES: &[&str] = &[
    "ASC-PLATFORM-MISMATCH",
    "ITMS-90471",
    "ASC-TVOS-TOP-SHELF",
    "ASC-VISIONOS-ICON",
    "ASC-PLATFORM-CAPABILITY",
    "ITMS-90362",
    "ITMS-90542",
    "ITMS-90087",
    // iOS-only: visionOS's deployment targets (1.0, 2.0) are not iOS versions below 8.0.
    "ITMS-90098",
];

fn executable(build_platform: u32, min_os: (u32, u32, u32)) -> Vec<u8> {
    MachOBuilder::new()
        .slice(
            SliceSpec::new(Arch::Arm64)
                .platform(build_platform)
                .minos(min_os.0, min_os.1, min_os.2),
        )
        .build()
}

/// An app for `platform` as Xcode writes it (keys, executable, catalog), then `edit`ed.
fn app(platform: Platform, edit: impl FnOnce(BundleSpec) -> BundleSpec) -> IpaBuilder {
    let f = facts(platform);
    let mut spec = BundleSpec::app("App", "com.example.app");
    apply_bundle_keys(&mut spec.info, platform, "26.1");
    apply_app_keys(&mut spec.info, platform);
    spec.info.insert("DTPlatformVersion".into(), "26.1".into());
    let spec = spec.executable(executable(f.build_platform, f.min_os)).file(
        "Assets.car",
        crate::ipa::assets_car::testing::write_car(catalog_names(platform), 8),
    );
    IpaBuilder::new().app(edit(spec))
}

/// (code, severity, message) of the platform findings.
fn platform_findings(builder: IpaBuilder) -> Vec<(String, Severity, String)> {
    report_for(builder)
        .findings
        .into_iter()
        .filter(|f| PLATFORM_CODES.contains(&f.code.as_str()))
        .map(|f| (f.code, f.severity, f.message))
        .collect()
}

fn codes(builder: IpaBuilder) -> Vec<String> {
    platform_findings(builder).into_iter().map(|(c, _, _)| c).collect()
}

fn families(list: &[u64]) -> Value {
    Value::Array(list.iter().map(|n| Value::from(*n)).collect())
}

#[test]
fn well_formed_tvos_visionos_and_ios_apps_pass_the_platform_rules() {
    for p in [Platform::TvOs, Platform::VisionOs, Platform::Ios] {
        assert_eq!(codes(app(p, |s| s)), Vec::<String>::new(), "{p:?}");
    }
}

#[test]
fn an_ios_executable_in_a_tvos_bundle_is_a_mismatch_naming_each_source() {
    let found = platform_findings(app(Platform::TvOs, |s| s.executable(executable(2, (17, 0, 0)))));
    let (code, severity, message) = &found[0];
    assert_eq!((code.as_str(), *severity), ("ASC-PLATFORM-MISMATCH", Severity::Error));
    assert!(message.contains("DTPlatformName 'appletvos' says tvOS"), "{message}");
    assert!(message.contains("UIDeviceFamily [3] says tvOS"), "{message}");
    assert!(message.contains("platform 2 (iOS) says iOS"), "{message}");
}

#[test]
fn device_families_of_another_platform_or_of_several_are_a_mismatch() {
    let iphone = app(Platform::VisionOs, |s| s.set("UIDeviceFamily", families(&[1, 2])));
    let found = platform_findings(iphone);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].2.contains("UIDeviceFamily [1, 2] says iOS"), "{}", found[0].2);
    assert!(
        found[0].2.contains("platform 11 (visionOS) says visionOS"),
        "{}",
        found[0].2
    );

    // A target with several destinations may list other platforms' families as well.
    assert!(codes(app(Platform::VisionOs, |s| s.set("UIDeviceFamily", families(&[1, 2, 7])))).is_empty());
    let mixed = platform_findings(app(Platform::TvOs, |s| s.set("UIDeviceFamily", families(&[1, 7]))));
    assert_eq!(mixed.len(), 1, "{mixed:?}");
    assert!(
        mixed[0].2.contains("UIDeviceFamily [1, 7] mixes platforms"),
        "{}",
        mixed[0].2
    );
    let unknown = platform_findings(app(Platform::TvOs, |s| s.set("UIDeviceFamily", families(&[4]))));
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(
        unknown[0]
            .2
            .contains("UIDeviceFamily [4] names no device of a known platform"),
        "{}",
        unknown[0].2
    );
}

#[test]
fn tvos_and_visionos_simulator_builds_are_refused_with_apples_codes() {
    for (p, sdk, build) in [
        (Platform::TvOs, "appletvsimulator", 8),
        (Platform::VisionOs, "xrsimulator", 12),
    ] {
        let min_os = facts(p).min_os;
        let found = codes(app(p, |s| {
            s.set("DTPlatformName", sdk).executable(executable(build, min_os))
        }));
        // Same platform in every source: refused as a simulator build, not as a mismatch.
        assert_eq!(found, ["ITMS-90087", "ITMS-90542"], "{p:?}");
    }
}

#[test]
fn tvos_app_icon_missing_from_plist_or_catalog_is_itms_90471() {
    let no_icon = platform_findings(app(Platform::TvOs, |s| s.remove("CFBundleIcons")));
    assert_eq!(no_icon.len(), 1, "{no_icon:?}");
    assert_eq!((no_icon[0].0.as_str(), no_icon[0].1), ("ITMS-90471", Severity::Error));

    let no_car = app(Platform::TvOs, |mut s| {
        s.files.retain(|(p, _)| p != "Assets.car");
        s
    });
    assert_eq!(codes(no_car), ["ITMS-90471"]);

    let wrong_name = app(Platform::TvOs, |s| {
        let mut icons = plist::Dictionary::new();
        icons.insert("CFBundlePrimaryIcon".into(), "Brand Icon".into());
        s.set("CFBundleIcons", Value::Dictionary(icons))
    });
    let found = platform_findings(wrong_name);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0.as_str(), found[0].1), ("ITMS-90471", Severity::Warning));
    assert!(found[0].2.contains("'Brand Icon'"), "{}", found[0].2);
}

#[test]
fn tvos_app_without_top_shelf_image_is_warned() {
    let found = platform_findings(app(Platform::TvOs, |s| s.remove("TVTopShelfImage")));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("ASC-TVOS-TOP-SHELF", Severity::Warning)
    );
}

#[test]
fn visionos_app_without_icon_name_is_an_error() {
    assert_eq!(
        codes(app(Platform::VisionOs, |s| s.remove("CFBundleIcons"))),
        ["ASC-VISIONOS-ICON"]
    );
}

#[test]
fn capabilities_no_device_of_the_platform_has_are_warned() {
    let caps = |list: &[&str]| Value::Array(list.iter().map(|c| Value::from(*c)).collect());
    let tv = platform_findings(app(Platform::TvOs, |s| {
        s.set("UIRequiredDeviceCapabilities", caps(&["arm64", "telephony", "gps"]))
    }));
    assert_eq!(tv.len(), 1, "{tv:?}");
    assert_eq!(tv[0].0, "ASC-PLATFORM-CAPABILITY");
    assert!(
        tv[0].2.contains("[telephony, gps]") && tv[0].2.contains("tvOS"),
        "{}",
        tv[0].2
    );
    // The same values are fine on iOS, and arm64 is fine on tvOS.
    assert!(
        codes(app(Platform::Ios, |s| s
            .set("UIRequiredDeviceCapabilities", caps(&["telephony"]))))
        .is_empty()
    );
    assert!(
        codes(app(Platform::TvOs, |s| s
            .set("UIRequiredDeviceCapabilities", caps(&["arm64"]))))
        .is_empty()
    );
    // Dictionary form: only `true` entries are requirements.
    let mut d = plist::Dictionary::new();
    d.insert("nfc".into(), true.into());
    d.insert("sms".into(), false.into());
    let vision = platform_findings(app(Platform::VisionOs, |s| {
        s.set("UIRequiredDeviceCapabilities", Value::Dictionary(d))
    }));
    assert_eq!(vision.len(), 1, "{vision:?}");
    assert!(vision[0].2.contains("[nfc]"), "{}", vision[0].2);
}

#[test]
fn deployment_target_before_the_platform_existed_is_itms_90362() {
    let tv = platform_findings(app(Platform::TvOs, |s| {
        s.set("MinimumOSVersion", "8.0").executable(executable(3, (8, 0, 0)))
    }));
    assert_eq!(tv.len(), 1, "{tv:?}");
    assert_eq!(tv[0].0, "ITMS-90362");
    assert!(tv[0].2.ends_with("The minimum value is 9.0"), "{}", tv[0].2);
    let vision = codes(app(Platform::VisionOs, |s| {
        s.set("MinimumOSVersion", "0.9").executable(executable(11, (0, 9, 0)))
    }));
    assert_eq!(vision, ["ITMS-90362"]);
    assert!(
        codes(app(Platform::TvOs, |s| s
            .set("MinimumOSVersion", "9.0")
            .executable(executable(3, (9, 0, 0)))))
        .is_empty()
    );
}

#[test]
fn an_ios_framework_inside_a_tvos_app_is_a_mismatch_but_a_watch_app_is_not() {
    let framework = |build_platform: u32| {
        let mut fw = BundleSpec::framework("Kit", "com.example.app.kit");
        apply_bundle_keys(&mut fw.info, Platform::TvOs, "26.1");
        fw.executable(executable(build_platform, (17, 0, 0)))
    };
    let found = platform_findings(app(Platform::TvOs, |s| s).framework(framework(2)));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "ASC-PLATFORM-MISMATCH");
    assert!(
        found[0].2.contains("Kit.framework")
            && found[0].2.contains("built for iOS")
            && found[0].2.contains("a tvOS app"),
        "{}",
        found[0].2
    );
    assert!(codes(app(Platform::TvOs, |s| s).framework(framework(3))).is_empty());
    // watchOS inside an iOS app is how watch apps ship.
    let watch = BundleSpec::watch_app("Watch", "com.example.app.watchkitapp", "com.example.app")
        .executable(executable(4, (9, 0, 0)));
    assert!(codes(app(Platform::Ios, |s| s).watch_app(watch)).is_empty());
}
