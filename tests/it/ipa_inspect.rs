//! The inspection end to end: a real Xcode export, and sample IPAs with every kind of bundle.

use std::path::Path;

use crate::support::ipa::write_ipa;
use asc_publish::ipa::{BundleKind, EntrySource, Platform, inspect};
use asc_publish::profile::TrustStore;
use asc_publish::sample::ipa::{BundleSpec, IpaBuilder, PLACEHOLDER_EXECUTABLE};

const FIXTURE: &str = "tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa";

#[test]
fn the_real_xcode_export_is_read_in_place() {
    let inspected = inspect(Path::new(FIXTURE), &TrustStore::apple()).expect("fixture is readable");
    let ipa = &inspected.inspection;
    assert_eq!(ipa.app.bundle_id.as_deref(), Some("Bitrise.ios-simple-objc"));
    assert_eq!(ipa.app.short_version.as_deref(), Some("1.0"));
    assert_eq!(ipa.app.version.as_deref(), Some("1"));
    assert_eq!(ipa.app.platform, Platform::Ios);
    assert_eq!(ipa.app.minimum_os.as_deref(), Some("8.1"));
    assert_eq!(ipa.app.sdk.as_deref(), Some("iphoneos9.3"));
    assert_eq!(ipa.app.xcode.as_deref(), Some("0731"));
    assert_eq!(ipa.app.uses_non_exempt_encryption, None);
    assert_eq!(ipa.file.entry_count, 19);
    assert_eq!(ipa.file.size, 49_425);
    assert_eq!(ipa.file.file_name, "bitrise-io__ipa_analyzer__ios-simple-objc.ipa");

    assert_eq!(ipa.bundles.len(), 1, "a storyboardc or momd is not a bundle");
    let app = ipa.main_app().expect("main app");
    assert_eq!(app.path, "Payload/ios-simple-objc.app");
    assert_eq!(app.executable_name.as_deref(), Some("ios-simple-objc"));
    let exe = app.executable.as_ref().expect("executable located");
    assert_eq!(
        (exe.path.as_str(), exe.size),
        ("Payload/ios-simple-objc.app/ios-simple-objc", 197_664)
    );
    let profile = app.profile.as_ref().expect("profile located");
    assert_eq!(profile.path, "Payload/ios-simple-objc.app/embedded.mobileprovision");
    assert_eq!(profile.size, 7_552);

    // The Info.plist is binary, as Xcode writes it.
    let info = inspected
        .archive
        .read("Payload/ios-simple-objc.app/Info.plist", 1 << 20)
        .expect("read");
    assert!(info.starts_with(b"bplist00"));
    // Everything was read without a CRC or inflate problem.
    assert!(inspected.archive.problems().is_empty());
    // Every entry decodes with a good CRC.
    inspected.archive.verify_all();
    assert!(inspected.archive.problems().is_empty());
}

#[test]
fn every_kind_of_bundle_is_found_with_its_parent() {
    let ipa = IpaBuilder::new()
        .extension(BundleSpec::extension("Share", "com.example.demo.share"))
        .framework(
            BundleSpec::framework("Kit", "com.example.kit")
                .nest("", BundleSpec::resource("KitRes", "com.example.kit.res")),
        )
        .watch_app(
            BundleSpec::watch_app("Watch", "com.example.demo.watchkitapp", "com.example.demo").nest(
                "PlugIns",
                BundleSpec::extension("WatchExt", "com.example.demo.watchkitapp.ext"),
            ),
        )
        .app_clip(BundleSpec::app_clip("Clip", "com.example.demo.Clip"))
        .directories(false);
    let file = write_ipa(ipa);
    let inspected = inspect(&file.path, &TrustStore::apple()).expect("readable");
    let ipa = &inspected.inspection;
    let found: Vec<(&str, BundleKind, Option<&str>)> = ipa
        .bundles
        .iter()
        .map(|b| (b.path.as_str(), b.kind, ipa.parent_of(b).map(|p| p.path.as_str())))
        .collect();
    let app = Some("Payload/Demo.app");
    assert_eq!(
        found,
        vec![
            ("Payload/Demo.app", BundleKind::App, None),
            ("Payload/Demo.app/AppClips/Clip.app", BundleKind::AppClip, app),
            ("Payload/Demo.app/Frameworks/Kit.framework", BundleKind::Framework, app),
            (
                "Payload/Demo.app/Frameworks/Kit.framework/KitRes.bundle",
                BundleKind::Resource,
                Some("Payload/Demo.app/Frameworks/Kit.framework")
            ),
            ("Payload/Demo.app/PlugIns/Share.appex", BundleKind::AppExtension, app),
            ("Payload/Demo.app/Watch/Watch.app", BundleKind::WatchApp, app),
            (
                "Payload/Demo.app/Watch/Watch.app/PlugIns/WatchExt.appex",
                BundleKind::AppExtension,
                Some("Payload/Demo.app/Watch/Watch.app")
            ),
        ]
    );
    for bundle in &ipa.bundles {
        let expect_exe = bundle.kind.is_code_bundle();
        assert_eq!(bundle.executable.is_some(), expect_exe, "{}", bundle.path);
        assert_eq!(bundle.profile.is_some(), bundle.kind.needs_profile(), "{}", bundle.path);
        // The placeholders are not Mach-O or CMS: kept as parse errors, not dropped.
        if let Some(exe) = &bundle.executable {
            assert!(exe.ok().is_none());
            assert_eq!(exe.size, PLACEHOLDER_EXECUTABLE.len() as u64);
        }
    }
    let share = &ipa.bundles[4];
    assert_eq!(share.identifier.as_deref(), Some("com.example.demo.share"));
    assert_eq!(share.minimum_os.as_deref(), Some("15.0"));
}

#[test]
fn the_app_summary_comes_from_the_main_app() {
    let ipa = IpaBuilder::new().map_app(|a| {
        a.set("CFBundleShortVersionString", "2.3.4")
            .set("CFBundleVersion", "42")
            .set("DTPlatformName", "appletvos")
            .set("ITSAppUsesNonExemptEncryption", true)
    });
    let file = write_ipa(ipa);
    let inspected = inspect(&file.path, &TrustStore::apple()).expect("readable");
    let app = &inspected.inspection.app;
    assert_eq!(app.bundle_id.as_deref(), Some("com.example.demo"));
    assert_eq!(
        (app.short_version.as_deref(), app.version.as_deref()),
        (Some("2.3.4"), Some("42"))
    );
    assert_eq!(app.platform, Platform::TvOs);
    assert_eq!(app.sdk.as_deref(), Some("iphoneos18.2"));
    assert_eq!(app.xcode.as_deref(), Some("1620"));
    assert_eq!(app.minimum_os.as_deref(), Some("15.0"));
    assert_eq!(app.uses_non_exempt_encryption, Some(true));
    assert!(inspected.inspection.file.uncompressed_size > 0);
    assert!(inspected.archive.contains("Payload/Demo.app/PkgInfo"));
}

#[test]
fn an_archive_without_an_app_inspects_to_an_empty_tree() {
    let file = crate::support::ipa::write_bytes(&crate::support::ipa::zip(&[crate::support::ipa::Raw::stored(
        "readme.txt",
        b"hi",
    )]));
    let inspected = inspect(&file.path, &TrustStore::apple()).expect("readable");
    assert!(inspected.inspection.bundles.is_empty());
    assert!(inspected.inspection.main_app().is_none());
    // A code bundle without Info.plist says so; a resource bundle needs none.
    let file = crate::support::ipa::write_bytes(&crate::support::ipa::zip(&[
        crate::support::ipa::Raw::stored("Payload/A.app/A", b"x"),
        crate::support::ipa::Raw::stored("Payload/A.app/R.bundle/image.png", b"x"),
    ]));
    let inspected = inspect(&file.path, &TrustStore::apple()).expect("readable");
    let bundles = &inspected.inspection.bundles;
    assert_eq!(bundles[0].info_error.as_deref(), Some("Info.plist is missing"));
    assert_eq!(
        (bundles[1].kind, bundles[1].info_error.as_deref()),
        (BundleKind::Resource, None)
    );
    assert_eq!(inspected.inspection.app.bundle_id, None);
}
