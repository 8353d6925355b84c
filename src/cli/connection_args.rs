//! The App Store Connect connection flags every networked command takes, as the pipeline's
//! connection settings.

use std::path::PathBuf;

use clap::Args;

use crate::asc::clock::SharedClock;
use crate::asc::credentials::{Env, Secret};
use crate::error::Error;
use crate::publish::connection::{Connection, ConnectionSettings};

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

impl ConnectionArgs {
    /// The flags as the pipeline's connection settings.
    pub fn settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            api_url: self.api_url.clone(),
            key_id: self.key_id.clone(),
            issuer_id: self.issuer_id.clone(),
            private_key: self.private_key.clone(),
            tls_root_ca: self.tls_root_ca.clone(),
            verbose: self.verbose > 0,
        }
    }
}

/// The clients for these flags (see [`crate::publish::connection::connect`]).
pub fn connect(c: &ConnectionArgs, env: &Env, clock: SharedClock) -> Result<Connection, Error> {
    crate::publish::connection::connect(
        &c.settings(),
        env,
        clock,
        &crate::report::terminal::events(false, env),
        &|w| crate::ci::endpoints::print_warnings_in(env, w),
    )
}
