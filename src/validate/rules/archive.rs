//! Rules on the container itself: where the app is, what else sits in the archive, and whether the
//! zip is sound (names, symlinks, overlapping data, CRC, inflation).
//!
//! Codes, with ours (`ASC-`) where Apple publishes none:
//! - `ASC-ARCHIVE-NO-APP` (error): no `Payload/<Name>.app` at the root. Apple then fails with
//!   ITMS-90036-style "Info.plist … is missing or could not be read".
//! - `ASC-ARCHIVE-NESTED-ROOT` (error): the app sits under a `Payload/` that is not at the root
//!   (`MyApp/Payload/X.app`), typically a folder zipped instead of its contents.
//! - `ASC-ARCHIVE-MULTIPLE-APPS` (error): more than one `Payload/*.app`.
//! - `ASC-ARCHIVE-STRAY-APP` (error): a `.app` anywhere else than the root, `Watch/` or `AppClips/`
//!   (a build folder zipped in by mistake).
//! - `ITMS-90036` (error): a code bundle (app, extension, framework, watch app, App Clip) whose
//!   Info.plist is missing or cannot be parsed.
//! - `ITMS-90207` (error): a code bundle whose `CFBundleExecutable` names a file it does not contain.
//! - `ITMS-90048` (error): AppleDouble `._*` files, `__MACOSX/`, `.DS_Store`, or a top-level entry
//!   outside Xcode's layout (`Payload/`, `SwiftSupport/`, `Symbols/`, `BCSymbolMaps/`,
//!   `WatchKitSupport2/`, `MessagesApplicationExtensionSupport/`).
//! - `ASC-ARCHIVE-EXTRA-ROOT` (warning): `iTunesMetadata.plist`, `iTunesArtwork` or `META-INF/` at
//!   the root. iTunes, App Store downloads and enterprise re-signing tools add them; Apple has not
//!   documented a rejection, so we only warn (they do not belong in an upload).
//! - `ASC-ARCHIVE-UNSAFE-PATH` (error): absolute names, `..` components or backslashes.
//! - `ASC-ARCHIVE-SYMLINK` (error): symbolic-link entries (iOS bundles have none; they are a
//!   path-escape risk for anything that extracts the archive).
//! - `ASC-ARCHIVE-NAME-ENCODING` (error): entry names that are not UTF-8.
//! - `ASC-ARCHIVE-DUPLICATE-NAME` (error): one name listed twice; which copy wins depends on the tool.
//! - `ASC-ARCHIVE-OVERLAP` (error): entries whose data share bytes (zip bombs and ambiguous archives
//!   are built this way; no zip tool that Xcode uses writes them).
//! - `ASC-ARCHIVE-CRC` (error): an entry's data does not match its CRC-32.
//! - `ASC-ARCHIVE-INFLATE` (error): an entry inflates past its declared size, or declares more than
//!   we inflate (a zip bomb, or a corrupt archive).
//! - `ASC-ARCHIVE-ENTRY` (error): an entry's data is truncated, encrypted or uses a compression
//!   method other than stored/deflate.

use std::collections::BTreeSet;

use crate::ipa::Archive;
use crate::ipa::bundles;
use crate::ipa::entry::ProblemKind;
use crate::validate::Finding;
use crate::validate::context::RuleContext;

/// Top-level folders an Xcode export may contain.
const ALLOWED_ROOT_DIRS: &[&str] = &[
    "Payload",
    "SwiftSupport",
    "Symbols",
    "BCSymbolMaps",
    "WatchKitSupport2",
    "MessagesApplicationExtensionSupport",
];
/// Top-level names other tools add: tolerated with a warning.
const TOLERATED_ROOT: &[&str] = &["iTunesMetadata.plist", "iTunesArtwork", "META-INF"];

/// How many offending paths one message lists before summarising.
const LIST_MAX: usize = 5;
/// How many findings of one kind we emit before summarising the rest in one more.
const FINDINGS_MAX: usize = 20;

const REEXPORT: &str = "Re-export the app from Xcode (Product > Archive, then Distribute App, or \
`xcodebuild -exportArchive`) and upload the .ipa it writes, without unzipping and re-zipping it.";

fn list(paths: &[String]) -> String {
    let shown: Vec<&str> = paths.iter().take(LIST_MAX).map(String::as_str).collect();
    match paths.len().saturating_sub(LIST_MAX) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}

/// One finding per path up to [`FINDINGS_MAX`], then one that counts the rest.
fn push_capped(out: &mut Vec<Finding>, paths: &[String], make: impl Fn(&str) -> Finding) {
    for path in paths.iter().take(FINDINGS_MAX) {
        out.push(make(path));
    }
    if let Some(first_left) = paths.get(FINDINGS_MAX) {
        let mut summary = make(first_left);
        summary.message = format!(
            "{} ({} more entries like this one)",
            summary.message,
            paths.len() - FINDINGS_MAX
        );
        out.push(summary);
    }
}

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let names = ctx.entries.names();
    check_layout(&names, out);
    check_bundle_contents(ctx, out);
    check_junk(&names, out);
    check_root_entries(&names, out);
    check_paths(&names, out);
}

fn check_layout(names: &[String], out: &mut Vec<Finding>) {
    let layout = bundles::discover(names.iter().map(String::as_str));
    for nested in &layout.nested_roots {
        out.push(Finding::error(
            "ASC-ARCHIVE-NESTED-ROOT",
            nested.as_str(),
            format!("The app is at {nested}, but App Store Connect only looks for Payload/<Name>.app at the root of the archive."),
            "Zip the Payload folder itself, not the folder containing it (or better, upload the .ipa Xcode exports).",
        ));
    }
    if layout.root_apps.is_empty() && layout.nested_roots.is_empty() {
        out.push(Finding::error(
            "ASC-ARCHIVE-NO-APP",
            "",
            "The archive has no Payload/<Name>.app folder at its root, so it holds no app to upload.",
            REEXPORT,
        ));
    }
    if layout.root_apps.len() > 1 {
        out.push(Finding::error(
            "ASC-ARCHIVE-MULTIPLE-APPS",
            "Payload/",
            format!(
                "The archive holds {} apps in Payload/ ({}); an IPA must hold exactly one.",
                layout.root_apps.len(),
                list(&layout.root_apps)
            ),
            "Export each app to its own .ipa and upload them separately.",
        ));
    }
    push_capped(out, &layout.stray_apps, |path| {
        Finding::error(
            "ASC-ARCHIVE-STRAY-APP",
            path,
            format!(
                "{path} is an app bundle where none is allowed (apps go only in Payload/, an app's Watch/ or AppClips/)."
            ),
            "Remove it: it is usually a build folder copied into the app by a script. Check the Copy Files and Run Script build phases.",
        )
    });
}

fn check_bundle_contents(ctx: &RuleContext, out: &mut Vec<Finding>) {
    for bundle in ctx.ipa.bundles.iter().filter(|b| b.kind.is_code_bundle()) {
        let shown = bundle.path.strip_prefix("Payload/").unwrap_or(&bundle.path);
        if let Some(reason) = &bundle.info_error {
            out.push(Finding::error(
                "ITMS-90036",
                format!("{}/Info.plist", bundle.path),
                format!(
                    "This bundle is invalid. The Info.plist file for /{} is missing or could not be read. ({reason})",
                    bundle.path
                ),
                "Check the target's INFOPLIST_FILE build setting and that the Info.plist is valid (`plutil -lint`); \
                 for a third-party framework, use a release that ships its Info.plist.",
            ));
        }
        let Some(name) = bundle.executable_name.as_deref().filter(|n| !n.is_empty()) else {
            continue;
        };
        if !ctx.entries.contains(&format!("{}/{name}", bundle.path)) {
            out.push(Finding::error(
                "ITMS-90207",
                bundle.path.as_str(),
                format!("Invalid Bundle - The bundle at '{shown}' does not contain a bundle executable."),
                format!(
                    "CFBundleExecutable is '{name}' but there is no such file in the bundle: check the target's \
                     EXECUTABLE_NAME, and that no script removed or renamed the binary after the build."
                ),
            ));
        }
    }
}

/// Paths that are macOS metadata, collapsed: `__MACOSX/` once, every `._*` and `.DS_Store`.
fn junk_paths(names: &[String]) -> Vec<String> {
    let mut junk = BTreeSet::new();
    for name in names {
        if name.starts_with("__MACOSX/") || name == "__MACOSX" {
            junk.insert("__MACOSX/".to_string());
            continue;
        }
        let mut prefix_len = 0;
        for component in name.split('/') {
            prefix_len += component.len();
            if component.starts_with("._") || component == ".DS_Store" {
                junk.insert(name.get(..prefix_len).unwrap_or(name).to_string());
                break;
            }
            prefix_len += 1;
        }
    }
    junk.into_iter().collect()
}

fn check_junk(names: &[String], out: &mut Vec<Finding>) {
    let junk = junk_paths(names);
    if let Some(first) = junk.first() {
        out.push(Finding::error(
            "ITMS-90048",
            first.as_str(),
            format!(
                "This bundle is invalid - Your archive contains paths that are not allowed: [{}]",
                list(&junk)
            ),
            "Do not zip the IPA on macOS with Finder or `zip` from a folder with Finder metadata; use the .ipa \
             `xcodebuild -exportArchive` writes, or `ditto -c -k --norsrc --keepParent Payload App.ipa`.",
        ));
    }
}

fn top_level(name: &str) -> (&str, bool) {
    match name.split_once('/') {
        Some((top, _)) => (top, true),
        None => (name, false),
    }
}

fn check_root_entries(names: &[String], out: &mut Vec<Finding>) {
    let mut unknown = BTreeSet::new();
    let mut tolerated = BTreeSet::new();
    for name in names {
        let (top, is_dir) = top_level(name);
        if top.is_empty() || top == "__MACOSX" || top == ".DS_Store" || top.starts_with("._") {
            // Junk and absolute names have rules of their own.
            continue;
        }
        let shown = if is_dir { format!("{top}/") } else { top.to_string() };
        if TOLERATED_ROOT.contains(&top) {
            tolerated.insert(shown);
        } else if !(is_dir && ALLOWED_ROOT_DIRS.contains(&top)) {
            unknown.insert(shown);
        }
    }
    let unknown: Vec<String> = unknown.into_iter().collect();
    if let Some(first) = unknown.first() {
        out.push(Finding::error(
            "ITMS-90048",
            first.as_str(),
            format!("This bundle is invalid - Your archive contains paths that are not allowed: [{}]", list(&unknown)),
            "An IPA's root may hold only Payload/ and the support folders Xcode adds (SwiftSupport/, Symbols/, \
             BCSymbolMaps/, WatchKitSupport2/, MessagesApplicationExtensionSupport/). Remove the rest, or re-export from Xcode.",
        ));
    }
    for path in tolerated {
        out.push(Finding::warning(
            "ASC-ARCHIVE-EXTRA-ROOT",
            path.as_str(),
            format!(
                "{path} is added by iTunes, App Store downloads or re-signing tools; it does not belong in an upload."
            ),
            "Upload the .ipa Xcode exports rather than a downloaded or re-signed one, or remove this entry.",
        ));
    }
}

fn is_unsafe(name: &str) -> bool {
    let drive = name.as_bytes().get(1) == Some(&b':') && name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
    name.starts_with('/') || name.contains('\\') || drive || name.split('/').any(|c| c == "..")
}

fn check_paths(names: &[String], out: &mut Vec<Finding>) {
    let unsafe_names: Vec<String> = names.iter().filter(|n| is_unsafe(n)).cloned().collect();
    push_capped(out, &unsafe_names, |path| {
        Finding::error(
            "ASC-ARCHIVE-UNSAFE-PATH",
            path,
            format!("The entry name {path:?} is absolute, uses backslashes or climbs out of the archive with `..`."),
            "Rebuild the IPA with a zip tool that stores relative paths (the .ipa Xcode exports does).",
        )
    });
}

/// Findings only reading the archive reveals: entry metadata and the problems met while reading
/// data. The engine runs it after every other rule, so their reads count too.
pub fn check_integrity(archive: &Archive, out: &mut Vec<Finding>) {
    let symlinks: Vec<String> = archive
        .entries()
        .iter()
        .filter(|e| e.is_symlink)
        .map(|e| e.name.clone())
        .collect();
    push_capped(out, &symlinks, |path| {
        Finding::error(
            "ASC-ARCHIVE-SYMLINK",
            path,
            format!(
                "{path} is a symbolic link; iOS bundles contain none, and links inside an archive can point outside it."
            ),
            "Replace the link with the file it points to (for frameworks, embed the iOS flat framework, not a macOS versioned one).",
        )
    });
    let non_utf8: Vec<String> = archive
        .entries()
        .iter()
        .filter(|e| !e.utf8_name)
        .map(|e| e.name.clone())
        .collect();
    push_capped(out, &non_utf8, |path| {
        Finding::error(
            "ASC-ARCHIVE-NAME-ENCODING",
            path,
            format!("The entry name {path:?} is not valid UTF-8 (shown with replacement characters)."),
            "Rename the file with a UTF-8 name in the project and rebuild; re-export the IPA from Xcode.",
        )
    });
    if archive.has_duplicate_names() {
        out.push(Finding::error(
            "ASC-ARCHIVE-DUPLICATE-NAME",
            "",
            "The central directory lists the same entry name more than once; which copy is used depends on the tool reading it.",
            REEXPORT,
        ));
    }
    let overlaps = archive.overlaps();
    for overlap in overlaps.iter().take(FINDINGS_MAX) {
        out.push(Finding::error(
            "ASC-ARCHIVE-OVERLAP",
            overlap.second.as_str(),
            format!(
                "The data of {} overlaps {}: the archive is corrupt or crafted (overlapping entries are how zip bombs are built).",
                overlap.second, overlap.first
            ),
            REEXPORT,
        ));
    }
    for problem in archive.problems() {
        let (code, what) = match problem.kind {
            ProblemKind::Crc => ("ASC-ARCHIVE-CRC", "fails its CRC check"),
            ProblemKind::Inflate => ("ASC-ARCHIVE-INFLATE", "does not inflate to its declared size"),
            ProblemKind::Truncated | ProblemKind::Unsupported => ("ASC-ARCHIVE-ENTRY", "cannot be read"),
        };
        out.push(Finding::error(
            code,
            problem.name.as_str(),
            format!("{} {what}: {}.", problem.name, problem.detail),
            "The IPA is corrupt: rebuild it, and check that the CI step that stores or downloads it did not truncate or alter it.",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::ipa::{BundleSpec, Entry, IpaBuilder, Method};
    use crate::validate::testing::codes_for;

    #[test]
    fn a_clean_export_has_no_archive_findings() {
        let codes = codes_for(IpaBuilder::new().entry(Entry::directory("SwiftSupport/")));
        assert!(
            !codes.iter().any(|c| c.contains("ARCHIVE") || c == "ITMS-90048"),
            "{codes:?}"
        );
    }

    #[test]
    fn layout_problems_fire() {
        let nested = IpaBuilder::new().entry(Entry::bytes("MyApp/Payload/X.app/Info.plist", "x"));
        assert!(codes_for(nested).contains(&"ASC-ARCHIVE-NESTED-ROOT".to_string()));

        let empty = IpaBuilder::new()
            .app(BundleSpec::app("Demo", "com.example.demo"))
            .entry(Entry::bytes("Payload/Other.app/Info.plist", "x"))
            .entry(Entry::bytes("Payload/Demo.app/build/Debug/Old.app/x", "x"));
        let codes = codes_for(empty);
        assert!(codes.contains(&"ASC-ARCHIVE-MULTIPLE-APPS".to_string()), "{codes:?}");
        assert!(codes.contains(&"ASC-ARCHIVE-STRAY-APP".to_string()), "{codes:?}");
    }

    #[test]
    fn missing_info_plist_and_executable_fire() {
        let codes = codes_for(
            IpaBuilder::new()
                .framework(BundleSpec::framework("Kit", "com.example.kit").no_executable())
                .entry(Entry::bytes("Payload/Demo.app/PlugIns/Bare.appex/Bare", "x")),
        );
        assert!(codes.contains(&"ITMS-90036".to_string()), "{codes:?}");
        assert!(codes.contains(&"ITMS-90207".to_string()), "{codes:?}");
        let codes = codes_for(IpaBuilder::new().framework(BundleSpec::framework("Kit", "com.example.kit")));
        assert!(
            !codes.iter().any(|c| c == "ITMS-90036" || c == "ITMS-90207"),
            "{codes:?}"
        );
    }

    #[test]
    fn no_app_at_all_fires() {
        let names = vec!["Readme.txt".to_string()];
        let mut out = Vec::new();
        check_layout(&names, &mut out);
        assert_eq!(out.first().map(|f| f.code.as_str()), Some("ASC-ARCHIVE-NO-APP"));
    }

    #[test]
    fn junk_uses_apples_wording_and_collapses_macosx() {
        let names: Vec<String> = [
            "__MACOSX/Payload/._Demo.app",
            "__MACOSX/x",
            "Payload/Demo.app/.DS_Store",
            "Payload/._Symbols",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut out = Vec::new();
        check_junk(&names, &mut out);
        let f = out.first().expect("a finding");
        assert_eq!(f.code, "ITMS-90048");
        assert_eq!(
            f.message,
            "This bundle is invalid - Your archive contains paths that are not allowed: \
             [Payload/._Symbols, Payload/Demo.app/.DS_Store, __MACOSX/]"
        );
    }

    #[test]
    fn root_allow_list() {
        let names: Vec<String> = [
            "Payload/A.app/x",
            "Symbols/x",
            "iTunesMetadata.plist",
            "build.log",
            "Extra/x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut out = Vec::new();
        check_root_entries(&names, &mut out);
        let errors: Vec<&str> = out
            .iter()
            .filter(|f| f.is_error())
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].ends_with("[Extra/, build.log]"), "{errors:?}");
        assert!(out.iter().any(|f| f.code == "ASC-ARCHIVE-EXTRA-ROOT" && !f.is_error()));
    }

    #[test]
    fn unsafe_paths() {
        for bad in ["/etc/passwd", "Payload/../../x", "C:/x", "Payload\\X.app\\Info.plist"] {
            assert!(is_unsafe(bad), "{bad}");
        }
        for good in ["Payload/X.app/Info.plist", "Payload/X..app/a..b"] {
            assert!(!is_unsafe(good), "{good}");
        }
    }

    #[test]
    fn symlinks_and_integrity_fire() {
        let codes = codes_for(
            IpaBuilder::new()
                .entry(Entry::symlink("Payload/Demo.app/link", "/etc/passwd"))
                .entry(Entry::raw_name(b"Payload/Demo.app/\xff\xfe.txt", "x").method(Method::Stored)),
        );
        assert!(codes.contains(&"ASC-ARCHIVE-SYMLINK".to_string()), "{codes:?}");
        assert!(codes.contains(&"ASC-ARCHIVE-NAME-ENCODING".to_string()), "{codes:?}");
    }
}
