//! The writing half of a release, in the order of the module docs. Only reached when the
//! preflight found nothing missing.

use std::time::Duration;

use reqwest::Method;

use crate::asc::AscClient;
use crate::asc::app_store::{
    AppStoreVersion, AppStoreVersionLocalization, PhasedRelease, ReviewSubmission, ReviewSubmissionItem, request,
};
use crate::asc::endpoints::app_store as ep;
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::outcome::{Outcome, ReleaseOutcome};
use crate::publish::distribution::what_to_test::truncate;
use crate::publish::release::preflight::Plan;
use crate::publish::release::wait::{self, WaitFor, state_of};
use crate::publish::release::{Release, ReleaseError, Target};

fn rel(outcome: &mut Outcome) -> &mut ReleaseOutcome {
    outcome.release.get_or_insert_with(ReleaseOutcome::default)
}

pub async fn run(
    client: &AscClient,
    target: &Target,
    r: &Release,
    plan: &Plan,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    // 2. Pending submissions out of the way.
    for s in &plan.cancel {
        let url = ep::review_submission(client, &s.id, &[])?;
        client.mutate(Method::PATCH, url, Some(&request::cancel(&s.id))).await?;
        r.events
            .step(format!("  review submission {}: cancel requested", sanitize(&s.id)));
        let cfg = WaitFor {
            timeout: Duration::from_secs(10 * 60),
            interval: Duration::from_secs(2),
            events: r.events.clone(),
        };
        wait::until(
            client,
            &s.id,
            |st| st != "CANCELING",
            &cfg,
            "App Store Connect is cancelling the submission",
        )
        .await?;
        rel(outcome).canceled_submissions.push(sanitize(&s.id));
    }
    // 3. The version.
    let version_id = version(client, target, r, plan).await?;
    rel(outcome).version_id = Some(version_id.clone());
    let patch = request::update_version(&version_id, None, Some(r.release_type.apple()), r.release_type.date());
    client
        .mutate(Method::PATCH, ep::version(client, &version_id, &[])?, Some(&patch))
        .await?;
    rel(outcome).release_type = Some(r.release_type.apple().to_string());
    rel(outcome).earliest_release_date = r.release_type.date().map(str::to_string);
    client
        .mutate(
            Method::PATCH,
            ep::version_build_link(client, &version_id)?,
            Some(&request::attach_build(&target.build_id)),
        )
        .await?;
    r.events.step(format!(
        "  App Store version {}: build {} attached",
        target.version_string, target.build_id
    ));
    whats_new(client, &version_id, r, outcome).await?;
    if let Some(on) = r.phased {
        phased(client, &version_id, on).await?;
        rel(outcome).phased_release = Some(on);
        r.events
            .step(format!("  phased release: {}", if on { "on" } else { "off" }));
    }
    // 4. The submission.
    let submission_id = match &plan.draft {
        Some(d) => d.id.clone(),
        None => {
            let url = ep::review_submissions(client, &[])?;
            let created: ReviewSubmission = client
                .mutate_data(
                    Method::POST,
                    url,
                    &request::create_submission(&target.app_id, &target.platform),
                )
                .await?;
            created.id
        }
    };
    rel(outcome).submission_id = Some(sanitize(&submission_id));
    let items_url = ep::items_of_submission(client, &submission_id, &[("limit", "50")])?;
    let items: Vec<ReviewSubmissionItem> = client.get_all(items_url).await?;
    if !items
        .iter()
        .any(|i| i.related_id("appStoreVersion") == Some(version_id.as_str()))
    {
        let url = ep::review_submission_items(client)?;
        if let Err(e) = client
            .mutate(Method::POST, url, Some(&request::add_item(&submission_id, &version_id)))
            .await
        {
            return Err(refused_item(e, outcome));
        }
    }
    let url = ep::review_submission(client, &submission_id, &[])?;
    let submitted: ReviewSubmission = client
        .mutate_data(Method::PATCH, url, &request::submit(&submission_id))
        .await?;
    let st = state_of(&submitted);
    r.events
        .step(format!("  review submission {}: {st}", sanitize(&submission_id)));
    rel(outcome).submission_state = Some(st);
    let url = ep::version(client, &version_id, &[])?;
    let v: AppStoreVersion = client.get_data(url).await?;
    rel(outcome).version_state = v.state().map(sanitize);
    Ok(())
}

/// The exact version, the open one renamed, or a new one.
async fn version(client: &AscClient, target: &Target, r: &Release, plan: &Plan) -> Result<String, Error> {
    if let Some(v) = &plan.exact {
        return Ok(v.id.clone());
    }
    if let Some(v) = &plan.rename {
        let body = request::update_version(&v.id, Some(&target.version_string), None, None);
        client
            .mutate(Method::PATCH, ep::version(client, &v.id, &[])?, Some(&body))
            .await?;
        r.events
            .step(format!("  App Store version renamed to {}", target.version_string));
        return Ok(v.id.clone());
    }
    let url = ep::versions(client)?;
    let created: AppStoreVersion = client
        .mutate_data(
            Method::POST,
            url,
            &request::create_version(&target.app_id, &target.platform, &target.version_string),
        )
        .await?;
    r.events
        .step(format!("  App Store version {} created", target.version_string));
    Ok(created.id)
}

/// What's New per locale: emoji kept (the App Store shows them), cut at Apple's limit.
async fn whats_new(client: &AscClient, version_id: &str, r: &Release, outcome: &mut Outcome) -> Result<(), Error> {
    if r.whats_new.is_empty() {
        return Ok(());
    }
    let url = ep::localizations_of_version(client, version_id, &[("limit", "200")])?;
    let existing: Vec<AppStoreVersionLocalization> = client.get_all(url).await?;
    for (locale, text) in &r.whats_new {
        let (text, cut) = truncate(text);
        if cut {
            outcome.warnings.push(format!(
                "What's New for {locale} is longer than Apple's 4000 bytes (UTF-8); it was truncated"
            ));
        }
        let found = existing.iter().find(|l| {
            l.attributes
                .as_ref()
                .and_then(|a| a.locale.as_deref())
                .is_some_and(|x| x.eq_ignore_ascii_case(locale))
        });
        match found {
            Some(l) => {
                let url = ep::localization(client, &l.id)?;
                client
                    .mutate(Method::PATCH, url, Some(&request::update_whats_new(&l.id, &text)))
                    .await?;
            }
            None => {
                let url = ep::localizations(client)?;
                client
                    .mutate(
                        Method::POST,
                        url,
                        Some(&request::create_localization(version_id, locale, &text)),
                    )
                    .await?;
            }
        }
        r.events.step(format!("  What's New ({locale}): set"));
        rel(outcome).whats_new.push(locale.clone());
    }
    Ok(())
}

async fn phased(client: &AscClient, version_id: &str, on: bool) -> Result<(), Error> {
    let url = ep::phased_release_of_version(client, version_id)?;
    // "Off" is a 404, or `data: null`.
    let current = match client.get_data::<Option<PhasedRelease>>(url).await {
        Ok(d) => d.map(|p| p.id),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    match (on, current) {
        (true, None) => {
            let url = ep::phased_releases(client)?;
            client
                .mutate(Method::POST, url, Some(&request::create_phased_release(version_id)))
                .await?;
        }
        (false, Some(id)) => {
            client
                .mutate(Method::DELETE, ep::phased_release(client, &id)?, None)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// A version App Review refuses: Apple's 409 lists each missing attribute under
/// `meta.associatedErrors` (what the preflight could not see, e.g. a field Apple newly requires);
/// they become the named gaps.
fn refused_item(e: crate::asc::AscError, outcome: &mut Outcome) -> Error {
    let missing: Vec<String> = e
        .api()
        .filter(|a| a.status == 409)
        .map(|a| a.associated())
        .unwrap_or_default()
        .into_iter()
        .map(|(path, attr)| format!("{path}: {attr}"))
        .collect();
    if missing.is_empty() {
        return e.into();
    }
    rel(outcome).missing = missing.clone();
    ReleaseError::Incomplete { missing }.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asc::ApiError;

    #[test]
    fn apples_refusal_of_an_item_names_each_missing_attribute() {
        let body = include_bytes!("../../../tests/fixtures/recorded/asc/errors/codemagic-409-state.json");
        let e = crate::asc::AscError::Api(ApiError::from_body(409, "POST", "/v1/reviewSubmissionItems", body));
        let mut outcome = Outcome::new();
        let err = refused_item(e, &mut outcome);
        assert_eq!(err.exit_code(), 4);
        let missing = outcome.release.unwrap().missing;
        assert_eq!(missing.len(), 3, "{missing:?}");
        assert!(missing[0].ends_with(": description"), "{missing:?}");
        assert!(err.message().contains("supportUrl"), "{}", err.message());
        // Another refusal stays Apple's own error.
        let other = crate::asc::AscError::Api(ApiError::from_body(409, "POST", "/x", br#"{"errors":[]}"#));
        let mut outcome = Outcome::new();
        assert!(!refused_item(other, &mut outcome).message().contains("missing"));
        assert!(outcome.release.is_none());
    }
}
