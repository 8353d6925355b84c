//! App Store versions as the release flow sees them: typed reads and writes of a version, its
//! localizations, screenshots, App Review details and phased release. The JSON:API documents,
//! paths and request bodies stay here; the flow gets plain records.

use reqwest::Method;

use crate::asc::app_store::{
    AppScreenshotSet, AppStoreReviewDetail, AppStoreVersion, AppStoreVersionLocalization, PhasedRelease, request,
};
use crate::asc::endpoints::app_store as ep;
use crate::asc::error::sanitize;
use crate::asc::model::Document;
use crate::asc::{AscClient, AscError};

/// When the version goes live once approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseType {
    Manual,
    AfterApproval,
    /// Not before this date-time (RFC 3339).
    Scheduled(String),
}

impl ReleaseType {
    /// Apple's name for it (also what the outcome reports).
    pub fn apple(&self) -> &'static str {
        match self {
            ReleaseType::Manual => "MANUAL",
            ReleaseType::AfterApproval => "AFTER_APPROVAL",
            ReleaseType::Scheduled(_) => "SCHEDULED",
        }
    }

    pub fn date(&self) -> Option<&str> {
        match self {
            ReleaseType::Scheduled(d) => Some(d),
            _ => None,
        }
    }
}

/// Version states in which its metadata, build and release settings can still be edited.
const EDITABLE_STATES: &[&str] = &[
    "PREPARE_FOR_SUBMISSION",
    "DEVELOPER_REJECTED",
    "REJECTED",
    "METADATA_REJECTED",
    "INVALID_BINARY",
];

/// One App Store version. Server text is sanitized; `id` is kept as sent (paths escape it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionRecord {
    pub id: String,
    /// CFBundleShortVersionString; empty when Apple sent none.
    pub version_string: String,
    /// `appVersionState`, else the deprecated `appStoreState`.
    pub state: Option<String>,
    pub copyright: Option<String>,
    pub release_type: Option<String>,
    pub earliest_release_date: Option<String>,
    pub created_date: Option<String>,
    /// The attached build, when one is.
    pub build_id: Option<String>,
}

impl VersionRecord {
    pub fn state_or_unknown(&self) -> &str {
        self.state.as_deref().unwrap_or("UNKNOWN")
    }

    /// Its metadata, build and release settings can still be changed.
    pub fn editable(&self) -> bool {
        EDITABLE_STATES.contains(&self.state_or_unknown())
    }

    /// On the store (or ready to be put there by hand).
    pub fn is_live(&self) -> bool {
        matches!(self.state_or_unknown(), "READY_FOR_DISTRIBUTION" | "READY_FOR_SALE")
    }
}

impl From<&AppStoreVersion> for VersionRecord {
    fn from(v: &AppStoreVersion) -> Self {
        let a = v.attributes.clone().unwrap_or_default();
        let text = |s: Option<String>| s.as_deref().map(sanitize);
        VersionRecord {
            id: v.id.clone(),
            version_string: sanitize(a.version_string.as_deref().unwrap_or("")),
            state: v.state().map(sanitize),
            copyright: text(a.copyright),
            release_type: text(a.release_type),
            earliest_release_date: text(a.earliest_release_date),
            created_date: a.created_date,
            build_id: v.related_id("build").map(str::to_string),
        }
    }
}

/// One localization of a version: what App Review reads per locale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalizationRecord {
    pub id: String,
    pub locale: Option<String>,
    pub description: Option<String>,
    pub keywords: Option<String>,
    pub support_url: Option<String>,
    pub whats_new: Option<String>,
}

impl LocalizationRecord {
    pub fn is_locale(&self, locale: &str) -> bool {
        self.locale.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(locale))
    }
}

impl From<&AppStoreVersionLocalization> for LocalizationRecord {
    fn from(l: &AppStoreVersionLocalization) -> Self {
        let a = l.attributes.clone().unwrap_or_default();
        LocalizationRecord {
            id: l.id.clone(),
            locale: a.locale.as_deref().map(sanitize),
            description: a.description,
            keywords: a.keywords,
            support_url: a.support_url,
            whats_new: a.whats_new,
        }
    }
}

/// A version's App Review contact and sign-in details. The demo password is only known to be
/// there or not: it never leaves `asc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewDetailRecord {
    pub contact_first_name: Option<String>,
    pub contact_last_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub demo_account_required: bool,
    pub demo_account_name: Option<String>,
    pub demo_account_password_set: bool,
}

/// The app's versions on `platform`, newest first, each with its attached build.
pub async fn versions(client: &AscClient, app_id: &str, platform: &str) -> Result<Vec<VersionRecord>, AscError> {
    let url = ep::versions_of_app(
        client,
        app_id,
        &[("filter[platform]", platform), ("include", "build"), ("limit", "200")],
    )?;
    let list: Vec<AppStoreVersion> = client.get_all(url).await?;
    let mut out: Vec<VersionRecord> = list.iter().map(VersionRecord::from).collect();
    out.sort_by(|a, b| b.created_date.cmp(&a.created_date));
    Ok(out)
}

/// One version, read again.
pub async fn version(client: &AscClient, id: &str) -> Result<VersionRecord, AscError> {
    let doc: Document<AppStoreVersion> = client.get(ep::version(client, id, &[])?).await?;
    Ok(VersionRecord::from(&doc.data))
}

/// A new version (Apple copies the newest version's metadata into it); its id.
pub async fn create_version(
    client: &AscClient,
    app_id: &str,
    platform: &str,
    version_string: &str,
) -> Result<String, AscError> {
    let doc: Document<AppStoreVersion> = client
        .mutate_json(
            Method::POST,
            ep::versions(client)?,
            &request::create_version(app_id, platform, version_string),
        )
        .await?;
    Ok(doc.data.id)
}

/// Gives an open version another version string.
pub async fn rename_version(client: &AscClient, id: &str, version_string: &str) -> Result<(), AscError> {
    let body = request::update_version(id, Some(version_string), None, None);
    client
        .mutate(Method::PATCH, ep::version(client, id, &[])?, Some(&body))
        .await?;
    Ok(())
}

/// The release type; a date only for a scheduled release (Apple's old one is cleared otherwise).
pub async fn set_release_type(client: &AscClient, id: &str, release: &ReleaseType) -> Result<(), AscError> {
    let body = request::update_version(id, None, Some(release.apple()), release.date());
    client
        .mutate(Method::PATCH, ep::version(client, id, &[])?, Some(&body))
        .await?;
    Ok(())
}

pub async fn attach_build(client: &AscClient, version_id: &str, build_id: &str) -> Result<(), AscError> {
    client
        .mutate(
            Method::PATCH,
            ep::version_build_link(client, version_id)?,
            Some(&request::attach_build(build_id)),
        )
        .await?;
    Ok(())
}

pub async fn localizations(client: &AscClient, version_id: &str) -> Result<Vec<LocalizationRecord>, AscError> {
    let url = ep::localizations_of_version(client, version_id, &[("limit", "200")])?;
    let list: Vec<AppStoreVersionLocalization> = client.get_all(url).await?;
    Ok(list.iter().map(LocalizationRecord::from).collect())
}

/// What's New of an existing localization.
pub async fn set_whats_new(client: &AscClient, localization_id: &str, text: &str) -> Result<(), AscError> {
    client
        .mutate(
            Method::PATCH,
            ep::localization(client, localization_id)?,
            Some(&request::update_whats_new(localization_id, text)),
        )
        .await?;
    Ok(())
}

/// A new localization of the version carrying What's New.
pub async fn create_localization(
    client: &AscClient,
    version_id: &str,
    locale: &str,
    whats_new: &str,
) -> Result<(), AscError> {
    client
        .mutate(
            Method::POST,
            ep::localizations(client)?,
            Some(&request::create_localization(version_id, locale, whats_new)),
        )
        .await?;
    Ok(())
}

/// Whether any screenshot set of the localization holds a screenshot.
pub async fn has_screenshots(client: &AscClient, localization_id: &str) -> Result<bool, AscError> {
    // Apple lists a set's screenshots only when they are included.
    let url = ep::screenshot_sets(
        client,
        localization_id,
        &[
            ("include", "appScreenshots"),
            ("limit[appScreenshots]", "1"),
            ("limit", "50"),
        ],
    )?;
    let sets: Vec<AppScreenshotSet> = client.get_all(url).await?;
    Ok(sets.iter().any(|s| {
        s.relationships
            .as_ref()
            .and_then(|r| r.get("appScreenshots"))
            .and_then(|r| r.get("data"))
            .and_then(|d| d.as_array())
            .is_some_and(|d| !d.is_empty())
    }))
}

/// The version's App Review details; `None` when it has none yet.
pub async fn review_detail(client: &AscClient, version_id: &str) -> Result<Option<ReviewDetailRecord>, AscError> {
    let url = ep::review_detail_of_version(client, version_id)?;
    let a = match client.get::<Document<AppStoreReviewDetail>>(url).await {
        Ok(d) => d.data.attributes.unwrap_or_default(),
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(ReviewDetailRecord {
        contact_first_name: a.contact_first_name,
        contact_last_name: a.contact_last_name,
        contact_phone: a.contact_phone,
        contact_email: a.contact_email,
        demo_account_required: a.demo_account_required == Some(true),
        demo_account_name: a.demo_account_name,
        demo_account_password_set: a.demo_account_password.is_some_and(|p| !p.trim().is_empty()),
    }))
}

/// The id of the version's phased release, when it is on.
async fn phased_release(client: &AscClient, version_id: &str) -> Result<Option<String>, AscError> {
    let url = ep::phased_release_of_version(client, version_id)?;
    // "Off" is a 404, or `data: null`.
    match client.get::<Document<Option<PhasedRelease>>>(url).await {
        Ok(d) => Ok(d.data.map(|p| p.id)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Turns phased release on unless it already is.
pub async fn phased_release_on(client: &AscClient, version_id: &str) -> Result<(), AscError> {
    if phased_release(client, version_id).await?.is_none() {
        client
            .mutate(
                Method::POST,
                ep::phased_releases(client)?,
                Some(&request::create_phased_release(version_id)),
            )
            .await?;
    }
    Ok(())
}

/// Turns phased release off unless it already is.
pub async fn phased_release_off(client: &AscClient, version_id: &str) -> Result<(), AscError> {
    if let Some(id) = phased_release(client, version_id).await? {
        client
            .mutate(Method::DELETE, ep::phased_release(client, &id)?, None)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(json: &str) -> VersionRecord {
        VersionRecord::from(&serde_json::from_str::<AppStoreVersion>(json).unwrap())
    }

    #[test]
    fn a_version_record_carries_the_newer_state_its_build_and_clean_text() {
        let v = version(
            r#"{"type":"appStoreVersions","id":"v1","attributes":{"versionString":"1.2\u001b[31m",
                "appStoreState":"PREPARE_FOR_SUBMISSION","appVersionState":"READY_FOR_REVIEW",
                "releaseType":"MANUAL"},"relationships":{"build":{"data":{"type":"builds","id":"b7"}}}}"#,
        );
        assert_eq!(v.state.as_deref(), Some("READY_FOR_REVIEW"));
        assert_eq!(v.build_id.as_deref(), Some("b7"));
        assert_eq!(v.version_string, "1.2[31m");
        assert_eq!(v.release_type.as_deref(), Some("MANUAL"));
        assert!(!v.editable());
        let open = version(r#"{"type":"appStoreVersions","id":"v2","attributes":{"appStoreState":"REJECTED"}}"#);
        assert!(open.editable());
        assert_eq!(open.version_string, "");
        assert_eq!(open.build_id, None);
        let bare = version(r#"{"type":"appStoreVersions","id":"v3"}"#);
        assert_eq!(bare.state_or_unknown(), "UNKNOWN");
        assert!(!bare.editable() && !bare.is_live());
        let live = version(
            r#"{"type":"appStoreVersions","id":"v4","attributes":{"appVersionState":"READY_FOR_DISTRIBUTION"}}"#,
        );
        assert!(live.is_live());
    }

    #[test]
    fn a_localization_matches_its_locale_in_any_case() {
        let l: AppStoreVersionLocalization = serde_json::from_str(
            r#"{"type":"appStoreVersionLocalizations","id":"l","attributes":{"locale":"en-US","whatsNew":"x"}}"#,
        )
        .unwrap();
        let r = LocalizationRecord::from(&l);
        assert!(r.is_locale("EN-us"));
        assert!(!r.is_locale("de-DE"));
        assert_eq!(r.whats_new.as_deref(), Some("x"));
    }
}
