//! The one build lookup by version and build number: `distribute --version/--build-number` and
//! the processing wait (an upload whose record does not link its build yet) both find it here.

use crate::asc::AscClient;
use crate::error::Error;
use crate::publish::preflight::{BuildQuery, builds_of};

/// Which build to find.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub app_id: &'a str,
    /// CFBundleShortVersionString.
    pub version: &'a str,
    /// CFBundleVersion.
    pub number: &'a str,
    /// Apple's platform (IOS, TV_OS, …); without it, a number on several platforms is ambiguous.
    pub platform: Option<&'a str>,
    /// Our upload: a build Apple links to another upload is someone else's (the same number
    /// re-sent elsewhere) and is passed over.
    pub upload_id: Option<&'a str>,
}

/// The build found, with the platform of its train (else the one asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub build_id: String,
    pub platform: Option<String>,
}

/// The build for (version, number[, platform]) of an app in any processing state; `None` when
/// there is none yet. One number on several platforms without `platform` is a usage error.
pub async fn find_build(client: &AscClient, w: Wanted<'_>) -> Result<Option<Found>, Error> {
    let found = builds_of(
        client,
        BuildQuery {
            app_id: w.app_id,
            short_version: w.version,
            platform: w.platform,
            number: Some(w.number),
            unexpired_only: false,
        },
    )
    .await?;
    let found: Vec<_> = found
        .into_iter()
        .filter(|t| {
            t.build
                .upload_id
                .as_deref()
                .is_none_or(|u| w.upload_id.is_none_or(|mine| u == mine))
        })
        .collect();
    let mut platforms: Vec<&str> = found.iter().filter_map(|t| t.platform.as_deref()).collect();
    platforms.sort_unstable();
    platforms.dedup();
    if found.len() > 1 && platforms.len() > 1 {
        return Err(Error::usage(format!(
            "build {} ({}) exists on several platforms ({})",
            w.version,
            w.number,
            platforms.join(", ")
        ))
        .with_hint("pass --platform to say which one"));
    }
    Ok(found.into_iter().next().map(|t| Found {
        build_id: t.build.id,
        platform: t.platform.or(w.platform.map(str::to_string)),
    }))
}
