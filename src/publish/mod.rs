//! Publishing: upload (reservation, parts, commit), waiting for processing, and their results.

pub mod build_info;
pub mod build_lookup;
pub mod checksum;
pub mod commit;
pub mod connection;
pub mod distribution;
pub mod duration;
pub mod error;
pub mod events;
pub mod flow;
pub mod parts;
pub mod preflight;
pub mod processing;
pub mod progress;
pub mod sent_md5;
pub mod upload;
pub mod upload_plan;

pub use duration::parse_duration;
pub use error::PublishError;
pub use upload::{UploadOptions, UploadRequest, run_upload};
