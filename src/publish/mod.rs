//! The pipeline: everything a run does between the command line (which parses arguments into
//! settings and renders) and App Store Connect (`crate::asc`, the only place that knows Apple's
//! wire). Stages take settings, send [`events::Event`]s for the edge to show, and record typed
//! results that are put on the outcome once.
//!
//! - [`connection`]: settings → the API and part-upload clients.
//! - [`upload_plan`]: the read-only plan (`preflight`, `upload --dry-run`); its build-number step
//!   is the engine's own check ([`preflight::check_number`]).
//! - [`flow`]: `upload`'s stages: [`upload`] (reservation, [`parts`], [`commit`]), [`processing`]
//!   (the one wait, [`processing::Processed`]), then [`distribution`] ([`distribution::Distributed`]).
//! - [`schedule`]: the one poll schedule ([`schedule::Poller`]: backoff, heartbeat, timeout) of
//!   every wait on Apple, processing's and a review submission's.
//! - [`distribution::existing`]: `distribute` of a build that already exists, found by
//!   [`build_lookup`] (the one lookup by version and number).

pub mod build_info;
pub mod build_lookup;
pub mod checksum;
pub mod commit;
pub mod connection;
pub mod distribution;
pub mod duration;
pub mod endpoint_warnings;
pub mod error;
pub mod events;
pub mod flow;
pub mod parts;
pub mod preflight;
pub mod processing;
pub mod progress;
pub mod release;
pub mod schedule;
pub mod sent_md5;
pub mod upload;
pub mod upload_plan;
pub mod uploaded;

pub use duration::parse_duration;
pub use error::PublishError;
pub use upload::{UploadOptions, UploadRequest, run_upload, upload};
pub use uploaded::Uploaded;
