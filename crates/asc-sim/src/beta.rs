//! TestFlight records (beta groups, testers, What to Test, notifications, beta app review) and the
//! rules that tie them to builds: who sees which build, and the build's beta states.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::SimError;
use super::keys;
use super::seed::{BuildSeed, GroupKind, SeedState, TestFlightConfig};
use super::state::{Build, PreReleaseVersion, StateDetail, Store, Upload, UploadState};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BetaGroup {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub name: String,
    pub created: i64,
    pub internal: bool,
    pub all_builds: bool,
    pub public_link_enabled: bool,
    pub feedback_enabled: bool,
    /// Builds assigned explicitly (all-builds groups also see every VALID build).
    pub builds: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BetaTester {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Builds this tester was given individually.
    pub builds: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BuildLocalization {
    pub id: String,
    pub seq: u64,
    pub build_id: String,
    pub locale: String,
    pub whats_new: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Notification {
    pub id: String,
    pub build_id: String,
    pub created: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReviewSubmission {
    pub id: String,
    pub seq: u64,
    pub build_id: String,
    pub submitted: i64,
    /// BetaReviewState: WAITING_FOR_REVIEW, IN_REVIEW, REJECTED, APPROVED.
    pub state: String,
}

/// The app's Beta App Review Information; its id is the app id, like Apple's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ReviewDetail {
    pub app_id: String,
    pub contact_first_name: Option<String>,
    pub contact_last_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub demo_account_required: bool,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AppLocalization {
    pub id: String,
    pub seq: u64,
    pub app_id: String,
    pub locale: String,
    pub feedback_email: Option<String>,
    pub description: Option<String>,
    pub marketing_url: Option<String>,
    pub privacy_policy_url: Option<String>,
}

/// All TestFlight records, kept inside the [`Store`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct BetaStore {
    pub groups: BTreeMap<String, BetaGroup>,
    pub testers: BTreeMap<String, BetaTester>,
    pub localizations: BTreeMap<String, BuildLocalization>,
    pub notifications: Vec<Notification>,
    pub submissions: BTreeMap<String, ReviewSubmission>,
    /// By app id.
    pub review_details: BTreeMap<String, ReviewDetail>,
    pub app_localizations: BTreeMap<String, AppLocalization>,
}

/// The longest What to Test Apple accepts, in characters.
pub(crate) const WHATS_NEW_MAX: usize = 4000;

impl Store {
    /// Beta groups that can see `b`: explicit assignments, plus (for VALID, unexpired builds)
    /// every internal group with access to all builds. Ordered by creation.
    pub fn groups_of(&self, b: &Build) -> Vec<&BetaGroup> {
        let auto = b.processing_state == "VALID" && !b.expired;
        let mut groups: Vec<&BetaGroup> = self
            .beta
            .groups
            .values()
            .filter(|g| g.app_id == b.app_id && (g.builds.contains(&b.id) || (auto && g.all_builds)))
            .collect();
        groups.sort_by_key(|g| g.seq);
        groups
    }

    /// Builds visible to a group, ordered by creation.
    pub fn builds_of(&self, g: &BetaGroup) -> Vec<&Build> {
        let mut builds: Vec<&Build> = self
            .builds
            .values()
            .filter(|b| b.app_id == g.app_id)
            .filter(|b| g.builds.contains(&b.id) || (g.all_builds && b.processing_state == "VALID" && !b.expired))
            .collect();
        builds.sort_by_key(|b| b.seq);
        builds
    }

    pub fn testers_of(&self, build_id: &str) -> Vec<&BetaTester> {
        let mut testers: Vec<&BetaTester> = self
            .beta
            .testers
            .values()
            .filter(|t| t.builds.contains(build_id))
            .collect();
        testers.sort_by_key(|t| t.seq);
        testers
    }

    pub fn submission_of(&self, build_id: &str) -> Option<&ReviewSubmission> {
        self.beta.submissions.values().find(|s| s.build_id == build_id)
    }

    pub fn localizations_of(&self, build_id: &str) -> Vec<&BuildLocalization> {
        let mut list: Vec<&BuildLocalization> = self
            .beta
            .localizations
            .values()
            .filter(|l| l.build_id == build_id)
            .collect();
        list.sort_by_key(|l| l.seq);
        list
    }

    /// (internalBuildState, externalBuildState) of a build.
    pub fn beta_states(&self, b: &Build) -> (&'static str, &'static str) {
        if b.expired {
            return ("EXPIRED", "EXPIRED");
        }
        match b.processing_state.as_str() {
            "VALID" => {}
            "PROCESSING" => return ("PROCESSING", "PROCESSING"),
            _ => return ("PROCESSING_EXCEPTION", "PROCESSING_EXCEPTION"),
        }
        if b.uses_non_exempt_encryption.is_none() {
            return ("MISSING_EXPORT_COMPLIANCE", "MISSING_EXPORT_COMPLIANCE");
        }
        let groups = self.groups_of(b);
        let internal = if groups.iter().any(|g| g.internal) {
            "IN_BETA_TESTING"
        } else {
            "READY_FOR_BETA_TESTING"
        };
        let external = match self.submission_of(&b.id).map(|s| s.state.as_str()) {
            None => "READY_FOR_BETA_SUBMISSION",
            Some("IN_REVIEW") => "IN_BETA_REVIEW",
            Some("REJECTED") => "BETA_REJECTED",
            Some("APPROVED") if groups.iter().any(|g| !g.internal) => "IN_BETA_TESTING",
            Some("APPROVED") => "BETA_APPROVED",
            Some(_) => "WAITING_FOR_BETA_REVIEW",
        };
        (internal, external)
    }

    /// What the app still lacks before a build can go to beta review: (title, detail) per gap,
    /// in Apple's words where known.
    pub fn missing_review_info(&self, app_id: &str) -> Vec<(String, String)> {
        let mut missing = Vec::new();
        let localizations: Vec<&AppLocalization> = self
            .beta
            .app_localizations
            .values()
            .filter(|l| l.app_id == app_id)
            .collect();
        let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !localizations.iter().any(|l| filled(&l.description)) {
            missing.push((
                "Beta App Description is missing.".to_owned(),
                "Beta App Description is required to submit a build for external testing.".to_owned(),
            ));
        }
        if !localizations.iter().any(|l| filled(&l.feedback_email)) {
            missing.push((
                "Feedback Email is missing.".to_owned(),
                "Feedback Email is required to submit a build for external testing.".to_owned(),
            ));
        }
        let detail = self.beta.review_details.get(app_id).cloned().unwrap_or_default();
        for (value, name) in [
            (&detail.contact_first_name, "contactFirstName"),
            (&detail.contact_last_name, "contactLastName"),
            (&detail.contact_phone, "contactPhone"),
            (&detail.contact_email, "contactEmail"),
        ] {
            if !filled(value) {
                missing.push((
                    "Beta App Review Information is missing.".to_owned(),
                    format!("The Beta App Review Information field '{name}' is required to submit a build for external testing."),
                ));
            }
        }
        missing
    }

    /// Applies the configured scene. Records that already exist (a restarted simulator with a
    /// state directory) are kept: groups by (app, name), testers by (app, email), builds by
    /// (app, version, build number), review information per app.
    pub fn seed_testflight(&mut self, cfg: &TestFlightConfig, first_app: &str, now: i64) -> Result<(), SimError> {
        self.auto_notify_default = cfg.auto_notify;
        let app_of = |store: &Store, bundle: &Option<String>| -> Result<String, SimError> {
            match bundle {
                None => Ok(first_app.to_owned()),
                Some(b) => store
                    .apps
                    .iter()
                    .find(|a| &a.bundle_id == b)
                    .map(|a| a.id.clone())
                    .ok_or_else(|| SimError::Seed(format!("no app with bundle id '{b}'"))),
            }
        };
        for g in &cfg.groups {
            let app_id = app_of(self, &g.app)?;
            if self
                .beta
                .groups
                .values()
                .any(|x| x.app_id == app_id && x.name == g.name)
            {
                continue;
            }
            let seq = self.next_seq();
            let group = BetaGroup {
                id: keys::uuid(),
                seq,
                app_id,
                name: g.name.clone(),
                created: now,
                internal: g.kind != GroupKind::External,
                all_builds: g.kind == GroupKind::InternalAll,
                public_link_enabled: false,
                feedback_enabled: true,
                builds: BTreeSet::new(),
            };
            self.beta.groups.insert(group.id.clone(), group);
        }
        for t in &cfg.testers {
            let app_id = app_of(self, &t.app)?;
            if self
                .beta
                .testers
                .values()
                .any(|x| x.app_id == app_id && x.email.eq_ignore_ascii_case(&t.email))
            {
                continue;
            }
            let seq = self.next_seq();
            let local = t.email.split('@').next().unwrap_or("");
            let (first, last) = local.split_once('.').unwrap_or((local, "Tester"));
            let tester = BetaTester {
                id: keys::uuid(),
                seq,
                app_id,
                email: t.email.clone(),
                first_name: capitalise(first),
                last_name: capitalise(last),
                builds: BTreeSet::new(),
            };
            self.beta.testers.insert(tester.id.clone(), tester);
        }
        let app_ids: Vec<String> = self.apps.iter().map(|a| a.id.clone()).collect();
        for app_id in app_ids {
            self.seed_review_info(&app_id, cfg.beta_review_details);
        }
        let count = i64::try_from(cfg.builds.len()).unwrap_or(i64::MAX);
        for (i, b) in cfg.builds.iter().enumerate() {
            let app_id = app_of(self, &b.app)?;
            if self
                .duplicate_of(&app_id, &b.platform, &b.short_version, &b.version)
                .is_some()
            {
                continue;
            }
            // Older seeds first, an hour apart, all in the past: sorting by uploadedDate works.
            let age = count.saturating_sub(i64::try_from(i).unwrap_or(0));
            let uploaded = now.saturating_sub(age.saturating_mul(3_600_000));
            self.seed_build(&app_id, b, uploaded);
        }
        Ok(())
    }

    fn seed_review_info(&mut self, app_id: &str, complete: bool) {
        if self.beta.review_details.contains_key(app_id) {
            return;
        }
        let app_name = self.app(app_id).map(|a| a.name.clone()).unwrap_or_default();
        let filled = |s: &str| complete.then(|| s.to_owned());
        self.beta.review_details.insert(
            app_id.to_owned(),
            ReviewDetail {
                app_id: app_id.to_owned(),
                contact_first_name: filled("Jane"),
                contact_last_name: filled("Appleseed"),
                contact_phone: filled("+1 408 555 0100"),
                contact_email: filled("beta-review@example.com"),
                demo_account_required: false,
                notes: None,
            },
        );
        let seq = self.next_seq();
        let loc = AppLocalization {
            id: keys::uuid(),
            seq,
            app_id: app_id.to_owned(),
            locale: "en-US".into(),
            feedback_email: filled("feedback@example.com"),
            description: complete.then(|| format!("{app_name} beta: try the new features and tell us what breaks.")),
            marketing_url: None,
            privacy_policy_url: None,
        };
        self.beta.app_localizations.insert(loc.id.clone(), loc);
    }

    fn seed_build(&mut self, app_id: &str, seed: &BuildSeed, uploaded: i64) {
        let (short, version, state, platform) = (
            seed.short_version.as_str(),
            seed.version.as_str(),
            seed.state,
            seed.platform.as_str(),
        );
        let prv_id = match self
            .pre_release_versions
            .values()
            .find(|p| p.app_id == app_id && p.version == short && p.platform == platform)
        {
            Some(p) => p.id.clone(),
            None => {
                let seq = self.next_seq();
                let p = PreReleaseVersion {
                    id: keys::uuid(),
                    seq,
                    app_id: app_id.to_owned(),
                    version: short.to_owned(),
                    platform: platform.to_owned(),
                };
                let id = p.id.clone();
                self.pre_release_versions.insert(id.clone(), p);
                id
            }
        };
        let (upload_state, processing, errors) = match state {
            SeedState::Invalid => (UploadState::Failed, "INVALID", vec![super::state::detail_for("90683")]),
            SeedState::Processing => (UploadState::Processing, "PROCESSING", Vec::new()),
            _ => (UploadState::Complete, "VALID", Vec::new()),
        };
        let seq = self.next_seq();
        let build_id = keys::uuid();
        let upload = Upload {
            id: keys::uuid(),
            seq,
            app_id: app_id.to_owned(),
            short_version: short.to_owned(),
            version: version.to_owned(),
            platform: platform.to_owned(),
            created: uploaded.saturating_sub(120_000),
            uploaded: Some(uploaded),
            state: upload_state,
            errors,
            warnings: Vec::new(),
            infos: Vec::new(),
            build_id: Some(build_id.clone()),
            files: BTreeMap::new(),
            plan: None,
            min_os_version: None,
        };
        let seq = self.next_seq();
        let build = Build {
            id: build_id.clone(),
            seq,
            app_id: app_id.to_owned(),
            upload_id: upload.id.clone(),
            pre_release_version_id: prv_id,
            beta_detail_id: keys::uuid(),
            version: version.to_owned(),
            uploaded,
            processing_state: processing.into(),
            uses_non_exempt_encryption: match state {
                SeedState::Valid | SeedState::Expired => Some(false),
                _ => None,
            },
            expired: state == SeedState::Expired,
            min_os_version: "16.0".into(),
            auto_notify: self.auto_notify_default,
        };
        self.uploads.insert(upload.id.clone(), upload);
        self.builds.insert(build_id, build);
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Apple's wording for processing warnings that do not block a build.
pub(crate) fn warning_for(code: &str) -> StateDetail {
    let text = match code {
        "90725" => {
            "SDK version issue. This app was built with the iOS 17.5 SDK. Starting April 24, 2025, all iOS and iPadOS apps must be built with the iOS 18 SDK or later, included in Xcode 16 or later, in order to be uploaded to App Store Connect or submitted for distribution."
        }
        "91053" => {
            "Missing API declaration - Your app's code in the \"Demo\" file references one or more APIs that require reasons, including the following API categories: NSPrivacyAccessedAPICategoryUserDefaults. While no action is required at this time, starting May 1, 2024, when you upload a new app or app update, you must include a NSPrivacyAccessedAPITypes array in your app's privacy manifest to provide approved reasons for these APIs used by your app's code."
        }
        "90078" => {
            "Missing Push Notification Entitlement - Your app appears to register with the Apple Push Notification service, but the app signature's entitlements do not include the 'aps-environment' entitlement."
        }
        _ => "The uploaded build was processed with a warning.",
    };
    StateDetail {
        code: code.to_owned(),
        description: format!("{text} ({code})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::GroupSeed;

    fn scene(complete: bool) -> Store {
        let mut store = Store::default();
        store.seed_app("com.example.demo", "1");
        let cfg = TestFlightConfig {
            groups: ["QA=internal", "All=internal-all", "Ext=external"]
                .iter()
                .map(|g| g.parse::<GroupSeed>().unwrap())
                .collect(),
            builds: ["1.0=1", "1.0=2:no-compliance", "1.0=3:expired"]
                .iter()
                .map(|b| b.parse::<BuildSeed>().unwrap())
                .collect(),
            beta_review_details: complete,
            ..TestFlightConfig::default()
        };
        store.seed_testflight(&cfg, "1", 1_700_000_000_000).unwrap();
        store
    }

    fn build<'s>(store: &'s Store, version: &str) -> &'s Build {
        store.builds.values().find(|b| b.version == version).unwrap()
    }

    #[test]
    fn all_builds_groups_see_valid_unexpired_builds_only() {
        let store = scene(true);
        let names = |v: &str| -> Vec<String> {
            store
                .groups_of(build(&store, v))
                .iter()
                .map(|g| g.name.clone())
                .collect()
        };
        assert_eq!(names("1"), ["All"]);
        assert_eq!(names("3"), Vec::<String>::new());
    }

    #[test]
    fn beta_states_follow_compliance_groups_and_review() {
        let mut store = scene(true);
        assert_eq!(
            store.beta_states(build(&store, "2")),
            ("MISSING_EXPORT_COMPLIANCE", "MISSING_EXPORT_COMPLIANCE")
        );
        assert_eq!(store.beta_states(build(&store, "3")), ("EXPIRED", "EXPIRED"));
        // In the all-builds group: internal testing has begun; nothing submitted externally yet.
        assert_eq!(
            store.beta_states(build(&store, "1")),
            ("IN_BETA_TESTING", "READY_FOR_BETA_SUBMISSION")
        );
        let id = build(&store, "1").id.clone();
        store.beta.submissions.insert(
            "s".into(),
            ReviewSubmission {
                id: "s".into(),
                seq: 99,
                build_id: id,
                submitted: 0,
                state: "WAITING_FOR_REVIEW".into(),
            },
        );
        assert_eq!(store.beta_states(build(&store, "1")).1, "WAITING_FOR_BETA_REVIEW");
    }

    #[test]
    fn missing_review_information_names_each_gap() {
        assert!(scene(true).missing_review_info("1").is_empty());
        let gaps = scene(false).missing_review_info("1");
        assert_eq!(gaps.len(), 6, "{gaps:?}");
        assert_eq!(gaps[0].0, "Beta App Description is missing.");
    }

    #[test]
    fn seeding_twice_adds_nothing() {
        let mut store = scene(true);
        let before = (
            store.beta.groups.len(),
            store.builds.len(),
            store.beta.app_localizations.len(),
        );
        let cfg = TestFlightConfig {
            groups: vec!["QA=internal".parse().unwrap()],
            builds: vec!["1.0=1".parse().unwrap()],
            ..TestFlightConfig::default()
        };
        store.seed_testflight(&cfg, "1", 0).unwrap();
        assert_eq!(
            before,
            (
                store.beta.groups.len(),
                store.builds.len(),
                store.beta.app_localizations.len()
            )
        );
        assert!(
            store
                .seed_testflight(
                    &TestFlightConfig {
                        groups: vec!["com.x.y:Q=internal".parse().unwrap()],
                        ..TestFlightConfig::default()
                    },
                    "1",
                    0
                )
                .is_err()
        );
    }

    #[test]
    fn warnings_end_with_their_code() {
        assert!(warning_for("91053").description.ends_with("(91053)"));
        assert!(warning_for("12345").description.ends_with("(12345)"));
    }
}
