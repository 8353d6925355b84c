//! The TestFlight scene a simulator starts with (beta groups, testers, pre-existing builds, beta
//! review information) and the `[BUNDLE_ID:]…` syntax the CLI flags use for it.

use std::fmt;
use std::str::FromStr;

/// What TestFlight looks like at start. Everything belongs to the first configured app unless an
/// `app` (bundle id) is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFlightConfig {
    pub groups: Vec<GroupSeed>,
    pub testers: Vec<TesterSeed>,
    /// `autoNotifyEnabled` of every new build's buildBetaDetail.
    pub auto_notify: bool,
    /// Whether each app's betaAppReviewDetail contact fields and its en-US betaAppLocalization
    /// (feedbackEmail, description) are filled in.
    pub beta_review_details: bool,
    pub builds: Vec<BuildSeed>,
    /// ITMS codes (e.g. "90725", "91053") that processing attaches as `state.warnings` to builds
    /// it finds VALID.
    pub processing_warnings: Vec<String>,
}

impl Default for TestFlightConfig {
    fn default() -> Self {
        TestFlightConfig {
            groups: Vec::new(),
            testers: Vec::new(),
            auto_notify: false,
            beta_review_details: true,
            builds: Vec::new(),
            processing_warnings: Vec::new(),
        }
    }
}

/// The kind of a beta group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// Internal group whose builds are assigned explicitly.
    Internal,
    /// Internal group with `hasAccessToAllBuilds: true`: every VALID build is in it, and explicit
    /// assignment is refused with 422.
    InternalAll,
    External,
}

impl FromStr for GroupKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "internal" => Ok(GroupKind::Internal),
            "internal-all" => Ok(GroupKind::InternalAll),
            "external" => Ok(GroupKind::External),
            other => Err(format!(
                "unknown group kind '{other}': expected internal, internal-all or external"
            )),
        }
    }
}

/// `[BUNDLE_ID:]NAME=internal|internal-all|external`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSeed {
    pub app: Option<String>,
    pub name: String,
    pub kind: GroupKind,
}

/// `[BUNDLE_ID:]EMAIL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TesterSeed {
    pub app: Option<String>,
    pub email: String,
}

/// How a seeded build looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedState {
    /// Processed, VALID, export compliance answered (ready for testing).
    Valid,
    /// Processed, VALID, `usesNonExemptEncryption` still unanswered.
    NoCompliance,
    /// Processing failed: build INVALID, upload FAILED.
    Invalid,
    /// Still PROCESSING (stays so: it has no processing plan).
    Processing,
    /// VALID but expired.
    Expired,
}

impl FromStr for SeedState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "valid" => Ok(SeedState::Valid),
            "no-compliance" => Ok(SeedState::NoCompliance),
            "invalid" => Ok(SeedState::Invalid),
            "processing" => Ok(SeedState::Processing),
            "expired" => Ok(SeedState::Expired),
            other => Err(format!(
                "unknown build state '{other}': expected valid, no-compliance, invalid, processing or expired"
            )),
        }
    }
}

/// `[BUNDLE_ID:]VERSION=BUILD[:state][/PLATFORM]`, e.g. `1.0.0=42:invalid` or `1.0.0=42/TV_OS`
/// (the same version can exist once per platform, as separate trains).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSeed {
    pub app: Option<String>,
    /// CFBundleShortVersionString (the pre-release version train).
    pub short_version: String,
    /// CFBundleVersion (the build number).
    pub version: String,
    pub state: SeedState,
    /// Apple's platform of the train: IOS (default), MAC_OS, TV_OS or VISION_OS.
    pub platform: String,
}

/// Splits a leading `BUNDLE_ID:` off: recognised when the text before the first ':' contains a
/// '.' and neither '=' nor '@' (so `1.0=4:invalid`, `a.b@x.io` and `Beta: QA=external` keep
/// their colons).
fn split_app(s: &str) -> (Option<String>, &str) {
    match s.split_once(':') {
        Some((head, rest)) if head.contains('.') && !head.contains('=') && !head.contains('@') && !head.is_empty() => {
            (Some(head.trim().to_owned()), rest)
        }
        _ => (None, s),
    }
}

impl FromStr for GroupSeed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (app, rest) = split_app(s);
        let Some((name, kind)) = rest.rsplit_once('=') else {
            return Err(format!("'{s}' is not [BUNDLE_ID:]NAME=internal|internal-all|external"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("'{s}': the group name is empty"));
        }
        Ok(GroupSeed {
            app,
            name: name.to_owned(),
            kind: kind.trim().parse()?,
        })
    }
}

impl FromStr for TesterSeed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (app, email) = split_app(s);
        let email = email.trim();
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && domain.contains('.')
                    && !email.contains(char::is_whitespace)
                    && !email.contains(':') =>
            {
                Ok(TesterSeed {
                    app,
                    email: email.to_owned(),
                })
            }
            _ => Err(format!("'{s}' is not [BUNDLE_ID:]EMAIL")),
        }
    }
}

impl FromStr for BuildSeed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (app, rest) = split_app(s);
        let bad = || {
            format!(
                "'{s}' is not [BUNDLE_ID:]VERSION=BUILD[:state][/PLATFORM], e.g. 1.0.0=42 or 1.0.0=43:invalid/TV_OS"
            )
        };
        let (rest, platform) = match rest.rsplit_once('/') {
            Some((r, p)) if ["IOS", "MAC_OS", "TV_OS", "VISION_OS"].contains(&p.trim()) => (r, p.trim()),
            Some(_) => return Err(bad()),
            None => (rest, "IOS"),
        };
        let (short, tail) = rest.split_once('=').ok_or_else(bad)?;
        let (version, state) = match tail.split_once(':') {
            Some((v, st)) => (v, st.trim().parse()?),
            None => (tail, SeedState::Valid),
        };
        let numeric = |v: &str| {
            !v.is_empty()
                && v.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        let (short, version) = (short.trim(), version.trim());
        if !numeric(short) || !numeric(version) {
            return Err(bad());
        }
        Ok(BuildSeed {
            app,
            short_version: short.to_owned(),
            version: version.to_owned(),
            state,
            platform: platform.to_owned(),
        })
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupKind::Internal => "internal",
            GroupKind::InternalAll => "internal-all",
            GroupKind::External => "external",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_parse_with_and_without_an_app() {
        let g: GroupSeed = "Beta: QA=external".parse().unwrap();
        assert_eq!(
            (g.app, g.name.as_str(), g.kind),
            (None, "Beta: QA", GroupKind::External)
        );
        let g: GroupSeed = "com.x.y:Team=internal-all".parse().unwrap();
        assert_eq!((g.app.as_deref(), g.kind), (Some("com.x.y"), GroupKind::InternalAll));
        assert!("Team=public".parse::<GroupSeed>().is_err());
        assert!("=internal".parse::<GroupSeed>().is_err());
    }

    #[test]
    fn testers_and_builds_parse() {
        let t: TesterSeed = "a.b@example.com".parse().unwrap();
        assert_eq!(t.app, None);
        let t: TesterSeed = "com.x.y:qa@example.com".parse().unwrap();
        assert_eq!(t.app.as_deref(), Some("com.x.y"));
        assert!("nobody".parse::<TesterSeed>().is_err());
        let b: BuildSeed = "1.0.0=42:invalid".parse().unwrap();
        assert_eq!((b.app, b.version.as_str(), b.state), (None, "42", SeedState::Invalid));
        let b: BuildSeed = "com.x.y:2.0=7".parse().unwrap();
        assert_eq!(
            (b.app.as_deref(), b.short_version.as_str(), b.state),
            (Some("com.x.y"), "2.0", SeedState::Valid)
        );
        let b: BuildSeed = "2.0=7:invalid/TV_OS".parse().unwrap();
        assert_eq!((b.platform.as_str(), b.state), ("TV_OS", SeedState::Invalid));
        assert_eq!("2.0=7".parse::<BuildSeed>().unwrap().platform, "IOS");
        assert!("2.0=7/ANDROID".parse::<BuildSeed>().is_err());
        assert!("1.0=x".parse::<BuildSeed>().is_err());
        assert!("1.0=4:weird".parse::<BuildSeed>().is_err());
    }
}
