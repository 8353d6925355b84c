//! The writing half of a release, in the order of the module docs. Only reached when the
//! preflight found nothing missing.

use std::time::Duration;

use crate::asc::app_store_submissions::{self as submissions, SubmissionState};
use crate::asc::app_store_versions as versions;
use crate::asc::error::sanitize;
use crate::asc::{AscClient, AscError};
use crate::error::Error;
use crate::publish::distribution::what_to_test::truncate;
use crate::publish::release::preflight::Plan;
use crate::publish::release::wait::{self, WaitFor};
use crate::publish::release::{Release, ReleaseError, Released, Target};

pub async fn run(
    client: &AscClient,
    target: &Target,
    r: &Release,
    plan: &Plan,
    done: &mut Released,
) -> Result<(), Error> {
    // 2. Pending submissions out of the way.
    for s in &plan.cancel {
        submissions::cancel(client, &s.id).await?;
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
            |st| *st != SubmissionState::Canceling,
            &cfg,
            "App Store Connect is cancelling the submission",
        )
        .await?;
        done.release().canceled_submissions.push(sanitize(&s.id));
    }
    // 3. The version.
    let version_id = version(client, target, r, plan).await?;
    done.release().version_id = Some(version_id.clone());
    versions::set_release_type(client, &version_id, &r.release_type).await?;
    done.release().release_type = Some(r.release_type.apple().to_string());
    done.release().earliest_release_date = r.release_type.date().map(str::to_string);
    versions::attach_build(client, &version_id, &target.build_id).await?;
    r.events.step(format!(
        "  App Store version {}: build {} attached",
        target.version_string, target.build_id
    ));
    whats_new(client, &version_id, r, done).await?;
    if let Some(on) = r.phased {
        if on {
            versions::phased_release_on(client, &version_id).await?;
        } else {
            versions::phased_release_off(client, &version_id).await?;
        }
        done.release().phased_release = Some(on);
        r.events
            .step(format!("  phased release: {}", if on { "on" } else { "off" }));
    }
    // 4. The submission.
    let submission_id = match &plan.draft {
        Some(d) => d.id.clone(),
        None => submissions::create_submission(client, &target.app_id, &target.platform).await?,
    };
    done.release().submission_id = Some(sanitize(&submission_id));
    if !submissions::has_item(client, &submission_id, &version_id).await? {
        if let Err(e) = submissions::add_item(client, &submission_id, &version_id).await {
            return Err(refused_item(e, done));
        }
    }
    let st = submissions::submit(client, &submission_id).await?;
    r.events
        .step(format!("  review submission {}: {st}", sanitize(&submission_id)));
    done.release().submission_state = Some(st.to_string());
    done.release().version_state = versions::version(client, &version_id).await?.state;
    Ok(())
}

/// The exact version, the open one renamed, or a new one.
async fn version(client: &AscClient, target: &Target, r: &Release, plan: &Plan) -> Result<String, Error> {
    if let Some(v) = &plan.exact {
        return Ok(v.id.clone());
    }
    if let Some(v) = &plan.rename {
        versions::rename_version(client, &v.id, &target.version_string).await?;
        r.events
            .step(format!("  App Store version renamed to {}", target.version_string));
        return Ok(v.id.clone());
    }
    let id = versions::create_version(client, &target.app_id, &target.platform, &target.version_string).await?;
    r.events
        .step(format!("  App Store version {} created", target.version_string));
    Ok(id)
}

/// What's New per locale: emoji kept (the App Store shows them), cut at Apple's limit.
async fn whats_new(client: &AscClient, version_id: &str, r: &Release, done: &mut Released) -> Result<(), Error> {
    if r.whats_new.is_empty() {
        return Ok(());
    }
    let existing = versions::localizations(client, version_id).await?;
    for (locale, text) in &r.whats_new {
        let (text, cut) = truncate(text);
        if cut {
            done.warnings.push(format!(
                "What's New for {locale} is longer than Apple's 4000 bytes (UTF-8); it was truncated"
            ));
        }
        match existing.iter().find(|l| l.is_locale(locale)) {
            Some(l) => versions::set_whats_new(client, &l.id, &text).await?,
            None => versions::create_localization(client, version_id, locale, &text).await?,
        }
        r.events.step(format!("  What's New ({locale}): set"));
        done.release().whats_new.push(locale.clone());
    }
    Ok(())
}

/// A version App Review refuses: Apple's 409 lists each missing attribute under
/// `meta.associatedErrors` (what the preflight could not see, e.g. a field Apple newly requires);
/// they become the named gaps.
fn refused_item(e: AscError, done: &mut Released) -> Error {
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
    done.release().missing = missing.clone();
    ReleaseError::Incomplete { missing }.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asc::ApiError;

    #[test]
    fn apples_refusal_of_an_item_names_each_missing_attribute() {
        let body = include_bytes!("../../../tests/fixtures/recorded/asc/errors/codemagic-409-state.json");
        // The path is only context in the message; the flow never names one.
        let e = AscError::Api(ApiError::from_body(409, "POST", "reviewSubmissionItems", body));
        let mut done = Released::default();
        let err = refused_item(e, &mut done);
        assert_eq!(err.exit_code(), 4);
        let missing = done.release.unwrap().missing;
        assert_eq!(missing.len(), 3, "{missing:?}");
        assert!(missing[0].ends_with(": description"), "{missing:?}");
        assert!(err.message().contains("supportUrl"), "{}", err.message());
        // Another refusal stays Apple's own error.
        let other = AscError::Api(ApiError::from_body(409, "POST", "/x", br#"{"errors":[]}"#));
        let mut done = Released::default();
        assert!(!refused_item(other, &mut done).message().contains("missing"));
        assert!(done.release.is_none());
    }
}
