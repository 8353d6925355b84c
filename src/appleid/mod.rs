//! Upload with an Apple ID and an app-specific password instead of an API key (issue #6).
//!
//! Two backends reach the same outcome and exit codes as the API-key path: they fill the same
//! [`Uploaded`] (`crate::publish::uploaded`), which the edge puts on the outcome:
//! - [`altool`]: Xcode's `xcrun altool --upload-package`, with the password passed as an
//!   environment reference (`-p @env:VAR`), its JSON output parsed into typed errors;
//! - [`native`]: our own client of Apple's content-delivery protocol (JSON-RPC sign-in, then the
//!   provider REST resources), reusing the part-upload engine. That protocol is undocumented
//!   and may change; see docs/apple-id.md.
//!
//! An Apple ID sign-in can only upload. Everything that needs the App Store Connect API
//! (TestFlight groups, What to Test, export compliance, notifications, beta review) is refused up
//! front by [`refuse_api_key_only_flags`].

pub mod altool;
pub mod asset_description;
pub mod credentials;
pub mod native;
pub mod provider;
pub mod session;
pub mod settings;

use crate::asc::clock::SharedClock;
use crate::asc::credentials::Env;
use crate::error::{Error, ErrorKind};
use crate::ipa::model::Inspection;
use crate::publish::UploadRequest;
use crate::publish::endpoint_warnings::{self as endpoints, ShowWarnings};
use crate::publish::events::{Event, Events};
use crate::publish::progress::ProgressMode;

pub use crate::publish::Uploaded;
pub use credentials::AppleIdCredentials;
pub use settings::{AppleIdSettings, UploadSettings};

/// `--apple-id-backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BackendChoice {
    /// altool where `xcrun altool` exists, native elsewhere.
    #[default]
    Auto,
    /// Xcode's `xcrun altool` (macOS).
    Altool,
    /// Our own client of Apple's content-delivery protocol (any OS).
    Native,
}

/// The backend actually used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Altool,
    Native,
}

impl BackendChoice {
    /// Resolves `auto` by probing for `xcrun altool` on `env`'s PATH.
    pub fn resolve(self, env: &Env) -> Backend {
        match self {
            BackendChoice::Altool => Backend::Altool,
            BackendChoice::Native => Backend::Native,
            BackendChoice::Auto if altool::available(env) => Backend::Altool,
            BackendChoice::Auto => Backend::Native,
        }
    }
}

/// Failures specific to the Apple ID sign-in. Messages never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum AppleIdError {
    #[error("--apple-id must be the email address of the Apple ID")]
    BadAppleId,
    #[error("--password-env must name an environment variable")]
    BadPasswordVar,
    #[error("no app-specific password: none of {} is set", names.join(", "))]
    MissingPassword { names: Vec<String> },
    #[error("{} cannot be used with --apple-id: an Apple ID sign-in can only upload", flags.join(", "))]
    ApiKeyOnly { flags: Vec<String> },
    #[error("Apple refused the sign-in: {0}")]
    SignIn(String),
    #[error("no app record for bundle id {bundle_id} is visible to this Apple ID: {detail}")]
    AppNotFound { bundle_id: String, detail: String },
    #[error("{0}")]
    BadUrl(String),
    #[error("{0}")]
    Ipa(String),
    #[error("the native Apple ID backend uploads iOS, tvOS and visionOS IPAs only, not a {platform} package")]
    NativePlatform { platform: String },
    #[error("the content-delivery service answered unexpectedly: {0}")]
    Protocol(String),
    #[error("the content-delivery service answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("network error talking to the content-delivery service: {0}")]
    Network(String),
    #[error("`xcrun altool` is not available: {0}")]
    NoAltool(String),
    #[error("altool failed: {0}")]
    Altool(String),
}

impl From<AppleIdError> for Error {
    fn from(e: AppleIdError) -> Self {
        let (kind, hint): (ErrorKind, &str) = match &e {
            AppleIdError::BadAppleId => (ErrorKind::Usage, "e.g. --apple-id dev@example.com"),
            AppleIdError::BadPasswordVar => (ErrorKind::Usage, "e.g. --password-env ASC_APP_SPECIFIC_PASSWORD"),
            AppleIdError::MissingPassword { .. } => (
                ErrorKind::Auth,
                "create an app-specific password at https://account.apple.com (Sign-In and Security → App-Specific \
                 Passwords) and export it in ASC_APP_SPECIFIC_PASSWORD, or name your variable with --password-env",
            ),
            AppleIdError::ApiKeyOnly { .. } => (
                ErrorKind::Usage,
                "drop these flags, or upload with an App Store Connect API key (--key-id/--issuer-id/--private-key), \
                 which can also manage TestFlight",
            ),
            AppleIdError::SignIn(_) => (
                ErrorKind::Auth,
                "use an app-specific password (not the account password) generated for this Apple ID, and check the \
                 email; an API key avoids this sign-in altogether",
            ),
            AppleIdError::AppNotFound { .. } => (
                ErrorKind::Conflict,
                "create the app record in App Store Connect first, check the bundle id, or pass \
                 --provider-public-id when the Apple ID belongs to several teams",
            ),
            AppleIdError::BadUrl(_) => (ErrorKind::Usage, "pass an https URL with --content-delivery-url"),
            AppleIdError::Ipa(_) => (
                ErrorKind::Usage,
                "re-export the IPA from Xcode for App Store distribution",
            ),
            AppleIdError::NativePlatform { .. } => (
                ErrorKind::Usage,
                "upload macOS packages with an App Store Connect API key (--key-id/--issuer-id/--private-key), or \
                 with --apple-id-backend altool on macOS",
            ),
            AppleIdError::Protocol(_) => (
                ErrorKind::Transient,
                "Apple's content-delivery protocol is undocumented and may have changed; try --apple-id-backend altool \
                 on macOS, or an API key",
            ),
            AppleIdError::Http { status, .. } if *status == 404 => {
                (ErrorKind::Conflict, "check the bundle id and --provider-public-id")
            }
            AppleIdError::Http { .. } | AppleIdError::Network(_) => (ErrorKind::Transient, "re-run the upload"),
            AppleIdError::NoAltool(_) => (
                ErrorKind::Usage,
                "install Xcode (altool ships with it) or use --apple-id-backend native",
            ),
            AppleIdError::Altool(_) => (
                ErrorKind::Transient,
                "re-run the upload; run with -v to see altool's output",
            ),
        };
        Error::new(kind, e.to_string()).with_hint(hint).with_source(e)
    }
}

/// Flags an Apple ID sign-in cannot honour (TestFlight management and export compliance need an API
/// key), refused before anything else happens rather than discovered halfway.
pub fn refuse_api_key_only_flags(settings: &UploadSettings) -> Result<(), Error> {
    if settings.api_key_only_flags.is_empty() {
        Ok(())
    } else {
        let flags = settings.api_key_only_flags.iter().map(|f| f.to_string()).collect();
        Err(AppleIdError::ApiKeyOnly { flags }.into())
    }
}

/// An Apple ID upload that passed its checks: the sign-in, where it goes, and the backend.
#[derive(Debug)]
pub struct Prepared {
    creds: AppleIdCredentials,
    base: url::Url,
    backend: Backend,
    /// `xcrun` on the environment's PATH, for the altool backend.
    xcrun: Option<std::path::PathBuf>,
    /// Said before anything else about the upload (an API key given too is ignored).
    pub warnings: Vec<String>,
}

/// The checks before the IPA is read: flags and credentials first, then where the password goes
/// (warned about through `show` when that is not Apple), and the backend. Reads only `env`.
pub fn prepare(args: &UploadSettings, env: &Env, events: &Events, show: ShowWarnings<'_>) -> Result<Prepared, Error> {
    refuse_api_key_only_flags(args)?;
    let creds = AppleIdCredentials::resolve(&args.sign_in, env)?
        .ok_or_else(|| Error::usage("--apple-id is required for an Apple ID upload"))?;
    let (base_s, base_from) = match (
        &args.sign_in.content_delivery_url,
        env.get(credentials::CONTENT_DELIVERY_URL_VAR),
    ) {
        (Some(u), _) => (u.clone(), "--content-delivery-url"),
        (None, Some(u)) => (u.to_string(), credentials::CONTENT_DELIVERY_URL_VAR),
        (None, None) => (native::DEFAULT_CONTENT_DELIVERY_URL.to_string(), "the default"),
    };
    let base = native::parse_base(&base_s)?;
    let endpoint_warnings = endpoints::endpoint_warning(&base, base_from, "the Apple ID and its app-specific password")
        .into_iter()
        .chain(args.tls_root_ca.as_deref().map(|ca| {
            let from = endpoints::source_of_in(env, "ASC_TLS_ROOT_CA", "--tls-root-ca", ca);
            endpoints::root_ca_warning(ca, from, "for HTTPS to Apple (the password travels over it)")
        }))
        .collect::<Vec<_>>();
    if !endpoint_warnings.is_empty() {
        show(&endpoint_warnings);
    }
    let backend = args.sign_in.backend.resolve(env);
    let mut warnings = Vec::new();
    if args.api_key_given {
        warnings.push("--key-id/--issuer-id/--private-key are ignored: --apple-id signs in with the Apple ID".into());
    }
    if args.verbose > 0 {
        events.send(Event::Detail(format!(
            "  signing in with Apple ID {} (password from ${}), {} backend",
            crate::asc::error::sanitize(&creds.apple_id),
            creds.password_var,
            if backend == Backend::Altool { "altool" } else { "native" }
        )));
    }
    Ok(Prepared {
        creds,
        base,
        backend,
        xcrun: altool::find_xcrun(env),
        warnings,
    })
}

/// The upload itself, once the IPA is read (`req`, `inspected`: the same inspection and validation
/// as the API-key path). `up` is filled in as far as the run got, also on error.
pub async fn upload(
    args: &UploadSettings,
    prepared: &Prepared,
    req: &UploadRequest,
    inspected: &Inspection,
    clock: SharedClock,
    events: &Events,
    up: &mut Uploaded,
) -> Result<(), Error> {
    let Prepared { creds, base, .. } = prepared;
    match prepared.backend {
        Backend::Altool => altool::upload(args, creds, req, base, prepared.xcrun.as_deref(), events, up).await,
        Backend::Native => {
            // Its asset description is the iOS one (platform-id 1, embedded.mobileprovision); what
            // Apple expects for a macOS package over this protocol is not known here.
            if req.platform == "MAC_OS" {
                return Err(AppleIdError::NativePlatform {
                    platform: "macOS".into(),
                }
                .into());
            }
            let description =
                asset_description::DescriptionInput::from_ipa(&req.ipa_path, inspected, &req.file_name, req.file_size)?;
            let http =
                crate::asc::client::build_http(Some(std::time::Duration::from_secs(120)), args.tls_root_ca.as_deref())?;
            let parts_http = crate::asc::client::build_parts_http(
                Some(crate::publish::parts::PART_TIMEOUT),
                args.tls_root_ca.as_deref(),
            )?;
            let opts = native::NativeOptions {
                base: base.clone(),
                concurrency: args.concurrency,
                wait: args.wait,
                timeout: args.timeout,
                poll_interval: args.poll_interval,
                progress: ProgressMode::detect(),
                verbose: args.verbose > 0,
                events: events.clone(),
            };
            native::upload(&http, &parts_http, creds, req, &description, &opts, clock, up).await
        }
    }
}
