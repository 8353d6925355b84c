//! A local App Store Connect simulator: same endpoints, shapes, state machines and errors as Apple.
//!
//! [`Simulator::start`] binds a loopback HTTP server that speaks the Build Uploads API (apps,
//! buildUploads, buildUploadFiles, its own pre-signed part storage, builds, preReleaseVersions,
//! buildBetaDetails), checks ES256 JWTs like Apple, and can inject the faults real pipelines meet
//! (failed parts, 429 bursts, a lost commit response, token expiry, latency). It also serves the
//! TestFlight side (beta groups and build assignment, What to Test, notifications, testers, beta
//! app review, build expiry) over a scene set by [`TestFlightConfig`]. It is used by
//! `asc-publish sim`, `asc-publish demo` and the end-to-end tests.
//!
//! TestFlight answers where Apple's exact status or code is not documented (asc-api.md §4–§5),
//! chosen once and kept stable for clients:
//! - assigning a build to an internal group with access to all builds: 422 `ENTITY_UNPROCESSABLE`,
//!   title "Builds cannot be assigned to this internal group.", detail "Cannot add internal group
//!   to a build." (VALID, unexpired builds appear in such groups by themselves);
//! - assigning (or submitting) a build that is expired, not VALID, or (external groups, review)
//!   without export compliance: 422 `STATE_ERROR.ENTITY_STATE_INVALID`; unknown group, build or
//!   tester in a linkage: 404 `NOT_FOUND`; a group or tester of another app: 422;
//! - What to Test: a second localization for a locale is 409
//!   `ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE`; `whatsNew` over 4000 bytes (UTF-8 bytes,
//!   not characters) is 409 `ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG` with `source.pointer`
//!   `/data/attributes/whatsNew`;
//! - `POST buildBetaNotifications` while auto-notify is on: 409
//!   `STATE_ERROR.ENTITY_STATE_INVALID`, detail containing "auto-notify already enabled";
//! - `POST betaAppReviewSubmissions`: already submitted, or another build of the same version
//!   waiting or in review ("Another build is in review."): 409
//!   `STATE_ERROR.ENTITY_STATE_INVALID`; missing Beta App Description, Feedback Email, review
//!   contact fields or the build's What to Test: 422 `ENTITY_UNPROCESSABLE`, one error per gap
//!   (Apple's "Beta App Description is missing." wording). No external group is needed to submit;
//! - lists whose filter is required (`betaAppReviewSubmissions` filter[build],
//!   `betaAppReviewDetails` filter[app]): 400 `PARAMETER_ERROR.REQUIRED` with `source.parameter`.

mod app_store;
mod app_store_scene;
mod auth;
mod beta;
mod clock;
mod content_delivery;
mod faults;
mod inspect;
mod json;
mod json_app_store;
mod json_beta;
mod keys;
mod routes;
mod seed;
mod server;
mod state;
mod storage;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use app_store::{AppStoreScene, IN_FLIGHT_SCENES, MissingMetadata, ReviewVerdict};
pub use clock::{Clock, ManualClock, SystemClock};
pub use faults::Faults;
pub use seed::{BuildSeed, GroupKind, GroupSeed, SeedState, TestFlightConfig, TesterSeed};
pub use server::{RequestRecord, SimHandle};

/// The bundle id seeded when the configuration lists no app.
pub const DEFAULT_BUNDLE_ID: &str = "com.example.demo";
/// The App Store Connect app id given to [`DEFAULT_BUNDLE_ID`].
pub const DEFAULT_APP_ID: &str = "6450000001";

/// Everything the simulator can be told at start.
#[derive(Clone)]
pub struct SimConfig {
    /// Where to listen; the default `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    /// Persist state (and part bytes, and the generated key) here so a restarted simulator
    /// continues; `None` keeps everything in memory.
    pub state_dir: Option<PathBuf>,
    /// App records as (bundle id, app id). Empty seeds [`DEFAULT_BUNDLE_ID`].
    pub apps: Vec<(String, String)>,
    /// Extra keys to trust besides the generated one: (key id, public key PEM).
    pub trusted_keys: Vec<(String, String)>,
    pub faults: Faults,
    pub processing: Processing,
    /// Time source for processing, expirations and token checks.
    pub clock: Arc<dyn Clock>,
    /// Log every request (method, path without query, status) and why tokens were refused, on
    /// stderr. The CLI turns it on; in-process users (the demo, tests) keep stderr quiet.
    pub verbose: bool,
    /// Beta groups, testers, seeded builds, beta review details, auto-notify, processing warnings.
    pub testflight: TestFlightConfig,
    /// Apple IDs the content-delivery sign-in accepts: (email, app-specific password).
    pub apple_ids: Vec<(String, String)>,
    /// App Store versions, metadata gaps and review submissions (`asc-publish release`).
    pub app_store: AppStoreScene,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: None,
            apps: Vec::new(),
            trusted_keys: Vec::new(),
            faults: Faults::default(),
            processing: Processing::default(),
            clock: Arc::new(SystemClock),
            verbose: false,
            testflight: TestFlightConfig::default(),
            apple_ids: Vec::new(),
            app_store: AppStoreScene::default(),
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("state_dir", &self.state_dir)
            .field("apps", &self.apps)
            .field(
                "trusted_keys",
                &self.trusted_keys.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("faults", &self.faults)
            .field("processing", &self.processing)
            .field("verbose", &self.verbose)
            .field("testflight", &self.testflight)
            .field("apple_ids", &self.apple_ids.iter().map(|(u, _)| u).collect::<Vec<_>>())
            .field("app_store", &self.app_store)
            .finish()
    }
}

/// How Apple's server-side processing of a committed upload ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processing {
    /// Time from the commit until the verdict (the Build record appears halfway through).
    pub duration: Duration,
    pub result: ProcessingResult,
}

impl Default for Processing {
    fn default() -> Self {
        Processing {
            duration: Duration::from_secs(3),
            result: ProcessingResult::Valid,
        }
    }
}

/// The verdict of processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessingResult {
    /// Build VALID, upload COMPLETE.
    Valid,
    /// Build INVALID, upload FAILED with an explanatory error in its state.
    Invalid,
    /// Upload FAILED with this ITMS code (e.g. "90725") and Apple's description; no build.
    Failed(String),
}

impl std::str::FromStr for ProcessingResult {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "valid" => Ok(ProcessingResult::Valid),
            "invalid" => Ok(ProcessingResult::Invalid),
            other => match other.strip_prefix("failed:") {
                Some(code) if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(ProcessingResult::Failed(code.to_owned()))
                }
                Some(_) => Err("failed:CODE needs a numeric code, e.g. failed:90725".into()),
                None => Err(format!(
                    "unknown processing result '{other}': expected valid, invalid or failed:CODE"
                )),
            },
        }
    }
}

/// The simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("saved state in {path} is unreadable: {reason}")]
    StateCorrupt { path: PathBuf, reason: String },
    #[error("trusted key '{key_id}' is not a usable P-256 public key: {reason}")]
    BadTrustedKey { key_id: String, reason: String },
    #[error("cannot generate the simulator's API key: {0}")]
    KeyGeneration(String),
    #[error("TestFlight seed: {0}")]
    Seed(String),
}

impl SimError {
    /// The fix to show with the error, in terms of the `asc-publish sim` flags.
    pub fn hint(&self) -> &'static str {
        match self {
            SimError::Bind { .. } => "pick another address with --listen, e.g. 127.0.0.1:0",
            SimError::StateDir { .. } => "use a writable directory for --state-dir",
            SimError::StateCorrupt { .. } => "delete the state directory (or use a new one) to start from scratch",
            SimError::BadTrustedKey { .. } => {
                "pass --trust-key KEY_ID=PEM where PEM is the public key (or its file path)"
            }
            SimError::KeyGeneration(_) => "this is a bug; please report it",
            SimError::Seed(_) => "give a bundle id listed with --app (or none, for the first app)",
        }
    }
}

/// Starts simulators.
pub struct Simulator;

impl Simulator {
    /// Binds the listener, loads or creates state, and serves until [`SimHandle::shutdown`].
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        server::start(config).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_configs_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<SimHandle>();
        send_sync::<SimConfig>();
        fn send<T: Send>(_: T) {}
        send(Simulator::start(SimConfig::default()));
    }

    #[test]
    fn processing_results_parse_like_the_cli_flag() {
        assert_eq!("valid".parse::<ProcessingResult>(), Ok(ProcessingResult::Valid));
        assert_eq!("invalid".parse::<ProcessingResult>(), Ok(ProcessingResult::Invalid));
        assert_eq!(
            "failed:90725".parse::<ProcessingResult>(),
            Ok(ProcessingResult::Failed("90725".into()))
        );
        assert!("failed:abc".parse::<ProcessingResult>().is_err());
    }
}
