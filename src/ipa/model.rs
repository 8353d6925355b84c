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
        match name.map(str::to_ascii_lowercase).as_deref() {
            Some("appletvos") => Platform::TvOs,
            Some("xros") => Platform::VisionOs,
            Some("macosx") => Platform::MacOs,
            _ => Platform::Ios,
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
