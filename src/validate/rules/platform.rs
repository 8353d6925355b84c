//! Rules: the app's platform — the three places a bundle names it agree (`DTPlatformName`,
//! `UIDeviceFamily`, the executable's `LC_BUILD_VERSION`), and what tvOS and visionOS apps need
//! beyond the iOS rules: their icons, top shelf image, device capabilities and deployment target.
//!
//! Codes: ITMS-90471 ("Missing Image Asset. Your app is missing the App Store Icon asset") is the
//! code App Store Connect returns for a tvOS app without its App Store icon (reported in
//! github.com/meshtastic/Meshtastic-Apple/pull/2271 and expo/expo#44969); ITMS-90362 is Apple's
//! code for a MinimumOSVersion below the floor, whatever the platform. Apple documents no code for
//! a platform mismatch, a missing top shelf image, a visionOS icon declaration or an impossible
//! device capability: those are `ASC-` codes. Simulator builds are refused by the Info.plist rule
//! (ITMS-90542, `DTPlatformName …simulator`) and the Mach-O rule (ITMS-90087, simulator slices).

use plist::{Dictionary, Value};

use crate::ipa::{Bundle, Inspection, Platform, PlatformEvidence};
use crate::validate::Finding;
use crate::validate::context::RuleContext;
use crate::validate::rules::info_plist::{in_watch_app, info_path};
use crate::validate::rules::sdk::Version;

/// The first release of each platform: no MinimumOSVersion below it exists (ITMS-90362).
const TVOS_MINIMUM_OS_FLOOR: Version = Version([9, 0, 0]);
const VISIONOS_MINIMUM_OS_FLOOR: Version = Version([1, 0, 0]);

/// `UIRequiredDeviceCapabilities` values naming hardware the platform's devices never have, so the
/// App Store would offer the app to no device at all.
const TVOS_IMPOSSIBLE: &[&str] = &[
    "telephony",
    "sms",
    "still-camera",
    "auto-focus-camera",
    "front-facing-camera",
    "camera-flash",
    "video-camera",
    "gps",
    "magnetometer",
    "nfc",
    "healthkit",
    "arkit",
];
const VISIONOS_IMPOSSIBLE: &[&str] = &["telephony", "sms", "camera-flash", "gps", "nfc"];

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let Some(app) = ctx.ipa.main_app() else { return };
    let Some(info) = &app.info else { return };
    let path = info_path(app);
    let evidence = app.platform_evidence();
    consistency(app, &evidence, out);
    let platform = ctx.ipa.app.platform;
    nested_platforms(ctx.ipa, platform, out);
    match platform {
        Platform::TvOs => {
            tvos_icon(ctx, app, info, &path, out);
            tvos_top_shelf(info, &path, out);
        }
        Platform::VisionOs => visionos_icon(info, &path, out),
        Platform::Ios | Platform::MacOs => return,
    }
    capabilities(platform, info, &path, out);
    minimum_os(platform, info, &path, out);
}

/// The three sources must name one platform. A disagreement means the build mixes SDKs (an iOS
/// binary in a tvOS bundle, a hand-edited Info.plist): App Store Connect would process it as the
/// platform `DTPlatformName` names and reject or mis-file it.
fn consistency(app: &Bundle, e: &PlatformEvidence, out: &mut Vec<Finding>) {
    let dt = e.from_dt();
    let families = e.from_families();
    let build = e.from_build();
    let sdk_sources_differ = matches!((dt, build), (Some(a), Some(b)) if a != b);
    // A target with several destinations may list other platforms' families too (e.g. `1,2,7`):
    // what matters is that the platform the SDK and the binary name is among them.
    let agreed = dt.or(build);
    let families_miss = !e.device_families.is_empty()
        && agreed.is_some_and(|p| !e.device_families.iter().any(|f| family_platform(*f) == Some(p)));
    if !sdk_sources_differ && !families_miss {
        return;
    }
    let name = |p: Option<Platform>| p.map_or("no known platform", Platform::display_name);
    let dt_text = match &e.dt_platform_name {
        Some(v) => format!("DTPlatformName '{v}' says {}", name(dt)),
        None => "DTPlatformName is missing".to_string(),
    };
    let families_text = if e.device_families.is_empty() {
        "UIDeviceFamily is missing".to_string()
    } else {
        let list: Vec<String> = e.device_families.iter().map(u64::to_string).collect();
        let verdict = match families {
            Some(p) => format!("says {}", p.display_name()),
            None if e.device_families.iter().any(|f| family_platform(*f).is_some()) => "mixes platforms".to_string(),
            None => "names no device of a known platform".to_string(),
        };
        format!("UIDeviceFamily [{}] {verdict}", list.join(", "))
    };
    let build_text = match &e.build_version {
        Some((v, n)) => format!("the executable's build-version platform {v} ({n}) says {}", name(build)),
        None => "the executable has no build-version load command".to_string(),
    };
    out.push(Finding::error(
        "ASC-PLATFORM-MISMATCH",
        info_path(app),
        format!(
            "The bundle '{}' names more than one platform: {dt_text}; {families_text}; {build_text}.",
            app.path
        ),
        "Archive the app with one SDK: select the tvOS, visionOS or iOS destination of the app's own target, keep \
         TARGETED_DEVICE_FAMILY to that platform's devices (iPhone/iPad 1,2; Apple TV 3; Apple Vision 7), and link \
         only frameworks built for that platform.",
    ));
}

/// Extensions, frameworks and app clips run on the app's platform: an executable built for
/// another one (an iOS framework in a tvOS app) cannot load. Watch apps and what they contain are
/// watchOS by design; simulator slices are ITMS-90087's.
fn nested_platforms(ipa: &Inspection, platform: Platform, out: &mut Vec<Finding>) {
    for bundle in ipa.bundles.iter().skip(1) {
        if !bundle.kind.is_code_bundle() || in_watch_app(ipa, bundle) {
            continue;
        }
        let Some(exe) = &bundle.executable else { continue };
        let Some(binary) = exe.ok() else { continue };
        let Some(build) = binary.slices.iter().find_map(|s| s.build.as_ref()) else {
            continue;
        };
        let Some((found, _simulator)) = Platform::from_build_platform(build.platform) else {
            continue;
        };
        if found == platform {
            continue;
        }
        out.push(Finding::error(
            "ASC-PLATFORM-MISMATCH",
            &exe.path,
            format!(
                "The executable of '{}' was built for {} (build-version platform {} ({})), but the app is a {} app.",
                bundle.path,
                found.display_name(),
                build.platform,
                build.platform_name,
                platform.display_name()
            ),
            format!(
                "Use the {} build of this extension or framework (the matching slice of its XCFramework), and \
                 archive every target of the app for the same platform.",
                platform.display_name()
            ),
        ));
    }
}

/// The platform a `UIDeviceFamily` value belongs to.
fn family_platform(family: u64) -> Option<Platform> {
    Platform::from_device_families(&[family])
}

fn non_empty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_string).map(str::trim).filter(|s| !s.is_empty())
}

/// The primary icon name: tvOS writes `CFBundleIcons.CFBundlePrimaryIcon` as the brand-assets
/// name (a string), visionOS as a dictionary with `CFBundleIconName`; either form is read.
fn primary_icon_name(info: &Dictionary) -> Option<&str> {
    let primary = info.get("CFBundleIcons")?.as_dictionary()?.get("CFBundlePrimaryIcon")?;
    non_empty(Some(primary))
        .or_else(|| non_empty(primary.as_dictionary()?.get("CFBundleIconName")))
        .or_else(|| non_empty(info.get("CFBundleIconName")))
}

/// ITMS-90471: a tvOS app's icon (with its App Store rendition) lives in the compiled asset
/// catalog under the name `CFBundlePrimaryIcon` gives.
fn tvos_icon(ctx: &RuleContext, app: &Bundle, info: &Dictionary, path: &str, out: &mut Vec<Finding>) {
    let car_path = format!("{}/Assets.car", app.path);
    let fix = "Add an 'App Icon & Top Shelf Image' brand-assets set to the tvOS target's asset catalog (App Icon, \
               App Icon - App Store, Top Shelf Image, Top Shelf Image Wide) and set ASSETCATALOG_COMPILER_APPICON_NAME \
               to its name.";
    let message =
        |detail: String| format!("Missing Image Asset. Your app is missing the App Store Icon asset. ({detail})");
    let Some(name) = primary_icon_name(info) else {
        out.push(Finding::error(
            "ITMS-90471",
            path,
            message("Info.plist has no CFBundleIcons.CFBundlePrimaryIcon naming the app icon.".into()),
            fix,
        ));
        return;
    };
    if !ctx.entries.contains(&car_path) {
        out.push(Finding::error(
            "ITMS-90471",
            &car_path,
            message(format!(
                "The bundle has no compiled asset catalog (Assets.car) to hold '{name}'."
            )),
            fix,
        ));
        return;
    }
    let names = match ctx
        .entries
        .read(&car_path, crate::ipa::assets_car::MAX_ASSETS_CAR_BYTES)
    {
        Ok(bytes) => crate::ipa::assets_car::names(&bytes).ok(),
        Err(_) => None,
    };
    // A warning, as for iOS icons: our catalog reader is not proven against every Xcode's output.
    if let Some(names) = names
        && !names.iter().any(|n| n == name)
    {
        out.push(Finding::warning(
            "ITMS-90471",
            &car_path,
            message(format!("The asset catalog holds no image stack named '{name}'.")),
            fix,
        ));
    }
}

/// Every tvOS app must provide a top shelf image (Apple's Human Interface Guidelines, "Top shelf").
/// Apple's rejection code for it is not documented, hence a warning with our own code.
fn tvos_top_shelf(info: &Dictionary, path: &str, out: &mut Vec<Finding>) {
    let shelf = info.get("TVTopShelfImage").and_then(Value::as_dictionary);
    let named = shelf.is_some_and(|d| {
        non_empty(d.get("TVTopShelfPrimaryImage")).is_some() || non_empty(d.get("TVTopShelfPrimaryImageWide")).is_some()
    });
    if !named {
        out.push(Finding::warning(
            "ASC-TVOS-TOP-SHELF",
            path,
            "The tvOS app declares no top shelf image (TVTopShelfImage.TVTopShelfPrimaryImage / \
             TVTopShelfPrimaryImageWide), which every tvOS app must provide.",
            "Add 'Top Shelf Image' and 'Top Shelf Image Wide' to the app's brand-assets set in the asset catalog; \
             Xcode then writes TVTopShelfImage into the Info.plist.",
        ));
    }
}

/// A visionOS app names its (layered) icon in `CFBundleIcons.CFBundlePrimaryIcon`.
fn visionos_icon(info: &Dictionary, path: &str, out: &mut Vec<Finding>) {
    if primary_icon_name(info).is_none() {
        out.push(Finding::error(
            "ASC-VISIONOS-ICON",
            path,
            "The visionOS app names no app icon: Info.plist has no CFBundleIcons.CFBundlePrimaryIcon.",
            "Add a visionOS App Icon (a solid image stack with front, middle and back layers) to the target's asset \
             catalog and set ASSETCATALOG_COMPILER_APPICON_NAME to its name.",
        ));
    }
}

/// `UIRequiredDeviceCapabilities` (array or dictionary form) naming hardware no device of the
/// platform has: the App Store would offer the app to nobody.
fn capabilities(platform: Platform, info: &Dictionary, path: &str, out: &mut Vec<Finding>) {
    let impossible = if platform == Platform::TvOs {
        TVOS_IMPOSSIBLE
    } else {
        VISIONOS_IMPOSSIBLE
    };
    let required: Vec<&str> = match info.get("UIRequiredDeviceCapabilities") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_string).collect(),
        Some(Value::Dictionary(d)) => d
            .iter()
            .filter(|(_, v)| v.as_boolean() == Some(true))
            .map(|(k, _)| k.as_str())
            .collect(),
        _ => return,
    };
    let bad: Vec<&str> = required.into_iter().filter(|c| impossible.contains(c)).collect();
    if bad.is_empty() {
        return;
    }
    out.push(Finding::warning(
        "ASC-PLATFORM-CAPABILITY",
        path,
        format!(
            "UIRequiredDeviceCapabilities requires [{}], which no {} device has: the App Store would offer the app \
             to no device.",
            bad.join(", "),
            platform.display_name()
        ),
        format!(
            "Remove [{}] from UIRequiredDeviceCapabilities of the {} target (they are usually copied from an iOS \
             target's Info.plist).",
            bad.join(", "),
            platform.display_name()
        ),
    ));
}

/// ITMS-90362 for tvOS and visionOS: the deployment target cannot predate the platform. (Missing,
/// empty and malformed values are reported by the Info.plist rules for every platform.)
fn minimum_os(platform: Platform, info: &Dictionary, path: &str, out: &mut Vec<Finding>) {
    let floor = if platform == Platform::TvOs {
        TVOS_MINIMUM_OS_FLOOR
    } else {
        VISIONOS_MINIMUM_OS_FLOOR
    };
    let Some(v) = non_empty(info.get("MinimumOSVersion")).and_then(Version::parse) else {
        return;
    };
    if v >= floor {
        return;
    }
    let os = platform.display_name();
    out.push(Finding::error(
        "ITMS-90362",
        path,
        format!(
            "Invalid Info.plist value. The value for the key 'MinimumOSVersion' in bundle {} is invalid. The minimum \
             value is {floor}",
            path.strip_prefix("Payload/")
                .unwrap_or(path)
                .trim_end_matches("/Info.plist")
        ),
        format!("Set the {os} deployment target to {floor} or later (e.g. the SDK's current major version)."),
    ));
}

#[cfg(test)]
#[path = "platform_tests.rs"]
mod tests;
