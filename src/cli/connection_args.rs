//! The App Store Connect connection flags every networked command takes, and the one place they
//! become clients: credentials from flags or the environment, the API URL, TLS roots.

use std::path::PathBuf;

use clap::Args;

use crate::asc::client::{ClientConfig, DEFAULT_API_URL, build_http, build_parts_http};
use crate::asc::clock::SharedClock;
use crate::asc::credentials::{CredentialFlags, Credentials, Env, Secret, env_names};
use crate::asc::{AscClient, TokenSource};
use crate::ci::endpoints;
use crate::error::Error;
use crate::publish::parts::PART_TIMEOUT;

#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// App Store Connect API base URL [env: ASC_API_URL] (plain http only to loopback).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// API key id [env: ASC_KEY_ID, APP_STORE_CONNECT_API_KEY_KEY_ID, APP_STORE_CONNECT_KEY_IDENTIFIER].
    #[arg(long, value_name = "ID")]
    pub key_id: Option<String>,
    /// Issuer id; omit for an individual key [env: ASC_ISSUER_ID, APP_STORE_CONNECT_API_KEY_ISSUER_ID,
    /// APP_STORE_CONNECT_ISSUER_ID].
    #[arg(long, value_name = "ID")]
    pub issuer_id: Option<String>,
    /// The .p8 key: a path, its PEM text, or base64 of it [env: ASC_PRIVATE_KEY, ASC_PRIVATE_KEY_B64,
    /// ASC_PRIVATE_KEY_PATH, APP_STORE_CONNECT_API_KEY_KEY, APP_STORE_CONNECT_PRIVATE_KEY].
    #[arg(long, value_name = "KEY", allow_hyphen_values = true, value_parser = parse_secret)]
    pub private_key: Option<Secret<String>>,
    /// Extra CA certificate (PEM) trusted for HTTPS to App Store Connect and its storage, e.g.
    /// behind a TLS-inspecting corporate proxy.
    #[arg(long, value_name = "FILE", env = "ASC_TLS_ROOT_CA")]
    pub tls_root_ca: Option<PathBuf>,
    /// Verbose: each request, its status and the remaining rate-limit budget.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Keeps the key out of `Debug` from the moment it is parsed.
fn parse_secret(s: &str) -> Result<Secret<String>, String> {
    Ok(Secret::new(s.to_string()))
}

/// Resolves credentials and the API URL into a client, and builds the separate client for the
/// pre-signed part uploads (which never sees the token).
pub fn connect(c: &ConnectionArgs, env: &Env, clock: SharedClock) -> Result<(AscClient, reqwest::Client), Error> {
    let flags = CredentialFlags {
        key_id: c.key_id.clone(),
        issuer_id: c.issuer_id.clone(),
        private_key: c.private_key.clone(),
    };
    let credentials = Credentials::resolve(&flags, env)?;
    if c.verbose > 0 {
        let kind = if credentials.issuer_id.is_some() {
            "team"
        } else {
            "individual"
        };
        crate::output::eprintln_redacted!(
            "  using {kind} API key {} (private key from {})",
            crate::asc::error::sanitize(&credentials.key_id),
            credentials.key_source
        );
    }
    let (api_url, api_url_from) = match (&c.api_url, env.get(env_names::ASC_API_URL)) {
        (Some(u), _) => (u.clone(), "--api-url"),
        (None, Some(u)) => (u.to_string(), env_names::ASC_API_URL),
        (None, None) => (DEFAULT_API_URL.to_string(), "the default"),
    };
    if c.verbose > 0 && api_url != DEFAULT_API_URL {
        crate::output::eprintln_redacted!("  App Store Connect API at {}", crate::asc::error::sanitize(&api_url));
    }
    let config = ClientConfig {
        api_url,
        verbose: c.verbose > 0,
        ..ClientConfig::default()
    };
    let mut warnings = Vec::new();
    if let Ok(url) = crate::asc::client::parse_api_url(&config.api_url) {
        warnings.extend(endpoints::endpoint_warning(
            &url,
            api_url_from,
            "the App Store Connect API token",
        ));
    }
    if let Some(ca) = &c.tls_root_ca {
        let from = endpoints::source_of("ASC_TLS_ROOT_CA", "--tls-root-ca", ca);
        warnings.push(endpoints::root_ca_warning(
            ca,
            from,
            "for HTTPS to App Store Connect (the API token travels over it)",
        ));
    }
    endpoints::print_warnings(&warnings);
    let http = build_http(Some(config.request_timeout), c.tls_root_ca.as_deref())?;
    let parts_http = build_parts_http(Some(PART_TIMEOUT), c.tls_root_ca.as_deref())?;
    let client = AscClient::new(&config, TokenSource::new(credentials, clock.clone()), clock, http)?;
    Ok((client, parts_http))
}
