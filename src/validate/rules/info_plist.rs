//! Rules: each bundle's Info.plist — identity, versions, required keys, supported platform,
//! minimum OS, bundle names and unexpanded build settings (ipa-checks.md §1.2). The app-level
//! keys (iPad multitasking, launch screen, URL schemes, purpose strings, export compliance…) are
//! in the `ui` submodule.

#[path = "info_plist_ui.rs"]
mod ui;

#[cfg(test)]
#[path = "testutil.rs"]
pub(crate) mod testutil;

use std::collections::HashSet;

use plist::{Dictionary, Value};

use crate::ipa::{Bundle, BundleKind, Inspection, Platform};
use crate::validate::Finding;
use crate::validate::context::RuleContext;
use crate::validate::rules::sdk::{IOS_MINIMUM_OS_FLOOR, Version};

/// What every per-bundle check needs.
pub(crate) struct Target<'a> {
    pub bundle: &'a Bundle,
    pub info: &'a Dictionary,
    /// `…/Info.plist` inside the IPA: where findings point.
    pub path: String,
    /// The bundle as Apple names it in messages (`App.app/PlugIns/Share.appex`).
    pub name: &'a str,
    /// Inside a watch app: watchOS rules apply, not iOS ones.
    pub watch: bool,
    pub platform: Platform,
}

impl Target<'_> {
    pub fn string(&self, key: &str) -> Option<&str> {
        self.info.get(key).and_then(Value::as_string)
    }
}

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let mut entry_names = None;
    for bundle in &ctx.ipa.bundles {
        let Some(info) = &bundle.info else { continue };
        let target = Target {
            bundle,
            info,
            path: info_path(bundle),
            name: bundle.path.strip_prefix("Payload/").unwrap_or(&bundle.path),
            watch: in_watch_app(ctx.ipa, bundle),
            platform: ctx.ipa.app.platform,
        };
        supported_platforms(&target, out);
        if bundle.kind == BundleKind::Resource {
            unexpected_executable(ctx, &target, out);
            continue;
        }
        required_keys(&target, out);
        versions(&target, out);
        bundle_identifier(&target, out);
        minimum_os(&target, out);
        bundle_names(&target, out);
        placeholders(&target, out);
        let names = entry_names.get_or_insert_with(|| ctx.entries.names());
        ui::check(ctx, &target, names, out);
    }
    let names = entry_names.get_or_insert_with(|| ctx.entries.names());
    stray_info_plists(ctx, names, out);
}

pub(crate) fn info_path(bundle: &Bundle) -> String {
    format!("{}/Info.plist", bundle.path)
}

pub(crate) fn in_watch_app(ipa: &Inspection, bundle: &Bundle) -> bool {
    let mut current = Some(bundle);
    // Bounded: a malformed parent chain cannot loop for ever.
    for _ in 0..=ipa.bundles.len() {
        match current {
            Some(b) if b.kind == BundleKind::WatchApp => return true,
            Some(b) => current = ipa.parent_of(b),
            None => return false,
        }
    }
    false
}

/// Key is missing, not a string, or an empty string.
fn blank(t: &Target, key: &str) -> bool {
    t.string(key).is_none_or(|s| s.trim().is_empty())
}

fn required_keys(t: &Target, out: &mut Vec<Finding>) {
    let keys = [
        ("CFBundleVersion", "ITMS-90056"),
        ("CFBundleShortVersionString", "ITMS-90057"),
        // Apple reports these two with the same wording; no separate code was seen in reports.
        ("CFBundleExecutable", "ASC-INFO-REQUIRED-KEY"),
        ("CFBundlePackageType", "ASC-INFO-REQUIRED-KEY"),
    ];
    for (key, code) in keys {
        if blank(t, key) {
            out.push(Finding::error(
                code,
                &t.path,
                format!(
                    "This bundle {} is invalid. The Info.plist file is missing the required key: {key}. Please find \
                     more information about {key} at \
                     https://developer.apple.com/documentation/bundleresources/information_property_list/{}",
                    t.name,
                    key.to_ascii_lowercase()
                ),
                format!(
                    "Add {key} (a non-empty string) to the Info.plist of {}; for a third-party framework, update it \
                     to a release that ships a complete Info.plist.",
                    t.name
                ),
            ));
        }
    }
}

fn versions(t: &Target, out: &mut Vec<Finding>) {
    let three_integers = |s: &str| Version::parse(s).is_some();
    let must_be = "must be a period-separated list of at most three non-negative integers.";
    if let Some(v) = t.string("CFBundleShortVersionString").filter(|v| !v.trim().is_empty())
        && !three_integers(v)
    {
        out.push(Finding::error(
            "ITMS-90060",
            &t.path,
            format!("The value for key CFBundleShortVersionString '{v}' in the Info.plist file {must_be}"),
            format!(
                "Set CFBundleShortVersionString (MARKETING_VERSION) of {} to a plain version such as 1.2.3 — no \
                 suffixes like -beta or a fourth component.",
                t.name
            ),
        ));
    }
    let Some(v) = t.string("CFBundleVersion").filter(|v| !v.trim().is_empty()) else {
        return;
    };
    if !three_integers(v) {
        out.push(Finding::error(
            "ITMS-90058",
            &t.path,
            format!("The value for key CFBundleVersion [{v}] in the Info.plist file {must_be}"),
            format!(
                "Set CFBundleVersion (CURRENT_PROJECT_VERSION) of {} to up to three integers, e.g. 42 or 1.2.42.",
                t.name
            ),
        ));
    }
    if v.chars().count() > 18 {
        out.push(Finding::error(
            "ITMS-90059",
            &t.path,
            format!(
                "The value for key CFBundleVersion [{v}] in the Info.plist file must be no longer than 18 characters."
            ),
            "Use a shorter build number (e.g. the CI run number), and make sure $(CURRENT_PROJECT_VERSION) is expanded.",
        ));
    }
}

/// `^[A-Za-z0-9.-]+$`, not ending with a dot.
fn valid_bundle_id(id: &str) -> bool {
    !id.is_empty() && !id.ends_with('.') && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn bundle_identifier(t: &Target, out: &mut Vec<Finding>) {
    let id = t.string("CFBundleIdentifier").unwrap_or_default();
    if valid_bundle_id(id) {
        return;
    }
    let suggestion: String = id
        .trim_end_matches('.')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
        .collect();
    out.push(Finding::error(
        "ITMS-90049",
        &t.path,
        format!(
            "The CFBundleIdentifier '{id}' in the bundle {} contains disallowed characters. It must be present, must \
             contain only alphanumerics, dots, hyphens and must not end with a dot.",
            t.name
        ),
        if id.is_empty() {
            format!("Set CFBundleIdentifier (PRODUCT_BUNDLE_IDENTIFIER) for {}.", t.name)
        } else {
            format!(
                "Change PRODUCT_BUNDLE_IDENTIFIER of {} to use only letters, digits, dots and hyphens (e.g. \
                 '{suggestion}'); for a third-party framework, update it or ask its vendor.",
                t.name
            )
        },
    ));
}

/// `CFBundleSupportedPlatforms` must name only the device platform (ITMS-90542), and the bundle must
/// not have been built for the simulator. Applies to resource bundles too.
fn supported_platforms(t: &Target, out: &mut Vec<Finding>) {
    let expected = if t.watch {
        "WatchOS"
    } else {
        match t.platform {
            Platform::Ios => "iPhoneOS",
            Platform::TvOs => "AppleTVOS",
            Platform::VisionOs => "XROS",
            Platform::MacOs => return,
        }
    };
    let fix = format!(
        "Build {} for the device ({expected}), not the simulator: archive with `-destination generic/platform=…`, and \
         replace simulator or fat XCFramework slices of third-party SDKs with the device slice.",
        t.name
    );
    if let Some(value) = t.info.get("CFBundleSupportedPlatforms") {
        let list: Vec<&str> = value
            .as_array()
            .map(|a| a.iter().map(|v| v.as_string().unwrap_or("?")).collect())
            .unwrap_or_default();
        if list != [expected] {
            out.push(Finding::error(
                "ITMS-90542",
                &t.path,
                format!(
                    "Invalid CFBundleSupportedPlatforms value. The key 'CFBundleSupportedPlatforms' in the Info.plist \
                     file in bundle '{}' contains an invalid value '[{}]'.",
                    t.bundle.path,
                    list.join(", ")
                ),
                fix.clone(),
            ));
            return;
        }
    }
    if let Some(dt) = t.string("DTPlatformName")
        && dt.to_ascii_lowercase().ends_with("simulator")
    {
        out.push(Finding::error(
            "ITMS-90542",
            &t.path,
            format!(
                "The bundle '{}' was built for the simulator (DTPlatformName '{dt}').",
                t.bundle.path
            ),
            fix,
        ));
    }
}

/// ITMS-90535: a resource bundle whose Info.plist names an executable it does not contain.
fn unexpected_executable(ctx: &RuleContext, t: &Target, out: &mut Vec<Finding>) {
    out.extend(missing_executable(ctx, &t.bundle.path, &t.path, t.info));
}

/// Info.plists outside the bundles the inspection knows (a framework's `Resources/Info.plist`, an
/// SDK folder copied in as a resource): App Store Connect treats any folder whose Info.plist names
/// a CFBundleExecutable as a bundle, and rejects it when the executable is not there (ITMS-90535).
fn stray_info_plists(ctx: &RuleContext, entry_names: &[String], out: &mut Vec<Finding>) {
    /// Such plists are a few hundred bytes; a larger one is not read.
    const MAX_STRAY_PLIST: u64 = 256 * 1024;
    /// Bounds the reading a crafted archive can cause.
    const MAX_STRAY_READS: usize = 2000;
    /// Compiled storyboards, nibs and Core Data models carry Xcode-written Info.plists, never
    /// executables: not worth reading.
    const NOT_BUNDLES: [&str; 3] = [".storyboardc", ".nib", ".momd"];
    let known: HashSet<&str> = ctx.ipa.bundles.iter().map(|b| b.path.as_str()).collect();
    let candidates = entry_names.iter().filter_map(|name| {
        let dir = name.strip_suffix("/Info.plist")?;
        let skip = !dir.starts_with("Payload/") || known.contains(dir) || NOT_BUNDLES.iter().any(|s| dir.ends_with(s));
        (!skip).then_some((name, dir))
    });
    for (name, dir) in candidates.take(MAX_STRAY_READS) {
        let Ok(bytes) = ctx.entries.read(name, MAX_STRAY_PLIST) else {
            continue;
        };
        let Ok(info) = plist_guard::parse_dict(&bytes) else {
            continue;
        };
        out.extend(missing_executable(ctx, dir, name, &info));
    }
}

fn missing_executable(ctx: &RuleContext, dir: &str, plist_path: &str, info: &Dictionary) -> Option<Finding> {
    let exe = info.get("CFBundleExecutable")?.as_string().unwrap_or_default();
    if !exe.is_empty() && ctx.entries.contains(&format!("{dir}/{exe}")) {
        return None;
    }
    Some(Finding::error(
        "ITMS-90535",
        plist_path,
        format!(
            "Unexpected CFBundleExecutable Key - The bundle at '/{plist_path}' does not contain a bundle executable. \
             If this bundle intentionally does not contain an executable, consider removing the CFBundleExecutable key \
             from its Info.plist and using a CFBundlePackageType of BNDL."
        ),
        "Remove CFBundleExecutable from that Info.plist and set CFBundlePackageType to BNDL; if it belongs to a \
         third-party SDK, update the SDK, or stop copying the SDK's own Info.plist into the app as a resource.",
    ))
}

fn minimum_os(t: &Target, out: &mut Vec<Finding>) {
    let floor = IOS_MINIMUM_OS_FLOOR;
    let ios = !t.watch && t.platform == Platform::Ios;
    let fix = format!(
        "Set MinimumOSVersion of {} to its deployment target (IPHONEOS_DEPLOYMENT_TARGET, e.g. 15.0); for a \
         third-party framework, use a release built with a current deployment target.",
        t.name
    );
    let value = match t.info.get("MinimumOSVersion") {
        None => {
            out.push(Finding::error(
                "ITMS-90360",
                &t.path,
                format!(
                    "Missing Info.plist value - A value for the key 'MinimumOSVersion' in bundle {} is required.",
                    t.name
                ),
                fix,
            ));
            return;
        }
        Some(Value::String(s)) => s.trim(),
        Some(_) => {
            out.push(Finding::error(
                "ITMS-90362",
                &t.path,
                format!(
                    "Invalid Info.plist value. The value for the key 'MinimumOSVersion' in bundle {} is invalid (it \
                     must be a string such as \"15.0\").",
                    t.name
                ),
                fix,
            ));
            return;
        }
    };
    if value.is_empty() {
        out.push(Finding::error(
            "ITMS-90530",
            &t.path,
            format!(
                "Invalid MinimumOSVersion. Apps that only support 64-bit devices must specify a deployment target of \
                 {floor} or later. MinimumOSVersion in '{}' is ''.",
                t.name
            ),
            fix,
        ));
        return;
    }
    let parsed = Version::parse(value);
    if parsed.is_some_and(|v| !ios || v >= floor) {
        return;
    }
    let mut message = format!(
        "Invalid Info.plist value. The value for the key 'MinimumOSVersion' in bundle {} is invalid.",
        t.name
    );
    if ios {
        message.push_str(&format!(" The minimum value is {floor}"));
    }
    out.push(Finding::error("ITMS-90362", &t.path, message, fix));
}

fn bundle_names(t: &Target, out: &mut Vec<Finding>) {
    let kind = t.bundle.kind;
    let user_facing = matches!(
        kind,
        BundleKind::App | BundleKind::AppExtension | BundleKind::WatchApp | BundleKind::AppClip
    );
    if user_facing && blank(t, "CFBundleName") {
        out.push(Finding::error(
            "ITMS-90784",
            &t.path,
            format!(
                "Missing bundle name. The Info.plist key CFBundleName is missing or has an empty value in bundle {}.",
                t.name
            ),
            "Set CFBundleName to $(PRODUCT_NAME) (Xcode's default) or to a short name.",
        ));
    }
    match t.info.get("CFBundleDisplayName") {
        None if kind == BundleKind::AppExtension => out.push(Finding::error(
            "ITMS-90360",
            &t.path,
            format!(
                "Missing Info.plist value - A value for the key 'CFBundleDisplayName' in bundle {} is required.",
                t.name
            ),
            "Add CFBundleDisplayName (the name users see for the extension) to the extension's Info.plist.",
        )),
        Some(_) if user_facing && blank(t, "CFBundleDisplayName") => out.push(Finding::error(
            "ITMS-90783",
            &t.path,
            format!(
                "Missing display name. The Info.plist key CFBundleDisplayName is missing or has an empty value in \
                 bundle {}.",
                t.name
            ),
            "Give CFBundleDisplayName a non-empty value (INFOPLIST_KEY_CFBundleDisplayName), or remove the key.",
        )),
        _ => {}
    }
}

/// Unexpanded `$(VAR)` / `${VAR}` build settings anywhere in the plist: the value the user sees (or
/// Apple validates) is the literal placeholder. A warning, because Apple rejects it only through
/// the key-specific rules (versions, identifiers, URL schemes) that report it on their own.
fn placeholders(t: &Target, out: &mut Vec<Finding>) {
    let mut hits = Vec::new();
    for (key, value) in t.info {
        find_placeholders(value, key.clone(), 0, &mut hits);
    }
    if hits.is_empty() {
        return;
    }
    const SHOWN: usize = 5;
    const LONGEST: usize = 80;
    let mut listed: Vec<String> = hits
        .iter()
        .take(SHOWN)
        .map(|(k, v)| match v.char_indices().nth(LONGEST) {
            Some((cut, _)) => format!("{k} = '{}…'", v.get(..cut).unwrap_or_default()),
            None => format!("{k} = '{v}'"),
        })
        .collect();
    if hits.len() > SHOWN {
        listed.push(format!("and {} more", hits.len() - SHOWN));
    }
    out.push(Finding::warning(
        "ASC-UNEXPANDED-VARIABLE",
        &t.path,
        format!(
            "The Info.plist of {} contains build-setting placeholders that were never expanded: {}.",
            t.name,
            listed.join(", ")
        ),
        "Xcode expands $(VAR) only in the Info.plist named by INFOPLIST_FILE: a plist copied in as a resource, or \
         rewritten by a script after the build, keeps the placeholders. Let Xcode process it, or substitute the \
         values in that script.",
    ));
}

const MAX_DEPTH: usize = 32;
const MAX_HITS: usize = 100;

fn find_placeholders(value: &Value, key: String, depth: usize, hits: &mut Vec<(String, String)>) {
    if depth > MAX_DEPTH || hits.len() >= MAX_HITS {
        return;
    }
    match value {
        Value::String(s) if has_placeholder(s) => hits.push((key, s.clone())),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_placeholders(v, format!("{key}[{i}]"), depth + 1, hits);
            }
        }
        Value::Dictionary(d) => {
            for (k, v) in d {
                find_placeholders(v, format!("{key}.{k}"), depth + 1, hits);
            }
        }
        _ => {}
    }
}

/// `$(NAME)`, `$(NAME:modifier)`, `${NAME}`: a build-setting name is `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn has_placeholder(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.windows(2).enumerate().any(|(i, w)| {
        let close = match w {
            [b'$', b'('] => b')',
            [b'$', b'{'] => b'}',
            _ => return false,
        };
        let rest = bytes.get(i + 2..).unwrap_or_default();
        let Some(end) = rest.iter().position(|&b| b == close) else {
            return false;
        };
        let inner = rest.get(..end).unwrap_or_default();
        let name = inner.split(|&b| b == b':').next().unwrap_or_default();
        name.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    })
}

#[cfg(test)]
#[path = "info_plist_tests.rs"]
mod tests;
