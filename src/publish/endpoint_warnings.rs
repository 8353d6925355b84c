//! Where credentials go. `ASC_API_URL`, `ASC_CONTENT_DELIVERY_URL`, `ASC_TLS_ROOT_CA` and
//! `ASC_EXTRA_ROOT_CA` are honoured from the job environment, which an earlier step can write
//! (`$GITHUB_ENV`, a build running pull request code). So whenever the JWT or the Apple ID
//! password is about to go to a host that is not Apple's, or over TLS trusting a custom root, a
//! warning names the host (or file) and the flag or variable that set it. Here the warnings are
//! decided and worded; the edge shows them as its CI system wants ([`ShowWarnings`]).

use std::path::Path;

use url::Url;

use crate::env::Env;

/// How the edge shows endpoint warnings (on GitHub Actions as annotations, `ci::endpoints`).
pub type ShowWarnings<'a> = &'a dyn Fn(&[String]);

/// Whether `host` is Apple's: `apple.com` or one of its subdomains
/// (`api.appstoreconnect.apple.com`, `contentdelivery.itunes.apple.com`, …).
pub fn is_apple_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "apple.com" || host.ends_with(".apple.com")
}

/// The warning for sending `what` (e.g. "the App Store Connect token") to `url`, set by `set_by`;
/// `None` for Apple's hosts over HTTPS.
pub fn endpoint_warning(url: &Url, set_by: &str, what: &str) -> Option<String> {
    let host = url.host_str().unwrap_or_default();
    if url.scheme() == "https" && is_apple_host(host) {
        return None;
    }
    let shown = crate::output::sanitize(&format!(
        "{host}{}",
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ));
    Some(format!(
        "asc-publish sends {what} to {shown}, which is not an Apple host (set by {set_by}); \
         unset {set_by} unless this is the simulator or a proxy you trust"
    ))
}

/// The warning for trusting the root certificate(s) in `path`, set by `set_by`, for `purpose`.
pub fn root_ca_warning(path: &Path, set_by: &str, purpose: &str) -> String {
    format!(
        "asc-publish trusts the custom root certificate {} (set by {set_by}) {purpose}; \
         unset {set_by} unless you put it there",
        crate::output::sanitize(&path.display().to_string())
    )
}

/// `flag` when the value came from the command line, else `var` (clap fills both from either).
pub fn source_of_in(env: &Env, var: &'static str, flag: &'static str, value: &Path) -> &'static str {
    match env.get(var) {
        Some(v) if Path::new(v) == value => var,
        _ => flag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_apple_hosts_over_https_are_quiet() {
        for h in [
            "api.appstoreconnect.apple.com",
            "contentdelivery.itunes.apple.com",
            "APPLE.COM.",
        ] {
            assert!(is_apple_host(h), "{h}");
        }
        for h in ["evilapple.com", "apple.com.evil.example", "127.0.0.1", "localhost", ""] {
            assert!(!is_apple_host(h), "{h}");
        }
        let url = |s: &str| Url::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            endpoint_warning(&url("https://api.appstoreconnect.apple.com/"), "X", "t"),
            None
        );
        let w = endpoint_warning(&url("http://127.0.0.1:8443/"), "ASC_API_URL", "the token").unwrap_or_default();
        assert!(w.contains("127.0.0.1:8443") && w.contains("ASC_API_URL"), "{w}");
        assert!(endpoint_warning(&url("http://api.appstoreconnect.apple.com/"), "X", "t").is_some());
    }
}
