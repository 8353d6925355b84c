//! Rules: the dated floors Apple raises over time — the SDK an app must be built with (ITMS-90725)
//! and the lowest MinimumOSVersion accepted (ITMS-90362, ITMS-90068) — kept here as data in one
//! place, so that updating them each spring is a one-line change.

use std::time::SystemTime;

use time::macros::date;
use time::{Date, OffsetDateTime};

use crate::ipa::{Bundle, Platform};
use crate::validate::Finding;
use crate::validate::context::RuleContext;

/// One SDK requirement: from `from` on, apps for `platform` must be built with at least SDK
/// `major` (Xcode `xcode`). Sources: Apple's "Upcoming requirements" news posts, quoted verbatim in
/// the ITMS-90725 e-mails (ipa-checks.md §1.2): iOS 17 SDK from 2024-04-29 (Xcode 15), iOS 18
/// from 2025-04-24 (Xcode 16), iOS 26 from 2026-04-28 (Xcode 26). The same posts named tvOS and
/// visionOS with the same dates; visionOS had no floor in 2024. watchOS apps are not checked.
#[derive(Debug, Clone, Copy)]
pub struct SdkFloor {
    pub platform: Platform,
    pub from: Date,
    pub major: u32,
    pub xcode: u32,
}

pub const SDK_FLOORS: &[SdkFloor] = &[
    floor(Platform::Ios, date!(2024 - 04 - 29), 17, 15),
    floor(Platform::TvOs, date!(2024 - 04 - 29), 17, 15),
    floor(Platform::Ios, date!(2025 - 04 - 24), 18, 16),
    floor(Platform::TvOs, date!(2025 - 04 - 24), 18, 16),
    floor(Platform::VisionOs, date!(2025 - 04 - 24), 2, 16),
    floor(Platform::Ios, date!(2026 - 04 - 28), 26, 26),
    floor(Platform::TvOs, date!(2026 - 04 - 28), 26, 26),
    floor(Platform::VisionOs, date!(2026 - 04 - 28), 26, 26),
];

const fn floor(platform: Platform, from: Date, major: u32, xcode: u32) -> SdkFloor {
    SdkFloor {
        platform,
        from,
        major,
        xcode,
    }
}

/// How far ahead an announced floor is reported as a warning.
pub const SDK_NOTICE_DAYS: i64 = 90;

/// ITMS-90362: Apple's stated lowest iOS MinimumOSVersion ("The minimum value is 8.0"; ITMS-90530
/// "Apps that only support 64-bit devices must specify a deployment target of 8.0 or later").
/// Applies to every iOS code bundle, frameworks included.
pub const IOS_MINIMUM_OS_FLOOR: Version = Version([8, 0, 0]);

/// ITMS-90068 ("MinimumOSVersion too low"): since August 2026 App Store Connect warns apps below
/// iOS 15.0 that it becomes required "in Spring 2027". No exact date was announced yet: when Apple
/// publishes one, set `enforced_from` and the warning becomes an error from that day.
pub struct MinimumOsNotice {
    pub minimum: Version,
    pub warn_from: Date,
    pub enforced_from: Option<Date>,
    pub when: &'static str,
}

pub const IOS_MINIMUM_OS_NOTICE: MinimumOsNotice = MinimumOsNotice {
    minimum: Version([15, 0, 0]),
    warn_from: date!(2026 - 08 - 01),
    enforced_from: None,
    when: "in Spring 2027",
};

/// A dotted version (`18`, `18.2`, `18.2.1`) compared numerically; missing parts are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub [u32; 3]);

impl Version {
    /// Parses one to three dot-separated non-negative integers, nothing else (no spaces, no
    /// suffixes): exactly the form Apple accepts for versions and MinimumOSVersion.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = [0u32; 3];
        for (n, part) in s.split('.').enumerate() {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *parts.get_mut(n)? = part.parse().ok()?;
        }
        Some(Version(parts))
    }

    pub fn major(self) -> u32 {
        self.0[0]
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c] = self.0;
        if c == 0 {
            write!(f, "{a}.{b}")
        } else {
            write!(f, "{a}.{b}.{c}")
        }
    }
}

fn today(now: SystemTime) -> Date {
    OffsetDateTime::from(now).date()
}

fn platform_name(p: Platform) -> (&'static str, &'static str) {
    match p {
        Platform::Ios => ("iOS", "all iOS and iPadOS apps"),
        Platform::TvOs => ("tvOS", "all tvOS apps"),
        Platform::VisionOs => ("visionOS", "all visionOS apps"),
        Platform::MacOs => ("macOS", "all macOS apps"),
    }
}

/// The SDK version the app was built with: `DTPlatformVersion`, else the number in `DTSDKName`.
fn built_sdk(app: &Bundle) -> Option<Version> {
    if let Some(v) = app.info_str("DTPlatformVersion").and_then(Version::parse) {
        return Some(v);
    }
    let name = app.info_str("DTSDKName")?;
    let digits = name.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    Version::parse(digits)
}

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let Some(app) = ctx.ipa.main_app() else { return };
    if app.info.is_none() {
        return; // the missing Info.plist is reported elsewhere
    }
    let platform = Platform::from_dt_platform_name(app.info_str("DTPlatformName"));
    let today = today(ctx.now);
    let path = format!("{}/Info.plist", app.path);
    check_sdk(app, platform, today, &path, out);
    if platform == Platform::Ios {
        check_minimum_os_notice(app, today, &path, out);
    }
}

fn check_sdk(app: &Bundle, platform: Platform, today: Date, path: &str, out: &mut Vec<Finding>) {
    let rows = || SDK_FLOORS.iter().filter(|f| f.platform == platform);
    if rows().next().is_none() {
        return;
    }
    let (os, apps) = platform_name(platform);
    let Some(sdk) = built_sdk(app) else {
        out.push(Finding::warning(
            "ASC-SDK-UNKNOWN",
            path,
            "The Info.plist has no DTPlatformVersion or DTSDKName, so the SDK this app was built with \
             cannot be checked against Apple's minimum SDK (ITMS-90725).",
            "Build and export the app with Xcode (xcodebuild archive + -exportArchive); it records the SDK in the Info.plist.",
        ));
        return;
    };
    let in_force = rows().filter(|f| f.from <= today).max_by_key(|f| f.from);
    let upcoming = rows()
        .filter(|f| f.from > today && (f.from - today).whole_days() <= SDK_NOTICE_DAYS)
        .min_by_key(|f| f.from);
    let message = |f: &SdkFloor| {
        format!(
            "SDK version issue - This app was built with the {os} {sdk} SDK. Starting {}, {apps} must be built \
             with the {os} {} SDK or later, included in Xcode {} or later, in order to be uploaded to App Store \
             Connect or submitted for distribution.",
            long_date(f.from),
            f.major,
            f.xcode
        )
    };
    let fix = |f: &SdkFloor| {
        format!(
            "Build with Xcode {} or later (the {os} {} SDK); on hosted CI, select a runner image that has it.",
            f.xcode, f.major
        )
    };
    if let Some(f) = in_force.filter(|f| sdk.major() < f.major) {
        out.push(Finding::error("ITMS-90725", path, message(f), fix(f)));
    } else if let Some(f) = upcoming.filter(|f| sdk.major() < f.major) {
        out.push(Finding::warning("ITMS-90725", path, message(f), fix(f)));
    }
}

fn check_minimum_os_notice(app: &Bundle, today: Date, path: &str, out: &mut Vec<Finding>) {
    let notice = &IOS_MINIMUM_OS_NOTICE;
    let Some(min) = app.info_str("MinimumOSVersion").and_then(Version::parse) else {
        return; // missing or malformed: reported by the Info.plist rules
    };
    if min >= notice.minimum || today < notice.warn_from {
        return;
    }
    let enforced = notice.enforced_from.is_some_and(|d| d <= today);
    let when = match notice.enforced_from {
        Some(d) => format!("on {}", long_date(d)),
        None => notice.when.to_string(),
    };
    let message = format!(
        "MinimumOSVersion too low - This app has a MinimumOSVersion of {min}. Starting {when}, all iOS apps must \
         have a MinimumOSVersion of {} or later in order to be uploaded to App Store Connect or submitted for \
         distribution.",
        notice.minimum
    );
    let fix = format!(
        "Raise IPHONEOS_DEPLOYMENT_TARGET to {} or later for the app and its extensions (and the Podfile `platform :ios`).",
        notice.minimum
    );
    out.push(if enforced {
        Finding::error("ITMS-90068", path, message, fix)
    } else {
        Finding::warning("ITMS-90068", path, message, fix)
    });
}

/// "April 28, 2026", as Apple writes dates.
fn long_date(d: Date) -> String {
    format!("{} {}, {}", d.month(), d.day(), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Severity;
    use crate::validate::rules::info_plist::testutil::{TestIpa, app_info, at};

    fn run(info: plist::Dictionary, now: SystemTime) -> Vec<Finding> {
        TestIpa::new().app("Payload/App.app", info).run(check, now)
    }

    fn with(pairs: &[(&str, &str)]) -> plist::Dictionary {
        let mut d = app_info("com.example.app");
        for (k, v) in pairs {
            d.insert((*k).into(), (*v).into());
        }
        d
    }

    #[test]
    fn version_parsing() {
        assert_eq!(Version::parse("18.2"), Some(Version([18, 2, 0])));
        assert_eq!(Version::parse("12"), Some(Version([12, 0, 0])));
        assert!(Version::parse("1.2.3.4").is_none());
        assert!(Version::parse("1.2-beta").is_none());
        assert!(Version::parse("").is_none());
        assert!(Version::parse("1..2").is_none());
        assert!(Version::parse("99999999999").is_none());
        assert_eq!(Version([15, 0, 0]).to_string(), "15.0");
    }

    #[test]
    fn sdk_below_the_floor_in_force_is_an_error() {
        let f = run(
            with(&[("DTPlatformVersion", "18.5"), ("DTSDKName", "iphoneos18.5")]),
            at(2026, 5, 1),
        );
        let hit = f.iter().find(|f| f.code == "ITMS-90725").expect("fires");
        assert_eq!(hit.severity, Severity::Error);
        assert_eq!(hit.path, "Payload/App.app/Info.plist");
        assert!(hit.message.contains("iOS 18.5 SDK"), "{}", hit.message);
        assert!(hit.message.contains("April 28, 2026"), "{}", hit.message);
    }

    #[test]
    fn sdk_at_the_floor_passes_and_the_name_is_a_fallback() {
        let mut info = with(&[("DTSDKName", "iphoneos26.1")]);
        info.remove("DTPlatformVersion");
        assert!(run(info, at(2026, 5, 1)).iter().all(|f| f.code != "ITMS-90725"));
    }

    #[test]
    fn an_upcoming_floor_warns_within_the_notice_window_only() {
        let info = || with(&[("DTPlatformVersion", "18.2")]);
        let soon = run(info(), at(2026, 3, 1));
        let hit = soon.iter().find(|f| f.code == "ITMS-90725").expect("fires");
        assert_eq!(hit.severity, Severity::Warning);
        assert!(run(info(), at(2025, 12, 1)).iter().all(|f| f.code != "ITMS-90725"));
    }

    #[test]
    fn tvos_uses_its_own_rows() {
        let info = with(&[("DTPlatformName", "appletvos"), ("DTPlatformVersion", "17.2")]);
        let f = run(info, at(2025, 6, 1));
        let hit = f.iter().find(|f| f.code == "ITMS-90725").expect("fires");
        assert!(hit.message.contains("tvOS 18 SDK"), "{}", hit.message);
    }

    #[test]
    fn unknown_sdk_is_a_warning() {
        let mut info = app_info("com.example.app");
        info.remove("DTPlatformVersion");
        info.remove("DTSDKName");
        let f = run(info, at(2026, 5, 1));
        let hit = f.iter().find(|f| f.code == "ASC-SDK-UNKNOWN").expect("fires");
        assert_eq!(hit.severity, Severity::Warning);
    }

    #[test]
    fn minimum_os_below_the_announced_floor_warns_after_the_notice_date() {
        let low = || with(&[("MinimumOSVersion", "14.0")]);
        let f = run(low(), at(2026, 11, 21));
        let hit = f.iter().find(|f| f.code == "ITMS-90068").expect("fires");
        assert_eq!(hit.severity, Severity::Warning);
        assert_eq!(hit.path, "Payload/App.app/Info.plist");
        assert!(hit.message.contains("MinimumOSVersion of 14.0"), "{}", hit.message);
        assert!(run(low(), at(2026, 6, 1)).iter().all(|f| f.code != "ITMS-90068"));
        let ok = run(with(&[("MinimumOSVersion", "15.0")]), at(2026, 11, 21));
        assert!(ok.iter().all(|f| f.code != "ITMS-90068"));
    }
}
