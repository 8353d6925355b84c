//! The one error type the binary renders, and the exit-code policy it maps to.
//!
//! Errors are typed where they arise (each module has its own `thiserror` enum) and converted into
//! [`Error`] with `From` impls that live beside those enums. [`Error`] carries only what the edge
//! needs: which class of failure it is (which decides the exit code), the message, the fix the user
//! should make, and the original error as its source.

use std::fmt;

/// The documented process exit codes (README, "Exit codes"): the one table that gives a number a
/// meaning. Every subcommand ends with one of these; a number is never read back into a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Success (warnings allowed).
    Success = 0,
    /// Rejected: local validation errors, or Apple's processing verdict was INVALID/FAILED.
    Rejected = 1,
    /// Usage error, or input that cannot be read at all (not a zip, missing file); also an
    /// internal error.
    Usage = 2,
    /// Authentication or permission problem (bad key, 401, 403).
    Auth = 3,
    /// App Store Connect state conflict: no app record, duplicate build number, unknown group or
    /// tester, a group that did not get the build, incomplete beta review details.
    Conflict = 4,
    /// Transient failure after retries were exhausted (network, 5xx, 429, timeout).
    Transient = 5,
}

impl ExitCode {
    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        self as i32
    }
}

/// The class of a failure; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Rejected,
    Usage,
    Auth,
    Conflict,
    Transient,
}

impl ErrorKind {
    pub fn exit(self) -> ExitCode {
        match self {
            ErrorKind::Rejected => ExitCode::Rejected,
            ErrorKind::Usage => ExitCode::Usage,
            ErrorKind::Auth => ExitCode::Auth,
            ErrorKind::Conflict => ExitCode::Conflict,
            ErrorKind::Transient => ExitCode::Transient,
        }
    }

    pub fn exit_code(self) -> i32 {
        self.exit().code()
    }
}

/// A failure ready to be shown to a user: message, the fix, and the exit code class.
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The error as one JSON value, for `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind,
            "exit_code": self.exit_code(),
            "message": self.message,
            "hint": self.hint,
        })
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("hint", &self.hint)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Usage, format!("I/O error: {e}")).with_source(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_its_documented_code() {
        assert_eq!(ExitCode::Success.code(), 0);
        assert_eq!(ErrorKind::Rejected.exit_code(), 1);
        assert_eq!(ErrorKind::Usage.exit_code(), 2);
        assert_eq!(ErrorKind::Auth.exit_code(), 3);
        assert_eq!(ErrorKind::Conflict.exit_code(), 4);
        assert_eq!(ErrorKind::Transient.exit_code(), 5);
    }

    #[test]
    fn json_carries_hint_and_code() {
        let e = Error::new(ErrorKind::Conflict, "build 7 exists").with_hint("use 8");
        let j = e.to_json();
        assert_eq!(j["exit_code"], 4);
        assert_eq!(j["kind"], "conflict");
        assert_eq!(j["hint"], "use 8");
    }
}
