//! What an Apple ID upload needs to know, as plain values: `cli` builds these from its flags, so
//! this module never depends on the command line.

use std::path::PathBuf;
use std::time::Duration;

use crate::appleid::BackendChoice;

/// The sign-in: who, where the app-specific password is read from, and how to reach Apple.
#[derive(Debug, Clone, Default)]
pub struct AppleIdSettings {
    /// The Apple ID's email; `None` means no Apple ID sign-in was asked for.
    pub apple_id: Option<String>,
    /// The environment variable holding the app-specific password (never the password itself).
    pub password_env: Option<String>,
    /// Provider (team) public id, for Apple IDs that belong to several teams.
    pub provider_public_id: Option<String>,
    pub backend: BackendChoice,
    /// Content-delivery base URL given on the command line (it wins over the environment).
    pub content_delivery_url: Option<String>,
}

/// One Apple ID upload.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    pub sign_in: AppleIdSettings,
    /// The app's Apple ID; looked up by bundle id when `None`.
    pub app_id: Option<String>,
    /// Parts uploaded at the same time (native backend).
    pub concurrency: usize,
    /// Wait for Apple's processing verdict after the upload.
    pub wait: bool,
    /// How long to wait for processing.
    pub timeout: Duration,
    /// First processing poll interval.
    pub poll_interval: Duration,
    /// An extra root certificate trusted for HTTPS.
    pub tls_root_ca: Option<PathBuf>,
    /// `-v` count: 1 names the sign-in and the altool command, 2 also shows altool's output.
    pub verbose: u8,
    /// Whether any API-key credential was given too (it is ignored, with a warning).
    pub api_key_given: bool,
    /// The options given that need the App Store Connect API, named as the user typed them, in the
    /// order they are reported; an Apple ID sign-in refuses them all.
    pub api_key_only_flags: Vec<&'static str>,
}
