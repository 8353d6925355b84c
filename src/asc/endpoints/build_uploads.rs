//! `buildUploads` (a reservation for one binary) and `buildUploadFiles` (its parts).

use url::Url;

use super::{Query, at, seg};
use crate::asc::{AscClient, AscError};

/// The upload collection (POST reserves one).
pub fn collection(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/buildUploads", &[])
}

/// One upload (GET, PATCH, DELETE).
pub fn one(c: &AscClient, upload_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/buildUploads/{}", seg(upload_id)), q)
}

/// The files of an upload.
pub fn files_of(c: &AscClient, upload_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/buildUploads/{}/buildUploadFiles", seg(upload_id)), q)
}

/// The file collection (POST reserves one).
pub fn files(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/buildUploadFiles", &[])
}

/// One upload file (GET, PATCH).
pub fn file(c: &AscClient, file_id: &str) -> Result<Url, AscError> {
    at(c, &format!("/v1/buildUploadFiles/{}", seg(file_id)), &[])
}
