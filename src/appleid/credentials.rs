//! Resolves the Apple ID sign-in: the email from `--apple-id`, the app-specific password from the
//! environment variable named by `--password-env` (never from an argument), the optional provider.

use crate::appleid::AppleIdError;
use crate::appleid::AppleIdSettings;
use crate::asc::credentials::{Env, Secret};

/// Where the password is read from when `--password-env` is not given, in order.
pub const DEFAULT_PASSWORD_VARS: &[&str] = &[
    "ASC_APP_SPECIFIC_PASSWORD",
    "FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD",
];

/// Overrides the content-delivery host (tests, proxies).
pub const CONTENT_DELIVERY_URL_VAR: &str = "ASC_CONTENT_DELIVERY_URL";

/// An Apple ID sign-in. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct AppleIdCredentials {
    pub apple_id: String,
    pub password: Secret<String>,
    /// The variable the password came from: altool is given `@env:NAME`, never the value.
    pub password_var: String,
    pub provider_public_id: Option<String>,
}

impl AppleIdCredentials {
    /// `None` when no Apple ID was given.
    pub fn resolve(args: &AppleIdSettings, env: &Env) -> Result<Option<AppleIdCredentials>, AppleIdError> {
        let Some(apple_id) = args.apple_id.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if apple_id.is_empty() || !apple_id.contains('@') || apple_id.chars().any(char::is_whitespace) {
            return Err(AppleIdError::BadAppleId);
        }
        let names: Vec<String> = match &args.password_env {
            Some(n) => vec![n.trim().to_string()],
            None => DEFAULT_PASSWORD_VARS.iter().map(|s| s.to_string()).collect(),
        };
        if names
            .iter()
            .any(|n| n.is_empty() || n.contains('=') || n.contains('\0'))
        {
            return Err(AppleIdError::BadPasswordVar);
        }
        let (password_var, password) = names
            .iter()
            .find_map(|n| env.get(n).map(|v| (n.clone(), v.to_string())))
            .ok_or_else(|| AppleIdError::MissingPassword { names: names.clone() })?;
        let provider_public_id = args
            .provider_public_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        Ok(Some(AppleIdCredentials {
            apple_id: apple_id.to_string(),
            password: Secret::new(password),
            password_var,
            provider_public_id,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(email: &str, var: Option<&str>) -> AppleIdSettings {
        AppleIdSettings {
            apple_id: Some(email.into()),
            password_env: var.map(str::to_string),
            ..AppleIdSettings::default()
        }
    }

    #[test]
    fn the_password_comes_from_the_named_variable_and_never_shows_in_debug() {
        let env = Env::from_pairs([("MY_PW", "abcd-efgh-ijkl-mnop")]);
        let c = AppleIdCredentials::resolve(&args("dev@example.com", Some("MY_PW")), &env)
            .unwrap()
            .unwrap();
        assert_eq!(c.password.expose(), "abcd-efgh-ijkl-mnop");
        assert_eq!(c.password_var, "MY_PW");
        assert!(!format!("{c:?}").contains("abcd"));
    }

    #[test]
    fn defaults_fall_back_to_the_fastlane_name() {
        let env = Env::from_pairs([("FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD", "pw-1234")]);
        let c = AppleIdCredentials::resolve(&args("dev@example.com", None), &env)
            .unwrap()
            .unwrap();
        assert_eq!(c.password_var, "FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD");
    }

    #[test]
    fn the_password_is_read_from_the_injected_environment_only() {
        // PATH is set in any test process: an Apple ID run sees only the environment it is handed.
        let err = AppleIdCredentials::resolve(&args("dev@example.com", Some("PATH")), &Env::default()).unwrap_err();
        assert!(matches!(err, AppleIdError::MissingPassword { .. }), "{err}");
    }

    #[test]
    fn a_missing_password_names_the_variables() {
        let err = AppleIdCredentials::resolve(&args("dev@example.com", Some("NOPE_NOT_SET_X1")), &Env::default())
            .unwrap_err();
        assert!(err.to_string().contains("NOPE_NOT_SET_X1"));
        assert!(AppleIdCredentials::resolve(&args("not-an-email", None), &Env::default()).is_err());
        assert!(
            AppleIdCredentials::resolve(&AppleIdSettings::default(), &Env::default())
                .unwrap()
                .is_none()
        );
    }
}
