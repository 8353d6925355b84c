//! Typed operations on upload reservations (`buildUploads`) and their files (`buildUploadFiles`).

use reqwest::Method;

use super::endpoints::apps;
use super::endpoints::build_uploads;
use super::model::{BuildUpload, BuildUploadFile, Document, request};
use super::records::{BuildUploadRecord, NewBuildUpload, NewUploadFile, UploadFileRecord};
use super::{AscClient, AscError};

/// The app's uploads of a short version on a platform, optionally of one build number (Apple's
/// filters; callers check what they rely on).
pub async fn list(
    c: &AscClient,
    app_id: &str,
    short_version: &str,
    platform: &str,
    build_number: Option<&str>,
) -> Result<Vec<BuildUploadRecord>, AscError> {
    let mut q = vec![
        ("filter[cfBundleShortVersionString]", short_version),
        ("filter[platform]", platform),
        ("limit", "200"),
    ];
    if let Some(b) = build_number {
        q.push(("filter[cfBundleVersion]", b));
    }
    let url = apps::build_uploads(c, app_id, &q)?;
    let all: Vec<BuildUpload> = c.get_all(url).await?;
    Ok(all.into_iter().map(BuildUploadRecord::from).collect())
}

/// One upload; `with_build` also asks Apple to include the build it made.
pub async fn get(c: &AscClient, upload_id: &str, with_build: bool) -> Result<BuildUploadRecord, AscError> {
    let q: &[(&str, &str)] = if with_build { &[("include", "build")] } else { &[] };
    let url = build_uploads::one(c, upload_id, q)?;
    let doc: Document<BuildUpload> = c.get(url).await?;
    Ok(doc.data.into())
}

/// Reserves an upload (`POST`).
pub async fn create(c: &AscClient, new: &NewBuildUpload<'_>) -> Result<BuildUploadRecord, AscError> {
    let url = build_uploads::collection(c)?;
    let body = request::create_build_upload(new.app_id, new.short_version, new.build_number, new.platform);
    let doc: Document<BuildUpload> = c.mutate_json(Method::POST, url, &body).await?;
    Ok(doc.data.into())
}

/// Deletes a reservation.
pub async fn delete(c: &AscClient, upload_id: &str) -> Result<(), AscError> {
    let url = build_uploads::one(c, upload_id, &[])?;
    c.mutate(Method::DELETE, url, None).await?;
    Ok(())
}

/// The files of an upload.
pub async fn files(c: &AscClient, upload_id: &str) -> Result<Vec<UploadFileRecord>, AscError> {
    let url = build_uploads::files_of(c, upload_id, &[("limit", "50")])?;
    let files: Vec<BuildUploadFile> = c.get_all(url).await?;
    Ok(files.into_iter().map(UploadFileRecord::from).collect())
}

/// Reserves a file of an upload (`POST`); the answer carries the part operations.
pub async fn create_file(c: &AscClient, new: &NewUploadFile<'_>) -> Result<UploadFileRecord, AscError> {
    let url = build_uploads::files(c)?;
    let body = request::create_build_upload_file(new.upload_id, new.file_name, new.file_size, new.uti);
    let doc: Document<BuildUploadFile> = c.mutate_json(Method::POST, url, &body).await?;
    Ok(doc.data.into())
}

/// One file.
pub async fn file(c: &AscClient, file_id: &str) -> Result<UploadFileRecord, AscError> {
    let url = build_uploads::file(c, file_id)?;
    let doc: Document<BuildUploadFile> = c.get(url).await?;
    Ok(doc.data.into())
}

/// Commits a file: `uploaded: true` with the MD5 (hex) of the bytes sent.
pub async fn commit_file(c: &AscClient, file_id: &str, md5_hex: &str) -> Result<UploadFileRecord, AscError> {
    let url = build_uploads::file(c, file_id)?;
    let body = request::commit_build_upload_file(file_id, md5_hex);
    let doc: Document<BuildUploadFile> = c.mutate_json(Method::PATCH, url, &body).await?;
    Ok(doc.data.into())
}
