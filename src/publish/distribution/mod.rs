//! TestFlight distribution of a processed build: What to Test, beta app review, beta groups,
//! individual testers, the tester notification and expiring older builds, in that order.
//!
//! Order, and why:
//! 1. Every lookup first (groups, testers, beta review information): a typo or a missing field
//!    fails the run before anything is written, naming what exists or what to fill in.
//! 2. What to Test: Apple requires it for the beta review submission, and testers see it.
//! 3. Beta app review submission, before external groups (as fastlane does): an external group
//!    only gets a build once it was submitted; adding first is refused or silently queued.
//! 4. Beta groups (internal then external), then individual testers.
//! 5. The notification, once the build is in the groups so it reaches their testers.
//! 6. Expiring older builds last, so testers are never left without a build.
//!
//! Export compliance must be answered before groups, testers, notification or review (testers
//! cannot install a "Missing Compliance" build, and Apple answers 422 for external groups): the upload engine answers it after processing; `distribute` does for an existing
//! build when `--uses-non-exempt-encryption` is given.

pub mod beta_review;
pub mod existing;
pub mod expire;
pub mod groups;
pub mod lookup;
pub mod notify;
pub mod plan;
pub mod testers;
pub mod what_to_test;

use crate::asc::AscClient;
use crate::error::{Error, ErrorKind};
use crate::outcome::{GroupKind, GroupOutcome, GroupResult, Outcome};
use crate::publish::events::Events;

/// What to do with the build (all optional).
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    /// Beta group names (case-insensitive) or ids.
    pub groups: Vec<String>,
    /// (locale, What to Test text); emoji are removed and texts over 4000
    /// UTF-8 bytes truncated, each with a warning.
    pub what_to_test: Vec<(String, String)>,
    pub notify: bool,
    /// Tester emails to give the build individually.
    pub testers: Vec<String>,
    pub submit_beta_review: bool,
    pub expire_previous: bool,
    /// Where each step's progress line goes.
    pub events: Events,
}

impl Distribution {
    /// Whether anything at all was asked for.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
            && self.what_to_test.is_empty()
            && !self.notify
            && self.testers.is_empty()
            && !self.submit_beta_review
            && !self.expire_previous
    }
}

/// The processed build to distribute.
#[derive(Debug, Clone)]
pub struct Target {
    pub app_id: String,
    pub build_id: String,
    /// CFBundleShortVersionString, needed by `expire_previous`.
    pub short_version: Option<String>,
    /// Apple's platform of the build's train (IOS, TV_OS, …), needed by `expire_previous`.
    pub platform: Option<String>,
    /// The build's `usesNonExemptEncryption` (None: unanswered).
    pub uses_non_exempt_encryption: Option<bool>,
}

/// Distribution failures that are not plain API errors, each with the fix.
#[derive(Debug, thiserror::Error)]
pub enum DistributionError {
    #[error("no beta group {names} for this app; its groups are: {existing}")]
    UnknownGroups { names: String, existing: String },
    #[error("beta group name '{name}' matches several groups: {matches}")]
    AmbiguousGroup { name: String, matches: String },
    #[error("no beta tester with email {emails} for this app")]
    UnknownTesters { emails: String },
    #[error("the app's TestFlight test information is incomplete for beta app review: {missing}")]
    ReviewInfoMissing { missing: String },
    #[error("{failed} of {requested} requested beta group(s) did not get the build: {names}")]
    GroupsFailed {
        failed: usize,
        requested: usize,
        names: String,
    },
    #[error("export compliance is unanswered for build {build_id}; testers cannot install it until it is answered")]
    ComplianceUnanswered { build_id: String },
    #[error("cannot use the What to Test input: {0}")]
    WhatToTest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("build {build_id} is {state}: only a VALID, unexpired build can be distributed")]
    NotDistributable { build_id: String, state: String },
}

impl From<DistributionError> for Error {
    fn from(e: DistributionError) -> Self {
        let (kind, hint): (ErrorKind, String) = match &e {
            DistributionError::UnknownGroups { .. } => (
                ErrorKind::Conflict,
                "check --groups against the names above (App Store Connect → your app → TestFlight), or create \
                 the group there first"
                    .into(),
            ),
            DistributionError::AmbiguousGroup { .. } => {
                (ErrorKind::Conflict, "pass the group's id instead of its name".into())
            }
            DistributionError::UnknownTesters { .. } => (
                ErrorKind::Conflict,
                "invite them first (App Store Connect → your app → TestFlight → a group → Testers → +); \
                 asc-publish does not send invitations on its own"
                    .into(),
            ),
            DistributionError::ReviewInfoMissing { .. } => (
                ErrorKind::Conflict,
                "fill these in at App Store Connect → your app → TestFlight → Test Information (Beta App \
                 Information and Beta App Review Information), then re-run"
                    .into(),
            ),
            DistributionError::GroupsFailed { .. } => (
                ErrorKind::Conflict,
                "see each group's message above; the other steps were done, re-running is safe".into(),
            ),
            DistributionError::ComplianceUnanswered { .. } => (
                ErrorKind::Conflict,
                "pass --uses-non-exempt-encryption true|false (or set ITSAppUsesNonExemptEncryption in \
                 Info.plist for the next upload)"
                    .into(),
            ),
            DistributionError::WhatToTest(_) => (
                ErrorKind::Usage,
                "--what-to-test-json takes a JSON object of locale → text, e.g. {\"en-US\": \"…\"}".into(),
            ),
            DistributionError::NotFound(_) => (
                ErrorKind::Conflict,
                "check the id with `asc-publish builds list`".into(),
            ),
            DistributionError::NotDistributable { .. } => (
                ErrorKind::Conflict,
                "distribute a VALID build; see `asc-publish builds status` for Apple's messages".into(),
            ),
        };
        Error::new(kind, e.to_string()).with_hint(hint).with_source(e)
    }
}

/// Whether a step makes the build testable: testers cannot install a build whose export
/// compliance is unanswered ("Missing Compliance"), and external groups and review refuse it.
pub fn needs_compliance(groups: &[groups::ResolvedGroup], d: &Distribution) -> bool {
    groups.iter().any(|g| g.kind != GroupKind::InternalAll) || !d.testers.is_empty() || d.submit_beta_review || d.notify
}

/// What distribution did (also when a later step failed), put on the outcome once.
#[derive(Debug, Default)]
pub struct Distributed {
    /// The locales whose What to Test was set.
    pub what_to_test: Vec<String>,
    /// Apple's beta review state of the submission.
    pub beta_review: Option<String>,
    pub groups: Vec<GroupOutcome>,
    /// The testers given the build.
    pub testers: Vec<String>,
    pub notified: Option<Notified>,
    /// Ids of the older builds expired.
    pub expired_builds: Vec<String>,
    pub warnings: Vec<String>,
}

/// How the testers were notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    /// Our notification was sent.
    Sent,
    /// App Store Connect's auto-notify is on: it notifies them itself.
    Auto,
}

impl Notified {
    /// The outcome's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Notified::Sent => "sent",
            Notified::Auto => "auto",
        }
    }
}

impl Distributed {
    /// Puts what was done on the outcome.
    pub fn record_in(self, outcome: &mut Outcome) {
        outcome.what_to_test.extend(self.what_to_test);
        if let Some(r) = self.beta_review {
            outcome.beta_review = Some(r);
        }
        outcome.groups.extend(self.groups);
        outcome.testers.extend(self.testers);
        if let Some(n) = self.notified {
            outcome.notified = Some(n.as_str().to_string());
        }
        outcome.expired_builds.extend(self.expired_builds);
        outcome.warnings.extend(self.warnings);
    }
}

/// Distributes a VALID build. Lookups first, then writes in the documented order. Each group's
/// result lands in the outcome; a group that failed makes the run fail (exit 4) after every other
/// step was done.
pub async fn distribute(
    client: &AscClient,
    target: &Target,
    d: &Distribution,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let mut done = Distributed::default();
    let r = run(client, target, d, &mut done).await;
    done.record_in(outcome);
    r
}

/// The steps, each recording what it did in `done` as it goes (a later failure keeps them).
async fn run(client: &AscClient, target: &Target, d: &Distribution, done: &mut Distributed) -> Result<(), Error> {
    if d.is_empty() {
        return Ok(());
    }
    // 1. Lookups.
    let resolved = if d.groups.is_empty() {
        Vec::new()
    } else {
        let all = groups::list(client, &target.app_id).await?;
        groups::resolve(&d.groups, &all)?
    };
    let testers = if d.testers.is_empty() {
        Vec::new()
    } else {
        testers::resolve(client, &target.app_id, &d.testers).await?
    };
    if d.submit_beta_review {
        let missing = beta_review::missing_info(client, &target.app_id).await?;
        if !missing.is_empty() {
            return Err(DistributionError::ReviewInfoMissing {
                missing: missing.join("; "),
            }
            .into());
        }
    }
    if needs_compliance(&resolved, d) && target.uses_non_exempt_encryption.is_none() {
        return Err(DistributionError::ComplianceUnanswered {
            build_id: target.build_id.clone(),
        }
        .into());
    }
    // 2. What to Test.
    if !d.what_to_test.is_empty() {
        what_to_test::upsert(client, &target.build_id, &d.what_to_test, &d.events, done).await?;
    }
    // 3. Beta review.
    if d.submit_beta_review {
        beta_review::submit(client, &target.build_id, &d.events, done).await?;
    }
    // 4. Groups and testers.
    if !resolved.is_empty() {
        groups::add(client, &target.build_id, &resolved, &d.events, done).await?;
    }
    if !testers.is_empty() {
        testers::add(client, &target.build_id, &testers, &d.events, done).await?;
    }
    // 5. Notification.
    if d.notify {
        notify::notify(client, &target.build_id, &d.events, done).await?;
    }
    // 6. Older builds.
    if d.expire_previous {
        match (&target.short_version, &target.platform) {
            (Some(v), Some(p)) => {
                expire::expire_previous(client, &target.app_id, v, p, &target.build_id, &d.events, done).await?
            }
            _ => done
                .warnings
                .push("--expire-previous: the build's version or platform is unknown; nothing was expired".into()),
        }
    }
    let failed: Vec<&str> = done
        .groups
        .iter()
        .filter(|g| g.result == GroupResult::Failed)
        .map(|g| g.name.as_str())
        .collect();
    if !failed.is_empty() {
        return Err(DistributionError::GroupsFailed {
            failed: failed.len(),
            requested: done.groups.len(),
            names: failed.join(", "),
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_distributed_lands_on_the_outcome_in_its_spelling() {
        let mut outcome = Outcome::new();
        outcome.warnings.push("earlier".into());
        outcome.beta_review = Some("kept when review was not asked".into());
        Distributed {
            what_to_test: vec!["en-US".into()],
            testers: vec!["a@example.com".into()],
            notified: Some(Notified::Auto),
            expired_builds: vec!["b1".into()],
            warnings: vec!["later".into()],
            ..Distributed::default()
        }
        .record_in(&mut outcome);
        assert_eq!(outcome.what_to_test, ["en-US"]);
        assert_eq!(outcome.testers, ["a@example.com"]);
        assert_eq!(outcome.notified.as_deref(), Some("auto"));
        assert_eq!(outcome.expired_builds, ["b1"]);
        assert_eq!(outcome.warnings, ["earlier", "later"]);
        assert_eq!(outcome.beta_review.as_deref(), Some("kept when review was not asked"));
        assert_eq!(Notified::Sent.as_str(), "sent");
    }
}
