//! Typed operations for TestFlight testing: groups, individual testers, "What to Test", and the
//! notification to testers.

use reqwest::Method;

use super::endpoints::{apps, beta, builds};
use super::records::{BetaGroupRecord, TesterRecord, WhatToTestRecord};
use super::testflight::{BetaBuildLocalization, BetaGroup, BetaTester, request};
use super::{AscClient, AscError};

fn group(g: BetaGroup) -> BetaGroupRecord {
    let a = g.attributes;
    BetaGroupRecord {
        id: g.id,
        name: a.as_ref().and_then(|a| a.name.clone()),
        is_internal: a.as_ref().and_then(|a| a.is_internal_group),
        has_access_to_all_builds: a.and_then(|a| a.has_access_to_all_builds),
    }
}

/// The app's beta groups.
pub async fn groups_of_app(c: &AscClient, app_id: &str) -> Result<Vec<BetaGroupRecord>, AscError> {
    let url = apps::beta_groups(c, app_id, &[("limit", "200")])?;
    let found: Vec<BetaGroup> = c.get_all(url).await?;
    Ok(found.into_iter().map(group).collect())
}

/// The groups a build is already in.
pub async fn groups_of_build(c: &AscClient, build_id: &str) -> Result<Vec<BetaGroupRecord>, AscError> {
    let url = beta::groups(c, &[("filter[builds]", build_id), ("limit", "200")])?;
    let found: Vec<BetaGroup> = c.get_all(url).await?;
    Ok(found.into_iter().map(group).collect())
}

/// Adds a build to one group.
pub async fn add_to_group(c: &AscClient, build_id: &str, group_id: &str) -> Result<(), AscError> {
    let url = builds::beta_groups_link(c, build_id)?;
    c.mutate(Method::POST, url, Some(&request::linkages("betaGroups", &[group_id])))
        .await?;
    Ok(())
}

/// The app's testers with any of the (comma-joined) emails.
pub async fn testers_by_email(c: &AscClient, app_id: &str, emails: &str) -> Result<Vec<TesterRecord>, AscError> {
    let url = beta::testers(
        c,
        &[("filter[apps]", app_id), ("filter[email]", emails), ("limit", "200")],
    )?;
    let found: Vec<BetaTester> = c.get_all(url).await?;
    Ok(found
        .into_iter()
        .map(|t| TesterRecord {
            id: t.id,
            email: t.attributes.and_then(|a| a.email),
        })
        .collect())
}

/// Gives a build to individual testers, in one request.
pub async fn add_testers(c: &AscClient, build_id: &str, tester_ids: &[&str]) -> Result<(), AscError> {
    let url = builds::individual_testers_link(c, build_id)?;
    c.mutate(Method::POST, url, Some(&request::linkages("betaTesters", tester_ids)))
        .await?;
    Ok(())
}

/// A build's "What to Test" localizations.
pub async fn what_to_test_of(c: &AscClient, build_id: &str) -> Result<Vec<WhatToTestRecord>, AscError> {
    let url = builds::beta_build_localizations(c, build_id, &[("limit", "200")])?;
    let found: Vec<BetaBuildLocalization> = c.get_all(url).await?;
    Ok(found
        .into_iter()
        .map(|l| WhatToTestRecord {
            id: l.id,
            locale: l.attributes.and_then(|a| a.locale),
        })
        .collect())
}

/// Replaces the text of an existing localization.
pub async fn update_what_to_test(c: &AscClient, localization_id: &str, text: &str) -> Result<(), AscError> {
    let url = beta::build_localization(c, localization_id)?;
    let body = request::update_build_localization(localization_id, text);
    c.mutate(Method::PATCH, url, Some(&body)).await?;
    Ok(())
}

/// Adds a localization to a build.
pub async fn create_what_to_test(c: &AscClient, build_id: &str, locale: &str, text: &str) -> Result<(), AscError> {
    let url = beta::build_localizations(c)?;
    let body = request::create_build_localization(build_id, locale, text);
    c.mutate(Method::POST, url, Some(&body)).await?;
    Ok(())
}

/// Tells the build's testers it is available.
pub async fn notify_testers(c: &AscClient, build_id: &str) -> Result<(), AscError> {
    let url = beta::build_notifications(c)?;
    c.mutate(Method::POST, url, Some(&request::notify(build_id))).await?;
    Ok(())
}
