//! Test scaffolding for the Info.plist, icon, privacy and SDK rules: a hand-built inspection over
//! an in-memory archive, so rules are tested without the real zip reader.

use std::collections::BTreeMap;
use std::time::SystemTime;

use plist::{Dictionary, Value};

use crate::ipa::{AppSummary, Bundle, BundleKind, EntrySource, FileFacts, Inspection, Platform};
use crate::profile::TrustStore;
use crate::validate::context::RuleContext;
use crate::validate::{Finding, Severity};

/// Archive entries held in memory.
#[derive(Default)]
pub struct MemEntries {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Refuse whole reads above this many bytes, whatever the caller's limit (to exercise the
    /// streaming paths without building huge entries).
    pub whole_read_cap: Option<u64>,
}

impl EntrySource for MemEntries {
    fn names(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }
    fn contains(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }
    fn read(&self, name: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        let data = self.files.get(name).ok_or(std::io::ErrorKind::NotFound)?;
        if data.len() as u64 > limit.min(self.whole_read_cap.unwrap_or(u64::MAX)) {
            return Err(std::io::Error::other("entry larger than the limit"));
        }
        Ok(data.clone())
    }
    fn stream(&self, name: &str, sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64> {
        let data = self.files.get(name).ok_or(std::io::ErrorKind::NotFound)?;
        sink(data)?;
        Ok(data.len() as u64)
    }
}

/// An IPA under construction: bundles plus entries.
#[derive(Default)]
pub struct TestIpa {
    pub bundles: Vec<Bundle>,
    pub entries: MemEntries,
}

impl TestIpa {
    pub fn new() -> Self {
        TestIpa::default()
    }

    /// The main app (bundle 0) with its Info.plist, executable and an `Assets.car` naming `AppIcon`.
    pub fn app(self, path: &str, info: Dictionary) -> Self {
        let car = crate::ipa::assets_car::testing::write_car(&["AccentColor", "AppIcon"], 8);
        self.bundle(path, BundleKind::App, None, info)
            .file(&format!("{path}/Assets.car"), car)
    }

    /// Any bundle; its Info.plist (XML) and executable become entries too.
    pub fn bundle(mut self, path: &str, kind: BundleKind, parent: Option<usize>, info: Dictionary) -> Self {
        let mut xml = Vec::new();
        let _ = plist::to_writer_xml(&mut xml, &info);
        self.entries.files.insert(format!("{path}/Info.plist"), xml);
        let s = |k: &str| info.get(k).and_then(Value::as_string).map(str::to_string);
        if let Some(exe) = s("CFBundleExecutable") {
            self.entries
                .files
                .insert(format!("{path}/{exe}"), vec![0xcf, 0xfa, 0xed, 0xfe]);
        }
        self.bundles.push(Bundle {
            path: path.to_string(),
            kind,
            parent,
            identifier: s("CFBundleIdentifier"),
            short_version: s("CFBundleShortVersionString"),
            version: s("CFBundleVersion"),
            executable_name: s("CFBundleExecutable"),
            minimum_os: s("MinimumOSVersion"),
            info: Some(info),
            info_error: None,
            executable: None,
            profile: None,
        });
        self
    }

    pub fn file(mut self, name: &str, data: impl Into<Vec<u8>>) -> Self {
        self.entries.files.insert(name.to_string(), data.into());
        self
    }

    /// Whole reads above `cap` bytes fail, as entries above a reader's limit do.
    pub fn whole_read_cap(mut self, cap: u64) -> Self {
        self.entries.whole_read_cap = Some(cap);
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.entries.files.remove(name);
        self
    }

    pub fn inspection(&self) -> Inspection {
        let app = self.bundles.first();
        let s = |k: &str| app.and_then(|b| b.info_str(k)).map(str::to_string);
        Inspection {
            file: FileFacts {
                path: "App.ipa".into(),
                file_name: "App.ipa".into(),
                size: 0,
                uncompressed_size: 0,
                entry_count: self.entries.files.len(),
            },
            app: AppSummary {
                bundle_id: s("CFBundleIdentifier"),
                short_version: s("CFBundleShortVersionString"),
                version: s("CFBundleVersion"),
                platform: Platform::from_dt_platform_name(s("DTPlatformName").as_deref()),
                minimum_os: s("MinimumOSVersion"),
                sdk: s("DTSDKName"),
                xcode: s("DTXcode"),
                uses_non_exempt_encryption: None,
                signing_identity: None,
            },
            bundles: self.bundles.clone(),
        }
    }

    pub fn run(&self, check: fn(&RuleContext, &mut Vec<Finding>), now: SystemTime) -> Vec<Finding> {
        let ipa = self.inspection();
        let trust = TrustStore::apple();
        let ctx = RuleContext {
            ipa: &ipa,
            entries: &self.entries,
            now,
            trust: &trust,
            deep: false,
        };
        let mut out = Vec::new();
        check(&ctx, &mut out);
        out
    }
}

/// Midnight UTC of a calendar day.
pub fn at(year: i32, month: u8, day: u8) -> SystemTime {
    let month = time::Month::try_from(month).unwrap_or(time::Month::January);
    let date = time::Date::from_calendar_date(year, month, day).unwrap_or(time::Date::MIN);
    date.midnight().assume_utc().into()
}

/// A day on which no dated rule is about to change (tests of undated rules use it).
pub fn today() -> SystemTime {
    at(2026, 11, 21)
}

pub fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(*s)).collect())
}

pub fn dict(pairs: Vec<(&str, Value)>) -> Value {
    Value::Dictionary(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A main-app Info.plist that passes every rule in these modules.
pub fn app_info(id: &str) -> Dictionary {
    let mut d = common_info(id, "App", "APPL");
    d.insert("UIDeviceFamily".into(), Value::Array(vec![1.into()]));
    d.insert("ITSAppUsesNonExemptEncryption".into(), false.into());
    d.insert(
        "CFBundleIcons".into(),
        dict(vec![(
            "CFBundlePrimaryIcon",
            dict(vec![("CFBundleIconName", "AppIcon".into())]),
        )]),
    );
    d.insert("UILaunchScreen".into(), dict(vec![]));
    d
}

pub fn appex_info(id: &str) -> Dictionary {
    let mut d = common_info(id, "Share", "XPC!");
    d.insert("CFBundleDisplayName".into(), "Share".into());
    d.insert(
        "NSExtension".into(),
        dict(vec![("NSExtensionPointIdentifier", "com.apple.share-services".into())]),
    );
    d
}

pub fn framework_info(id: &str, name: &str) -> Dictionary {
    common_info(id, name, "FMWK")
}

fn common_info(id: &str, exe: &str, package_type: &str) -> Dictionary {
    let mut d = Dictionary::new();
    for (k, v) in [
        ("CFBundleIdentifier", id),
        ("CFBundleVersion", "42"),
        ("CFBundleShortVersionString", "1.2.3"),
        ("CFBundleExecutable", exe),
        ("CFBundleName", exe),
        ("CFBundlePackageType", package_type),
        ("MinimumOSVersion", "16.0"),
        ("DTPlatformName", "iphoneos"),
        ("DTPlatformVersion", "26.0"),
        ("DTSDKName", "iphoneos26.0"),
    ] {
        d.insert(k.into(), v.into());
    }
    d.insert("CFBundleSupportedPlatforms".into(), strings(&["iPhoneOS"]));
    d
}

/// The findings with `code`.
pub fn with_code<'a>(findings: &'a [Finding], code: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.code == code).collect()
}

/// Asserts exactly one finding with `code`, of `severity`, at `path`; returns it.
#[track_caller]
pub fn one<'a>(findings: &'a [Finding], code: &str, severity: Severity, path: &str) -> &'a Finding {
    let hits = with_code(findings, code);
    assert_eq!(hits.len(), 1, "expected one {code}, got {findings:#?}");
    let f = hits[0];
    assert_eq!(f.severity, severity, "{f:#?}");
    assert_eq!(f.path, path, "{f:#?}");
    assert!(!f.message.is_empty() && !f.fix.is_empty(), "{f:#?}");
    f
}

/// Asserts no finding with `code`.
#[track_caller]
pub fn none(findings: &[Finding], code: &str) {
    let hits = with_code(findings, code);
    assert!(hits.is_empty(), "expected no {code}, got {hits:#?}");
}
