//! The inspection: everything later steps need, read from the IPA without extracting it.
//!
//! `bundles[0]` is the main app when one was found; nested bundles point at their parent by index.

use serde::Serialize;

use crate::macho::Binary;
use crate::profile::Profile;

/// What kind of bundle a directory inside `Payload/` is, decided by its extension and location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleKind {
    /// `Payload/X.app`.
    App,
    /// `X.app/PlugIns/Y.appex` (and `Extensions/`).
    AppExtension,
    /// `X.app/Frameworks/Y.framework`.
    Framework,
    /// `X.app/Watch/W.app`.
    WatchApp,
    /// `X.app/AppClips/C.app`.
    AppClip,
    /// A `.bundle` resource bundle (Info.plist optional; only some rules apply).
    Resource,
}

impl BundleKind {
    /// Bundles with their own executable, signature and identity.
    pub fn is_code_bundle(self) -> bool {
        !matches!(self, BundleKind::Resource)
    }

    /// Bundles that must carry `embedded.mobileprovision` (ITMS-90174).
    pub fn needs_profile(self) -> bool {
        matches!(
            self,
            BundleKind::App | BundleKind::AppExtension | BundleKind::WatchApp | BundleKind::AppClip
        )
    }
}

/// App Store Connect's platform names (the `Platform` enum of the API). iOS unless the bundle
/// says otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum Platform {
    #[default]
    #[serde(rename = "IOS")]
    Ios,
    #[serde(rename = "TV_OS")]
    TvOs,
    #[serde(rename = "VISION_OS")]
    VisionOs,
    #[serde(rename = "MAC_OS")]
    MacOs,
}

impl Platform {
    /// From Info.plist `DTPlatformName`; unknown or missing means iOS (what App Store Connect assumes).
    pub fn from_dt_platform_name(name: Option<&str>) -> Platform {
        name.and_then(Platform::from_sdk_name).unwrap_or(Platform::Ios)
    }

    /// The platform a `DTPlatformName` belongs to, simulators included (`appletvsimulator` is
    /// tvOS); `None` when missing from the table.
    pub fn from_sdk_name(name: &str) -> Option<Platform> {
        match name.to_ascii_lowercase().as_str() {
            "iphoneos" | "iphonesimulator" => Some(Platform::Ios),
            "appletvos" | "appletvsimulator" => Some(Platform::TvOs),
            "xros" | "xrsimulator" => Some(Platform::VisionOs),
            "macosx" => Some(Platform::MacOs),
            _ => None,
        }
    }

    /// From a Mach-O `LC_BUILD_VERSION.platform` (`PLATFORM_*` of `<mach-o/loader.h>`): the
    /// platform and whether it is that platform's simulator. `None` for platforms an IPA never
    /// targets (watchOS, Mac Catalyst, DriverKit, unknown values).
    pub fn from_build_platform(value: u32) -> Option<(Platform, bool)> {
        match value {
            1 => Some((Platform::MacOs, false)),
            2 => Some((Platform::Ios, false)),
            3 => Some((Platform::TvOs, false)),
            7 => Some((Platform::Ios, true)),
            8 => Some((Platform::TvOs, true)),
            11 => Some((Platform::VisionOs, false)),
            12 => Some((Platform::VisionOs, true)),
            _ => None,
        }
    }

    /// From Info.plist `UIDeviceFamily` (1 iPhone, 2 iPad, 3 Apple TV, 7 Apple Vision Pro): the
    /// platform the families belong to, or `None` when there are none or they name more than one
    /// platform (e.g. `[1, 3]`).
    pub fn from_device_families(families: &[u64]) -> Option<Platform> {
        let mut found = None;
        for f in families {
            let p = match f {
                1 | 2 => Platform::Ios,
                3 => Platform::TvOs,
                7 => Platform::VisionOs,
                6 => Platform::MacOs,
                _ => continue,
            };
            match found {
                None => found = Some(p),
                Some(q) if q != p => return None,
                Some(_) => {}
            }
        }
        found
    }

    /// Whether a `DTPlatformName` names a simulator SDK (`iphonesimulator`, `appletvsimulator`,
    /// `xrsimulator`).
    pub fn is_simulator_sdk(name: &str) -> bool {
        name.to_ascii_lowercase().ends_with("simulator")
    }

    /// The name users know the platform by.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Ios => "iOS",
            Platform::TvOs => "tvOS",
            Platform::VisionOs => "visionOS",
            Platform::MacOs => "macOS",
        }
    }

    /// From the API's name (`IOS`, `MAC_OS`, `TV_OS`, `VISION_OS`).
    pub fn from_api_str(name: &str) -> Option<Platform> {
        [Platform::Ios, Platform::MacOs, Platform::TvOs, Platform::VisionOs]
            .into_iter()
            .find(|p| p.as_api_str() == name)
    }

    /// The platform's segment in App Store Connect's TestFlight addresses
    /// (`/apps/{id}/testflight/{segment}/{build}`), as the web UI spells them.
    pub fn testflight_segment(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::MacOs => "macos",
            Platform::TvOs => "tvos",
            Platform::VisionOs => "visionos",
        }
    }

    pub fn as_api_str(self) -> &'static str {
        match self {
            Platform::Ios => "IOS",
            Platform::TvOs => "TV_OS",
            Platform::VisionOs => "VISION_OS",
            Platform::MacOs => "MAC_OS",
        }
    }
}

/// Something found at a path inside the IPA, parsed or not.
#[derive(Debug, Clone, Serialize)]
pub struct Located<T> {
    /// Path inside the IPA.
    pub path: String,
    /// Size of the entry, uncompressed.
    pub size: u64,
    /// What it parsed into, or why it could not be parsed.
    #[serde(flatten)]
    pub parsed: Parsed<T>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Parsed<T> {
    Ok(T),
    Err { error: String },
}

impl<T> Parsed<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Parsed::Ok(v) => Some(v),
            Parsed::Err { .. } => None,
        }
    }
}

impl<T> Located<T> {
    pub fn ok(&self) -> Option<&T> {
        self.parsed.ok()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// Path inside the IPA, without a trailing slash, e.g. `Payload/App.app/PlugIns/Share.appex`.
    pub path: String,
    pub kind: BundleKind,
    /// Index of the containing bundle in [`Inspection::bundles`].
    pub parent: Option<usize>,
    /// The parsed Info.plist (binary or XML). Not serialised: the fields below are the summary.
    #[serde(skip)]
    pub info: Option<plist::Dictionary>,
    /// Why Info.plist is missing or unreadable, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info_error: Option<String>,
    pub identifier: Option<String>,
    pub short_version: Option<String>,
    pub version: Option<String>,
    pub executable_name: Option<String>,
    pub minimum_os: Option<String>,
    /// The bundle's main executable (`CFBundleExecutable`), parsed.
    pub executable: Option<Located<Binary>>,
    /// `embedded.mobileprovision`, decoded and checked against Apple's root.
    pub profile: Option<Located<Profile>>,
}

impl Bundle {
    /// A string value of the bundle's Info.plist.
    pub fn info_str(&self, key: &str) -> Option<&str> {
        self.info.as_ref()?.get(key)?.as_string()
    }

    /// Copies the identity Apple reads from the Info.plist into the bundle's fields: identifier,
    /// versions, executable name, and the minimum OS under the platform's key
    /// (`MinimumOSVersion` in an IPA, `LSMinimumSystemVersion` in a macOS app).
    pub fn take_identity_from_info(&mut self, minimum_os_key: &str) {
        let string = |key: &str| self.info_str(key).map(str::to_string);
        let (identifier, short_version, version, executable_name, minimum_os) = (
            string("CFBundleIdentifier"),
            string("CFBundleShortVersionString"),
            string("CFBundleVersion"),
            string("CFBundleExecutable"),
            string(minimum_os_key),
        );
        self.identifier = identifier;
        self.short_version = short_version;
        self.version = version;
        self.executable_name = executable_name;
        self.minimum_os = minimum_os;
    }

    /// `UIDeviceFamily` as numbers (Xcode writes integers; strings of digits are accepted too).
    pub fn device_families(&self) -> Vec<u64> {
        let Some(list) = self
            .info
            .as_ref()
            .and_then(|i| i.get("UIDeviceFamily"))
            .and_then(|v| v.as_array())
        else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|v| v.as_unsigned_integer().or_else(|| v.as_string()?.trim().parse().ok()))
            .collect()
    }

    /// What each source in the bundle says about its platform, for detection and the
    /// consistency rule.
    pub fn platform_evidence(&self) -> PlatformEvidence {
        let build = self
            .executable
            .as_ref()
            .and_then(Located::ok)
            .and_then(|b| b.slices.iter().find_map(|s| s.build.as_ref()))
            .map(|b| (b.platform, b.platform_name.clone()));
        PlatformEvidence {
            dt_platform_name: self.info_str("DTPlatformName").map(str::to_string),
            device_families: self.device_families(),
            build_version: build,
        }
    }
}

/// The three places a bundle states its platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformEvidence {
    /// Info.plist `DTPlatformName` (`iphoneos`, `appletvos`, `xros`, `…simulator`).
    pub dt_platform_name: Option<String>,
    /// Info.plist `UIDeviceFamily`.
    pub device_families: Vec<u64>,
    /// The main executable's `LC_BUILD_VERSION` (or `LC_VERSION_MIN_*`) platform, value and name.
    pub build_version: Option<(u32, String)>,
}

impl PlatformEvidence {
    pub fn from_dt(&self) -> Option<Platform> {
        self.dt_platform_name.as_deref().and_then(Platform::from_sdk_name)
    }

    pub fn from_families(&self) -> Option<Platform> {
        Platform::from_device_families(&self.device_families)
    }

    pub fn from_build(&self) -> Option<Platform> {
        self.build_version
            .as_ref()
            .and_then(|(v, _)| Platform::from_build_platform(*v))
            .map(|(p, _)| p)
    }

    /// The platform, by the first source that names one: `DTPlatformName` (what App Store Connect
    /// reads), then the executable, then the device families; iOS when none does.
    pub fn detect(&self) -> Platform {
        self.from_dt()
            .or_else(|| self.from_build())
            .or_else(|| self.from_families())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileFacts {
    pub path: String,
    pub file_name: String,
    /// Size of the .ipa on disk.
    pub size: u64,
    /// Sum of the uncompressed sizes the central directory declares.
    pub uncompressed_size: u64,
    pub entry_count: usize,
}

/// The app-level summary (from the main app bundle), what upload and distribution need. The
/// default is the summary of nothing read yet.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AppSummary {
    pub bundle_id: Option<String>,
    pub short_version: Option<String>,
    pub version: Option<String>,
    pub platform: Platform,
    pub minimum_os: Option<String>,
    /// `DTSDKName`, e.g. `iphoneos18.2`.
    pub sdk: Option<String>,
    /// `DTXcode`, e.g. `1620`.
    pub xcode: Option<String>,
    /// `ITSAppUsesNonExemptEncryption`; `None` when absent (the build will wait for export compliance).
    pub uses_non_exempt_encryption: Option<bool>,
    /// Common name of the certificate the main executable was signed with.
    pub signing_identity: Option<String>,
}

impl AppSummary {
    /// The summary of an app bundle, as `platform` (detected for an IPA; always macOS for a
    /// package, whatever the bundle says).
    pub fn of(app: &Bundle, platform: Platform) -> AppSummary {
        AppSummary {
            bundle_id: app.identifier.clone(),
            short_version: app.short_version.clone(),
            version: app.version.clone(),
            platform,
            minimum_os: app.minimum_os.clone(),
            sdk: app.info_str("DTSDKName").map(str::to_string),
            xcode: app.info_str("DTXcode").map(str::to_string),
            uses_non_exempt_encryption: app
                .info
                .as_ref()
                .and_then(|i| i.get("ITSAppUsesNonExemptEncryption"))
                .and_then(plist::Value::as_boolean),
            signing_identity: app
                .executable
                .as_ref()
                .and_then(Located::ok)
                .and_then(Binary::signing_identity),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub file: FileFacts,
    pub app: AppSummary,
    /// `bundles[0]` is the main app when one was found.
    pub bundles: Vec<Bundle>,
}

impl Inspection {
    pub fn main_app(&self) -> Option<&Bundle> {
        self.bundles
            .first()
            .filter(|b| b.kind == BundleKind::App && b.parent.is_none())
    }

    pub fn parent_of(&self, bundle: &Bundle) -> Option<&Bundle> {
        bundle.parent.and_then(|i| self.bundles.get(i))
    }
}

#[cfg(test)]
mod platform_tests {
    use super::*;

    #[test]
    fn each_source_maps_to_apples_platform() {
        assert_eq!(Platform::from_sdk_name("AppleTVOS"), Some(Platform::TvOs));
        assert_eq!(Platform::from_sdk_name("xrsimulator"), Some(Platform::VisionOs));
        assert_eq!(Platform::from_sdk_name("watchos"), None);
        assert_eq!(Platform::from_build_platform(3), Some((Platform::TvOs, false)));
        assert_eq!(Platform::from_build_platform(11), Some((Platform::VisionOs, false)));
        assert_eq!(Platform::from_build_platform(12), Some((Platform::VisionOs, true)));
        assert_eq!(Platform::from_build_platform(6), None);
        assert_eq!(Platform::from_device_families(&[1, 2]), Some(Platform::Ios));
        assert_eq!(Platform::from_device_families(&[3]), Some(Platform::TvOs));
        assert_eq!(Platform::from_device_families(&[7]), Some(Platform::VisionOs));
        assert_eq!(Platform::from_device_families(&[1, 3]), None);
        assert_eq!(Platform::from_device_families(&[]), None);
    }

    #[test]
    fn detection_prefers_dt_platform_name_then_the_executable_then_families() {
        let mut e = PlatformEvidence {
            dt_platform_name: Some("appletvos".into()),
            device_families: vec![7],
            build_version: Some((11, "visionOS".into())),
        };
        assert_eq!(e.detect(), Platform::TvOs);
        e.dt_platform_name = None;
        assert_eq!(e.detect(), Platform::VisionOs);
        e.build_version = None;
        e.device_families = vec![3];
        assert_eq!(e.detect(), Platform::TvOs);
        e.device_families.clear();
        assert_eq!(e.detect(), Platform::Ios);
    }
}
