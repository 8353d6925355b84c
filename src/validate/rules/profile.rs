//! Rules: every app, extension, watch app and App Clip carries an Apple-signed, unexpired App Store
//! profile for its own bundle id, platform and team (ITMS-90174, ITMS-90161, and our team and App
//! ID checks where Apple's wording is ITMS-90159/90164-adjacent but the code would mislead).

use std::time::{Duration, SystemTime};

use crate::ipa::{Bundle, Parsed, Platform};
use crate::profile::{Profile, ProfileKind, SignatureVerdict, rfc3339};
use crate::validate::Finding;
use crate::validate::context::RuleContext;

/// A profile expiring sooner than this gets a warning: the upload may pass, a resubmission won't.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 86_400);

const DISTRIBUTION_SENTENCE: &str =
    "A Distribution Provisioning profile should be used when submitting apps to the App Store.";
const FIX_EXPORT: &str = "Export the archive for App Store Connect (Xcode Organizer → Distribute App → App Store \
                          Connect, or `xcodebuild -exportArchive` with method `app-store-connect`) with an App Store \
                          distribution profile for this bundle id.";

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let app_team = ctx
        .ipa
        .main_app()
        .and_then(|b| b.profile.as_ref())
        .and_then(|l| l.ok())
        .and_then(Profile::team_id)
        .map(str::to_owned);
    for bundle in ctx.ipa.bundles.iter().filter(|b| b.kind.needs_profile()) {
        check_bundle(ctx, bundle, app_team.as_deref(), out);
    }
}

/// Apple's ITMS-90161 message around a bracketed reason.
fn invalid(bundle: &Bundle, reason: &str) -> String {
    let id = bundle.identifier.as_deref().unwrap_or("(no CFBundleIdentifier)");
    format!(
        "Invalid Provisioning Profile. The provisioning profile included in the bundle {id} [{}] is invalid. \
         [{reason}] {DISTRIBUTION_SENTENCE}",
        bundle.path
    )
}

fn check_bundle(ctx: &RuleContext, bundle: &Bundle, app_team: Option<&str>, out: &mut Vec<Finding>) {
    let Some(located) = &bundle.profile else {
        out.push(Finding::error(
            "ITMS-90174",
            format!("{}/embedded.mobileprovision", bundle.path),
            "Missing Provisioning Profile - Apps must contain a provisioning profile in a file named \
             embedded.mobileprovision.",
            format!("{FIX_EXPORT} Every app, app extension, watch app and App Clip needs its own profile."),
        ));
        return;
    };
    let path = located.path.as_str();
    let profile = match &located.parsed {
        Parsed::Ok(p) => p,
        Parsed::Err { error } => {
            out.push(Finding::error(
                "ITMS-90161",
                path,
                invalid(bundle, &format!("The profile cannot be read: {error}.")),
                format!("{FIX_EXPORT} Do not edit embedded.mobileprovision by hand."),
            ));
            return;
        }
    };

    signature(bundle, path, profile, out);
    kind(bundle, path, profile, out);
    expiry(ctx.now, bundle, path, profile, out);
    team(bundle, path, profile, app_team, out);
    app_id(bundle, path, profile, out);
    platform(ctx.ipa.app.platform, bundle, path, profile, out);
}

fn signature(bundle: &Bundle, path: &str, profile: &Profile, out: &mut Vec<Finding>) {
    let reason = match &profile.signature {
        SignatureVerdict::AppleSigned { .. } | SignatureVerdict::TrustedExtraRoot { .. } => return,
        SignatureVerdict::Untrusted { signer, reason } => {
            format!("The profile is not signed by Apple: it is signed by \"{signer}\", and {reason}.")
        }
        SignatureVerdict::Invalid { reason } => {
            if reason.contains("does not match its signature") {
                format!("The profile's content does not match its signature: {reason}.")
            } else {
                format!("The profile's signature is invalid: {reason}.")
            }
        }
        SignatureVerdict::Unsigned => {
            "The profile is not signed by Apple: it is a bare plist with no signature.".into()
        }
    };
    out.push(Finding::error(
        "ITMS-90161",
        path,
        invalid(bundle, &reason),
        "Use the profile exactly as Apple issued it (downloaded from the Apple Developer portal or managed by \
         Xcode) and never modify embedded.mobileprovision after export; re-export the IPA.",
    ));
}

fn kind(bundle: &Bundle, path: &str, profile: &Profile, out: &mut Vec<Finding>) {
    let why = match profile.kind {
        ProfileKind::AppStore => return,
        ProfileKind::Development => "Development profile: get-task-allow is true".to_string(),
        ProfileKind::AdHoc => format!(
            "Ad Hoc profile: it lists {} provisioned device{}",
            profile.device_count,
            if profile.device_count == 1 { "" } else { "s" }
        ),
        ProfileKind::Enterprise => "Enterprise (In-House) profile: ProvisionsAllDevices is true".to_string(),
    };
    out.push(Finding::error(
        "ITMS-90161",
        path,
        invalid(bundle, &format!("{why}.")),
        format!(
            "{FIX_EXPORT} In the developer portal, create a profile of type \"App Store Connect\" (App Store \
             distribution), not {}.",
            profile.kind.label()
        ),
    ));
}

fn expiry(now: SystemTime, bundle: &Bundle, path: &str, profile: &Profile, out: &mut Vec<Finding>) {
    let Some(expires) = profile.expires_at else { return };
    let when = rfc3339(expires).unwrap_or_else(|| "an unknown date".into());
    if expires <= now {
        out.push(Finding::error(
            "ITMS-90161",
            path,
            invalid(bundle, &format!("Expired profile. (It expired on {when}.)")),
            "Regenerate the profile in the Apple Developer portal (or let Xcode renew it), then re-export the IPA.",
        ));
    } else if expires.duration_since(now).unwrap_or_default() < EXPIRY_WARNING {
        out.push(Finding::warning(
            "ASC-PROFILE-EXPIRING",
            path,
            format!("The provisioning profile expires on {when}, in less than 14 days."),
            "Renew the profile soon: later builds signed with it will be rejected once it expires.",
        ));
    }
}

fn team(bundle: &Bundle, path: &str, profile: &Profile, app_team: Option<&str>, out: &mut Vec<Finding>) {
    let Some(team) = profile.team_id() else {
        out.push(Finding::error(
            "ASC-PROFILE-TEAM",
            path,
            "The provisioning profile has no TeamIdentifier.",
            "Regenerate the profile in the Apple Developer portal.",
        ));
        return;
    };
    // Everything inside one profile that names a team must name the same one.
    // App ID prefixes may legitimately be a legacy "Bundle Seed ID" rather than the team id, so a
    // mismatch there is only a warning; the team-identifier entitlement and certificates must agree.
    let mut seeds: Vec<(String, &str)> = Vec::new();
    for prefix in &profile.app_id_prefixes {
        seeds.push(("ApplicationIdentifierPrefix".into(), prefix));
    }
    if let Some((prefix, _)) = profile
        .application_identifier
        .as_deref()
        .and_then(|a| a.split_once('.'))
    {
        seeds.push(("the application-identifier prefix".into(), prefix));
    }
    if let Some((what, value)) = seeds.iter().find(|(_, v)| *v != team) {
        out.push(Finding::warning(
            "ASC-PROFILE-TEAM",
            path,
            format!("The provisioning profile's TeamIdentifier is \"{team}\" but {what} is \"{value}\"."),
            "Unless this App ID deliberately uses a legacy App ID prefix, regenerate the profile for the team's own \
             App ID.",
        ));
    }
    let mut others: Vec<(String, &str)> = Vec::new();
    if let Some(t) = profile
        .entitlements
        .get("com.apple.developer.team-identifier")
        .and_then(|v| v.as_string())
    {
        others.push(("com.apple.developer.team-identifier".into(), t));
    }
    for cert in &profile.certificates {
        if let (Some(ou), Some(cn)) = (&cert.team_id, &cert.subject) {
            others.push((format!("the developer certificate \"{cn}\""), ou));
        }
    }
    if let Some((what, value)) = others.iter().find(|(_, v)| *v != team) {
        out.push(Finding::error(
            "ASC-PROFILE-TEAM",
            path,
            format!("The provisioning profile is inconsistent: its TeamIdentifier is \"{team}\" but {what} says \"{value}\"."),
            "Regenerate the profile in the Apple Developer portal; a profile must belong to one team.",
        ));
    }
    if let Some(app_team) = app_team.filter(|t| *t != team) {
        out.push(Finding::error(
            "ASC-PROFILE-TEAM",
            path,
            format!(
                "Invalid provisioning profile. This bundle's profile belongs to team {team}, but the app's profile \
                 belongs to team {app_team}. Every bundle in an app must be provisioned by the same team \
                 (App Store Connect reports this as ITMS-90159 when the team is not the uploading account's)."
            ),
            format!(
                "Sign {} with a profile from team {app_team}, then re-export the IPA.",
                bundle.path
            ),
        ));
    }
}

fn app_id(bundle: &Bundle, path: &str, profile: &Profile, out: &mut Vec<Finding>) {
    let Some(bundle_id) = bundle.identifier.as_deref() else {
        // The missing CFBundleIdentifier is the Info.plist rules' finding.
        return;
    };
    if profile.app_id_matches(bundle_id) {
        return;
    }
    let message = match profile.application_identifier.as_deref() {
        Some(app_id) => format!(
            "The provisioning profile's App ID \"{app_id}\" does not match the bundle identifier \"{bundle_id}\"."
        ),
        None => "The provisioning profile has no application-identifier entitlement.".to_string(),
    };
    out.push(Finding::error(
        "ASC-PROFILE-APP-ID",
        path,
        message,
        format!("Use an App Store profile whose App ID is \"TEAMID.{bundle_id}\" (or a wildcard covering it)."),
    ));
}

fn platform(platform: Platform, bundle: &Bundle, path: &str, profile: &Profile, out: &mut Vec<Finding>) {
    let expected = match platform {
        Platform::Ios => "iOS",
        Platform::TvOs => "tvOS",
        // visionOS and macOS profiles name themselves inconsistently across years; not checked.
        Platform::VisionOs | Platform::MacOs => return,
    };
    // Profiles from before the Platform key existed were all iOS.
    if profile.platforms.is_empty() || profile.platforms.iter().any(|p| p == expected) {
        return;
    }
    out.push(Finding::error(
        "ITMS-90161",
        path,
        invalid(
            bundle,
            &format!("The profile is for {}, not {expected}.", profile.platforms.join(", ")),
        ),
        format!("Create the App Store profile for the {expected} platform, then re-export the IPA."),
    ));
}
