//! Apple's TestFlight wire types (beta groups, testers, What to Test, notifications, beta app
//! review) and the request bodies that write them.

use serde::Deserialize;

use crate::asc::model::Resource;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaGroupAttributes {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_internal_group: Option<bool>,
    #[serde(default)]
    pub has_access_to_all_builds: Option<bool>,
    #[serde(default)]
    pub public_link_enabled: Option<bool>,
}

pub type BetaGroup = Resource<BetaGroupAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaTesterAttributes {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
}

pub type BetaTester = Resource<BetaTesterAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaBuildLocalizationAttributes {
    #[serde(default)]
    pub whats_new: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

pub type BetaBuildLocalization = Resource<BetaBuildLocalizationAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaAppReviewSubmissionAttributes {
    #[serde(default)]
    pub beta_review_state: Option<String>,
    #[serde(default)]
    pub submitted_date: Option<String>,
}

pub type BetaAppReviewSubmission = Resource<BetaAppReviewSubmissionAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaAppReviewDetailAttributes {
    #[serde(default)]
    pub contact_first_name: Option<String>,
    #[serde(default)]
    pub contact_last_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub demo_account_required: Option<bool>,
    #[serde(default)]
    pub demo_account_name: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

pub type BetaAppReviewDetail = Resource<BetaAppReviewDetailAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BetaAppLocalizationAttributes {
    #[serde(default)]
    pub feedback_email: Option<String>,
    #[serde(default)]
    pub marketing_url: Option<String>,
    #[serde(default)]
    pub privacy_policy_url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

pub type BetaAppLocalization = Resource<BetaAppLocalizationAttributes>;

/// Request bodies.
pub mod request {
    use serde_json::{Value, json};

    /// `POST /v1/builds/{id}/relationships/betaGroups` (and `individualTesters`).
    pub fn linkages(kind: &str, ids: &[&str]) -> Value {
        let data: Vec<Value> = ids.iter().map(|id| json!({ "type": kind, "id": id })).collect();
        json!({ "data": data })
    }

    pub fn create_build_localization(build_id: &str, locale: &str, whats_new: &str) -> Value {
        json!({ "data": { "type": "betaBuildLocalizations",
            "attributes": { "locale": locale, "whatsNew": whats_new },
            "relationships": { "build": { "data": { "type": "builds", "id": build_id } } } } })
    }

    pub fn update_build_localization(id: &str, whats_new: &str) -> Value {
        json!({ "data": { "type": "betaBuildLocalizations", "id": id, "attributes": { "whatsNew": whats_new } } })
    }

    pub fn notify(build_id: &str) -> Value {
        json!({ "data": { "type": "buildBetaNotifications",
            "relationships": { "build": { "data": { "type": "builds", "id": build_id } } } } })
    }

    pub fn submit_beta_review(build_id: &str) -> Value {
        json!({ "data": { "type": "betaAppReviewSubmissions",
            "relationships": { "build": { "data": { "type": "builds", "id": build_id } } } } })
    }

    pub fn expire_build(build_id: &str) -> Value {
        json!({ "data": { "type": "builds", "id": build_id, "attributes": { "expired": true } } })
    }
}
