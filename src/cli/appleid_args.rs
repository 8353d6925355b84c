//! The `--apple-id` family of `upload` flags: sign in with an Apple ID and an app-specific
//! password instead of an API key.

use clap::Args;

use crate::appleid::BackendChoice;

#[derive(Debug, Clone, Default, Args)]
pub struct AppleIdArgs {
    /// Upload with this Apple ID (an email) and an app-specific password instead of an API key.
    /// Only uploads: TestFlight distribution needs an API key.
    #[arg(long, value_name = "EMAIL")]
    pub apple_id: Option<String>,
    /// Name of the environment variable holding the app-specific password (never the password
    /// itself) [default: ASC_APP_SPECIFIC_PASSWORD, then FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD].
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Provider (team) public id, for Apple IDs that belong to several teams.
    #[arg(long, value_name = "ID")]
    pub provider_public_id: Option<String>,
    /// How to upload with an Apple ID: Xcode's altool, our own client of Apple's content-delivery
    /// protocol, or altool when `xcrun altool` exists and native elsewhere.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub apple_id_backend: BackendChoice,
    /// Content-delivery base URL [env: ASC_CONTENT_DELIVERY_URL] (plain http only to loopback).
    #[arg(long, value_name = "URL")]
    pub content_delivery_url: Option<String>,
}
