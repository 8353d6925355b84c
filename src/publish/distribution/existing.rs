//! `distribute`'s flow for a build that already exists: find it (by upload, id, or version and
//! number), wait for its processing, answer export compliance when asked, then distribute it;
//! and `upload`'s distribution step once its new build is processed.

use std::time::Duration;

use crate::asc::AscClient;
use crate::error::Error;
use crate::outcome::{Outcome, Status};
use crate::publish::build_lookup::{Found, Wanted, find_build};
use crate::publish::distribution::lookup::{self, BuildFacts, ProcessingState};
use crate::publish::distribution::{self, Distribution, DistributionError, Target};
use crate::publish::events::Events;
use crate::publish::preflight::find_app;
use crate::publish::processing::{self, Processed, WaitConfig, state_name};

/// Which build to distribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildRef {
    /// The upload id `upload --no-wait` printed: its build is waited for.
    Upload(String),
    Build(String),
    /// CFBundleShortVersionString and CFBundleVersion of a build of an app.
    Number {
        version: String,
        number: String,
        platform: Option<String>,
        app: AppRef,
    },
}

/// The app of a [`BuildRef::Number`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRef {
    Id(String),
    BundleId(String),
}

/// What `distribute` was asked, in our terms.
#[derive(Debug, Clone)]
pub struct ExistingBuild {
    pub build: BuildRef,
    /// `--app-id`, when given (the build's own app link wins).
    pub app_id: Option<String>,
    /// The export compliance answer, for a build that has none yet.
    pub uses_non_exempt_encryption: Option<bool>,
    pub timeout: Duration,
    pub poll_interval: Duration,
    /// Where the wait's progress goes.
    pub events: Events,
}

impl ExistingBuild {
    fn wait_config(&self) -> WaitConfig {
        WaitConfig {
            timeout: self.timeout,
            interval: self.poll_interval,
            max_interval: Duration::from_secs(30),
            uses_non_exempt_encryption: self.uses_non_exempt_encryption,
            events: self.events.clone(),
        }
    }
}

/// Finds the build, waits for it, answers export compliance if asked, then distributes.
pub async fn distribute_existing(
    client: &AscClient,
    s: &ExistingBuild,
    d: &Distribution,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let build_id = match &s.build {
        BuildRef::Upload(upload_id) => {
            let upload = lookup::upload_facts(client, upload_id)
                .await
                .map_err(|e| not_found_as(e, &format!("no build upload with id {upload_id}")))?;
            outcome.upload_id = Some(upload_id.clone());
            outcome.version = upload.short_version;
            outcome.build_number = upload.build_number;
            outcome.platform = upload.platform;
            outcome.app_id = s.app_id.clone().or(upload.app_id);
            let mut processed = Processed::from_outcome(outcome);
            let r = processing::wait(client, upload_id, &s.wait_config(), &mut processed).await;
            processed.record_in(outcome);
            r?;
            outcome
                .build_id
                .clone()
                .ok_or_else(|| DistributionError::NotFound(format!("upload {upload_id} has no build yet")))?
        }
        BuildRef::Build(b) => b.clone(),
        BuildRef::Number {
            version,
            number,
            platform,
            app,
        } => {
            let app_id = match app {
                AppRef::Id(a) => a.clone(),
                AppRef::BundleId(b) => find_app(client, b).await?,
            };
            let wanted = Wanted {
                app_id: &app_id,
                version,
                number,
                platform: platform.as_deref(),
                upload_id: None,
            };
            let Found { build_id, platform } = find_build(client, wanted).await?.ok_or_else(|| {
                let on = platform.as_deref().map(|p| format!(" on {p}")).unwrap_or_default();
                Error::from(DistributionError::NotFound(format!(
                    "no build {version} ({number}){on} for app {app_id}"
                )))
            })?;
            outcome.platform = platform;
            build_id
        }
    };
    let build = processed_build(client, &build_id, s, outcome).await?;
    outcome.build_id = Some(build_id.clone());
    outcome.processing_state = Some(state_name(&build.state).to_string());
    if build.state != ProcessingState::Valid || build.expired {
        let state = if build.expired {
            "expired".to_string()
        } else {
            state_name(&build.state).to_string()
        };
        return Err(DistributionError::NotDistributable { build_id, state }.into());
    }
    let app_id = build
        .app_id
        .clone()
        .or_else(|| outcome.app_id.clone())
        .or_else(|| s.app_id.clone())
        .ok_or_else(|| DistributionError::NotFound(format!("build {build_id} names no app")))?;
    outcome.app_id = Some(app_id.clone());
    let mut encryption = build.uses_non_exempt_encryption;
    if encryption.is_none() {
        if let Some(uses) = s.uses_non_exempt_encryption {
            lookup::answer_export_compliance(client, &build_id, uses).await?;
            encryption = Some(uses);
        }
    }
    outcome.uses_non_exempt_encryption = encryption;
    let short_version = outcome.version.clone().or_else(|| build.train_version.clone());
    outcome.version = short_version.clone();
    // The train Apple linked the build to is the truth; the upload's platform is the fallback.
    let platform = build.train_platform.clone().or_else(|| outcome.platform.clone());
    outcome.platform = platform.clone();
    outcome.app_store_connect_url = Some(format!(
        "https://appstoreconnect.apple.com/apps/{app_id}/testflight/ios"
    ));
    let target = Target {
        app_id,
        build_id,
        short_version,
        platform,
        uses_non_exempt_encryption: encryption,
    };
    let r = distribution::distribute(client, &target, d, outcome).await;
    outcome.requests = client.stats().requests();
    if r.is_ok() {
        outcome.status = Status::Success;
    }
    r
}

/// The build's facts once it is out of PROCESSING, waited for by the one processing wait.
async fn processed_build(
    client: &AscClient,
    build_id: &str,
    s: &ExistingBuild,
    outcome: &mut Outcome,
) -> Result<BuildFacts, Error> {
    let facts = || async {
        lookup::build_facts(client, build_id)
            .await
            .map_err(|e| not_found_as(e, &format!("no build with id {build_id}")))
    };
    let build = facts().await?;
    if build.state != ProcessingState::Processing {
        return Ok(build);
    }
    let mut processed = Processed::from_outcome(outcome);
    let r = processing::wait_for_build(client, build_id, &s.wait_config(), &mut processed).await;
    processed.record_in(outcome);
    r?;
    facts().await
}

fn not_found_as(e: crate::asc::AscError, message: &str) -> Error {
    if e.is_not_found() {
        DistributionError::NotFound(message.to_string()).into()
    } else {
        e.into()
    }
}

/// `upload`'s distribution step: once the new build is VALID (and export compliance handled by
/// the engine), distributes it as asked. With `--no-wait` there is no VALID build yet: the run
/// says how to distribute later instead.
pub async fn after_upload(
    client: &AscClient,
    d: &Distribution,
    short_version: &str,
    platform: &str,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    if d.is_empty() {
        return Ok(());
    }
    // Success is the processing wait's VALID verdict (with export compliance handled).
    let (Some(app_id), Some(build_id), Status::Success) =
        (outcome.app_id.clone(), outcome.build_id.clone(), outcome.status)
    else {
        outcome.warnings.push(not_distributed(outcome.upload_id.as_deref()));
        return Ok(());
    };
    let target = Target {
        app_id,
        build_id,
        short_version: Some(short_version.to_string()),
        platform: Some(platform.to_string()),
        uses_non_exempt_encryption: outcome.uses_non_exempt_encryption,
    };
    let r = distribution::distribute(client, &target, d, outcome).await;
    outcome.requests = client.stats().requests();
    r
}

/// The warning of a run whose build is not processed yet, with how to distribute it later.
fn not_distributed(upload_id: Option<&str>) -> String {
    let later = match upload_id {
        Some(id) => format!("run `asc-publish distribute --upload-id {id}` with the same distribution flags"),
        None => "run `asc-publish distribute` with the same distribution flags".to_string(),
    };
    format!("TestFlight distribution not done: the build is not processed yet; {later}")
}
