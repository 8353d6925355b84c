//! A validation finding: one thing App Store Connect would reject (or warn about), where it is in
//! the IPA, Apple's own wording, and the fix.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Apple would reject the build; `validate` exits 1.
    Error,
    /// Apple would accept it but something is likely wrong (or a heuristic fired);
    /// `validate --strict` turns these into failures.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Apple's ITMS code (e.g. "ITMS-90056"), or an `ASC-` code of ours where Apple has none.
    pub code: String,
    pub severity: Severity,
    /// The offending path inside the IPA (e.g. `Payload/App.app/Info.plist`); empty for the archive itself.
    pub path: String,
    /// What is wrong, in Apple's words where Apple has words for it.
    pub message: String,
    /// What the user should do.
    pub fix: String,
}

impl Finding {
    pub fn error(code: &str, path: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            code: code.to_string(),
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn warning(code: &str, path: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(code, path, message, fix)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
