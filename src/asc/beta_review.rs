//! Typed operations for beta app review: the app's test information and the submissions.

use reqwest::Method;

use super::endpoints::{apps, beta};
use super::model::Document;
use super::records::{BetaAppInfo, ReviewDetail, ReviewSubmission};
use super::testflight::{BetaAppLocalization, BetaAppReviewDetail, BetaAppReviewSubmission, request};
use super::{AscClient, AscError};

/// The app's "Test Information" localizations.
pub async fn app_infos(c: &AscClient, app_id: &str) -> Result<Vec<BetaAppInfo>, AscError> {
    let url = apps::beta_app_localizations(c, app_id, &[("limit", "200")])?;
    let locs: Vec<BetaAppLocalization> = c.get_all(url).await?;
    Ok(locs
        .into_iter()
        .map(|l| {
            let a = l.attributes;
            BetaAppInfo {
                description: a.as_ref().and_then(|a| a.description.clone()),
                feedback_email: a.and_then(|a| a.feedback_email),
            }
        })
        .collect())
}

/// The app's review contact and sign-in details.
pub async fn detail(c: &AscClient, app_id: &str) -> Result<ReviewDetail, AscError> {
    let url = apps::beta_app_review_detail(c, app_id)?;
    let doc: Document<BetaAppReviewDetail> = c.get(url).await?;
    Ok(doc
        .data
        .attributes
        .map_or_else(ReviewDetail::default, |a| ReviewDetail {
            contact_first_name: a.contact_first_name,
            contact_last_name: a.contact_last_name,
            contact_phone: a.contact_phone,
            contact_email: a.contact_email,
            demo_account_required: a.demo_account_required,
            demo_account_name: a.demo_account_name,
        }))
}

fn submission(s: BetaAppReviewSubmission) -> ReviewSubmission {
    ReviewSubmission {
        id: s.id,
        state: s.attributes.and_then(|a| a.beta_review_state),
    }
}

/// The review submissions of a build.
pub async fn submissions_of(c: &AscClient, build_id: &str) -> Result<Vec<ReviewSubmission>, AscError> {
    let url = beta::review_submissions(c, &[("filter[build]", build_id), ("limit", "10")])?;
    let list: Vec<BetaAppReviewSubmission> = c.get_all(url).await?;
    Ok(list.into_iter().map(submission).collect())
}

/// Submits a build for beta app review.
pub async fn submit(c: &AscClient, build_id: &str) -> Result<ReviewSubmission, AscError> {
    let url = beta::review_submissions(c, &[])?;
    let doc: Document<BetaAppReviewSubmission> = c
        .mutate_json(Method::POST, url, &request::submit_beta_review(build_id))
        .await?;
    Ok(submission(doc.data))
}
