//! The App Store Connect client: credentials, JWT, transport with retries, typed errors, and
//! Apple's wire types (which live here and nowhere else).

pub(crate) mod app_store;
pub mod app_store_submissions;
pub mod app_store_versions;
pub mod auth;
pub mod client;
pub mod clock;
pub mod credentials;
pub mod endpoints;
pub mod error;
pub mod fastlane_key;
pub mod model;
pub mod retry;
pub mod testflight;

pub use auth::TokenSource;
pub use client::{AscClient, ClientConfig, RequestStats};
pub use clock::{Clock, SystemClock};
pub use credentials::{CredentialError, CredentialFlags, Credentials, Env, Secret};
pub use error::{ApiError, AscError};
