//! What makes a sample bundle a tvOS or visionOS one instead of iOS: the Info.plist keys Xcode
//! writes for that SDK, the `LC_BUILD_VERSION` platform and deployment target of its executable,
//! and the names its asset catalog holds.

use plist::{Dictionary, Value};

use crate::ipa::Platform;

/// Per-platform facts of a sample build.
#[derive(Debug, Clone, Copy)]
pub struct PlatformFacts {
    /// `DTPlatformName` and the prefix of `DTSDKName`.
    pub sdk_name: &'static str,
    /// `CFBundleSupportedPlatforms`.
    pub supported: &'static str,
    /// `UIDeviceFamily`.
    pub families: &'static [u64],
    /// `LC_BUILD_VERSION.platform` (`PLATFORM_IOS` 2, `PLATFORM_TVOS` 3, `PLATFORM_VISIONOS` 11).
    pub build_platform: u32,
    /// Deployment target: `MinimumOSVersion` and the executable's `minos`.
    pub min_os: (u32, u32, u32),
    /// `Platform` of the App Store profile.
    pub profile_platform: &'static str,
}

pub fn facts(platform: Platform) -> PlatformFacts {
    match platform {
        Platform::TvOs => PlatformFacts {
            sdk_name: "appletvos",
            supported: "AppleTVOS",
            families: &[3],
            build_platform: 3,
            min_os: (17, 0, 0),
            profile_platform: "tvOS",
        },
        Platform::VisionOs => PlatformFacts {
            sdk_name: "xros",
            supported: "XROS",
            families: &[7],
            build_platform: 11,
            min_os: (2, 0, 0),
            profile_platform: "xrOS",
        },
        Platform::Ios | Platform::MacOs => PlatformFacts {
            sdk_name: "iphoneos",
            supported: "iPhoneOS",
            families: &[1, 2],
            build_platform: 2,
            min_os: (15, 0, 0),
            profile_platform: "iOS",
        },
    }
}

impl PlatformFacts {
    pub fn min_os_string(&self) -> String {
        let (a, b, _) = self.min_os;
        format!("{a}.{b}")
    }
}

/// The names in a sample app's `Assets.car` for the platform (tvOS: the layered app icon and the
/// top shelf images of a brand-assets set).
pub fn catalog_names(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::TvOs => &["AccentColor", "App Icon", "Top Shelf Image", "Top Shelf Image Wide"],
        _ => &["AccentColor", "AppIcon"],
    }
}

/// Rewrites the platform keys of a bundle's Info.plist (every bundle) for `platform`; iOS leaves
/// them as they are. `sdk` is the SDK version, e.g. `26.1`.
pub fn apply_bundle_keys(info: &mut Dictionary, platform: Platform, sdk: &str) {
    if matches!(platform, Platform::Ios | Platform::MacOs) {
        return;
    }
    let f = facts(platform);
    info.insert("DTPlatformName".into(), f.sdk_name.into());
    info.insert("DTSDKName".into(), format!("{}{sdk}", f.sdk_name).into());
    info.insert(
        "CFBundleSupportedPlatforms".into(),
        Value::Array(vec![f.supported.into()]),
    );
    info.insert("MinimumOSVersion".into(), f.min_os_string().into());
    if info.contains_key("UIDeviceFamily") {
        info.insert(
            "UIDeviceFamily".into(),
            Value::Array(f.families.iter().map(|n| Value::from(*n)).collect()),
        );
    }
}

/// Rewrites the app-only keys for `platform`: tvOS declares its icon as a brand-assets name plus top
/// shelf images, visionOS as a named icon; neither has iPhone/iPad orientation or icon-file keys.
pub fn apply_app_keys(info: &mut Dictionary, platform: Platform) {
    let icon = match platform {
        Platform::TvOs => Value::String("App Icon".into()),
        Platform::VisionOs => {
            let mut d = Dictionary::new();
            d.insert("CFBundleIconName".into(), "AppIcon".into());
            Value::Dictionary(d)
        }
        Platform::Ios | Platform::MacOs => return,
    };
    for key in [
        "CFBundleIcons~ipad",
        "LSRequiresIPhoneOS",
        "UISupportedInterfaceOrientations",
        "UISupportedInterfaceOrientations~ipad",
    ] {
        info.remove(key);
    }
    let mut icons = Dictionary::new();
    icons.insert("CFBundlePrimaryIcon".into(), icon);
    info.insert("CFBundleIcons".into(), Value::Dictionary(icons));
    if platform == Platform::TvOs {
        let mut shelf = Dictionary::new();
        shelf.insert("TVTopShelfPrimaryImage".into(), "Top Shelf Image".into());
        shelf.insert("TVTopShelfPrimaryImageWide".into(), "Top Shelf Image Wide".into());
        info.insert("TVTopShelfImage".into(), Value::Dictionary(shelf));
    }
}
