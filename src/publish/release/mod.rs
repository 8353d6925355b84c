//! App Store release of a processed build: find or create the App Store version for the build's
//! platform and version string, attach the build, write What's New, set the release type and
//! phased release, and submit it through a review submission.
//!
//! Order, and why:
//! 1. Preflight, read-only: the version and its metadata (every missing field named), the build
//!    (VALID, export compliance answered), other submissions with Apple. Anything missing stops
//!    the run before a single write, so a refusal leaves App Store Connect as it was.
//! 2. `--cancel-pending`: pending submissions are cancelled (and waited out of CANCELING) first;
//!    Apple allows one open submission per app and platform.
//! 3. The version: the exact one, else the open (editable) one renamed, else a new one (Apple
//!    copies the newest version's metadata into it); its release type; the build; What's New;
//!    phased release.
//! 4. The review submission: the app's draft (READY_FOR_REVIEW) or a new one, the version as its
//!    item, then `submitted: true`.
//!
//! A re-run after success finds the version with Apple and reports its state: nothing is sent.

pub mod apply;
pub mod error;
pub mod metadata;
pub mod preflight;
pub mod released;
pub mod run;
pub mod status;
pub mod target;
pub mod wait;

pub use crate::asc::app_store_versions::ReleaseType;
pub use error::ReleaseError;
pub use released::Released;

use crate::asc::AscClient;
use crate::error::Error;
use crate::outcome::Status;
use crate::publish::events::Events;

/// What to release and how.
#[derive(Debug, Clone)]
pub struct Release {
    /// (locale, What's New); over 4000 UTF-8 bytes is truncated with a warning.
    pub whats_new: Vec<(String, String)>,
    pub release_type: ReleaseType,
    /// Phased release on or off; `None` leaves it as it is.
    pub phased: Option<bool>,
    pub cancel_pending: bool,
    /// Where the release says what it finds and does.
    pub events: Events,
}

/// The processed build to release.
#[derive(Debug, Clone)]
pub struct Target {
    pub app_id: String,
    pub build_id: String,
    /// The build's CFBundleVersion, for messages.
    pub build_number: Option<String>,
    /// CFBundleShortVersionString: the App Store version string.
    pub version_string: String,
    /// Apple's platform (IOS, MAC_OS, TV_OS, VISION_OS).
    pub platform: String,
    pub uses_non_exempt_encryption: Option<bool>,
}

/// Preflight, then the writes; `done.release` says what was found and done.
pub async fn release(client: &AscClient, target: &Target, r: &Release, done: &mut Released) -> Result<(), Error> {
    let rel = done.release();
    rel.version_string = Some(target.version_string.clone());
    rel.platform = Some(target.platform.clone());
    let plan = preflight::check(client, target, r, &mut rel.missing).await?;
    if let Some(v) = &plan.submitted {
        rel.version_id = Some(v.id.clone());
        rel.version_state = v.state.clone();
        r.events.step(format!(
            "  App Store version {} is already {}; nothing to do",
            target.version_string,
            v.state.as_deref().unwrap_or("submitted")
        ));
        done.status = Some(Status::Success);
        return Ok(());
    }
    apply::run(client, target, r, &plan, done).await?;
    done.status = Some(Status::Success);
    Ok(())
}
