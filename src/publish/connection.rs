//! The one place connection settings become clients: credentials from the settings or the
//! environment, the API URL, TLS roots; the API client and the separate client for the
//! pre-signed part uploads (which never sees the token).

use std::path::PathBuf;

use crate::asc::client::{ClientConfig, DEFAULT_API_URL, build_http, build_parts_http};
use crate::asc::clock::SharedClock;
use crate::asc::credentials::{CredentialFlags, Credentials, Env, Secret, env_names};
use crate::asc::{AscClient, TokenSource};
use crate::error::Error;
use crate::publish::endpoint_warnings::{self as endpoints, ShowWarnings};
use crate::publish::events::{Event, Events};
use crate::publish::parts::PART_TIMEOUT;

/// What the user said about the connection (flags); the environment fills in the rest.
#[derive(Debug, Clone, Default)]
pub struct ConnectionSettings {
    pub api_url: Option<String>,
    pub key_id: Option<String>,
    pub issuer_id: Option<String>,
    pub private_key: Option<Secret<String>>,
    pub tls_root_ca: Option<PathBuf>,
    /// Each request, its status and the rate-limit budget on stderr.
    pub verbose: bool,
}

/// The API client and the client for the pre-signed part uploads.
#[derive(Debug, Clone)]
pub struct Connection {
    pub api: AscClient,
    pub parts: reqwest::Client,
}

/// Resolves credentials and the API URL into the two clients.
/// With `verbose`, which key and API URL are used go to `events`; a token about to leave Apple's
/// hosts (or go over a custom root) is warned about through `show`, before any client exists.
pub fn connect(
    c: &ConnectionSettings,
    env: &Env,
    clock: SharedClock,
    events: &Events,
    show: ShowWarnings<'_>,
) -> Result<Connection, Error> {
    let flags = CredentialFlags {
        key_id: c.key_id.clone(),
        issuer_id: c.issuer_id.clone(),
        private_key: c.private_key.clone(),
    };
    let credentials = Credentials::resolve(&flags, env)?;
    if c.verbose {
        let kind = if credentials.issuer_id.is_some() {
            "team"
        } else {
            "individual"
        };
        events.send(Event::Detail(format!(
            "  using {kind} API key {} (private key from {})",
            crate::asc::error::sanitize(&credentials.key_id),
            credentials.key_source
        )));
    }
    let (api_url, api_url_from) = match (&c.api_url, env.get(env_names::ASC_API_URL)) {
        (Some(u), _) => (u.clone(), "--api-url"),
        (None, Some(u)) => (u.to_string(), env_names::ASC_API_URL),
        (None, None) => (DEFAULT_API_URL.to_string(), "the default"),
    };
    if c.verbose && api_url != DEFAULT_API_URL {
        events.send(Event::Detail(format!(
            "  App Store Connect API at {}",
            crate::asc::error::sanitize(&api_url)
        )));
    }
    let config = ClientConfig {
        api_url,
        verbose: c.verbose,
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
        let from = endpoints::source_of_in(env, "ASC_TLS_ROOT_CA", "--tls-root-ca", ca);
        warnings.push(endpoints::root_ca_warning(
            ca,
            from,
            "for HTTPS to App Store Connect (the API token travels over it)",
        ));
    }
    if !warnings.is_empty() {
        show(&warnings);
    }
    let http = build_http(Some(config.request_timeout), c.tls_root_ca.as_deref())?;
    let parts = build_parts_http(Some(PART_TIMEOUT), c.tls_root_ca.as_deref())?;
    let api = AscClient::new(&config, TokenSource::new(credentials, clock.clone()), clock, http)?;
    Ok(Connection { api, parts })
}
