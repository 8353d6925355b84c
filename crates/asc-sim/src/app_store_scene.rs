//! The App Store scene a simulator starts from: the metadata its apps lack (to meet Apple's
//! refusals), a review submission already with App Review, and how App Review goes.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Metadata a scene can leave out, to meet Apple's refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingMetadata {
    Screenshots,
    Description,
    Keywords,
    SupportUrl,
    Copyright,
    ReviewContact,
}

impl FromStr for MissingMetadata {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "screenshots" => MissingMetadata::Screenshots,
            "description" => MissingMetadata::Description,
            "keywords" => MissingMetadata::Keywords,
            "support-url" => MissingMetadata::SupportUrl,
            "copyright" => MissingMetadata::Copyright,
            "review-contact" => MissingMetadata::ReviewContact,
            other => {
                return Err(format!(
                    "unknown metadata '{other}': expected screenshots, description, keywords, support-url, copyright \
                     or review-contact"
                ));
            }
        })
    }
}

/// How App Review ends a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReviewVerdict {
    #[default]
    Approve,
    Reject,
}

/// What the App Store side looks like at start: every app has a released version 0.9 on iOS whose
/// metadata new versions copy, minus what `missing` leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStoreScene {
    pub missing: Vec<MissingMetadata>,
    /// A submission already with Apple (WAITING_FOR_REVIEW, IN_REVIEW or UNRESOLVED_ISSUES) for
    /// version 0.9.1 of every app; it stays there until cancelled.
    pub in_flight: Option<String>,
    /// How long each review stage (waiting, in review) lasts.
    pub review_time: Duration,
    pub verdict: ReviewVerdict,
}

impl Default for AppStoreScene {
    fn default() -> Self {
        AppStoreScene {
            missing: Vec::new(),
            in_flight: None,
            review_time: Duration::from_secs(2),
            verdict: ReviewVerdict::Approve,
        }
    }
}

/// The states `--in-flight` takes.
pub const IN_FLIGHT_SCENES: &[&str] = &["WAITING_FOR_REVIEW", "IN_REVIEW", "UNRESOLVED_ISSUES"];
