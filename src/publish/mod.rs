//! Publishing: upload (reservation, parts, commit), waiting for processing, and their results.

pub mod build_info;
pub mod checksum;
pub mod commit;
pub mod distribution;
pub mod duration;
pub mod error;
pub mod number_check;
pub mod parts;
pub mod preflight;
pub mod processing;
pub mod progress;
pub mod release;
pub mod sent_md5;
pub mod upload;

pub use duration::parse_duration;
pub use error::PublishError;
pub use upload::{UploadOptions, UploadRequest, run_upload};
