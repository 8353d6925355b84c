//! Apple's wire types: JSON:API documents and the resources the upload flow reads and writes.
//! States are enums with an `Unknown` fallback so a new value from Apple never breaks decoding,
//! and every field takes `null` (Apple answers `null` for what it has not set, e.g.
//! `sourceFileChecksums.file` when the client sent no checksum).

use serde::{Deserialize, Serialize};

use super::records::nullable;
pub use super::records::{
    AssetDeliveryState, BetaState, BuildUploadState, Checksum, PartHeader as HttpHeader, PartUpload as UploadOperation,
    ProcessingState, StateDetail,
};

/// `{ "data": T, "included": [...], "links": {...} }`.
#[derive(Debug, Clone, Deserialize)]
pub struct Document<T> {
    pub data: T,
    #[serde(default, deserialize_with = "nullable")]
    pub included: Vec<serde_json::Value>,
}

/// A list response with pagination links.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct ListDocument<T> {
    #[serde(default = "Vec::new", deserialize_with = "nullable")]
    pub data: Vec<T>,
    #[serde(default, deserialize_with = "nullable")]
    pub included: Vec<serde_json::Value>,
    #[serde(default)]
    pub links: Option<Links>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub next: Option<String>,
}

/// A resource: `{type, id, attributes, relationships}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Resource<A> {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub id: String,
    #[serde(default = "Option::default")]
    pub attributes: Option<A>,
    #[serde(default)]
    pub relationships: Option<serde_json::Map<String, serde_json::Value>>,
}

impl<A> Resource<A> {
    /// `relationships.<name>.data.id` of a to-one relationship, when set.
    pub fn related_id(&self, name: &str) -> Option<&str> {
        self.relationships.as_ref()?.get(name)?.get("data")?.get("id")?.as_str()
    }
}

/// `{type, id}` linkage used in request bodies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Linkage {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Linkage {
    pub fn new(kind: &str, id: &str) -> Self {
        Linkage {
            kind: kind.to_string(),
            id: id.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildUploadStateInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub state: BuildUploadState,
    #[serde(default)]
    pub errors: Option<Vec<StateDetail>>,
    #[serde(default)]
    pub warnings: Option<Vec<StateDetail>>,
    #[serde(default)]
    pub infos: Option<Vec<StateDetail>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildUploadAttributes {
    #[serde(default)]
    pub cf_bundle_short_version_string: Option<String>,
    #[serde(default)]
    pub cf_bundle_version: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub created_date: Option<String>,
    #[serde(default)]
    pub uploaded_date: Option<String>,
    #[serde(default)]
    pub state: Option<BuildUploadStateInfo>,
}

pub type BuildUpload = Resource<BuildUploadAttributes>;

#[derive(Debug, Clone, Deserialize)]
pub struct AssetDeliveryStateInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub state: AssetDeliveryState,
    #[serde(default)]
    pub errors: Option<Vec<StateDetail>>,
    #[serde(default)]
    pub warnings: Option<Vec<StateDetail>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Checksums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Checksum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite: Option<Checksum>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildUploadFileAttributes {
    #[serde(default)]
    pub asset_delivery_state: Option<AssetDeliveryStateInfo>,
    #[serde(default)]
    pub asset_type: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub source_file_checksums: Option<Checksums>,
    #[serde(default)]
    pub upload_operations: Option<Vec<UploadOperation>>,
    #[serde(default)]
    pub uti: Option<String>,
}

pub type BuildUploadFile = Resource<BuildUploadFileAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildAttributes {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub uploaded_date: Option<String>,
    #[serde(default)]
    pub expired: Option<bool>,
    #[serde(default)]
    pub processing_state: Option<ProcessingState>,
    #[serde(default)]
    pub uses_non_exempt_encryption: Option<bool>,
}

pub type Build = Resource<BuildAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildBetaDetailAttributes {
    #[serde(default)]
    pub auto_notify_enabled: Option<bool>,
    #[serde(default)]
    pub internal_build_state: Option<BetaState>,
    #[serde(default)]
    pub external_build_state: Option<BetaState>,
}

pub type BuildBetaDetail = Resource<BuildBetaDetailAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppAttributes {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bundle_id: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
}

pub type App = Resource<AppAttributes>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreReleaseVersionAttributes {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
}

pub type PreReleaseVersion = Resource<PreReleaseVersionAttributes>;

/// Apple's error body.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub errors: Vec<ResponseError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResponseError {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub status: String,
    #[serde(default, deserialize_with = "nullable")]
    pub code: String,
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub source: Option<ErrorSource>,
    /// Apple's extra facts, e.g. `previousBundleVersion` on a duplicate build's 409.
    #[serde(default)]
    pub meta: Option<ErrorMeta>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMeta {
    /// The build number a new upload of this version must exceed (409 DUPLICATE on a build).
    #[serde(default)]
    pub previous_bundle_version: Option<String>,
    /// Errors of related resources, by resource path: what App Review finds missing when a
    /// version is added to a review submission (409 STATE_ERROR.ENTITY_STATE_INVALID).
    #[serde(default)]
    pub associated_errors: Option<std::collections::BTreeMap<String, Vec<ResponseError>>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorSource {
    #[serde(default)]
    pub pointer: Option<String>,
    #[serde(default)]
    pub parameter: Option<String>,
}

/// Request bodies.
pub mod request {
    use serde_json::{Value, json};

    pub fn create_build_upload(app_id: &str, short_version: &str, version: &str, platform: &str) -> Value {
        json!({ "data": { "type": "buildUploads",
            "attributes": { "cfBundleShortVersionString": short_version, "cfBundleVersion": version, "platform": platform },
            "relationships": { "app": { "data": { "type": "apps", "id": app_id } } } } })
    }

    pub fn create_build_upload_file(upload_id: &str, file_name: &str, file_size: u64, uti: &str) -> Value {
        json!({ "data": { "type": "buildUploadFiles",
            "attributes": { "assetType": "ASSET", "fileName": file_name, "fileSize": file_size, "uti": uti },
            "relationships": { "buildUpload": { "data": { "type": "buildUploads", "id": upload_id } } } } })
    }

    pub fn commit_build_upload_file(file_id: &str, md5_hex: &str) -> Value {
        json!({ "data": { "type": "buildUploadFiles", "id": file_id,
            "attributes": { "uploaded": true, "sourceFileChecksums": { "file": { "hash": md5_hex, "algorithm": "MD5" } } } } })
    }

    pub fn set_encryption(build_id: &str, uses: bool) -> Value {
        json!({ "data": { "type": "builds", "id": build_id, "attributes": { "usesNonExemptEncryption": uses } } })
    }
}

/// Turning resources into the records the operations return.
mod into_records {
    use serde_json::Value;

    use super::*;
    use crate::asc::records::{
        AppRecord, BuildRecord, BuildUploadRecord, DeliveryStatus, Train, UploadFileRecord, UploadStatus,
    };

    impl From<BuildUploadStateInfo> for UploadStatus {
        fn from(s: BuildUploadStateInfo) -> Self {
            UploadStatus {
                state: s.state,
                errors: s.errors.unwrap_or_default(),
                warnings: s.warnings.unwrap_or_default(),
                infos: s.infos.unwrap_or_default(),
            }
        }
    }

    impl From<BuildUpload> for BuildUploadRecord {
        fn from(u: BuildUpload) -> Self {
            let app_id = u.related_id("app").map(str::to_string);
            let build_id = u.related_id("build").map(str::to_string);
            let a = u.attributes;
            let (short_version, build_number, platform, status) = match a {
                Some(a) => (
                    a.cf_bundle_short_version_string,
                    a.cf_bundle_version,
                    a.platform,
                    a.state.map(UploadStatus::from),
                ),
                None => (None, None, None, None),
            };
            BuildUploadRecord {
                id: u.id,
                short_version,
                build_number,
                platform,
                status,
                app_id,
                build_id,
            }
        }
    }

    impl From<BuildUploadFile> for UploadFileRecord {
        fn from(f: BuildUploadFile) -> Self {
            let Some(a) = f.attributes else {
                return UploadFileRecord {
                    id: f.id,
                    ..UploadFileRecord::default()
                };
            };
            UploadFileRecord {
                id: f.id,
                delivery: a.asset_delivery_state.map(|s| DeliveryStatus {
                    state: s.state,
                    errors: s.errors.unwrap_or_default(),
                    warnings: s.warnings.unwrap_or_default(),
                }),
                asset_type: a.asset_type,
                file_name: a.file_name,
                file_size: a.file_size,
                file_checksum: a.source_file_checksums.and_then(|c| c.file),
                operations: a.upload_operations,
            }
        }
    }

    impl From<App> for AppRecord {
        fn from(a: App) -> Self {
            let (name, bundle_id) = a.attributes.map_or((None, None), |x| (x.name, x.bundle_id));
            AppRecord {
                id: a.id,
                name,
                bundle_id,
            }
        }
    }

    /// The included resource of `kind` and `id`.
    pub(in crate::asc) fn find_included<'a>(included: &'a [Value], kind: &str, id: &str) -> Option<&'a Value> {
        included.iter().find(|i| i["type"] == kind && i["id"] == id)
    }

    /// A build with its train looked up in `included` by the linked id.
    pub(in crate::asc) fn build_record(b: Build, included: &[Value]) -> BuildRecord {
        let train = b
            .related_id("preReleaseVersion")
            .and_then(|id| find_included(included, "preReleaseVersions", id))
            .map(train_of);
        build_with_train(b, train)
    }

    pub(in crate::asc) fn train_of(v: &Value) -> Train {
        let attr = |name: &str| v["attributes"][name].as_str().map(str::to_string);
        Train {
            version: attr("version"),
            platform: attr("platform"),
        }
    }

    pub(in crate::asc) fn build_with_train(b: Build, train: Option<Train>) -> BuildRecord {
        let app_id = b.related_id("app").map(str::to_string);
        let upload_id = b.related_id("buildUpload").map(str::to_string);
        let a = b.attributes;
        BuildRecord {
            id: b.id,
            number: a.as_ref().and_then(|a| a.version.clone()),
            uploaded_date: a.as_ref().and_then(|a| a.uploaded_date.clone()),
            expired: a.as_ref().and_then(|a| a.expired),
            processing_state: a.as_ref().and_then(|a| a.processing_state),
            uses_non_exempt_encryption: a.as_ref().and_then(|a| a.uses_non_exempt_encryption),
            app_id,
            upload_id,
            train,
        }
    }
}

pub(in crate::asc) use into_records::{build_record, build_with_train, find_included, train_of};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_states_decode() {
        let u: BuildUpload = serde_json::from_str(
            r#"{"type":"buildUploads","id":"1","attributes":{"state":{"state":"SOMETHING_NEW","errors":[]}},
                "relationships":{"build":{"data":{"type":"builds","id":"b1"}}}}"#,
        )
        .unwrap();
        assert_eq!(
            u.attributes.as_ref().unwrap().state.as_ref().unwrap().state,
            BuildUploadState::Unknown
        );
        assert_eq!(u.related_id("build"), Some("b1"));
    }

    #[test]
    fn null_reads_as_absent_everywhere() {
        let f: Document<BuildUploadFile> = serde_json::from_str(
            r#"{"data":{"type":"buildUploadFiles","id":"f1","attributes":{
                "assetDeliveryState":{"state":null,"errors":null,"warnings":null},
                "assetToken":null,"assetType":null,"fileName":null,"fileSize":null,
                "sourceFileChecksums":{"file":null,"composite":{"hash":"ABC-2","algorithm":"MD5"}},
                "uploadOperations":[{"method":null,"url":null,"length":null,"offset":null,
                    "requestHeaders":[{"name":"Content-Type","value":null}],"expiration":null,
                    "partNumber":null,"entityTag":null}],
                "uti":null}},"included":null,"links":null}"#,
        )
        .unwrap();
        let a = f.data.attributes.unwrap();
        let c = a.source_file_checksums.unwrap();
        assert!(c.file.is_none());
        assert_eq!(c.composite.unwrap().hash, "ABC-2");
        assert_eq!(a.asset_delivery_state.unwrap().state, AssetDeliveryState::Unknown);
        assert_eq!(a.upload_operations.unwrap()[0].headers.as_ref().unwrap()[0].value, "");
        let u: ListDocument<BuildUpload> = serde_json::from_str(
            r#"{"data":[{"type":"buildUploads","id":"u1","attributes":{"state":{"state":null,"errors":null},
                "uploadedDate":null,"cfBundleVersion":null},"relationships":{"build":{"data":null}}}],
                "included":null,"links":{"self":"x","next":null}}"#,
        )
        .unwrap();
        assert_eq!(u.data[0].related_id("build"), None);
        let l: ListDocument<Build> = serde_json::from_str(r#"{"data":null}"#).unwrap();
        assert!(l.data.is_empty());
        let e: ErrorResponse = serde_json::from_str(
            r#"{"errors":[{"status":null,"code":"X","title":null,"detail":null,"source":null,"meta":null}]}"#,
        )
        .unwrap();
        assert_eq!(e.errors[0].code, "X");
    }
}
