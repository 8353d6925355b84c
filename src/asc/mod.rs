//! The App Store Connect client: credentials, JWT, transport with retries, typed errors, and
//! Apple's wire types (which live here and nowhere else). The rest of the program calls the typed
//! operations (`apps`, `builds`, `build_uploads`, `beta_review`, `beta_testing`,
//! `app_store_versions`, `app_store_submissions`) and gets records back; the JSON:API envelope and
//! Apple's attribute structs (`model`, `testflight`, `app_store`) are private to this module.

mod app_store;
pub mod app_store_submissions;
pub mod app_store_versions;
pub mod apps;
pub mod auth;
pub mod beta_review;
pub mod beta_testing;
pub mod build_uploads;
pub mod builds;
pub mod client;
pub mod clock;
pub mod credentials;
pub mod endpoints;
pub mod error;
pub mod fastlane_key;
mod model;
pub mod records;
pub mod retry;
mod testflight;

/// Apple's wire model, for the conformance tests only (tests/it decode recorded answers and check
/// request bodies against Apple's OpenAPI description with it). The program never uses this path:
/// tests/it/architecture.rs fails if a file outside `src/asc/` names it or `asc::model`/`testflight`.
#[doc(hidden)]
pub mod wire {
    pub use super::model::*;

    /// TestFlight's resources and request bodies.
    pub mod testflight {
        pub use crate::asc::testflight::*;
    }
}

pub use auth::TokenSource;
pub use client::{AscClient, ClientConfig, RequestStats};
pub use clock::{Clock, SystemClock};
pub use credentials::{CredentialError, CredentialFlags, Credentials, Env, Secret};
pub use error::{ApiError, AscError};
pub use records::{
    AppRecord, AssetDeliveryState, BuildListing, BuildRecord, BuildUploadRecord, BuildUploadState, DeliveryStatus,
    NewBuildUpload, NewUploadFile, PartHeader, PartUpload, ProcessingState, StateDetail, Train, UploadFileRecord,
    UploadStatus,
};
