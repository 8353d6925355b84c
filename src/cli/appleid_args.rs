//! The `--apple-id` family of `upload` flags: sign in with an Apple ID and an app-specific
//! password instead of an API key.

use clap::Args;

use crate::appleid::{AppleIdSettings, BackendChoice, UploadSettings};
use crate::cli::upload::UploadArgs;

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

impl AppleIdArgs {
    pub fn settings(&self) -> AppleIdSettings {
        AppleIdSettings {
            apple_id: self.apple_id.clone(),
            password_env: self.password_env.clone(),
            provider_public_id: self.provider_public_id.clone(),
            backend: self.apple_id_backend,
            content_delivery_url: self.content_delivery_url.clone(),
        }
    }
}

/// The Apple ID upload `upload --apple-id` asks for.
pub fn upload_settings(args: &UploadArgs) -> UploadSettings {
    let c = &args.connection;
    UploadSettings {
        sign_in: args.apple_id.settings(),
        app_id: args.app_id.clone(),
        concurrency: usize::from(args.concurrency),
        wait: !args.no_wait,
        timeout: args.timeout,
        poll_interval: args.poll_interval,
        tls_root_ca: c.tls_root_ca.clone(),
        verbose: c.verbose,
        api_key_given: c.key_id.is_some() || c.issuer_id.is_some() || c.private_key.is_some(),
        api_key_only_flags: api_key_only_flags(args),
    }
}

/// The flags given that only an API key can honour (TestFlight management, export compliance, the
/// dry run's server-side checks), in the order the refusal names them.
fn api_key_only_flags(args: &UploadArgs) -> Vec<&'static str> {
    let d = &args.distribution;
    [
        (
            args.uses_non_exempt_encryption.is_some(),
            "--uses-non-exempt-encryption",
        ),
        (!d.groups.is_empty(), "--groups"),
        (d.what_to_test.is_some(), "--what-to-test"),
        (d.what_to_test_file.is_some(), "--what-to-test-file"),
        (d.what_to_test_json.is_some(), "--what-to-test-json"),
        (d.notify, "--notify"),
        (!d.testers.is_empty(), "--testers"),
        (d.submit_beta_review, "--submit-beta-review"),
        (d.expire_previous, "--expire-previous"),
        (args.dry_run, "--dry-run"),
    ]
    .into_iter()
    .filter_map(|(given, flag)| given.then_some(flag))
    .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Upload {
        #[command(flatten)]
        args: UploadArgs,
    }

    fn settings(flags: &[&str]) -> UploadSettings {
        let argv = ["asc-publish", "app.ipa", "--apple-id", "dev@example.com"];
        upload_settings(&Upload::parse_from(argv.iter().chain(flags)).args)
    }

    #[test]
    fn every_api_key_only_flag_given_is_named_in_order() {
        assert!(settings(&[]).api_key_only_flags.is_empty());
        // The three What to Test sources exclude each other, so each gets its own run.
        for what_to_test in [
            "--what-to-test=New",
            "--what-to-test-file=w.txt",
            "--what-to-test-json=w.json",
        ] {
            let given = [
                "--uses-non-exempt-encryption=false",
                "--groups=QA",
                what_to_test,
                "--notify",
                "--testers=a@example.com",
                "--submit-beta-review",
                "--expire-previous",
                "--dry-run",
            ];
            let names: Vec<&str> = given.iter().map(|f| f.split('=').next().unwrap_or(f)).collect();
            // Given in reverse, still reported in the documented order.
            let reversed: Vec<&str> = given.iter().rev().copied().collect();
            assert_eq!(settings(&reversed).api_key_only_flags, names);
        }
    }

    #[test]
    fn the_sign_in_and_upload_options_carry_over() {
        let s = settings(&[
            "--password-env=MY_PW",
            "--apple-id-backend=native",
            "--no-wait",
            "--concurrency=3",
            "--key-id=K",
            "--app-id=123",
        ]);
        assert_eq!(s.sign_in.apple_id.as_deref(), Some("dev@example.com"));
        assert_eq!(s.sign_in.password_env.as_deref(), Some("MY_PW"));
        assert_eq!(s.sign_in.backend, BackendChoice::Native);
        assert_eq!(s.app_id.as_deref(), Some("123"));
        assert_eq!(s.concurrency, 3);
        assert!(!s.wait);
        assert!(s.api_key_given);
        assert!(settings(&[]).wait);
        assert!(!settings(&[]).api_key_given);
    }
}
