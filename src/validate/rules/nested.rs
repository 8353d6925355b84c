//! Rules across bundles: identifiers and versions of extensions, watch apps and App Clips against
//! their host, identifier collisions, what may be nested where, the Swift runtime support folder,
//! and standalone binaries.
//!
//! Codes:
//! - `ASC-NESTED-ID-PREFIX` (error): an extension's or App Clip's `CFBundleIdentifier` does not
//!   start with its host's identifier + `.` (install fails with AppexBundleIDNotPrefixed; Xcode says
//!   "Embedded binary's bundle identifier is not prefixed with the parent app's bundle identifier").
//! - `ITMS-90541` (error): a watch app's identifier is not its host's + `.` + one component.
//! - `ASC-WATCH-COMPANION-ID` (error): `WKCompanionAppBundleIdentifier` is missing or is not the host's
//!   identifier (install fails with InvalidCompanionAppBundleIdentifier).
//! - `ITMS-90473` (warning): an extension's, watch app's or App Clip's versions differ from the app's.
//! - `ITMS-90685` (error): two code bundles share a `CFBundleIdentifier`.
//! - `ITMS-90205` / `ITMS-90206` (error): an `.appex` or `.framework` contains bundles, or a
//!   `Frameworks` folder.
//! - `ITMS-90426` / `ITMS-90424` / `ITMS-90428` (error): the app embeds `Frameworks/libswift*.dylib`
//!   but `SwiftSupport/<platform>/` is missing, empty, or holds different names (names only: Apple
//!   also compares the files' code, which we do not).
//! - `ITMS-90171` (error): a Mach-O file or static archive that is not a bundle's executable (Swift
//!   runtime dylibs in an app's `Frameworks/` excepted), or a `.dSYM` folder inside the app.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::ipa::bundles::last_component;
use crate::ipa::{Bundle, BundleKind};
use crate::validate::Finding;
use crate::validate::context::RuleContext;

/// Most files whose first bytes we read looking for stray binaries.
const MAX_MAGIC_CHECKS: usize = 2_000;

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let bundles = &ctx.ipa.bundles;
    let Some(app) = ctx.ipa.main_app() else {
        return;
    };
    check_identifiers(ctx, out);
    check_versions(app, bundles, out);
    check_collisions(app, bundles, out);
    let names = ctx.entries.names();
    let index = NameIndex::new(&names);
    check_nesting(ctx, &index, out);
    for bundle in bundles
        .iter()
        .filter(|b| matches!(b.kind, BundleKind::App | BundleKind::WatchApp))
    {
        check_swift_support(bundle, &index, out);
    }
    check_stray_binaries(ctx, &names, out);
}

/// What these rules need from the entry names, gathered in one pass: a hostile archive can list
/// hundreds of thousands of names and thousands of bundles, so nothing scans the names per bundle.
#[derive(Default)]
struct NameIndex<'a> {
    /// Every directory that holds a `Frameworks/` folder.
    with_frameworks: HashSet<&'a str>,
    /// The `libswift*.dylib` files directly in `<dir>/Frameworks/`, by `<dir>`.
    swift_dylibs: HashMap<&'a str, BTreeSet<&'a str>>,
    /// `SwiftSupport/<platform>/` folders that exist, with the files directly inside them.
    swift_support: HashMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> NameIndex<'a> {
    fn new(names: &'a [String]) -> Self {
        let mut index = NameIndex::default();
        for name in names {
            for (at, _) in name.match_indices("/Frameworks/") {
                if let Some(dir) = name.get(..at) {
                    index.with_frameworks.insert(dir);
                }
            }
            if let Some((bundle, file)) = swift_dylib(name) {
                index.swift_dylibs.entry(bundle).or_default().insert(file);
            }
            if let Some((platform, rest)) = name.strip_prefix("SwiftSupport/").and_then(|r| r.split_once('/')) {
                let files = index.swift_support.entry(platform).or_default();
                if !rest.is_empty() && !rest.contains('/') {
                    files.insert(rest);
                }
            }
        }
        index
    }
}

/// `Payload/X.app/PlugIns/Y.appex` → `X.app/PlugIns/Y.appex`, the way Apple's messages name bundles.
fn short(path: &str) -> &str {
    path.strip_prefix("Payload/").unwrap_or(path)
}

fn check_identifiers(ctx: &RuleContext, out: &mut Vec<Finding>) {
    for bundle in &ctx.ipa.bundles {
        let (Some(id), Some(host)) = (bundle.identifier.as_deref(), ctx.ipa.parent_of(bundle)) else {
            continue;
        };
        let Some(host_id) = host.identifier.as_deref() else {
            continue;
        };
        let prefixed = id.strip_prefix(host_id).and_then(|rest| rest.strip_prefix('.'));
        match bundle.kind {
            BundleKind::AppExtension | BundleKind::AppClip if prefixed.is_none_or(str::is_empty) => {
                let what = if bundle.kind == BundleKind::AppClip {
                    "App Clip"
                } else {
                    "App extension"
                };
                out.push(Finding::error(
                    "ASC-NESTED-ID-PREFIX",
                    bundle.path.as_str(),
                    format!(
                        "{what} bundle identifiers must have a prefix consisting of their containing application's \
                         bundle identifier followed by a '.': '{id}' in {} is not prefixed with '{host_id}.'.",
                        short(&bundle.path)
                    ),
                    format!(
                        "Set the target's PRODUCT_BUNDLE_IDENTIFIER to '{host_id}.<name>' and register that identifier."
                    ),
                ));
            }
            BundleKind::WatchApp => check_watch(bundle, id, host_id, prefixed, out),
            _ => {}
        }
    }
}

fn check_watch(bundle: &Bundle, id: &str, host_id: &str, suffix: Option<&str>, out: &mut Vec<Finding>) {
    if suffix.is_none_or(|s| s.is_empty() || s.contains('.')) {
        out.push(Finding::error(
            "ITMS-90541",
            bundle.path.as_str(),
            format!(
                "Invalid WatchKit App Bundle Identifier. The watch app's bundle identifier '{id}' must be only a single \
                 dot-separated component greater than the parent iOS app's bundle identifier '{host_id}'."
            ),
            format!("Set the watch app target's bundle identifier to '{host_id}.watchkitapp' (one component after the app's)."),
        ));
    }
    let watch_only = bundle
        .info
        .as_ref()
        .and_then(|i| i.get("WKWatchOnly"))
        .and_then(plist::Value::as_boolean)
        .unwrap_or(false);
    match bundle.info_str("WKCompanionAppBundleIdentifier") {
        Some(companion) if companion == host_id => {}
        // A watch-only app's iOS app is a stub; it may have no companion identifier.
        None if watch_only => {}
        found => out.push(Finding::error(
            "ASC-WATCH-COMPANION-ID",
            bundle.path.as_str(),
            match found {
                Some(companion) => format!(
                    "WKCompanionAppBundleIdentifier is '{companion}' in {}, but its iOS app is '{host_id}'.",
                    short(&bundle.path)
                ),
                None => format!("WKCompanionAppBundleIdentifier is missing in {}.", short(&bundle.path)),
            },
            format!("Set WKCompanionAppBundleIdentifier in the watch app's Info.plist to '{host_id}'."),
        )),
    }
}

fn check_versions(app: &Bundle, bundles: &[Bundle], out: &mut Vec<Finding>) {
    let follows = |k: BundleKind| matches!(k, BundleKind::AppExtension | BundleKind::WatchApp | BundleKind::AppClip);
    for bundle in bundles.iter().filter(|b| follows(b.kind)) {
        let pairs = [
            ("CFBundleShortVersionString", &bundle.short_version, &app.short_version),
            ("CFBundleVersion", &bundle.version, &app.version),
        ];
        for (key, mine, host) in pairs {
            let (Some(mine), Some(host)) = (mine, host) else {
                continue;
            };
            if mine != host {
                let what = match bundle.kind {
                    BundleKind::WatchApp => "watch app",
                    BundleKind::AppClip => "App Clip",
                    _ => "extension",
                };
                out.push(Finding::warning(
                    "ITMS-90473",
                    bundle.path.as_str(),
                    format!(
                        "{key} Mismatch - The {key} value '{mine}' of {what} '{}' does not match the {key} value '{host}' \
                         of its containing iOS application '{}'.",
                        short(&bundle.path),
                        short(&app.path)
                    ),
                    format!("Set {key} of every target to the app's ('{host}'), e.g. from one shared build setting."),
                ));
            }
        }
    }
}

fn check_collisions(app: &Bundle, bundles: &[Bundle], out: &mut Vec<Finding>) {
    let mut by_id: BTreeMap<&str, Vec<&Bundle>> = BTreeMap::new();
    for bundle in bundles.iter().filter(|b| b.kind.is_code_bundle()) {
        if let Some(id) = bundle.identifier.as_deref() {
            by_id.entry(id).or_default().push(bundle);
        }
    }
    for (id, group) in by_id.into_iter().filter(|(_, g)| g.len() > 1) {
        let names: Vec<&str> = group.iter().map(|b| short(&b.path)).collect();
        let path = group.get(1).map(|b| b.path.as_str()).unwrap_or_default();
        out.push(Finding::error(
            "ITMS-90685",
            path,
            format!(
                "CFBundleIdentifier Collision. There is more than one bundle with the CFBundleIdentifier value '{id}' \
                 under the iOS application '{}'. ({})",
                short(&app.path),
                names.join(", ")
            ),
            "Give every bundle its own identifier, and embed each framework once (usually a framework is embedded by \
             both the app and an extension: embed it only in the app).",
        ));
    }
}

fn check_nesting(ctx: &RuleContext, index: &NameIndex, out: &mut Vec<Finding>) {
    let bundles = &ctx.ipa.bundles;
    for (i, container) in bundles.iter().enumerate() {
        if !matches!(container.kind, BundleKind::AppExtension | BundleKind::Framework) {
            continue;
        }
        let nested = bundles.iter().any(|b| b.parent == Some(i) && b.kind.is_code_bundle());
        if nested {
            out.push(Finding::error(
                "ITMS-90205",
                container.path.as_str(),
                format!(
                    "Invalid Bundle. The bundle at '{}' contains disallowed nested bundles.",
                    short(&container.path)
                ),
                "Embed frameworks and extensions only in the app: set \"Embed\" to \"Do Not Embed\" for them in the \
                 extension's or framework's target.",
            ));
        }
        if index.with_frameworks.contains(container.path.as_str()) {
            out.push(Finding::error(
                "ITMS-90206",
                format!("{}/Frameworks", container.path),
                format!(
                    "Invalid Bundle. The bundle at '{}' contains disallowed file 'Frameworks'.",
                    short(&container.path)
                ),
                "Remove the Frameworks folder from the extension or framework (set its frameworks to \"Do Not Embed\"; \
                 the app embeds them), or add a Run Script phase that deletes it.",
            ));
        }
    }
}

/// `<bundle>/Frameworks/libswift*.dylib` → `(<bundle>, libswift….dylib)`.
fn swift_dylib(name: &str) -> Option<(&str, &str)> {
    let (dir, file) = name.rsplit_once('/')?;
    let bundle = dir.strip_suffix("/Frameworks")?;
    (file.starts_with("libswift") && file.ends_with(".dylib")).then_some((bundle, file))
}

fn check_swift_support(bundle: &Bundle, index: &NameIndex, out: &mut Vec<Finding>) {
    let Some(embedded) = index.swift_dylibs.get(bundle.path.as_str()) else {
        return;
    };
    let frameworks = format!("{}/Frameworks/", bundle.path);
    let platform = if bundle.kind == BundleKind::WatchApp {
        "watchos"
    } else {
        "iphoneos"
    };
    let folder = format!("SwiftSupport/{platform}/");
    let present = index.swift_support.get(platform);
    let supported = present.cloned().unwrap_or_default();
    // Other files (e.g. a README a script added) are not Apple's concern here; runtime names are.
    let swift: BTreeSet<&str> = supported
        .iter()
        .copied()
        .filter(|n| n.starts_with("libswift"))
        .collect();
    let rebuild = "Export the archive with Xcode (Distribute App), which adds SwiftSupport/; if the IPA is zipped by \
                   a script, copy Xcode's SwiftSupport folder next to Payload/.";
    if present.is_none() {
        out.push(Finding::error(
            "ITMS-90426",
            folder.as_str(),
            "Invalid Swift Support - The SwiftSupport folder is missing. Rebuild your app using the current public (GM) \
             version of Xcode and resubmit it.",
            rebuild,
        ));
    } else if supported.is_empty() {
        out.push(Finding::error(
            "ITMS-90424",
            folder.as_str(),
            "Invalid Swift Support - The SwiftSupport folder is empty. Rebuild your app using the current public (GM) \
             version of Xcode and resubmit it.",
            rebuild,
        ));
    } else if *embedded != swift {
        let differing: Vec<&str> = embedded.symmetric_difference(&swift).copied().collect();
        let theirs: Vec<String> = differing.iter().map(|n| format!("/{}{n}", frameworks)).collect();
        out.push(Finding::error(
            "ITMS-90428",
            folder.as_str(),
            format!(
                "Invalid Swift Support - The files {} don't match {}. Make sure the files are correct, rebuild your app, \
                 and resubmit it.",
                differing.join(", "),
                theirs.join(", ")
            ),
            rebuild,
        ));
    }
}

fn is_macho_or_archive(head: &[u8]) -> bool {
    const MAGICS: &[[u8; 4]] = &[
        [0xfe, 0xed, 0xfa, 0xce],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xcf, 0xfa, 0xed, 0xfe],
        [0xca, 0xfe, 0xba, 0xbe],
        [0xbe, 0xba, 0xfe, 0xca],
        *b"!<ar",
    ];
    head.get(..4).is_some_and(|h| MAGICS.iter().any(|m| m == h))
}

/// Names worth reading the first bytes of: binaries' usual extensions, or no extension at all.
fn looks_binary(name: &str) -> bool {
    // `_WatchKitStub/WK` is the Mach-O stub Xcode itself puts in watch apps.
    if name.contains("/_CodeSignature/") || name.contains("/_WatchKitStub/") || name.ends_with("/PkgInfo") {
        return false;
    }
    let file = last_component(name);
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => matches!(ext, "o" | "a" | "dylib" | "so"),
        _ => true,
    }
}

fn first_bytes(ctx: &RuleContext, name: &str) -> Vec<u8> {
    let mut head = Vec::new();
    // The sink stops the stream after the first chunk: only the magic is needed.
    let _ = ctx.entries.stream(name, &mut |chunk| {
        head.extend(chunk.iter().take(8));
        Err(std::io::Error::other("enough"))
    });
    head
}

fn check_stray_binaries(ctx: &RuleContext, names: &[String], out: &mut Vec<Finding>) {
    let Some(app) = ctx.ipa.main_app() else {
        return;
    };
    let mut executables: HashSet<String> = HashSet::new();
    for bundle in &ctx.ipa.bundles {
        if let Some(exe) = &bundle.executable {
            executables.insert(exe.path.clone());
        }
        if let Some(name) = &bundle.executable_name {
            executables.insert(format!("{}/{name}", bundle.path));
        }
    }
    let runtime_hosts: HashSet<&str> = ctx
        .ipa
        .bundles
        .iter()
        .filter(|b| matches!(b.kind, BundleKind::App | BundleKind::WatchApp))
        .map(|b| b.path.as_str())
        .collect();
    let inside = format!("{}/", app.path);
    let message = |path: &str| {
        format!(
            "Invalid Bundle Structure - The binary file '{}' is not permitted. Your app can't contain standalone \
             executables or libraries, other than a valid CFBundleExecutable of supported bundles.",
            short(path)
        )
    };
    let mut dsyms = BTreeSet::new();
    let mut checked = 0usize;
    for name in names.iter().filter(|n| n.starts_with(&inside)) {
        if let Some(idx) = name.find(".dSYM/") {
            dsyms.insert(name.get(..idx + 5).unwrap_or(name).to_string());
            continue;
        }
        if name.ends_with('/') || executables.contains(name) || !looks_binary(name) {
            continue;
        }
        if swift_dylib(name).is_some_and(|(host, _)| runtime_hosts.contains(host)) {
            continue;
        }
        if checked >= MAX_MAGIC_CHECKS {
            break;
        }
        checked += 1;
        if is_macho_or_archive(&first_bytes(ctx, name)) {
            out.push(Finding::error(
                "ITMS-90171",
                name.as_str(),
                message(name),
                "Remove the file from the Copy Bundle Resources phase (object files, static libraries and loose \
                 executables must be linked, not copied); dynamic libraries go inside a .framework.",
            ));
        }
    }
    for dsym in dsyms {
        out.push(Finding::error(
            "ITMS-90171",
            dsym.as_str(),
            message(&dsym),
            "dSYM folders belong next to the archive, not inside the app: remove it from the Copy Bundle Resources phase.",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::sample::ipa::{BundleSpec, Entry, IpaBuilder, Method};
    use crate::validate::testing::{codes_for, report_for};

    const APP: &str = "com.example.demo";

    fn has(codes: &[String], code: &str) -> bool {
        codes.iter().any(|c| c == code)
    }

    #[test]
    fn a_well_formed_family_of_bundles_passes() {
        let ipa = IpaBuilder::new()
            .extension(BundleSpec::extension("Share", "com.example.demo.share"))
            .framework(BundleSpec::framework("Kit", "com.example.kit"))
            .watch_app(
                BundleSpec::watch_app("Watch", "com.example.demo.watchkitapp", APP).nest(
                    "PlugIns",
                    BundleSpec::extension("WatchExt", "com.example.demo.watchkitapp.ext"),
                ),
            )
            .app_clip(BundleSpec::app_clip("Clip", "com.example.demo.Clip"));
        let report = report_for(ipa);
        let nested: Vec<_> = report
            .findings
            .iter()
            .filter(|f| {
                f.code.starts_with("ASC-NESTED")
                    || f.code.starts_with("ASC-WATCH")
                    || [
                        "ITMS-90541",
                        "ITMS-90473",
                        "ITMS-90685",
                        "ITMS-90205",
                        "ITMS-90206",
                        "ITMS-90171",
                    ]
                    .contains(&f.code.as_str())
            })
            .collect();
        assert!(nested.is_empty(), "{nested:#?}");
    }

    #[test]
    fn extension_and_clip_ids_must_be_prefixed() {
        let codes = codes_for(
            IpaBuilder::new()
                .extension(BundleSpec::extension("Share", "com.other.share"))
                .app_clip(BundleSpec::app_clip("Clip", "com.example.demoClip")),
        );
        assert_eq!(
            codes.iter().filter(|c| *c == "ASC-NESTED-ID-PREFIX").count(),
            2,
            "{codes:?}"
        );
    }

    #[test]
    fn watch_id_and_companion() {
        let codes = codes_for(IpaBuilder::new().watch_app(BundleSpec::watch_app(
            "Watch",
            "com.example.demo.watch.app",
            "com.example.other",
        )));
        assert!(
            has(&codes, "ITMS-90541") && has(&codes, "ASC-WATCH-COMPANION-ID"),
            "{codes:?}"
        );
        let watch = || {
            BundleSpec::watch_app("Watch", "com.example.demo.watchkitapp", APP).remove("WKCompanionAppBundleIdentifier")
        };
        assert!(has(
            &codes_for(IpaBuilder::new().watch_app(watch())),
            "ASC-WATCH-COMPANION-ID"
        ));
        let watch_only = IpaBuilder::new().watch_app(watch().set("WKWatchOnly", true));
        assert!(!has(&codes_for(watch_only), "ASC-WATCH-COMPANION-ID"));
    }

    #[test]
    fn version_mismatch_is_a_warning_with_apples_wording() {
        let report = report_for(
            IpaBuilder::new()
                .extension(BundleSpec::extension("Share", "com.example.demo.share").set("CFBundleVersion", "2")),
        );
        let f = report
            .findings
            .iter()
            .find(|f| f.code == "ITMS-90473")
            .expect("ITMS-90473");
        assert!(!f.is_error());
        assert_eq!(
            f.message,
            "CFBundleVersion Mismatch - The CFBundleVersion value '2' of extension 'Demo.app/PlugIns/Share.appex' does not \
             match the CFBundleVersion value '1' of its containing iOS application 'Demo.app'."
        );
    }

    #[test]
    fn duplicate_identifiers_collide() {
        let codes = codes_for(
            IpaBuilder::new()
                .framework(BundleSpec::framework("A", "com.example.kit"))
                .framework(BundleSpec::framework("B", "com.example.kit")),
        );
        assert!(has(&codes, "ITMS-90685"), "{codes:?}");
    }

    #[test]
    fn nesting_inside_extensions_and_frameworks() {
        let codes = codes_for(
            IpaBuilder::new().extension(
                BundleSpec::extension("Share", "com.example.demo.share")
                    .nest("Frameworks", BundleSpec::framework("Kit", "com.example.kit")),
            ),
        );
        assert!(has(&codes, "ITMS-90205") && has(&codes, "ITMS-90206"), "{codes:?}");
    }

    #[test]
    fn swift_support_missing_empty_and_mismatched() {
        let with_runtime =
            || IpaBuilder::new().map_app(|a| a.file("Frameworks/libswiftCore.dylib", b"\xcf\xfa\xed\xfe".to_vec()));
        assert!(has(&codes_for(with_runtime()), "ITMS-90426"));
        assert!(has(
            &codes_for(with_runtime().entry(Entry::directory("SwiftSupport/iphoneos/"))),
            "ITMS-90424"
        ));
        let mismatch = with_runtime().entry(Entry::bytes("SwiftSupport/iphoneos/libswiftFoundation.dylib", "x"));
        assert!(has(&codes_for(mismatch), "ITMS-90428"));
        let good = with_runtime().entry(Entry::bytes("SwiftSupport/iphoneos/libswiftCore.dylib", "x"));
        let codes = codes_for(good);
        assert!(
            !codes
                .iter()
                .any(|c| ["ITMS-90426", "ITMS-90424", "ITMS-90428", "ITMS-90171"].contains(&c.as_str())),
            "{codes:?}"
        );
    }

    #[test]
    fn stray_binaries_and_dsyms() {
        let codes = codes_for(
            IpaBuilder::new()
                .map_app(|a| {
                    a.file("Utilities.o", b"\xcf\xfa\xed\xfe rest".to_vec())
                        .file("libfoo.a", b"!<arch>\n".to_vec())
                })
                .entry(Entry::bytes("Payload/Demo.app/Demo.app.dSYM/Contents/Info.plist", "x").method(Method::Stored)),
        );
        assert_eq!(codes.iter().filter(|c| *c == "ITMS-90171").count(), 3, "{codes:?}");
        // A text file without extension is not a binary; Xcode's watch stub is allowed.
        let codes = codes_for(
            IpaBuilder::new().map_app(|a| a.file("LICENSE", "MIT")).watch_app(
                BundleSpec::watch_app("W", "com.example.demo.w", APP)
                    .file("_WatchKitStub/WK", b"\xcf\xfa\xed\xfe".to_vec()),
            ),
        );
        assert!(!has(&codes, "ITMS-90171"), "{codes:?}");
    }
}
