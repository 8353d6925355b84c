//! Pull/merge request reports: a sticky comment (one per app) and, on GitHub, a check run.
//!
//! Publishing is best effort: a read-only token (fork PRs), a missing PR or a network failure
//! becomes ONE warning line in [`ForgeReport`], never an error that changes the job's result.

pub mod context;
pub mod github_pr;
pub mod gitlab_mr;

use std::fmt;

/// An API token whose value never appears in Debug or Display output.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }

    /// The secret itself, for the one place that builds the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Redirects a client carrying a credential in its own header (GitLab's `PRIVATE-TOKEN`, which
/// reqwest does not know to strip) may follow: only to the same scheme, host and port, at most 5.
/// A redirect elsewhere stops, and the 3xx comes back as an error: the token never leaves the host
/// it was given for.
pub(crate) fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt.previous().last().is_some_and(|prev| {
            prev.scheme() == attempt.url().scheme()
                && prev.host_str() == attempt.url().host_str()
                && prev.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if !same || attempt.previous().len() > 5 {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// What happened to the sticky comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    Created(u64),
    Updated(u64),
}

/// The result of publishing to a forge: what was done, and at most one warning line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgeReport {
    pub comment: Option<CommentAction>,
    pub check_run_id: Option<u64>,
    /// One line for the log (`::warning` on GitHub); `None` when everything was published.
    pub warning: Option<String>,
}

/// A failed forge call, classified so permission problems get a precise hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// 401/403/404: the token cannot see or write this resource.
    Denied {
        status: u16,
        message: String,
    },
    Other(String),
}

impl CallError {
    fn describe(&self) -> String {
        match self {
            CallError::Denied { status, message } => format!("HTTP {status} {message}"),
            CallError::Other(m) => m.clone(),
        }
    }
}

/// Whether a comment body is our sticky one: it starts with the marker (a comment merely quoting
/// the marker belongs to someone else).
pub(crate) fn is_sticky(body: Option<&str>, marker: &str) -> bool {
    body.is_some_and(|b| b.trim_start().starts_with(marker))
}

/// Fold the failures of the individual calls into one warning line.
pub(crate) fn one_warning(failures: &[(&str, CallError)], permission_hint: &str) -> Option<String> {
    if failures.is_empty() {
        return None;
    }
    let what: Vec<String> = failures
        .iter()
        .map(|(what, e)| format!("{what}: {}", e.describe()))
        .collect();
    let denied = failures.iter().any(|(_, e)| matches!(e, CallError::Denied { .. }));
    let mut line = format!("asc-publish could not publish the report ({})", what.join("; "));
    if denied {
        line.push_str(". ");
        line.push_str(permission_hint);
    }
    // Server text is untrusted and could be long or multi-line; keep the log line a line.
    let line: String = line.replace(['\r', '\n'], " ").chars().take(1000).collect();
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticky_means_starts_with_the_marker() {
        let m = "<!-- asc-publish:a -->";
        assert!(is_sticky(Some("<!-- asc-publish:a -->\nbody"), m));
        assert!(is_sticky(Some("\n<!-- asc-publish:a -->"), m));
        assert!(!is_sticky(Some("> <!-- asc-publish:a -->"), m));
        assert!(!is_sticky(Some("<!-- asc-publish:ab -->"), "<!-- asc-publish:a -->"));
        assert!(!is_sticky(None, m));
    }

    #[test]
    fn token_is_redacted() {
        assert_eq!(format!("{:?}", Token::new("ghp_secret")), "Token(<redacted>)");
    }

    #[test]
    fn warnings_fold_into_one_line() {
        assert_eq!(one_warning(&[], "h"), None);
        let w = one_warning(
            &[
                (
                    "PR comment",
                    CallError::Denied {
                        status: 403,
                        message: "Resource\nnot accessible".into(),
                    },
                ),
                ("check run", CallError::Other("timeout".into())),
            ],
            "Grant it.",
        )
        .unwrap_or_default();
        assert_eq!(
            w,
            "asc-publish could not publish the report (PR comment: HTTP 403 Resource not accessible; \
             check run: timeout). Grant it."
        );
    }
}
