//! Rules: app icons — `CFBundleIconName` is declared (ITMS-90713), the compiled asset catalog
//! (`Assets.car`) exists and holds that icon (ITMS-90704), and legacy `CFBundleIconFiles` resolve to
//! files in the bundle (ITMS-90032). Applies to the app and to app clips.
//!
//! Severity choices: a missing `CFBundleIconName`, a missing `Assets.car` and an unresolved icon
//! file are certain rejections, so errors. An icon name absent from a catalog we could read is a
//! warning: our BOM reader is exercised against our own writer, not yet against every Xcode
//! version's output, and a false error would block a good build. An unreadable catalog is a
//! warning for the same reason. iOS only: tvOS and visionOS icons are declared differently.

use plist::{Dictionary, Value};

use crate::ipa::assets_car::{self, MAX_ASSETS_CAR_BYTES};
use crate::ipa::{Bundle, BundleKind, Platform};
use crate::validate::Finding;
use crate::validate::context::RuleContext;

const ICON_SETS: [&str; 2] = ["CFBundleIcons", "CFBundleIcons~ipad"];

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    // tvOS and visionOS declare icons differently (brand assets, layered image stacks).
    if ctx.ipa.app.platform != Platform::Ios {
        return;
    }
    let mut entry_names = None;
    for bundle in &ctx.ipa.bundles {
        if !matches!(bundle.kind, BundleKind::App | BundleKind::AppClip) {
            continue;
        }
        let Some(info) = &bundle.info else { continue };
        let names = entry_names.get_or_insert_with(|| ctx.entries.names());
        check_bundle(ctx, bundle, info, names, out);
    }
}

/// The primary icon dictionaries (`CFBundleIcons[~ipad].CFBundlePrimaryIcon`).
fn primary_icons(info: &Dictionary) -> impl Iterator<Item = &Dictionary> {
    ICON_SETS.into_iter().filter_map(|set| {
        info.get(set)?
            .as_dictionary()?
            .get("CFBundlePrimaryIcon")?
            .as_dictionary()
    })
}

fn non_empty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_string).map(str::trim).filter(|s| !s.is_empty())
}

fn icon_names(info: &Dictionary) -> Vec<&str> {
    let mut names: Vec<&str> = primary_icons(info)
        .filter_map(|icon| non_empty(icon.get("CFBundleIconName")))
        .chain(non_empty(info.get("CFBundleIconName")))
        .collect();
    names.dedup();
    names
}

fn icon_files(info: &Dictionary) -> Vec<&str> {
    let lists = primary_icons(info)
        .filter_map(|icon| icon.get("CFBundleIconFiles"))
        .chain(info.get("CFBundleIconFiles"));
    let mut files: Vec<&str> = lists
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|v| non_empty(Some(v)))
        .chain(non_empty(info.get("CFBundleIconFile")))
        .collect();
    files.sort_unstable();
    files.dedup();
    files
}

/// What reading the bundle's `Assets.car` gave.
enum Catalog {
    Missing,
    Unreadable(String),
    Names(Vec<String>),
}

fn read_catalog(ctx: &RuleContext, bundle: &Bundle) -> Catalog {
    let path = format!("{}/Assets.car", bundle.path);
    if !ctx.entries.contains(&path) {
        return Catalog::Missing;
    }
    // Whole when it fits the memory cap; otherwise (large games' catalogs) streamed in passes.
    let names = match ctx.entries.read(&path, MAX_ASSETS_CAR_BYTES) {
        Ok(bytes) => assets_car::names(&bytes),
        Err(_) => assets_car::names_streamed(|sink| ctx.entries.stream(&path, sink)),
    };
    match names {
        Ok(names) => Catalog::Names(names),
        Err(e) => Catalog::Unreadable(e.to_string()),
    }
}

fn check_bundle(ctx: &RuleContext, bundle: &Bundle, info: &Dictionary, entry_names: &[String], out: &mut Vec<Finding>) {
    let plist_path = format!("{}/Info.plist", bundle.path);
    let car_path = format!("{}/Assets.car", bundle.path);
    let display = bundle.path.strip_prefix("Payload/").unwrap_or(&bundle.path);
    let names = icon_names(info);
    let files = icon_files(info);
    let catalog = if names.is_empty() && files.is_empty() {
        Catalog::Missing // not needed: nothing to look up
    } else {
        read_catalog(ctx, bundle)
    };

    if names.is_empty() {
        out.push(Finding::error(
            "ITMS-90713",
            &plist_path,
            format!(
                "Missing Info.plist value. A value for the Info.plist key 'CFBundleIconName' is missing in the bundle \
                 '{display}'. Apps built with iOS 11 or later SDK must supply app icons in an asset catalog and must \
                 also provide a value for this Info.plist key."
            ),
            "Add an AppIcon set to the target's asset catalog and set ASSETCATALOG_COMPILER_APPICON_NAME = AppIcon \
             (Xcode then writes CFBundleIconName into the Info.plist).",
        ));
    }

    let missing_icon = |detail: String| {
        format!(
            "Missing App Icon. An app icon measuring 1024 by 1024 pixels in PNG format must be included in the Asset \
             Catalog of apps built for iOS, iPadOS, or watchOS. ({detail})"
        )
    };
    let catalog_fix = "Add the app icon (with its 1024×1024 App Store image) to the asset catalog, make sure the \
                       catalog is in the target's Copy Bundle Resources, and that ASSETCATALOG_COMPILER_APPICON_NAME \
                       matches CFBundleIconName.";
    if !names.is_empty() {
        match &catalog {
            Catalog::Missing => out.push(Finding::error(
                "ITMS-90704",
                &car_path,
                missing_icon(format!(
                    "The bundle '{display}' has no compiled asset catalog (Assets.car)."
                )),
                catalog_fix,
            )),
            Catalog::Unreadable(why) => out.push(Finding::warning(
                "ASC-ASSETS-CAR-UNREADABLE",
                &car_path,
                format!("The asset catalog could not be read, so the app icon was not checked: {why}."),
                "Rebuild the app with Xcode; if this persists with a good build, report it with the Xcode version.",
            )),
            Catalog::Names(in_car) => {
                for name in names.iter().filter(|n| !in_car.iter().any(|c| c == *n)) {
                    out.push(Finding::warning(
                        "ITMS-90704",
                        &car_path,
                        missing_icon(format!(
                            "CFBundleIconName is '{name}', but Assets.car has no asset with that name."
                        )),
                        catalog_fix,
                    ));
                }
            }
        }
    }

    let in_car: &[String] = match &catalog {
        Catalog::Names(n) => n,
        _ => &[],
    };
    for file in files {
        if !icon_file_exists(&bundle.path, file, entry_names) && !in_car.iter().any(|c| c == file) {
            out.push(Finding::error(
                "ITMS-90032",
                &plist_path,
                format!(
                    "Invalid Image Path - No image found at the path referenced under key 'CFBundleIcons': '{file}'"
                ),
                format!(
                    "Remove '{file}' from CFBundleIconFiles, or ship the image (e.g. {file}@2x.png) in the bundle; \
                     with an asset catalog, let Xcode generate these keys."
                ),
            ));
        }
    }
}

/// `name{,@2x,@3x}{,~ipad}.png` (or the name as written) directly in the bundle.
fn icon_file_exists(bundle: &str, file: &str, entry_names: &[String]) -> bool {
    let base = file.strip_suffix(".png").unwrap_or(file);
    let is_variant = |rel: &str| {
        if rel == file {
            return true;
        }
        let Some(stem) = rel.strip_prefix(base).and_then(|r| r.strip_suffix(".png")) else {
            return false;
        };
        let stem = stem.strip_suffix("~ipad").unwrap_or(stem);
        matches!(stem, "" | "@2x" | "@3x")
    };
    entry_names
        .iter()
        .filter_map(|e| e.strip_prefix(bundle)?.strip_prefix('/'))
        .any(is_variant)
}

#[cfg(test)]
mod tests {
    use plist::Value;

    use super::check;
    use crate::ipa::BundleKind;
    use crate::ipa::assets_car::testing::write_car;
    use crate::validate::Severity;
    use crate::validate::rules::info_plist::testutil::{TestIpa, app_info, dict, none, one, strings, today};

    const APP: &str = "Payload/App.app";
    const PLIST: &str = "Payload/App.app/Info.plist";
    const CAR: &str = "Payload/App.app/Assets.car";

    fn app(edit: impl FnOnce(&mut plist::Dictionary)) -> TestIpa {
        let mut info = app_info("com.example.app");
        edit(&mut info);
        TestIpa::new().app(APP, info)
    }

    fn legacy_files(names: &[&str]) -> Value {
        dict(vec![(
            "CFBundlePrimaryIcon",
            dict(vec![("CFBundleIconFiles", strings(names))]),
        )])
    }

    #[test]
    fn an_app_with_its_icon_in_the_catalog_passes() {
        let f = app(|_| {}).run(check, today());
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn missing_icon_name_fires_and_every_declaration_place_counts() {
        let f = app(|i| drop(i.remove("CFBundleIcons"))).run(check, today());
        one(&f, "ITMS-90713", Severity::Error, PLIST);
        let top_level = app(|i| {
            i.remove("CFBundleIcons");
            i.insert("CFBundleIconName".into(), "AppIcon".into());
        });
        assert!(top_level.run(check, today()).is_empty());
        let ipad_only = app(|i| {
            let icons = i.remove("CFBundleIcons").unwrap();
            i.insert("CFBundleIcons~ipad".into(), icons);
        });
        assert!(ipad_only.run(check, today()).is_empty());
    }

    #[test]
    fn app_clips_are_checked_and_extensions_are_not() {
        let mut clip = app_info("com.example.app.Clip");
        clip.remove("CFBundleIcons");
        let mut ext = app_info("com.example.app.share");
        ext.remove("CFBundleIcons");
        let f = app(|_| {})
            .bundle("Payload/App.app/AppClips/Clip.app", BundleKind::AppClip, Some(0), clip)
            .bundle(
                "Payload/App.app/PlugIns/Share.appex",
                BundleKind::AppExtension,
                Some(0),
                ext,
            )
            .run(check, today());
        one(
            &f,
            "ITMS-90713",
            Severity::Error,
            "Payload/App.app/AppClips/Clip.app/Info.plist",
        );
    }

    #[test]
    fn tvos_apps_are_not_checked() {
        let f = app(|i| {
            i.remove("CFBundleIcons");
            i.insert("DTPlatformName".into(), "appletvos".into());
        })
        .run(check, today());
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn a_missing_catalog_is_an_error() {
        let f = app(|_| {}).without(CAR).run(check, today());
        let hit = one(&f, "ITMS-90704", Severity::Error, CAR);
        assert!(hit.message.contains("no compiled asset catalog"), "{}", hit.message);
    }

    #[test]
    fn a_catalog_without_the_icon_is_a_warning() {
        let f = app(|_| {})
            .file(CAR, write_car(&["AccentColor", "Logo"], 4))
            .run(check, today());
        let hit = one(&f, "ITMS-90704", Severity::Warning, CAR);
        assert!(hit.message.contains("'AppIcon'"), "{}", hit.message);
    }

    #[test]
    fn a_catalog_too_large_to_read_whole_is_streamed() {
        let found = app(|_| {}).whole_read_cap(16).run(check, today());
        assert!(found.is_empty(), "{found:#?}");
        let lacking = app(|_| {})
            .file(CAR, write_car(&["Logo"], 4))
            .whole_read_cap(16)
            .run(check, today());
        one(&lacking, "ITMS-90704", Severity::Warning, CAR);
    }

    #[test]
    fn an_unreadable_catalog_is_a_warning() {
        let f = app(|_| {})
            .file(CAR, b"garbage, not a BOM".to_vec())
            .run(check, today());
        one(&f, "ASC-ASSETS-CAR-UNREADABLE", Severity::Warning, CAR);
        none(&f, "ITMS-90704");
    }

    #[test]
    fn legacy_icon_files_must_resolve() {
        let declare = |i: &mut plist::Dictionary| {
            i.insert(
                "CFBundleIcons~ipad".into(),
                legacy_files(&["AppIcon60x60", "AppIcon76x76"]),
            );
        };
        let f = app(declare)
            .file("Payload/App.app/AppIcon60x60@2x.png", b"png".to_vec())
            .run(check, today());
        let hit = one(&f, "ITMS-90032", Severity::Error, PLIST);
        assert!(hit.message.contains("'AppIcon76x76'"), "{}", hit.message);

        let ok = app(declare)
            .file("Payload/App.app/AppIcon60x60@2x.png", b"png".to_vec())
            .file("Payload/App.app/AppIcon76x76@2x~ipad.png", b"png".to_vec())
            .run(check, today());
        none(&ok, "ITMS-90032");
        // A name the catalog holds resolves too; a file in a subfolder does not.
        let in_car = app(|i| {
            i.insert("CFBundleIconFiles".into(), strings(&["AppIcon"]));
        });
        none(&in_car.run(check, today()), "ITMS-90032");
        let nested = app(|i| {
            i.insert("CFBundleIconFiles".into(), strings(&["Icon"]));
        })
        .file("Payload/App.app/Sub/Icon.png", b"png".to_vec());
        one(&nested.run(check, today()), "ITMS-90032", Severity::Error, PLIST);
    }
}
