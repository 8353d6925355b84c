//! Beta app review: check the app's test information is complete (naming each field to fill in),
//! then submit the build; an existing submission is reported, not an error.

use crate::asc::error::AscError;
use crate::asc::records::{BetaAppInfo, ReviewSubmission};
use crate::asc::{AscClient, beta_review};
use crate::error::Error;
use crate::publish::distribution::Distributed;
use crate::publish::events::Events;

fn filled(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// What is missing for a beta review, each as "Section: Field (resource.attribute)" (the sections
/// of App Store Connect → TestFlight → Test Information), empty when complete.
pub async fn missing_info(client: &AscClient, app_id: &str) -> Result<Vec<String>, Error> {
    let mut missing = Vec::new();
    let locs = beta_review::app_infos(client, app_id).await?;
    let any = |f: &dyn Fn(&BetaAppInfo) -> bool| locs.iter().any(f);
    const INFO: &str = "Beta App Information";
    if !any(&|l| filled(&l.description)) {
        missing.push(format!(
            "Beta App Description (betaAppLocalizations.description) in {INFO}"
        ));
    }
    if !any(&|l| filled(&l.feedback_email)) {
        missing.push(format!("{INFO}: Feedback Email (betaAppLocalizations.feedbackEmail)"));
    }
    let d = beta_review::detail(client, app_id).await?;
    const REVIEW: &str = "Beta App Review Information";
    for (value, label, attr) in [
        (d.contact_first_name.clone(), "First name", "contactFirstName"),
        (d.contact_last_name.clone(), "Last name", "contactLastName"),
        (d.contact_phone.clone(), "Phone number", "contactPhone"),
        (d.contact_email.clone(), "Email", "contactEmail"),
    ] {
        if !filled(&value) {
            missing.push(format!("{REVIEW}: {label} (betaAppReviewDetails.{attr})"));
        }
    }
    if d.demo_account_required == Some(true) && !filled(&d.demo_account_name) {
        missing.push(format!(
            "{REVIEW}: Sign-in user name (betaAppReviewDetails.demoAccountName; sign-in is marked required)"
        ));
    }
    Ok(missing)
}

async fn existing(client: &AscClient, build_id: &str) -> Result<Option<ReviewSubmission>, Error> {
    let list = beta_review::submissions_of(client, build_id).await?;
    Ok(list.into_iter().next())
}

fn state_of(s: &ReviewSubmission) -> String {
    crate::asc::error::sanitize(s.state.as_deref().unwrap_or("WAITING_FOR_REVIEW"))
}

/// Submits the build for beta app review unless a submission exists.
pub async fn submit(client: &AscClient, build_id: &str, events: &Events, done: &mut Distributed) -> Result<(), Error> {
    if let Some(s) = existing(client, build_id).await? {
        let st = state_of(&s);
        events.step(format!("  beta app review: already submitted ({st})"));
        done.beta_review = Some(st);
        return Ok(());
    }
    match beta_review::submit(client, build_id).await {
        Ok(submitted) => {
            let st = state_of(&submitted);
            events.step(format!("  beta app review: submitted ({st})"));
            done.beta_review = Some(st);
            Ok(())
        }
        // Submitted meanwhile (or a lost answer re-sent): read back what is there.
        Err(AscError::Api(a)) if a.status == 409 => match existing(client, build_id).await? {
            Some(s) => {
                let st = state_of(&s);
                events.step(format!("  beta app review: already submitted ({st})"));
                done.beta_review = Some(st);
                Ok(())
            }
            None => Err(AscError::Api(a).into()),
        },
        Err(e) => Err(e.into()),
    }
}
