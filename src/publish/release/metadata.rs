//! What App Review needs from a version before it can be submitted, each missing field named as
//! "Section: Field (resource.attribute)", read without writing anything.

use crate::asc::AscClient;
use crate::asc::app_store_versions::{VersionRecord, has_screenshots, localizations, review_detail};
use crate::asc::error::sanitize;
use crate::error::Error;

fn filled(v: Option<&str>) -> bool {
    v.is_some_and(|s| !s.trim().is_empty())
}

/// The gaps of `source` (the version that will be submitted, or the one a new version copies).
/// `copies` says a new version will be made from it (What's New is not copied); `update` that
/// the app is already on the store (updates need What's New); `given` are the locales the run
/// writes What's New for.
pub async fn missing(
    client: &AscClient,
    source: &VersionRecord,
    copies: bool,
    update: bool,
    given: &[String],
) -> Result<Vec<String>, Error> {
    let mut missing = Vec::new();
    if !filled(source.copyright.as_deref()) {
        missing.push("General: Copyright (appStoreVersions.copyright)".to_string());
    }
    let locs = localizations(client, &source.id).await?;
    if locs.is_empty() {
        missing.push("App Store: a localization (appStoreVersionLocalizations)".to_string());
    }
    for l in &locs {
        let locale = l.locale.clone().unwrap_or_else(|| "?".to_string());
        for (value, label, attr) in [
            (l.description.as_deref(), "Description", "description"),
            (l.keywords.as_deref(), "Keywords", "keywords"),
            (l.support_url.as_deref(), "Support URL", "supportUrl"),
        ] {
            if !filled(value) {
                missing.push(format!("{locale}: {label} (appStoreVersionLocalizations.{attr})"));
            }
        }
        let has_whats_new = !copies && filled(l.whats_new.as_deref());
        if update && !has_whats_new && !given.iter().any(|g| g.eq_ignore_ascii_case(&locale)) {
            missing.push(format!(
                "{locale}: What's New in This Version (appStoreVersionLocalizations.whatsNew; pass --whats-new)"
            ));
        }
        if !has_screenshots(client, &l.id).await? {
            missing.push(format!("{locale}: Screenshots (appScreenshotSets)"));
        }
    }
    // What's New for a locale the version does not have creates that localization, and App Review
    // needs all of it, not only What's New.
    for g in given {
        if !locs.iter().any(|l| l.is_locale(g)) {
            let g = sanitize(g);
            for (label, attr) in [
                ("Description", "appStoreVersionLocalizations.description"),
                ("Keywords", "appStoreVersionLocalizations.keywords"),
                ("Support URL", "appStoreVersionLocalizations.supportUrl"),
                ("Screenshots", "appScreenshotSets"),
            ] {
                missing.push(format!(
                    "{g}: {label} ({attr}; the version has no {g} localization: add it in App Store Connect, \
                     or leave {g} out of What's New)"
                ));
            }
        }
    }
    let detail = review_detail(client, &source.id).await?.unwrap_or_default();
    const REVIEW: &str = "App Review Information";
    for (value, label, attr) in [
        (detail.contact_first_name.as_deref(), "First name", "contactFirstName"),
        (detail.contact_last_name.as_deref(), "Last name", "contactLastName"),
        (detail.contact_phone.as_deref(), "Phone number", "contactPhone"),
        (detail.contact_email.as_deref(), "Email", "contactEmail"),
    ] {
        if !filled(value) {
            missing.push(format!("{REVIEW}: {label} (appStoreReviewDetails.{attr})"));
        }
    }
    if detail.demo_account_required {
        if !filled(detail.demo_account_name.as_deref()) {
            missing.push(format!(
                "{REVIEW}: Sign-in user name (appStoreReviewDetails.demoAccountName; sign-in is marked required)"
            ));
        }
        if !detail.demo_account_password_set {
            missing.push(format!(
                "{REVIEW}: Sign-in password (appStoreReviewDetails.demoAccountPassword; sign-in is marked required)"
            ));
        }
    }
    Ok(missing)
}
