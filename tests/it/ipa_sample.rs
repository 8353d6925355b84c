//! The sample IPA builder writes real archives: what tests, the demo and benchmarks rely on.

use std::io::Read;

use crate::support::ipa::write_ipa;
use asc_publish::ipa::EntrySource;
use asc_publish::ipa::archive::{Limits, open_with};
use asc_publish::ipa::entry::Compression;
use asc_publish::ipa::inspect::parse_plist_dict;
use asc_publish::sample::ipa::{BundleSpec, Entry, IpaBuilder, Method, default_app_info};

#[test]
fn the_default_app_plist_has_what_xcode_writes() {
    let info = default_app_info("Demo", "com.example.demo");
    for key in [
        "CFBundleIdentifier",
        "CFBundleShortVersionString",
        "CFBundleVersion",
        "CFBundleExecutable",
        "CFBundlePackageType",
        "CFBundleName",
        "CFBundleDisplayName",
        "CFBundleSupportedPlatforms",
        "DTPlatformName",
        "DTSDKName",
        "DTPlatformVersion",
        "DTXcode",
        "MinimumOSVersion",
        "UIDeviceFamily",
        "UISupportedInterfaceOrientations",
        "UILaunchStoryboardName",
        "CFBundleIcons",
        "ITSAppUsesNonExemptEncryption",
    ] {
        assert!(info.contains_key(key), "{key}");
    }
    let icon = info
        .get("CFBundleIcons")
        .and_then(|v| v.as_dictionary())
        .and_then(|d| d.get("CFBundlePrimaryIcon"))
        .and_then(|v| v.as_dictionary())
        .and_then(|d| d.get("CFBundleIconName"))
        .and_then(|v| v.as_string());
    assert_eq!(icon, Some("AppIcon"));
}

#[test]
fn streamed_symlink_and_junk_entries_are_written_as_asked() {
    const BIG: u64 = 48 << 20;
    let file = write_ipa(
        IpaBuilder::new()
            .entry(Entry::reader("Payload/Demo.app/big.bin", std::io::repeat(0x5a).take(BIG)).method(Method::Stored))
            .entry(Entry::symlink("Payload/Demo.app/link", "Info.plist"))
            .entry(Entry::bytes("__MACOSX/Payload/._Demo.app", "apple double"))
            .entry(Entry::directory("Symbols/")),
    );
    let archive = open_with(&file.path, Limits::default()).expect("readable");
    let big = archive.entry("Payload/Demo.app/big.bin").expect("big");
    assert_eq!((big.size, big.compression), (BIG, Compression::Stored));
    let mut seen = 0u64;
    let streamed = archive
        .stream("Payload/Demo.app/big.bin", &mut |chunk| {
            assert!(chunk.iter().all(|&b| b == 0x5a));
            seen += chunk.len() as u64;
            Ok(())
        })
        .expect("stream");
    assert_eq!((streamed, seen), (BIG, BIG));
    assert!(archive.entry("Payload/Demo.app/link").is_some_and(|e| e.is_symlink));
    assert!(archive.entry("Symbols/").is_some_and(|e| e.is_dir));
    assert!(archive.contains("__MACOSX/Payload/._Demo.app"));
    assert!(archive.problems().is_empty());
}

#[test]
fn bundles_get_their_plist_format_executable_and_profile() {
    let bytes = IpaBuilder::new()
        .map_app(|a| a.executable(b"\xcf\xfa\xed\xfe app".to_vec()).profile(b"cms".to_vec()))
        .extension(
            BundleSpec::extension("Share", "com.example.demo.share")
                .info_format(asc_publish::ipa::PlistFormat::Binary)
                .no_profile(),
        )
        .to_bytes()
        .expect("bytes");
    let file = crate::support::ipa::write_bytes(&bytes);
    let archive = open_with(&file.path, Limits::default()).expect("readable");
    assert_eq!(
        archive.read("Payload/Demo.app/Demo", 1024).expect("exe"),
        b"\xcf\xfa\xed\xfe app"
    );
    assert_eq!(
        archive
            .read("Payload/Demo.app/embedded.mobileprovision", 1024)
            .expect("profile"),
        b"cms"
    );
    let appex_plist = archive
        .read("Payload/Demo.app/PlugIns/Share.appex/Info.plist", 1 << 20)
        .expect("plist");
    assert!(appex_plist.starts_with(b"bplist00"));
    let info = parse_plist_dict(&appex_plist).expect("parses");
    assert_eq!(
        info.get("CFBundlePackageType").and_then(|v| v.as_string()),
        Some("XPC!")
    );
    assert!(!archive.contains("Payload/Demo.app/PlugIns/Share.appex/embedded.mobileprovision"));
    assert!(archive.contains("Payload/Demo.app/PlugIns/Share.appex/Share"));
}
