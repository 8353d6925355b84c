//! Rules on each executable's code signature: who signed it (ITMS-90034/90179), and what its
//! entitlements claim against the provisioning profile and Apple's deny list (ITMS-90164/90046/90191).

use plist::Value;

use crate::ipa::{Bundle, BundleKind};
use crate::macho::{Binary, Signer};
use crate::profile::Profile;
use crate::validate::Finding;
use crate::validate::context::RuleContext;
use crate::validate::rules::macho::display_path;

const DISTRIBUTION_PREFIXES: [&str; 2] = ["Apple Distribution:", "iPhone Distribution:"];
const DEVELOPMENT_PREFIXES: [&str; 2] = ["Apple Development:", "iPhone Developer:"];

const FIX_DISTRIBUTION: &str = "Export the archive with the App Store Connect method (Xcode Organizer → Distribute App → App Store Connect, or `xcodebuild -exportArchive` with method app-store-connect) so it is re-signed with an Apple Distribution certificate and an App Store profile.";

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    for bundle in ctx.ipa.bundles.iter().filter(|b| b.kind.is_code_bundle()) {
        let Some(located) = &bundle.executable else { continue };
        let Some(binary) = located.ok() else { continue };
        check_bundle(ctx, bundle, &located.path, binary, out);
    }
}

fn submission_message(bundle: &Bundle, detail: &str) -> String {
    format!(
        "Missing or invalid signature. The bundle '{}' at bundle path '{}' is not signed using an Apple submission certificate ({detail}).",
        bundle.identifier.as_deref().unwrap_or("?"),
        bundle.path
    )
}

fn check_bundle(ctx: &RuleContext, bundle: &Bundle, path: &str, binary: &Binary, out: &mut Vec<Finding>) {
    let unsigned: Vec<&str> = binary
        .slices
        .iter()
        .filter(|s| s.signature.is_none())
        .map(|s| s.arch.as_str())
        .collect();
    let adhoc: Vec<&str> = binary
        .slices
        .iter()
        .filter(|s| s.signature.as_ref().is_some_and(|g| g.is_adhoc()))
        .map(|s| s.arch.as_str())
        .collect();
    if !unsigned.is_empty() {
        let detail = format!("no code signature in the {} slice(s)", unsigned.join(", "));
        out.push(Finding::error(
            "ITMS-90034",
            path,
            submission_message(bundle, &detail),
            FIX_DISTRIBUTION,
        ));
    } else if !adhoc.is_empty() {
        let detail = format!(
            "the {} slice(s) are ad-hoc signed, with no certificate",
            adhoc.join(", ")
        );
        out.push(Finding::error(
            "ITMS-90034",
            path,
            submission_message(bundle, &detail),
            FIX_DISTRIBUTION,
        ));
    }
    let signatures: Vec<_> = binary.slices.iter().filter_map(|s| s.signature.as_ref()).collect();
    let signer = signatures.iter().find_map(|s| s.signer.as_ref());
    if let Some(signer) = signer {
        check_signer(ctx, bundle, path, signer, out);
    } else if unsigned.is_empty() && adhoc.is_empty() && !signatures.is_empty() {
        let detail = "the signer certificate could not be read from the signature";
        out.push(Finding::error(
            "ITMS-90034",
            path,
            submission_message(bundle, detail),
            FIX_DISTRIBUTION,
        ));
    }

    let profile = bundle.profile.as_ref().and_then(|p| p.ok());
    let team = signatures.iter().find_map(|s| s.team_id());
    if let (Some(profile), Some(team)) = (profile, team) {
        if !profile.team_ids.is_empty() && !profile.team_ids.iter().any(|t| t == team) {
            out.push(Finding::error(
                "ITMS-90034",
                path,
                format!(
                    "The code signature's team identifier '{team}' does not match the provisioning profile's team '{}'.",
                    profile.team_ids.join(", ")
                ),
                "Sign with a certificate and a provisioning profile of the same team (check DEVELOPMENT_TEAM and the export options' teamID).",
            ));
        }
    }
    if let (Some(profile), Some(signer)) = (profile, signer) {
        if !profile.developer_certificates.contains(&signer.certificate_der) {
            out.push(Finding::error(
                "ITMS-90179",
                path,
                format!(
                    "Invalid Code Signing. The executable '{path}' must be signed with the certificate that is contained in the provisioning profile (signed by '{}').",
                    signer.common_name.as_deref().unwrap_or("?")
                ),
                "Re-sign with the distribution certificate the profile lists, or regenerate the App Store profile to include the certificate you sign with, and re-export.",
            ));
        }
    }
    let entitlements = signatures.iter().find_map(|s| s.entitlements.as_ref());
    if let Some(ent) = entitlements {
        denied_values(bundle, path, ent, out);
        against_profile(bundle, path, ent, profile, team, out);
    }
    if bundle.kind == BundleKind::App
        && signer.is_some()
        && entitlements.is_none_or(|e| !e.contains_key("beta-reports-active"))
    {
        out.push(Finding::warning(
            "ITMS-90191",
            path,
            "Missing beta entitlement. Your app does not include the beta-reports-active entitlement. If you intend to distribute this build via TestFlight for beta testing, please re-build this app with a newly generated provisioning profile.",
            "Regenerate the App Store provisioning profile in the developer portal (current ones carry beta-reports-active = true) and re-export with it.",
        ));
    }
}

fn check_signer(ctx: &RuleContext, bundle: &Bundle, path: &str, signer: &Signer, out: &mut Vec<Finding>) {
    let cn = signer.common_name.as_deref().unwrap_or("");
    if DEVELOPMENT_PREFIXES.iter().any(|p| cn.starts_with(p)) {
        let detail = format!("it is signed with the development certificate '{cn}'");
        out.push(Finding::error(
            "ITMS-90034",
            path,
            submission_message(bundle, &detail),
            FIX_DISTRIBUTION,
        ));
        return;
    }
    if !DISTRIBUTION_PREFIXES.iter().any(|p| cn.starts_with(p)) {
        let detail = format!("it is signed with '{cn}', which is not an Apple Distribution certificate");
        out.push(Finding::error(
            "ITMS-90034",
            path,
            submission_message(bundle, &detail),
            FIX_DISTRIBUTION,
        ));
        return;
    }
    if let Err(why) = ctx.trust.verify_chain(&signer.certificate_der, &signer.intermediates) {
        let detail = format!("the certificate '{cn}' was not issued by Apple: {why}");
        out.push(Finding::error(
            "ITMS-90034",
            path,
            submission_message(bundle, &detail),
            "Sign with an Apple Distribution certificate issued by Apple's developer portal (with its private key in the CI keychain); self-made or re-issued certificates are rejected.",
        ));
    }
}

/// Renders an entitlement value the way Apple's messages quote it.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Array(a) => format!("({})", a.iter().map(show).collect::<Vec<_>>().join(", ")),
        other => format!("{other:?}"),
    }
}

fn denied_values(bundle: &Bundle, path: &str, ent: &plist::Dictionary, out: &mut Vec<Finding>) {
    let mut denied: Vec<(String, String)> = Vec::new();
    for (key, value) in ent {
        let strings: Vec<&str> = match value {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_string).collect(),
            _ => Vec::new(),
        };
        match (key.as_str(), value) {
            ("aps-environment", Value::String(s)) if s == "development" => denied.push((key.clone(), s.clone())),
            ("beta-reports-active", Value::Boolean(false)) => denied.push((key.clone(), "false".into())),
            ("com.apple.developer.icloud-container-environment", _) if strings.contains(&"Development") => {
                denied.push((key.clone(), "Development".into()))
            }
            // A bare wildcard belongs in a profile, never in a signature.
            _ if strings.contains(&"*") => denied.push((key.clone(), "*".into())),
            _ => {}
        }
    }
    for (key, value) in denied {
        out.push(Finding::error(
            "ITMS-90046",
            path,
            format!(
                "Invalid Code Signing Entitlements. Your application bundle's signature contains code signing entitlements that are not supported on iOS. Specifically, value '{value}' for key '{key}' in '{}' is not supported.",
                display_path(&bundle.path)
            ),
            "Sign with an App Store provisioning profile and let Xcode's export (method app-store-connect) produce the entitlements; remove development values and wildcards from the .entitlements file.",
        ));
    }
}

/// Matches `s` against a profile pattern where `*` stands for any run of characters.
pub(crate) fn glob(pattern: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(c) if Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(sp) => {
                    pi = sp + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// Whether the profile's value for a key permits the signature's value.
pub(crate) fn permitted(sig: &Value, prof: &Value) -> bool {
    match (sig, prof) {
        (Value::String(s), Value::String(p)) => glob(p, s),
        (Value::String(_), Value::Array(ps)) => ps.iter().any(|p| permitted(sig, p)),
        (Value::Array(ss), Value::Array(_) | Value::String(_)) => ss.iter().all(|s| permitted(s, prof)),
        // Claiming less than allowed (false where true is allowed) is fine.
        (Value::Boolean(s), Value::Boolean(p)) => s == p || !s,
        _ => sig == prof,
    }
}

/// ITMS-90164: what the signature claims must be allowed by the profile (when there is one), and
/// `get-task-allow` and `application-identifier` must be right whatever the profile says.
fn against_profile(
    bundle: &Bundle,
    path: &str,
    ent: &plist::Dictionary,
    profile: Option<&Profile>,
    team: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let shown = display_path(&bundle.path);
    let mismatch = |detail: String| {
        Finding::error(
            "ITMS-90164",
            path,
            format!(
                "Invalid Code Signing Entitlements. The entitlements in your app bundle signature do not match the ones that are contained in the provisioning profile. {detail}"
            ),
            "Sign with the App Store profile made for this bundle identifier, with the capabilities the app uses enabled for its App ID; let Xcode's export regenerate the entitlements rather than editing them after the build.",
        )
    };
    for (key, value) in ent {
        if key == "get-task-allow" {
            if value.as_boolean() == Some(true) {
                out.push(mismatch(format!(
                    "According to the provisioning profile, the bundle contains a key value that is not allowed: 'true' for the key 'get-task-allow' in '{shown}'."
                )));
            }
            continue;
        }
        let Some(profile) = profile else { continue };
        match profile.entitlements.get(key) {
            None => out.push(mismatch(format!(
                "The bundle contains a key that is not included in the provisioning profile: '{key}' in '{shown}'."
            ))),
            Some(allowed) if !permitted(value, allowed) => out.push(mismatch(format!(
                "According to the provisioning profile, the bundle contains a key value that is not allowed: '{}' for the key '{key}' in '{shown}'.",
                show(value)
            ))),
            Some(_) => {}
        }
    }
    let team = team.or(profile.and_then(|p| p.team_ids.first()).map(String::as_str));
    if let (Some(team), Some(id), Some(app_id)) = (
        team,
        bundle.identifier.as_deref(),
        ent.get("application-identifier").and_then(Value::as_string),
    ) {
        let expected = format!("{team}.{id}");
        if app_id != expected {
            out.push(mismatch(format!(
                "The application-identifier entitlement '{app_id}' of '{shown}' does not match its team and CFBundleIdentifier ('{expected}')."
            )));
        }
    }
}

#[cfg(test)]
mod tests;
