//! Apple's App Store release wire types (versions, their localizations, review details, phased
//! release, review submissions and items) and the request bodies that write them. Used only
//! inside `asc`: the pipeline sees the records of `app_store_versions` and `app_store_submissions`.

use serde::Deserialize;

use crate::asc::model::Resource;

/// The attributes of a resource read only for its id and relationships (screenshot sets, phased
/// releases, submission items).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Unread {}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppStoreVersionAttributes {
    #[serde(default)]
    pub(crate) version_string: Option<String>,
    /// Deprecated by Apple in favour of `appVersionState`, still sent and still what most
    /// tools show.
    #[serde(default)]
    pub(crate) app_store_state: Option<String>,
    #[serde(default)]
    pub(crate) app_version_state: Option<String>,
    #[serde(default)]
    pub(crate) copyright: Option<String>,
    #[serde(default)]
    pub(crate) release_type: Option<String>,
    #[serde(default)]
    pub(crate) earliest_release_date: Option<String>,
    #[serde(default)]
    pub(crate) created_date: Option<String>,
}

pub(crate) type AppStoreVersion = Resource<AppStoreVersionAttributes>;

impl AppStoreVersion {
    /// `appVersionState`, else the deprecated `appStoreState`.
    pub(crate) fn state(&self) -> Option<&str> {
        let a = self.attributes.as_ref()?;
        a.app_version_state.as_deref().or(a.app_store_state.as_deref())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppStoreVersionLocalizationAttributes {
    #[serde(default)]
    pub(crate) locale: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) keywords: Option<String>,
    #[serde(default)]
    pub(crate) support_url: Option<String>,
    #[serde(default)]
    pub(crate) whats_new: Option<String>,
}

pub(crate) type AppStoreVersionLocalization = Resource<AppStoreVersionLocalizationAttributes>;

pub(crate) type AppScreenshotSet = Resource<Unread>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppStoreReviewDetailAttributes {
    #[serde(default)]
    pub(crate) contact_first_name: Option<String>,
    #[serde(default)]
    pub(crate) contact_last_name: Option<String>,
    #[serde(default)]
    pub(crate) contact_phone: Option<String>,
    #[serde(default)]
    pub(crate) contact_email: Option<String>,
    #[serde(default)]
    pub(crate) demo_account_name: Option<String>,
    /// Read only to check it is filled in; never printed.
    #[serde(default)]
    pub(crate) demo_account_password: Option<String>,
    #[serde(default)]
    pub(crate) demo_account_required: Option<bool>,
}

pub(crate) type AppStoreReviewDetail = Resource<AppStoreReviewDetailAttributes>;

pub(crate) type PhasedRelease = Resource<Unread>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReviewSubmissionAttributes {
    #[serde(default)]
    pub(crate) state: Option<String>,
}

pub(crate) type ReviewSubmission = Resource<ReviewSubmissionAttributes>;

pub(crate) type ReviewSubmissionItem = Resource<Unread>;

/// Request bodies.
pub(crate) mod request {
    use serde_json::{Value, json};

    fn one(kind: &str, id: &str) -> Value {
        json!({ "data": { "type": kind, "id": id } })
    }

    pub(crate) fn create_version(app_id: &str, platform: &str, version_string: &str) -> Value {
        json!({ "data": { "type": "appStoreVersions",
            "attributes": { "platform": platform, "versionString": version_string },
            "relationships": { "app": one("apps", app_id) } } })
    }

    /// PATCH of a version's attributes; only the given ones are sent.
    pub(crate) fn update_version(
        id: &str,
        version_string: Option<&str>,
        release_type: Option<&str>,
        earliest_release_date: Option<&str>,
    ) -> Value {
        let mut attributes = serde_json::Map::new();
        if let Some(v) = version_string {
            attributes.insert("versionString".into(), v.into());
        }
        if let Some(r) = release_type {
            attributes.insert("releaseType".into(), r.into());
            // Apple keeps an old date otherwise; only SCHEDULED carries one.
            attributes.insert(
                "earliestReleaseDate".into(),
                earliest_release_date.map_or(Value::Null, Value::from),
            );
        }
        json!({ "data": { "type": "appStoreVersions", "id": id, "attributes": attributes } })
    }

    /// PATCH `appStoreVersions/{id}/relationships/build`.
    pub(crate) fn attach_build(build_id: &str) -> Value {
        one("builds", build_id)
    }

    pub(crate) fn create_localization(version_id: &str, locale: &str, whats_new: &str) -> Value {
        json!({ "data": { "type": "appStoreVersionLocalizations",
            "attributes": { "locale": locale, "whatsNew": whats_new },
            "relationships": { "appStoreVersion": one("appStoreVersions", version_id) } } })
    }

    pub(crate) fn update_whats_new(localization_id: &str, whats_new: &str) -> Value {
        json!({ "data": { "type": "appStoreVersionLocalizations", "id": localization_id,
            "attributes": { "whatsNew": whats_new } } })
    }

    pub(crate) fn create_phased_release(version_id: &str) -> Value {
        json!({ "data": { "type": "appStoreVersionPhasedReleases",
            "relationships": { "appStoreVersion": one("appStoreVersions", version_id) } } })
    }

    pub(crate) fn create_submission(app_id: &str, platform: &str) -> Value {
        json!({ "data": { "type": "reviewSubmissions", "attributes": { "platform": platform },
            "relationships": { "app": one("apps", app_id) } } })
    }

    pub(crate) fn add_item(submission_id: &str, version_id: &str) -> Value {
        json!({ "data": { "type": "reviewSubmissionItems",
            "relationships": {
                "reviewSubmission": one("reviewSubmissions", submission_id),
                "appStoreVersion": one("appStoreVersions", version_id) } } })
    }

    pub(crate) fn submit(submission_id: &str) -> Value {
        json!({ "data": { "type": "reviewSubmissions", "id": submission_id, "attributes": { "submitted": true } } })
    }

    pub(crate) fn cancel(submission_id: &str) -> Value {
        json!({ "data": { "type": "reviewSubmissions", "id": submission_id, "attributes": { "canceled": true } } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asc::model::ListDocument;

    #[test]
    fn a_version_reads_its_newer_state_first() {
        let l: ListDocument<AppStoreVersion> = serde_json::from_str(
            r#"{"data":[{"type":"appStoreVersions","id":"v","attributes":{"platform":"IOS","versionString":"1.2",
                "appStoreState":"PREPARE_FOR_SUBMISSION","appVersionState":"READY_FOR_REVIEW","copyright":null,
                "earliestReleaseDate":null},"relationships":{"build":{"data":null}}}]}"#,
        )
        .unwrap();
        assert_eq!(l.data[0].state(), Some("READY_FOR_REVIEW"));
        assert_eq!(l.data[0].related_id("build"), None);
        let old: AppStoreVersion =
            serde_json::from_str(r#"{"type":"appStoreVersions","id":"v","attributes":{"appStoreState":"IN_REVIEW"}}"#)
                .unwrap();
        assert_eq!(old.state(), Some("IN_REVIEW"));
    }

    #[test]
    fn a_release_type_patch_clears_or_sets_the_date() {
        let b = request::update_version("v", None, Some("MANUAL"), None);
        assert!(b["data"]["attributes"]["earliestReleaseDate"].is_null());
        assert!(b["data"]["attributes"].get("versionString").is_none());
        let b = request::update_version("v", Some("2.0"), Some("SCHEDULED"), Some("2030-01-01T10:00:00Z"));
        assert_eq!(b["data"]["attributes"]["earliestReleaseDate"], "2030-01-01T10:00:00Z");
        assert_eq!(b["data"]["attributes"]["versionString"], "2.0");
    }
}
