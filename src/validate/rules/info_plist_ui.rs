//! Rules: the app-level Info.plist keys — iPad multitasking (orientations, launch storyboard), URL
//! schemes, background processing, purpose strings, device capabilities and export compliance.

use plist::Value;

use super::Target;
use crate::ipa::{BundleKind, Platform};
use crate::validate::Finding;
use crate::validate::context::RuleContext;
use crate::validate::rules::sdk::Version;

const ORIENTATIONS: [&str; 4] = [
    "UIInterfaceOrientationPortrait",
    "UIInterfaceOrientationPortraitUpsideDown",
    "UIInterfaceOrientationLandscapeLeft",
    "UIInterfaceOrientationLandscapeRight",
];

pub(super) fn check(ctx: &RuleContext, t: &Target, entry_names: &[String], out: &mut Vec<Finding>) {
    let kind = t.bundle.kind;
    if matches!(kind, BundleKind::App | BundleKind::AppClip) && !t.watch {
        ipad_multitasking(t, entry_names, out);
    }
    url_schemes(t, out);
    background_processing(t, out);
    purpose_strings(t, out);
    if !t.watch && kind != BundleKind::Framework {
        device_capabilities(t, out);
    }
    let is_main_app = ctx.ipa.main_app().is_some_and(|app| std::ptr::eq(app, t.bundle));
    if is_main_app {
        export_compliance(t, out);
    }
}

/// A key with its `~ipad` variant taking precedence, as iPadOS reads them.
fn ipad_value<'a>(t: &'a Target, key: &str) -> Option<&'a Value> {
    t.info.get(&format!("{key}~ipad")).or_else(|| t.info.get(key))
}

fn supports_ipad(t: &Target) -> bool {
    let Some(families) = t.info.get("UIDeviceFamily").and_then(Value::as_array) else {
        return false;
    };
    families
        .iter()
        .any(|v| v.as_unsigned_integer() == Some(2) || v.as_string().is_some_and(|s| s.trim() == "2"))
}

/// ITMS-90474 / ITMS-90475. `UIRequiresFullScreen` opts out of multitasking; Apple deprecates it
/// with the iOS 26 SDK (TN3192), so this rule may need a dated variant once Apple's checks change.
fn ipad_multitasking(t: &Target, entry_names: &[String], out: &mut Vec<Finding>) {
    if !supports_ipad(t) {
        return;
    }
    if ipad_value(t, "UIRequiresFullScreen").and_then(Value::as_boolean) == Some(true) {
        return;
    }
    let provided: Vec<&str> = ipad_value(t, "UISupportedInterfaceOrientations")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_string).collect())
        .unwrap_or_default();
    if !ORIENTATIONS.iter().all(|o| provided.contains(o)) {
        out.push(Finding::error(
            "ITMS-90474",
            &t.path,
            format!(
                "Invalid bundle. The '{}' orientations were provided for the UISupportedInterfaceOrientations \
                 Info.plist key in the {} bundle, but you need to include all of the '{}' orientations to support \
                 iPad multitasking.",
                provided.join(","),
                t.name,
                ORIENTATIONS.join(",")
            ),
            "Add all four orientations to UISupportedInterfaceOrientations~ipad, or set UIRequiresFullScreen to \
             true if the app cannot run in Split View.",
        ));
    }
    if ipad_value(t, "UILaunchScreen").is_some_and(|v| v.as_dictionary().is_some()) {
        return;
    }
    let storyboard = ipad_value(t, "UILaunchStoryboardName")
        .and_then(Value::as_string)
        .filter(|s| !s.trim().is_empty());
    if storyboard.is_some_and(|name| has_compiled_storyboard(&t.bundle.path, name, entry_names)) {
        return;
    }
    let detail = match storyboard {
        Some(name) => format!(" (UILaunchStoryboardName '{name}' has no compiled {name}.storyboardc in the bundle)"),
        None => String::new(),
    };
    out.push(Finding::error(
        "ITMS-90475",
        &t.path,
        format!(
            "Invalid Bundle. iPad Multitasking support requires launch storyboard in bundle '{}'.{detail}",
            t.name
        ),
        "Add a launch screen: a LaunchScreen.storyboard named by UILaunchStoryboardName, or a UILaunchScreen \
         dictionary in the Info.plist.",
    ));
}

/// `Name.storyboardc` (or a `Name.nib`, as older Xcode compiled launch screens) at the bundle root
/// or in a localisation folder.
fn has_compiled_storyboard(bundle: &str, name: &str, entry_names: &[String]) -> bool {
    let root = format!("{bundle}/");
    entry_names.iter().any(|entry| {
        let Some(rel) = entry.strip_prefix(&root) else {
            return false;
        };
        let rel = match rel.split_once('/') {
            Some((dir, rest)) if dir.ends_with(".lproj") => rest,
            _ => rel,
        };
        let first = rel.split('/').next().unwrap_or_default();
        first
            .strip_suffix(".storyboardc")
            .or_else(|| first.strip_suffix(".nib"))
            == Some(name)
    })
}

/// `^[A-Za-z][A-Za-z0-9.+-]*$` (RFC 1738 scheme syntax, as ITMS-90158 words it).
fn valid_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'))
}

fn url_schemes(t: &Target, out: &mut Vec<Finding>) {
    let Some(types) = t.info.get("CFBundleURLTypes").and_then(Value::as_array) else {
        return;
    };
    let bad: Vec<String> = types
        .iter()
        .filter_map(Value::as_dictionary)
        .filter_map(|d| d.get("CFBundleURLSchemes").and_then(Value::as_array))
        .flatten()
        .map(|v| v.as_string().unwrap_or("<not a string>"))
        .filter(|s| !valid_scheme(s))
        .map(str::to_string)
        .collect();
    if bad.is_empty() {
        return;
    }
    out.push(Finding::error(
        "ITMS-90158",
        &t.path,
        format!(
            "The following URL schemes found in your app are not in the correct format: [{}]. URL schemes need to \
             begin with an alphabetic character, and be comprised of alphanumeric characters, the period, the hyphen \
             or the plus sign only. Please see RFC1738 for more detail.",
            bad.join(", ")
        ),
        "In CFBundleURLTypes › CFBundleURLSchemes, keep only the scheme (no `://` or path), starting with a letter; \
         replace placeholders such as YOUR_APP_ID or $(VAR) with real values.",
    ));
}

fn background_processing(t: &Target, out: &mut Vec<Finding>) {
    let modes = t.info.get("UIBackgroundModes").and_then(Value::as_array);
    if !modes.is_some_and(|m| m.iter().any(|v| v.as_string() == Some("processing"))) {
        return;
    }
    let identifiers = t
        .info
        .get("BGTaskSchedulerPermittedIdentifiers")
        .and_then(Value::as_array);
    if identifiers.is_some_and(|ids| ids.iter().any(|v| v.as_string().is_some_and(|s| !s.is_empty()))) {
        return;
    }
    out.push(Finding::error(
        "ITMS-90771",
        &t.path,
        format!(
            "The Info.plist key 'BGTaskSchedulerPermittedIdentifiers' must contain a list of identifiers used to \
             submit and handle tasks when 'UIBackgroundModes' has a value of 'processing' (bundle {}).",
            t.name
        ),
        "List the BGTaskScheduler task identifiers the app registers under BGTaskSchedulerPermittedIdentifiers, or \
         remove `processing` from UIBackgroundModes.",
    ));
}

/// ITMS-90683, presence half: a purpose string that is present must say something. (Whether one is
/// required depends on the APIs the binary uses, which this rule does not guess.)
fn purpose_strings(t: &Target, out: &mut Vec<Finding>) {
    for (key, value) in t.info {
        if !(key.starts_with("NS") && key.ends_with("UsageDescription")) {
            continue;
        }
        if value.as_string().is_some_and(|s| !s.trim().is_empty()) {
            continue;
        }
        out.push(Finding::error(
            "ITMS-90683",
            &t.path,
            format!(
                "Missing purpose string in Info.plist - The app's Info.plist file should contain a {key} key with a \
                 user-facing purpose string explaining clearly and completely why your app needs the data \
                 (bundle {}: the value is empty or not a string).",
                t.name
            ),
            format!("Write a sentence for {key} explaining what the app uses the data for, or remove the key."),
        ));
    }
}

fn required_capabilities<'a>(t: &Target<'a>) -> Vec<&'a str> {
    match t.info.get("UIRequiredDeviceCapabilities") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_string).collect(),
        Some(Value::Dictionary(d)) => d
            .iter()
            .filter(|(_, v)| v.as_boolean() == Some(true))
            .map(|(k, _)| k.as_str())
            .collect(),
        _ => Vec::new(),
    }
}

/// ITMS-90098 and an ITMS-90109 hint, both warnings: cheap checks Apple makes against the previous
/// build or the minimum OS. ITMS-90502 (arm64-only binaries without `arm64` declared) only concerns
/// MinimumOSVersion below 11, which the MinimumOSVersion floors already reject.
fn device_capabilities(t: &Target, out: &mut Vec<Finding>) {
    let caps = required_capabilities(t);
    let minimum = t.string("MinimumOSVersion").and_then(Version::parse);
    // iOS version numbers: visionOS 1.0–2.x are not "below 8.0" in this sense.
    let ios = !t.watch && t.platform == Platform::Ios;
    if ios && caps.contains(&"arm64") && minimum.is_some_and(|m| m < Version([8, 0, 0])) {
        out.push(Finding::warning(
            "ITMS-90098",
            &t.path,
            format!(
                "The key UIRequiredDeviceCapabilities contains value 'arm64' which is incompatible with the \
                 MinimumOSVersion value of '{}'.",
                t.string("MinimumOSVersion").unwrap_or_default()
            ),
            "Raise the deployment target (MinimumOSVersion) to a supported iOS version.",
        ));
    }
    if caps.contains(&"armv7") {
        out.push(Finding::warning(
            "ITMS-90109",
            &t.path,
            format!(
                "UIRequiredDeviceCapabilities of {} requires 'armv7', a 32-bit capability no current device \
                 reports; App Store Connect may refuse capability changes between versions.",
                t.name
            ),
            "Replace 'armv7' with 'arm64' in UIRequiredDeviceCapabilities (or remove the entry).",
        ));
    }
}

fn export_compliance(t: &Target, out: &mut Vec<Finding>) {
    let message = match t.info.get("ITSAppUsesNonExemptEncryption") {
        Some(v) if v.as_boolean().is_some() => return,
        Some(_) => "ITSAppUsesNonExemptEncryption is not a Boolean, so App Store Connect ignores it",
        None => "ITSAppUsesNonExemptEncryption is missing from the app's Info.plist",
    };
    out.push(Finding::warning(
        "ASC-EXPORT-COMPLIANCE",
        &t.path,
        format!(
            "{message}: the build will wait for export compliance in App Store Connect (\"Missing Compliance\") until \
             someone answers it."
        ),
        "Add ITSAppUsesNonExemptEncryption (a Boolean; NO when the app only uses exempt encryption such as HTTPS) to \
         the Info.plist, or pass --uses-non-exempt-encryption to upload.",
    ));
}
