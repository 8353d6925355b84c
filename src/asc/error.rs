//! Typed App Store Connect failures: Apple's error body as [`ApiError`], transport failures, and
//! the mapping of each to an exit code with a fix for the user.

use std::fmt;

use crate::asc::model::ErrorResponse;
use crate::error::{Error, ErrorKind};

/// Server text is cleaned for display where everything printed is made safe.
pub use crate::output::sanitize;

/// One entry of Apple's `errors[]`, sanitised for display.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ApiErrorEntry {
    pub status: String,
    pub code: String,
    pub title: String,
    pub detail: Option<String>,
    /// `source.pointer` or `source.parameter`.
    pub source: Option<String>,
    /// `meta.previousBundleVersion` of a duplicate build's 409: the number to exceed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_bundle_version: Option<String>,
    /// `meta.associatedErrors`, flattened: (resource path, the attribute its `source.pointer`
    /// names, else its detail).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub associated: Vec<(String, String)>,
}

fn associated(meta: Option<&crate::asc::model::ErrorMeta>) -> Vec<(String, String)> {
    let Some(map) = meta.and_then(|m| m.associated_errors.as_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, errors) in map {
        for e in errors {
            let what = e
                .source
                .as_ref()
                .and_then(|s| s.pointer.as_deref())
                .and_then(|p| p.rsplit('/').next())
                .map(str::to_string)
                .or_else(|| e.detail.clone())
                .unwrap_or_else(|| e.code.clone());
            out.push((sanitize(path), sanitize(&what)));
        }
    }
    out
}

/// A non-2xx answer from the API, with Apple's own words.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiError {
    pub status: u16,
    pub method: String,
    pub path: String,
    pub errors: Vec<ApiErrorEntry>,
}

impl ApiError {
    /// Builds from a status and a body that may or may not be Apple's `ErrorResponse`.
    pub fn from_body(status: u16, method: &str, path: &str, body: &[u8]) -> ApiError {
        let errors = match serde_json::from_slice::<ErrorResponse>(body) {
            Ok(r) => r
                .errors
                .into_iter()
                .map(|e| ApiErrorEntry {
                    associated: associated(e.meta.as_ref()),
                    status: sanitize(&e.status),
                    code: sanitize(&e.code),
                    title: sanitize(&e.title),
                    detail: e.detail.as_deref().map(sanitize),
                    source: e.source.and_then(|s| s.pointer.or(s.parameter)).map(|s| sanitize(&s)),
                    previous_bundle_version: e.meta.and_then(|m| m.previous_bundle_version).map(|v| sanitize(&v)),
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        ApiError {
            status,
            method: method.to_string(),
            path: sanitize(path),
            errors,
        }
    }

    /// The build number Apple says a new upload must exceed (409 DUPLICATE), if it said one.
    pub fn previous_bundle_version(&self) -> Option<&str> {
        self.errors.iter().find_map(|e| e.previous_bundle_version.as_deref())
    }

    /// Every `meta.associatedErrors` entry of the answer, as (resource path, attribute).
    pub fn associated(&self) -> Vec<(String, String)> {
        self.errors.iter().flat_map(|e| e.associated.iter().cloned()).collect()
    }

    /// Whether any error code starts with `prefix` (Apple's codes are hierarchical).
    pub fn has_code(&self, prefix: &str) -> bool {
        self.errors.iter().any(|e| e.code.starts_with(prefix))
    }

    pub fn kind(&self) -> ErrorKind {
        match self.status {
            401 | 403 => ErrorKind::Auth,
            404 | 409 | 422 => ErrorKind::Conflict,
            429 | 500..=599 | 408 => ErrorKind::Transient,
            _ => ErrorKind::Usage,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self.status {
            401 => Some(
                "App Store Connect rejected the token: check that the key id, issuer id and .p8 belong together, \
                 that the key was not revoked, and that this machine's clock is right"
                    .into(),
            ),
            403 => Some(
                "the API key's role may lack access: uploads need the App Manager, Developer or Admin role, \
                 beta groups need App Manager; a FORBIDDEN_ERROR.CONTRACT_NOT_VALID means an agreement is \
                 waiting in App Store Connect → Business"
                    .into(),
            ),
            429 => Some("the API key is over Apple's hourly request quota; wait and re-run".into()),
            500..=599 => Some("App Store Connect is having trouble; re-run later".into()),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "App Store Connect answered {} to {} {}",
            self.status, self.method, self.path
        )?;
        for e in &self.errors {
            write!(f, "; {}: {}", e.code, e.title)?;
            if let Some(d) = &e.detail {
                write!(f, " ({d})")?;
            }
            if let Some(s) = &e.source {
                write!(f, " [at {s}]")?;
            }
            if let Some(p) = &e.previous_bundle_version {
                write!(f, " [previous build number: {p}]")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Every way an App Store Connect request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AscError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("network error talking to App Store Connect ({method} {path}): {message}")]
    Network {
        method: String,
        path: String,
        message: String,
    },
    /// A mutation whose outcome is unknown (the response was lost). Callers reconcile by reading.
    #[error("no answer to {method} {path} ({message}); it may or may not have been applied")]
    Ambiguous {
        method: String,
        path: String,
        message: String,
    },
    #[error("gave up on {method} {path} after {attempts} attempts: {last}")]
    Exhausted {
        method: String,
        path: String,
        attempts: u32,
        last: String,
    },
    #[error("unexpected response to {method} {path}: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
    #[error("invalid API URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
    #[error(transparent)]
    Sign(#[from] crate::asc::auth::SignError),
}

impl AscError {
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            AscError::Api(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is a 404.
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(|a| a.status == 404)
    }
}

impl From<AscError> for Error {
    fn from(e: AscError) -> Self {
        let (kind, hint) = match &e {
            AscError::Api(a) => (a.kind(), a.hint()),
            AscError::Network { .. } | AscError::Exhausted { .. } | AscError::Ambiguous { .. } => (
                ErrorKind::Transient,
                Some("a network problem between this machine and App Store Connect; re-run (uploads resume)".into()),
            ),
            AscError::Decode { .. } => (ErrorKind::Transient, None),
            AscError::BadUrl { .. } | AscError::Setup(_) => (ErrorKind::Usage, None),
            AscError::Sign(_) => (ErrorKind::Auth, None),
        };
        let message = e.to_string();
        let err = Error::new(kind, message).with_source(e);
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_body_becomes_typed_error_with_exit_code() {
        let body = br#"{"errors":[{"id":"x","status":"409","code":"ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
          "title":"dup\u001b[31m","detail":"The bundle version must be higher.","source":{"pointer":"/data/attributes/cfBundleVersion"}}]}"#;
        let e = ApiError::from_body(409, "POST", "/v1/buildUploads", body);
        assert!(e.has_code("ENTITY_ERROR.ATTRIBUTE"));
        assert_eq!(e.kind().exit_code(), 4);
        let shown = e.to_string();
        assert!(shown.contains("The bundle version must be higher."));
        assert!(!shown.contains('\u{1b}'));
        for (status, code) in [(401, 3), (403, 3), (404, 4), (429, 5), (503, 5)] {
            assert_eq!(
                ApiError::from_body(status, "GET", "/", b"not json").kind().exit_code(),
                code
            );
        }
    }
}
