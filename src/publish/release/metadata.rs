//! What App Review needs from a version before it can be submitted, each missing field named as
//! "Section: Field (resource.attribute)", read without writing anything.

use crate::asc::AscClient;
use crate::asc::app_store::{AppScreenshotSet, AppStoreReviewDetail, AppStoreVersion, AppStoreVersionLocalization};
use crate::asc::endpoints::app_store as ep;
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
    source: &AppStoreVersion,
    copies: bool,
    update: bool,
    given: &[String],
) -> Result<Vec<String>, Error> {
    let mut missing = Vec::new();
    if !filled(source.attributes.as_ref().and_then(|a| a.copyright.as_deref())) {
        missing.push("General: Copyright (appStoreVersions.copyright)".to_string());
    }
    let url = ep::localizations_of_version(client, &source.id, &[("limit", "200")])?;
    let locs: Vec<AppStoreVersionLocalization> = client.get_all(url).await?;
    if locs.is_empty() {
        missing.push("App Store: a localization (appStoreVersionLocalizations)".to_string());
    }
    for l in &locs {
        let a = l.attributes.clone().unwrap_or_default();
        let locale = sanitize(a.locale.as_deref().unwrap_or("?"));
        for (value, label, attr) in [
            (a.description.as_deref(), "Description", "description"),
            (a.keywords.as_deref(), "Keywords", "keywords"),
            (a.support_url.as_deref(), "Support URL", "supportUrl"),
        ] {
            if !filled(value) {
                missing.push(format!("{locale}: {label} (appStoreVersionLocalizations.{attr})"));
            }
        }
        let has_whats_new = !copies && filled(a.whats_new.as_deref());
        if update && !has_whats_new && !given.iter().any(|g| g.eq_ignore_ascii_case(&locale)) {
            missing.push(format!(
                "{locale}: What's New in This Version (appStoreVersionLocalizations.whatsNew; pass --whats-new)"
            ));
        }
        // Apple lists a set's screenshots only when they are included.
        let url = ep::screenshot_sets(
            client,
            &l.id,
            &[
                ("include", "appScreenshots"),
                ("limit[appScreenshots]", "1"),
                ("limit", "50"),
            ],
        )?;
        let sets: Vec<AppScreenshotSet> = client.get_all(url).await?;
        let any_shots = sets.iter().any(|s| {
            s.relationships
                .as_ref()
                .and_then(|r| r.get("appScreenshots"))
                .and_then(|r| r.get("data"))
                .and_then(|d| d.as_array())
                .is_some_and(|d| !d.is_empty())
        });
        if !any_shots {
            missing.push(format!("{locale}: Screenshots (appScreenshotSets)"));
        }
    }
    // What's New for a locale the version does not have creates that localization, and App Review
    // needs all of it, not only What's New.
    for g in given {
        let known = locs.iter().any(|l| {
            l.attributes
                .as_ref()
                .and_then(|a| a.locale.as_deref())
                .is_some_and(|x| x.eq_ignore_ascii_case(g))
        });
        if !known {
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
    let url = ep::review_detail_of_version(client, &source.id)?;
    let detail = match client.get_data::<AppStoreReviewDetail>(url).await {
        Ok(d) => d.attributes.unwrap_or_default(),
        Err(e) if e.is_not_found() => Default::default(),
        Err(e) => return Err(e.into()),
    };
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
    if detail.demo_account_required == Some(true) {
        if !filled(detail.demo_account_name.as_deref()) {
            missing.push(format!(
                "{REVIEW}: Sign-in user name (appStoreReviewDetails.demoAccountName; sign-in is marked required)"
            ));
        }
        if !filled(detail.demo_account_password.as_deref()) {
            missing.push(format!(
                "{REVIEW}: Sign-in password (appStoreReviewDetails.demoAccountPassword; sign-in is marked required)"
            ));
        }
    }
    Ok(missing)
}
