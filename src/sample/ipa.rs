//! Writes real zip IPAs for the tests, the demo and the benchmarks: a main app plus optional
//! extensions, frameworks, watch app and app clip, each with its own Info.plist (XML or binary),
//! executable and profile bytes, and any extra entries (streamed, symlinks, junk) a test needs.
//!
//! Executables and profiles are placeholders by default; callers plug in real ones from
//! [`crate::sample::macho`] and [`crate::sample::profile`].

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::Path;

use plist::{Dictionary, Value};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::ipa::PlistFormat;

/// What a bundle's executable holds unless set: deliberately not Mach-O.
pub const PLACEHOLDER_EXECUTABLE: &[u8] = b"placeholder executable: not a Mach-O file\n";
/// What `embedded.mobileprovision` holds unless set: deliberately not a profile.
pub const PLACEHOLDER_PROFILE: &[u8] = b"placeholder provisioning profile: not CMS\n";

/// How an entry's bytes are stored in the zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    Stored,
    #[default]
    Deflated,
}

impl Method {
    fn zip(self) -> CompressionMethod {
        match self {
            Method::Stored => CompressionMethod::Stored,
            Method::Deflated => CompressionMethod::Deflated,
        }
    }
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::String((*s).to_string())).collect())
}

fn dict(pairs: Vec<(&str, Value)>) -> Dictionary {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

const ORIENTATIONS: &[&str] = &[
    "UIInterfaceOrientationPortrait",
    "UIInterfaceOrientationPortraitUpsideDown",
    "UIInterfaceOrientationLandscapeLeft",
    "UIInterfaceOrientationLandscapeRight",
];

/// The keys every iOS bundle built by Xcode 16.2 carries (toolchain, SDK, platform).
fn build_keys(platform: &str, sdk: &str, supported: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("BuildMachineOSBuild", "24C101".into()),
        ("CFBundleDevelopmentRegion", "en".into()),
        ("CFBundleInfoDictionaryVersion", "6.0".into()),
        ("CFBundleSupportedPlatforms", strings(&[supported])),
        ("DTCompiler", "com.apple.compilers.llvm.clang.1_0".into()),
        ("DTPlatformBuild", "22C146".into()),
        ("DTPlatformName", platform.into()),
        ("DTPlatformVersion", sdk.into()),
        ("DTSDKBuild", "22C146".into()),
        ("DTSDKName", format!("{platform}{sdk}").into()),
        ("DTXcode", "1620".into()),
        ("DTXcodeBuild", "16C5032a".into()),
    ]
}

fn identity(name: &str, id: &str, package_type: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("CFBundleExecutable", name.into()),
        ("CFBundleIdentifier", id.into()),
        ("CFBundleName", name.into()),
        ("CFBundlePackageType", package_type.into()),
        ("CFBundleShortVersionString", "1.0.0".into()),
        ("CFBundleVersion", "1".into()),
    ]
}

/// The Info.plist of an app as Xcode 16.2 exports it for the App Store.
pub fn default_app_info(name: &str, id: &str) -> Dictionary {
    let icons = |files: &[&str]| {
        Value::Dictionary(dict(vec![(
            "CFBundlePrimaryIcon",
            Value::Dictionary(dict(vec![
                ("CFBundleIconFiles", strings(files)),
                ("CFBundleIconName", "AppIcon".into()),
            ])),
        )]))
    };
    let mut pairs = identity(name, id, "APPL");
    pairs.extend(build_keys("iphoneos", "18.2", "iPhoneOS"));
    pairs.extend(vec![
        ("CFBundleDisplayName", name.into()),
        ("CFBundleIcons", icons(&["AppIcon60x60"])),
        ("CFBundleIcons~ipad", icons(&["AppIcon60x60", "AppIcon76x76"])),
        ("ITSAppUsesNonExemptEncryption", false.into()),
        ("LSRequiresIPhoneOS", true.into()),
        ("MinimumOSVersion", "15.0".into()),
        (
            "UIApplicationSceneManifest",
            Value::Dictionary(dict(vec![("UIApplicationSupportsMultipleScenes", false.into())])),
        ),
        ("UIDeviceFamily", Value::Array(vec![1.into(), 2.into()])),
        ("UILaunchStoryboardName", "LaunchScreen".into()),
        ("UIRequiredDeviceCapabilities", strings(&["arm64"])),
        ("UISupportedInterfaceOrientations", strings(ORIENTATIONS)),
        ("UISupportedInterfaceOrientations~ipad", strings(ORIENTATIONS)),
    ]);
    dict(pairs)
}

/// One bundle to write: its directory name, Info.plist, executable, profile, files and nested bundles.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    /// Directory name with extension, e.g. `Share.appex`.
    pub dir: String,
    pub info: Dictionary,
    pub info_format: PlistFormat,
    /// `None`: no executable file. Written under the name `CFBundleExecutable` says.
    pub executable: Option<Vec<u8>>,
    /// `None`: no `embedded.mobileprovision`.
    pub profile: Option<Vec<u8>>,
    /// Extra files, by path relative to the bundle.
    pub files: Vec<(String, Vec<u8>)>,
    /// Nested bundles, by containing folder relative to this bundle (`PlugIns`, `Frameworks`, …).
    pub nested: Vec<(String, BundleSpec)>,
}

impl BundleSpec {
    fn new(dir: String, info: Dictionary, executable: bool, profile: bool) -> Self {
        BundleSpec {
            dir,
            info,
            info_format: PlistFormat::Xml,
            executable: executable.then(|| PLACEHOLDER_EXECUTABLE.to_vec()),
            profile: profile.then(|| PLACEHOLDER_PROFILE.to_vec()),
            files: Vec::new(),
            nested: Vec::new(),
        }
    }

    /// An app (`<name>.app`) with [`default_app_info`], a launch storyboard and `PkgInfo`.
    pub fn app(name: &str, id: &str) -> Self {
        let mut spec = Self::new(format!("{name}.app"), default_app_info(name, id), true, true);
        spec.files.push(("PkgInfo".into(), b"APPL????".to_vec()));
        spec.files.push((
            "Base.lproj/LaunchScreen.storyboardc/Info.plist".into(),
            plist_bytes(
                &dict(vec![(
                    "UIViewControllerIdentifiersToNibNames",
                    Value::Dictionary(Dictionary::new()),
                )]),
                PlistFormat::Binary,
            ),
        ));
        spec
    }

    /// A share extension (`<name>.appex`), versions 1.0.0 (1).
    pub fn extension(name: &str, id: &str) -> Self {
        let mut pairs = identity(name, id, "XPC!");
        pairs.extend(build_keys("iphoneos", "18.2", "iPhoneOS"));
        pairs.extend(vec![
            ("CFBundleDisplayName", name.into()),
            ("MinimumOSVersion", "15.0".into()),
            ("UIDeviceFamily", Value::Array(vec![1.into(), 2.into()])),
            (
                "NSExtension",
                Value::Dictionary(dict(vec![
                    ("NSExtensionPointIdentifier", "com.apple.share-services".into()),
                    ("NSExtensionPrincipalClass", "ShareViewController".into()),
                ])),
            ),
        ]);
        Self::new(format!("{name}.appex"), dict(pairs), true, true)
    }

    /// A dynamic framework (`<name>.framework`): no profile, versions 1.0.0 (1).
    pub fn framework(name: &str, id: &str) -> Self {
        let mut pairs = identity(name, id, "FMWK");
        pairs.extend(build_keys("iphoneos", "18.2", "iPhoneOS"));
        pairs.push(("MinimumOSVersion", "15.0".into()));
        Self::new(format!("{name}.framework"), dict(pairs), true, false)
    }

    /// A watchOS app (`<name>.app`, goes in `Watch/`) whose companion is `companion_id`.
    pub fn watch_app(name: &str, id: &str, companion_id: &str) -> Self {
        let mut pairs = identity(name, id, "APPL");
        pairs.extend(build_keys("watchos", "11.2", "WatchOS"));
        pairs.extend(vec![
            ("CFBundleDisplayName", name.into()),
            ("MinimumOSVersion", "9.0".into()),
            ("UIDeviceFamily", Value::Array(vec![4.into()])),
            ("WKApplication", true.into()),
            ("WKCompanionAppBundleIdentifier", companion_id.into()),
        ]);
        Self::new(format!("{name}.app"), dict(pairs), true, true)
    }

    /// An App Clip (`<name>.app`, goes in `AppClips/`).
    pub fn app_clip(name: &str, id: &str) -> Self {
        let mut spec = Self::app(name, id);
        spec.info.insert(
            "NSAppClip".into(),
            Value::Dictionary(dict(vec![
                ("NSAppClipRequestEphemeralUserNotification", false.into()),
                ("NSAppClipRequestLocationConfirmation", false.into()),
            ])),
        );
        spec
    }

    /// A resource bundle (`<name>.bundle`): Info.plist only.
    pub fn resource(name: &str, id: &str) -> Self {
        let mut pairs = identity(name, id, "BNDL");
        pairs.retain(|(k, _)| *k != "CFBundleExecutable");
        pairs.push(("CFBundleSupportedPlatforms", strings(&["iPhoneOS"])));
        Self::new(format!("{name}.bundle"), dict(pairs), false, false)
    }

    /// Sets an Info.plist key.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.info.insert(key.to_string(), value.into());
        self
    }

    /// Removes an Info.plist key.
    pub fn remove(mut self, key: &str) -> Self {
        self.info.remove(key);
        self
    }

    /// Replaces the whole Info.plist.
    pub fn info(mut self, info: Dictionary) -> Self {
        self.info = info;
        self
    }

    pub fn info_format(mut self, format: PlistFormat) -> Self {
        self.info_format = format;
        self
    }

    pub fn executable(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.executable = Some(bytes.into());
        self
    }

    pub fn no_executable(mut self) -> Self {
        self.executable = None;
        self
    }

    pub fn profile(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.profile = Some(bytes.into());
        self
    }

    pub fn no_profile(mut self) -> Self {
        self.profile = None;
        self
    }

    /// Adds a file at `path` relative to the bundle.
    pub fn file(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_string(), bytes.into()));
        self
    }

    /// Nests a bundle in `folder` (relative to this bundle; empty for directly inside it).
    pub fn nest(mut self, folder: &str, bundle: BundleSpec) -> Self {
        self.nested.push((folder.to_string(), bundle));
        self
    }

    /// The value of `CFBundleExecutable`, if it is a string.
    fn executable_name(&self) -> Option<&str> {
        self.info.get("CFBundleExecutable").and_then(Value::as_string)
    }
}

/// Serialises a plist dictionary as XML or binary.
pub fn plist_bytes(info: &Dictionary, format: PlistFormat) -> Vec<u8> {
    let mut out = Vec::new();
    let value = Value::Dictionary(info.clone());
    // Writing to a Vec cannot fail for a well-formed in-memory value.
    let _ = match format {
        PlistFormat::Xml => value.to_writer_xml(&mut out),
        PlistFormat::Binary => value.to_writer_binary(&mut out),
    };
    out
}

enum Content {
    Bytes(Vec<u8>),
    Reader(Box<dyn Read>),
    Symlink(String),
    Directory,
}

/// An entry written as is, wherever a test wants it.
pub struct Entry {
    name: Vec<u8>,
    content: Content,
    method: Method,
    unix_mode: Option<u32>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("method", &self.method)
            .finish()
    }
}

impl Entry {
    pub fn bytes(name: &str, bytes: impl Into<Vec<u8>>) -> Self {
        Entry {
            name: name.as_bytes().to_vec(),
            content: Content::Bytes(bytes.into()),
            method: Method::Deflated,
            unix_mode: None,
        }
    }

    /// Content streamed from `reader` while writing (for multi-GiB benchmark entries).
    pub fn reader(name: &str, reader: impl Read + 'static) -> Self {
        Entry {
            content: Content::Reader(Box::new(reader)),
            ..Entry::bytes(name, Vec::new())
        }
    }

    pub fn symlink(name: &str, target: &str) -> Self {
        Entry {
            content: Content::Symlink(target.to_string()),
            ..Entry::bytes(name, Vec::new())
        }
    }

    pub fn directory(name: &str) -> Self {
        Entry {
            content: Content::Directory,
            ..Entry::bytes(name, Vec::new())
        }
    }

    /// An entry whose name is raw bytes (e.g. not UTF-8).
    pub fn raw_name(name: &[u8], bytes: impl Into<Vec<u8>>) -> Self {
        Entry {
            name: name.to_vec(),
            ..Entry::bytes("", bytes)
        }
    }

    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    pub fn unix_mode(mut self, mode: u32) -> Self {
        self.unix_mode = Some(mode);
        self
    }
}

/// Builds an IPA. `IpaBuilder::new()` is a valid-looking `com.example.demo` app, 1.0.0 (1).
#[derive(Debug)]
pub struct IpaBuilder {
    pub app: BundleSpec,
    extra: Vec<Entry>,
    method: Method,
    directories: bool,
}

impl Default for IpaBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl IpaBuilder {
    pub fn new() -> Self {
        IpaBuilder {
            app: BundleSpec::app("Demo", "com.example.demo"),
            extra: Vec::new(),
            method: Method::Deflated,
            directories: true,
        }
    }

    /// Replaces the main app.
    pub fn app(mut self, app: BundleSpec) -> Self {
        self.app = app;
        self
    }

    /// Changes the main app in place.
    pub fn map_app(mut self, f: impl FnOnce(BundleSpec) -> BundleSpec) -> Self {
        self.app = f(self.app);
        self
    }

    /// Adds an app extension in the app's `PlugIns/`.
    pub fn extension(self, spec: BundleSpec) -> Self {
        self.map_app(|a| a.nest("PlugIns", spec))
    }

    /// Adds a framework in the app's `Frameworks/`.
    pub fn framework(self, spec: BundleSpec) -> Self {
        self.map_app(|a| a.nest("Frameworks", spec))
    }

    /// Adds a watch app in the app's `Watch/`.
    pub fn watch_app(self, spec: BundleSpec) -> Self {
        self.map_app(|a| a.nest("Watch", spec))
    }

    /// Adds an App Clip in the app's `AppClips/`.
    pub fn app_clip(self, spec: BundleSpec) -> Self {
        self.map_app(|a| a.nest("AppClips", spec))
    }

    /// Adds an entry at an arbitrary path of the archive.
    pub fn entry(mut self, entry: Entry) -> Self {
        self.extra.push(entry);
        self
    }

    /// How bundle files are compressed (extra entries choose their own).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Whether directory entries are written (Xcode writes them; many hand-made zips do not).
    pub fn directories(mut self, yes: bool) -> Self {
        self.directories = yes;
        self
    }

    /// Writes the IPA to `path`, streaming: memory stays bounded whatever the entries' sizes.
    pub fn write_to(self, path: &Path) -> io::Result<()> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let file = self.write(file)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()
    }

    /// The IPA as bytes.
    pub fn to_bytes(self) -> io::Result<Vec<u8>> {
        Ok(self.write(io::Cursor::new(Vec::new()))?.into_inner())
    }

    /// Writes the IPA into any seekable sink and returns it.
    pub fn write<W: Write + Seek>(self, sink: W) -> io::Result<W> {
        let mut zip = ZipWriter::new(sink);
        if self.directories {
            add_dir(&mut zip, "Payload/")?;
        }
        let options = SimpleFileOptions::default()
            .compression_method(self.method.zip())
            .unix_permissions(0o644);
        write_bundle(&mut zip, "Payload", &self.app, options, self.directories)?;
        for entry in self.extra {
            write_entry(&mut zip, entry)?;
        }
        zip.finish().map_err(io::Error::other)
    }
}

fn add_dir<W: Write + Seek>(zip: &mut ZipWriter<W>, name: &str) -> io::Result<()> {
    let options = SimpleFileOptions::default().unix_permissions(0o755);
    zip.add_directory(name, options).map_err(io::Error::other)
}

fn add_file<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    name: &str,
    bytes: &[u8],
    options: SimpleFileOptions,
) -> io::Result<()> {
    zip.start_file(name, options).map_err(io::Error::other)?;
    zip.write_all(bytes)
}

fn write_bundle<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    parent: &str,
    spec: &BundleSpec,
    options: SimpleFileOptions,
    directories: bool,
) -> io::Result<()> {
    let root = if parent.is_empty() {
        spec.dir.clone()
    } else {
        format!("{parent}/{}", spec.dir)
    };
    if directories {
        add_dir(zip, &format!("{root}/"))?;
    }
    add_file(
        zip,
        &format!("{root}/Info.plist"),
        &plist_bytes(&spec.info, spec.info_format),
        options,
    )?;
    if let Some(exe) = &spec.executable {
        let stem = spec.dir.rsplit_once('.').map(|(s, _)| s).unwrap_or(&spec.dir);
        let name = spec.executable_name().unwrap_or(stem);
        add_file(zip, &format!("{root}/{name}"), exe, options.unix_permissions(0o755))?;
    }
    if let Some(profile) = &spec.profile {
        add_file(zip, &format!("{root}/embedded.mobileprovision"), profile, options)?;
    }
    for (path, bytes) in &spec.files {
        add_file(zip, &format!("{root}/{path}"), bytes, options)?;
    }
    for (folder, nested) in &spec.nested {
        let parent = if folder.is_empty() {
            root.clone()
        } else {
            format!("{root}/{folder}")
        };
        if directories && !folder.is_empty() {
            // The folder may hold several bundles; the zip writer refuses a second identical entry.
            let _ = add_dir(zip, &format!("{parent}/"));
        }
        write_bundle(zip, &parent, nested, options, directories)?;
    }
    Ok(())
}

fn write_entry<W: Write + Seek>(zip: &mut ZipWriter<W>, entry: Entry) -> io::Result<()> {
    let mut options = SimpleFileOptions::default().compression_method(entry.method.zip());
    if let Some(mode) = entry.unix_mode {
        options = options.unix_permissions(mode);
    }
    let name = String::from_utf8_lossy(&entry.name).into_owned();
    match entry.content {
        Content::Directory => zip.add_directory(name, options).map_err(io::Error::other),
        Content::Symlink(target) => zip.add_symlink(name, target, options).map_err(io::Error::other),
        Content::Bytes(bytes) => {
            zip.start_file_with_options(options.name(&entry.name))
                .map_err(io::Error::other)?;
            zip.write_all(&bytes)
        }
        Content::Reader(mut reader) => {
            // Streamed entries may pass 4 GiB; zip64 headers cost a few bytes when they do not.
            zip.start_file_with_options(options.large_file(true).name(&entry.name))
                .map_err(io::Error::other)?;
            io::copy(&mut reader, zip).map(|_| ())
        }
    }
}
