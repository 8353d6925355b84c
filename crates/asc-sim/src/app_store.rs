//! App Store release records (versions, their localizations, App Review details, phased releases,
//! review submissions and items), the scene they start from, and Apple's state machines:
//! a version goes PREPARE_FOR_SUBMISSION → WAITING_FOR_REVIEW → IN_REVIEW → PENDING_DEVELOPER_RELEASE
//! (manual), READY_FOR_DISTRIBUTION (after approval) or PENDING_APPLE_RELEASE (scheduled), or
//! REJECTED; a submission goes READY_FOR_REVIEW → WAITING_FOR_REVIEW → IN_REVIEW → COMPLETE (or
//! UNRESOLVED_ISSUES), and CANCELING → COMPLETE when cancelled, its version back to
//! DEVELOPER_REJECTED. Time moves the review on: each stage lasts the scene's review time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::app_store_scene::{AppStoreScene, IN_FLIGHT_SCENES, MissingMetadata, ReviewVerdict};
use super::keys;
use super::state::Store;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Version {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub platform: String,
    pub version_string: String,
    /// appVersionState; appStoreState is derived from it.
    pub state: String,
    pub copyright: Option<String>,
    pub release_type: String,
    pub earliest_release_date: Option<String>,
    pub build_id: Option<String>,
    pub created: i64,
    pub review_detail_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VersionLocalization {
    pub id: String,
    pub seq: u64,
    pub version_id: String,
    pub locale: String,
    pub description: Option<String>,
    pub keywords: Option<String>,
    pub support_url: Option<String>,
    pub marketing_url: Option<String>,
    pub promotional_text: Option<String>,
    pub whats_new: Option<String>,
    /// Screenshots uploaded for this localization (one set holds them).
    pub screenshots: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StoreReviewDetail {
    pub id: String,
    pub version_id: String,
    pub contact_first_name: Option<String>,
    pub contact_last_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub demo_account_required: bool,
    pub demo_account_name: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PhasedRelease {
    pub id: String,
    pub version_id: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Submission {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub platform: String,
    pub state: String,
    pub submitted: Option<i64>,
    pub canceled: Option<i64>,
    /// Seeded by a scene: stays in its state until cancelled.
    pub held: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Item {
    pub id: String,
    pub seq: u64,
    pub submission_id: String,
    pub version_id: String,
    pub state: String,
}

/// All App Store release records, kept inside the [`Store`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AppStoreStore {
    pub versions: BTreeMap<String, Version>,
    pub localizations: BTreeMap<String, VersionLocalization>,
    pub review_details: BTreeMap<String, StoreReviewDetail>,
    pub phased: BTreeMap<String, PhasedRelease>,
    pub submissions: BTreeMap<String, Submission>,
    pub items: BTreeMap<String, Item>,
    /// Review stage length and verdict: from the configuration at every start.
    #[serde(skip)]
    pub review_ms: i64,
    #[serde(skip)]
    pub verdict: ReviewVerdict,
}

/// Version states whose metadata, build and release settings can still change.
pub(crate) const EDITABLE: &[&str] = &[
    "PREPARE_FOR_SUBMISSION",
    "DEVELOPER_REJECTED",
    "REJECTED",
    "METADATA_REJECTED",
    "INVALID_BINARY",
];

/// Submission states with Apple (neither a draft nor finished).
pub(crate) const IN_FLIGHT: &[&str] = &["WAITING_FOR_REVIEW", "IN_REVIEW", "UNRESOLVED_ISSUES", "CANCELING"];

/// The deprecated appStoreState Apple still sends beside appVersionState.
pub(crate) fn app_store_state(app_version_state: &str) -> &str {
    match app_version_state {
        "READY_FOR_DISTRIBUTION" => "READY_FOR_SALE",
        "PROCESSING_FOR_DISTRIBUTION" => "PROCESSING_FOR_APP_STORE",
        other => other,
    }
}

impl Store {
    /// Applies the scene once per app (a restarted simulator keeps what exists).
    pub fn seed_app_store(&mut self, scene: &AppStoreScene, now: i64) {
        self.app_store.review_ms = i64::try_from(scene.review_time.as_millis()).unwrap_or(i64::MAX);
        self.app_store.verdict = scene.verdict;
        let apps: Vec<String> = self.apps.iter().map(|a| a.id.clone()).collect();
        for app_id in apps {
            if self.app_store.versions.values().any(|v| v.app_id == app_id) {
                continue;
            }
            let name = self.app(&app_id).map(|a| a.name.clone()).unwrap_or_default();
            let live = self.seed_version(&app_id, "0.9", "READY_FOR_DISTRIBUTION", now.saturating_sub(86_400_000));
            self.fill_metadata(&live, &name, &scene.missing);
            if let Some(state) = &scene.in_flight {
                let pending = self.copy_version(&live, &app_id, "IOS", "0.9.1", now);
                self.set_version_state(&pending, state_of_version_for(state));
                let seq = self.next_seq();
                let s = Submission {
                    id: keys::uuid(),
                    seq,
                    app_id: app_id.clone(),
                    platform: "IOS".into(),
                    state: state.clone(),
                    submitted: Some(now),
                    canceled: None,
                    held: true,
                };
                let seq = self.next_seq();
                let item = Item {
                    id: keys::uuid(),
                    seq,
                    submission_id: s.id.clone(),
                    version_id: pending,
                    state: "READY_FOR_REVIEW".into(),
                };
                self.app_store.items.insert(item.id.clone(), item);
                self.app_store.submissions.insert(s.id.clone(), s);
            }
        }
    }

    fn seed_version(&mut self, app_id: &str, version_string: &str, state: &str, created: i64) -> String {
        let seq = self.next_seq();
        let v = Version {
            id: keys::uuid(),
            seq,
            app_id: app_id.to_owned(),
            platform: "IOS".into(),
            version_string: version_string.to_owned(),
            state: state.to_owned(),
            copyright: None,
            release_type: "AFTER_APPROVAL".into(),
            earliest_release_date: None,
            build_id: None,
            created,
            review_detail_id: keys::uuid(),
        };
        let id = v.id.clone();
        self.app_store.review_details.insert(
            v.review_detail_id.clone(),
            StoreReviewDetail {
                id: v.review_detail_id.clone(),
                version_id: id.clone(),
                ..StoreReviewDetail::default()
            },
        );
        self.app_store.versions.insert(id.clone(), v);
        id
    }

    fn fill_metadata(&mut self, version_id: &str, app_name: &str, missing: &[MissingMetadata]) {
        let has = |m: MissingMetadata| !missing.contains(&m);
        if let Some(v) = self.app_store.versions.get_mut(version_id) {
            v.copyright = has(MissingMetadata::Copyright).then(|| format!("2026 {app_name} Inc."));
            if let Some(d) = self.app_store.review_details.get_mut(&v.review_detail_id) {
                let contact = has(MissingMetadata::ReviewContact);
                let filled = |s: &str| contact.then(|| s.to_owned());
                d.contact_first_name = filled("Jane");
                d.contact_last_name = filled("Appleseed");
                d.contact_phone = filled("+1 408 555 0100");
                d.contact_email = filled("app-review@example.com");
            }
        }
        let seq = self.next_seq();
        let loc = VersionLocalization {
            id: keys::uuid(),
            seq,
            version_id: version_id.to_owned(),
            locale: "en-US".into(),
            description: has(MissingMetadata::Description).then(|| format!("{app_name} keeps your day in order.")),
            keywords: has(MissingMetadata::Keywords).then(|| "productivity,planner".to_owned()),
            support_url: has(MissingMetadata::SupportUrl).then(|| "https://example.com/support".to_owned()),
            marketing_url: None,
            promotional_text: None,
            whats_new: None,
            screenshots: if has(MissingMetadata::Screenshots) { 3 } else { 0 },
        };
        self.app_store.localizations.insert(loc.id.clone(), loc);
    }

    /// A new version carrying over the metadata of `from` (as App Store Connect does), without
    /// its What's New.
    pub fn copy_version(&mut self, from: &str, app_id: &str, platform: &str, version_string: &str, now: i64) -> String {
        let id = self.seed_version(app_id, version_string, "PREPARE_FOR_SUBMISSION", now);
        let Some(source) = self.app_store.versions.get(from).cloned() else {
            return id;
        };
        let detail = self.app_store.review_details.get(&source.review_detail_id).cloned();
        if let Some(v) = self.app_store.versions.get_mut(&id) {
            v.platform = platform.to_owned();
            v.copyright = source.copyright.clone();
            if let (Some(d), Some(mine)) = (detail, self.app_store.review_details.get_mut(&v.review_detail_id)) {
                *mine = StoreReviewDetail {
                    id: mine.id.clone(),
                    version_id: id.clone(),
                    ..d
                };
            }
        }
        let locs: Vec<VersionLocalization> = self
            .app_store
            .localizations
            .values()
            .filter(|l| l.version_id == from)
            .cloned()
            .collect();
        for l in locs {
            let seq = self.next_seq();
            let copy = VersionLocalization {
                id: keys::uuid(),
                seq,
                version_id: id.clone(),
                whats_new: None,
                ..l
            };
            self.app_store.localizations.insert(copy.id.clone(), copy);
        }
        id
    }

    /// The version new metadata is copied from: the newest one on the platform, else on any.
    pub fn metadata_source(&self, app_id: &str, platform: &str) -> Option<String> {
        let newest = |same: bool| {
            self.app_store
                .versions
                .values()
                .filter(|v| v.app_id == app_id && (!same || v.platform == platform))
                .max_by_key(|v| v.seq)
                .map(|v| v.id.clone())
        };
        newest(true).or_else(|| newest(false))
    }

    pub fn set_version_state(&mut self, version_id: &str, state: &str) {
        if let Some(v) = self.app_store.versions.get_mut(version_id) {
            v.state = state.to_owned();
        }
    }

    pub fn items_of(&self, submission_id: &str) -> Vec<&Item> {
        let mut items: Vec<&Item> = self
            .app_store
            .items
            .values()
            .filter(|i| i.submission_id == submission_id)
            .collect();
        items.sort_by_key(|i| i.seq);
        items
    }

    fn set_items(&mut self, submission_id: &str, item_state: &str, version_state: Option<&dyn Fn(&Version) -> String>) {
        let ids: Vec<(String, String)> = self
            .items_of(submission_id)
            .iter()
            .map(|i| (i.id.clone(), i.version_id.clone()))
            .collect();
        for (item, version) in ids {
            if let Some(i) = self.app_store.items.get_mut(&item) {
                i.state = item_state.to_owned();
            }
            if let (Some(f), Some(v)) = (version_state, self.app_store.versions.get(&version)) {
                let next = f(v);
                self.set_version_state(&version, &next);
            }
        }
    }

    /// Moves reviews on with time: waiting → in review → verdict, one review time per stage;
    /// a cancellation completes a moment after it was asked for.
    pub fn advance_reviews(&mut self, now: i64) {
        let stage = self.app_store.review_ms.max(1);
        let verdict = self.app_store.verdict;
        let subs: Vec<Submission> = self.app_store.submissions.values().cloned().collect();
        for s in subs {
            if s.state == "CANCELING" {
                if now >= s.canceled.unwrap_or(now).saturating_add((stage / 4).min(1000)) {
                    self.set_submission_state(&s.id, "COMPLETE");
                    self.set_items(&s.id, "REMOVED", Some(&|_| "DEVELOPER_REJECTED".to_owned()));
                }
                continue;
            }
            if s.held {
                continue;
            }
            let Some(at) = s.submitted else { continue };
            let elapsed = now.saturating_sub(at);
            if s.state == "WAITING_FOR_REVIEW" && elapsed >= stage {
                self.set_submission_state(&s.id, "IN_REVIEW");
                self.set_items(&s.id, "READY_FOR_REVIEW", Some(&|_| "IN_REVIEW".to_owned()));
            }
            let current = self.app_store.submissions.get(&s.id).map(|x| x.state.clone());
            if current.as_deref() == Some("IN_REVIEW") && elapsed >= stage.saturating_mul(2) {
                match verdict {
                    ReviewVerdict::Approve => {
                        self.set_submission_state(&s.id, "COMPLETE");
                        self.set_items(&s.id, "APPROVED", Some(&|v: &Version| approved_state(v, now)));
                    }
                    ReviewVerdict::Reject => {
                        self.set_submission_state(&s.id, "UNRESOLVED_ISSUES");
                        self.set_items(&s.id, "REJECTED", Some(&|_| "REJECTED".to_owned()));
                    }
                }
            }
        }
    }

    fn set_submission_state(&mut self, submission_id: &str, state: &str) {
        if let Some(s) = self.app_store.submissions.get_mut(submission_id) {
            s.state = state.to_owned();
        }
    }

    /// What Apple's review would refuse the version for, as (resource path, attribute) pairs:
    /// the `meta.associatedErrors` of its 409.
    pub fn version_gaps(&self, version_id: &str) -> Vec<(String, String)> {
        let mut gaps = Vec::new();
        let Some(v) = self.app_store.versions.get(version_id) else {
            return gaps;
        };
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        let version_path = format!("/v1/appStoreVersions/{}", v.id);
        if blank(&v.copyright) {
            gaps.push((version_path.clone(), "copyright".to_owned()));
        }
        match v.build_id.as_deref().and_then(|b| self.builds.get(b)) {
            None => gaps.push((version_path.clone(), "build".to_owned())),
            Some(b) if b.uses_non_exempt_encryption.is_none() => {
                gaps.push((format!("/v1/builds/{}", b.id), "usesNonExemptEncryption".to_owned()));
            }
            Some(_) => {}
        }
        let updating = self
            .app_store
            .versions
            .values()
            .any(|o| o.app_id == v.app_id && o.platform == v.platform && o.state == "READY_FOR_DISTRIBUTION");
        let mut locs: Vec<&VersionLocalization> = self
            .app_store
            .localizations
            .values()
            .filter(|l| l.version_id == v.id)
            .collect();
        locs.sort_by_key(|l| l.seq);
        for l in locs {
            let path = format!("/v1/appStoreVersionLocalizations/{}", l.id);
            for (value, name) in [
                (&l.description, "description"),
                (&l.keywords, "keywords"),
                (&l.support_url, "supportUrl"),
            ] {
                if blank(value) {
                    gaps.push((path.clone(), name.to_owned()));
                }
            }
            if updating && blank(&l.whats_new) {
                gaps.push((path.clone(), "whatsNew".to_owned()));
            }
            if l.screenshots == 0 {
                gaps.push((path.clone(), "appScreenshotSets".to_owned()));
            }
        }
        if let Some(d) = self.app_store.review_details.get(&v.review_detail_id) {
            let path = format!("/v1/appStoreReviewDetails/{}", d.id);
            for (value, name) in [
                (&d.contact_first_name, "contactFirstName"),
                (&d.contact_last_name, "contactLastName"),
                (&d.contact_phone, "contactPhone"),
                (&d.contact_email, "contactEmail"),
            ] {
                if blank(value) {
                    gaps.push((path.clone(), name.to_owned()));
                }
            }
        }
        gaps
    }
}

/// The version state a seeded in-flight submission implies.
fn state_of_version_for(submission_state: &str) -> &'static str {
    match submission_state {
        "IN_REVIEW" => "IN_REVIEW",
        "UNRESOLVED_ISSUES" => "REJECTED",
        _ => "WAITING_FOR_REVIEW",
    }
}

/// Where an approved version goes, by its release type.
fn approved_state(v: &Version, now: i64) -> String {
    match v.release_type.as_str() {
        "MANUAL" => "PENDING_DEVELOPER_RELEASE".into(),
        "SCHEDULED" => {
            let future = v
                .earliest_release_date
                .as_deref()
                .and_then(|d| time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).ok())
                .is_some_and(|d| d.unix_timestamp().saturating_mul(1000) > now);
            if future {
                "PENDING_APPLE_RELEASE".into()
            } else {
                "READY_FOR_DISTRIBUTION".into()
            }
        }
        _ => "READY_FOR_DISTRIBUTION".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn store(scene: &AppStoreScene) -> Store {
        let mut s = Store::default();
        s.seed_app("com.example.demo", "1");
        s.seed_app_store(scene, 1_000_000);
        s
    }

    #[test]
    fn a_copied_version_carries_the_metadata_and_its_gaps() {
        let mut s = store(&AppStoreScene::default());
        let live = s.metadata_source("1", "IOS").unwrap();
        let v = s.copy_version(&live, "1", "IOS", "1.0", 2_000_000);
        let gaps: Vec<String> = s.version_gaps(&v).into_iter().map(|(_, a)| a).collect();
        // A complete scene: only the build and (for an update) What's New are left to give.
        assert_eq!(gaps, ["build", "whatsNew"]);
        let mut s = store(&AppStoreScene {
            missing: vec![MissingMetadata::Screenshots, MissingMetadata::ReviewContact],
            ..AppStoreScene::default()
        });
        let live = s.metadata_source("1", "IOS").unwrap();
        let v = s.copy_version(&live, "1", "IOS", "1.0", 2_000_000);
        let gaps: Vec<String> = s.version_gaps(&v).into_iter().map(|(_, a)| a).collect();
        assert!(gaps.contains(&"appScreenshotSets".to_owned()), "{gaps:?}");
        assert!(gaps.contains(&"contactPhone".to_owned()), "{gaps:?}");
    }

    #[test]
    fn reviews_move_on_with_time_and_cancellations_complete() {
        let mut s = store(&AppStoreScene {
            in_flight: Some("WAITING_FOR_REVIEW".into()),
            review_time: Duration::from_secs(10),
            ..AppStoreScene::default()
        });
        let held = s.app_store.submissions.values().next().unwrap().id.clone();
        s.advance_reviews(10_000_000);
        assert_eq!(
            s.app_store.submissions[&held].state, "WAITING_FOR_REVIEW",
            "held by the scene"
        );
        let live = s.metadata_source("1", "IOS").unwrap();
        let v = s.copy_version(&live, "1", "IOS", "1.0", 0);
        let seq = s.next_seq();
        s.app_store.submissions.insert(
            "s".into(),
            Submission {
                id: "s".into(),
                seq,
                app_id: "1".into(),
                platform: "IOS".into(),
                state: "WAITING_FOR_REVIEW".into(),
                submitted: Some(0),
                canceled: None,
                held: false,
            },
        );
        s.app_store.items.insert(
            "i".into(),
            Item {
                id: "i".into(),
                seq,
                submission_id: "s".into(),
                version_id: v.clone(),
                state: "READY_FOR_REVIEW".into(),
            },
        );
        s.advance_reviews(10_000);
        assert_eq!(s.app_store.submissions["s"].state, "IN_REVIEW");
        assert_eq!(s.app_store.versions[&v].state, "IN_REVIEW");
        s.advance_reviews(20_000);
        assert_eq!(s.app_store.submissions["s"].state, "COMPLETE");
        assert_eq!(s.app_store.versions[&v].state, "READY_FOR_DISTRIBUTION");
        s.app_store.submissions.get_mut(&held).unwrap().state = "CANCELING".into();
        s.app_store.submissions.get_mut(&held).unwrap().canceled = Some(20_000);
        s.advance_reviews(21_000);
        assert_eq!(s.app_store.submissions[&held].state, "COMPLETE");
        let pending = &s.items_of(&held)[0].version_id;
        assert_eq!(s.app_store.versions[pending].state, "DEVELOPER_REJECTED");
    }
}
