//! A complete, valid sample app: every bundle signed with the test PKI's distribution certificate,
//! App Store profiles, sealed resources, an asset catalog with the app icon and a privacy manifest.
//! `validate --deep` passes on it when the test root is trusted (and only then: the signer is not
//! Apple). The demo uploads it; tests and benchmarks start from it and break one thing at a time.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use plist::{Dictionary, Value};

use crate::ipa::assets_car::testing::write_car;
use crate::ipa::{Platform, PlistFormat};
use crate::profile::ProfileKind;
use crate::sample::ipa::{BundleSpec, Entry, IpaBuilder, Method, plist_bytes};
use crate::sample::macho::{
    Arch, CmsSigner, CodeResourcesBuilder, MH_DYLIB, MH_EXECUTE, MachOBuilder, SignatureSpec, SliceSpec, primary_cdhash,
};
use crate::sample::pki::{PkiError, TestPki};
use crate::sample::platform::{self, PlatformFacts};
use crate::sample::profile::ProfileBuilder;

/// What to build. `Default` is the demo app: `com.example.demo` 1.0.0 (1) with a share extension
/// and a framework, built with Xcode 26.1 for iOS 15.0+.
#[derive(Debug, Clone)]
pub struct SampleApp {
    pub name: String,
    pub bundle_id: String,
    pub short_version: String,
    pub version: String,
    /// `ITSAppUsesNonExemptEncryption`; `None` leaves the key out (the build then waits for
    /// export compliance).
    pub uses_non_exempt_encryption: Option<bool>,
    pub with_extension: bool,
    pub with_framework: bool,
    /// Size of an extra sealed resource (`Payload/<Name>.app/Content.bin`, stored uncompressed with
    /// pseudo-random bytes), streamed so even gigabytes never sit in memory. For benchmarks.
    pub padding: u64,
    /// The platform the app is built for: Info.plist keys, executable `LC_BUILD_VERSION`, icons and
    /// profile follow it. iOS by default.
    pub platform: Platform,
}

impl Default for SampleApp {
    fn default() -> Self {
        SampleApp {
            name: "Demo".into(),
            // The app the simulator seeds when told of none (asc_sim::DEFAULT_BUNDLE_ID; the
            // binary's tests check they agree), so the demo needs no --app.
            bundle_id: "com.example.demo".into(),
            short_version: "1.0.0".into(),
            version: "1".into(),
            uses_non_exempt_encryption: Some(false),
            with_extension: true,
            with_framework: true,
            padding: 0,
            platform: Platform::Ios,
        }
    }
}

/// What a built sample needs to be checked: the PKI whose root must be trusted.
pub struct BuiltSample {
    pub pki: Arc<TestPki>,
}

impl BuiltSample {
    /// The PEM of the test root, for `--extra-root-ca`.
    pub fn root_pem(&self) -> String {
        self.pki.root_pem()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("cannot create the sample PKI: {0}")]
    Pki(#[from] PkiError),
    #[error("cannot write the sample IPA: {0}")]
    Io(#[from] io::Error),
}

impl From<SampleError> for crate::Error {
    fn from(e: SampleError) -> Self {
        crate::Error::new(crate::ErrorKind::Usage, e.to_string())
            .with_hint("check that the output directory is writable and has free space")
            .with_source(e)
    }
}

const SDK: (u32, u32, u32) = (26, 1, 0);
const SDK_STRING: &str = "26.1";

impl SampleApp {
    /// Writes the IPA to `path`.
    pub fn write_to(&self, path: &Path) -> Result<BuiltSample, SampleError> {
        let pki = Arc::new(TestPki::generate()?);
        let signer: CmsSigner = {
            let pki = Arc::clone(&pki);
            // A signing failure leaves the CMS empty: validation then reports an unsigned binary
            // rather than the builder panicking.
            Arc::new(move |cd: &[u8]| pki.distribution.sign_cms(cd, true).unwrap_or_default())
        };

        let target = platform::facts(self.platform);
        let mut app = BundleSpec::app(&self.name, &self.bundle_id);
        current_xcode(&mut app.info);
        platform::apply_bundle_keys(&mut app.info, self.platform, SDK_STRING);
        platform::apply_app_keys(&mut app.info, self.platform);
        app.info
            .insert("CFBundleShortVersionString".into(), self.short_version.clone().into());
        app.info.insert("CFBundleVersion".into(), self.version.clone().into());
        match self.uses_non_exempt_encryption {
            Some(v) => app.info.insert("ITSAppUsesNonExemptEncryption".into(), v.into()),
            None => app.info.remove("ITSAppUsesNonExemptEncryption"),
        };
        app.files.push((
            "Assets.car".into(),
            write_car(platform::catalog_names(self.platform), 64),
        ));
        if self.platform == Platform::Ios {
            app.files.push(("AppIcon60x60@2x.png".into(), tiny_png()));
            app.files.push(("AppIcon76x76@2x~ipad.png".into(), tiny_png()));
        }
        app.files.push(("PrivacyInfo.xcprivacy".into(), privacy_manifest()));
        let profile = |id: &str| -> Result<Vec<u8>, SampleError> {
            let mut b = ProfileBuilder::for_pki(ProfileKind::AppStore, &pki, id);
            b.platforms = vec![target.profile_platform.to_string()];
            Ok(b.build_signed(&pki)?)
        };
        app.profile = Some(profile(&self.bundle_id)?);

        let mut nested_cdhashes = Vec::new();
        if self.with_framework {
            let mut fw = BundleSpec::framework(&format!("{}Kit", self.name), &format!("{}.kit", self.bundle_id));
            current_xcode(&mut fw.info);
            platform::apply_bundle_keys(&mut fw.info, self.platform, SDK_STRING);
            version_like(&mut fw.info, &self.short_version, &self.version);
            let exe = seal(&mut fw, &pki, &signer, MH_DYLIB, &target)?;
            nested_cdhashes.push((
                format!("Frameworks/{}", fw.dir),
                primary_cdhash(&exe).unwrap_or_default(),
            ));
            app.nested.push(("Frameworks".into(), fw));
        }
        if self.with_extension {
            let id = format!("{}.share", self.bundle_id);
            let mut ext = BundleSpec::extension("Share", &id);
            current_xcode(&mut ext.info);
            platform::apply_bundle_keys(&mut ext.info, self.platform, SDK_STRING);
            version_like(&mut ext.info, &self.short_version, &self.version);
            ext.profile = Some(profile(&id)?);
            let exe = seal(&mut ext, &pki, &signer, MH_EXECUTE, &target)?;
            nested_cdhashes.push((format!("PlugIns/{}", ext.dir), primary_cdhash(&exe).unwrap_or_default()));
            app.nested.push(("PlugIns".into(), ext));
        }

        let mut extra = Vec::new();
        if self.padding > 0 {
            let digest = sha256_of(PatternReader::new(self.padding))?;
            extra.push(("Content.bin".to_string(), digest));
        }
        let app_dir = format!("Payload/{}.app", self.name);
        let nested_refs: Vec<(&str, &[u8])> = nested_cdhashes
            .iter()
            .map(|(p, h)| (p.as_str(), h.as_slice()))
            .collect();
        seal_with(&mut app, &pki, &signer, MH_EXECUTE, &target, &nested_refs, &extra)?;

        let mut builder = IpaBuilder::new().app(app);
        if self.padding > 0 {
            builder = builder.entry(
                Entry::reader(&format!("{app_dir}/Content.bin"), PatternReader::new(self.padding))
                    .method(Method::Stored),
            );
        }
        builder.write_to(path)?;
        Ok(BuiltSample { pki })
    }
}

/// Info.plist keys of an Xcode 26.1 build for the iOS 26.1 SDK (the SDK floor in force).
fn current_xcode(info: &mut Dictionary) {
    for (k, v) in [
        ("DTPlatformVersion", "26.1"),
        ("DTSDKName", "iphoneos26.1"),
        ("DTSDKBuild", "23B77"),
        ("DTPlatformBuild", "23B77"),
        ("DTXcode", "2610"),
        ("DTXcodeBuild", "17B100"),
    ] {
        info.insert(k.into(), Value::String(v.into()));
    }
}

/// Nested bundles carry the host's versions (ITMS-90473).
fn version_like(info: &mut Dictionary, short_version: &str, version: &str) {
    info.insert("CFBundleShortVersionString".into(), short_version.into());
    info.insert("CFBundleVersion".into(), version.into());
}

fn seal(
    spec: &mut BundleSpec,
    pki: &TestPki,
    signer: &CmsSigner,
    filetype: u32,
    target: &PlatformFacts,
) -> Result<Vec<u8>, SampleError> {
    seal_with(spec, pki, signer, filetype, target, &[], &[])
}

/// Seals a bundle the way Xcode does: CodeResources over its files (and nested code by cdhash),
/// then the executable signed over the exact Info.plist and CodeResources bytes written.
/// `presealed` adds files written elsewhere (streamed entries) by their SHA-256.
fn seal_with(
    spec: &mut BundleSpec,
    pki: &TestPki,
    signer: &CmsSigner,
    filetype: u32,
    target: &PlatformFacts,
    nested: &[(&str, &[u8])],
    presealed: &[(String, [u8; 32])],
) -> Result<Vec<u8>, SampleError> {
    let id = spec
        .info
        .get("CFBundleIdentifier")
        .and_then(Value::as_string)
        .unwrap_or_default()
        .to_string();
    let info_bytes = plist_bytes(&spec.info, spec.info_format);
    let mut resources = CodeResourcesBuilder::new();
    for (path, bytes) in &spec.files {
        resources = resources.file(path, bytes);
    }
    if let Some(profile) = &spec.profile {
        resources = resources.file("embedded.mobileprovision", profile);
    }
    for (path, cdhash) in nested {
        resources = resources.nested(path, cdhash);
    }
    for (path, digest) in presealed {
        resources = resources.file_sha256(path, digest);
    }
    let code_resources = resources.build();

    let mut entitlements = Dictionary::new();
    if filetype == MH_EXECUTE {
        entitlements.insert("application-identifier".into(), format!("{}.{id}", pki.team_id).into());
        entitlements.insert("com.apple.developer.team-identifier".into(), pki.team_id.clone().into());
        entitlements.insert("get-task-allow".into(), false.into());
        entitlements.insert("beta-reports-active".into(), true.into());
    }
    let mut signature = SignatureSpec::new(&id)
        .team_id(&pki.team_id)
        .info_plist(&info_bytes)
        .code_resources(&code_resources)
        .cms(Arc::clone(signer));
    if !entitlements.is_empty() {
        signature = signature.entitlements(entitlements);
    }
    let exe = MachOBuilder::new()
        .slice(
            SliceSpec::new(Arch::Arm64)
                .filetype(filetype)
                .platform(target.build_platform)
                .minos(target.min_os.0, target.min_os.1, target.min_os.2)
                .sdk(SDK.0, SDK.1, SDK.2)
                .code_pages(4)
                .signature(signature),
        )
        .build();
    spec.files.push(("_CodeSignature/CodeResources".into(), code_resources));
    spec.executable = Some(exe.clone());
    Ok(exe)
}

fn privacy_manifest() -> Vec<u8> {
    let mut api = Dictionary::new();
    api.insert(
        "NSPrivacyAccessedAPIType".into(),
        "NSPrivacyAccessedAPICategoryUserDefaults".into(),
    );
    api.insert(
        "NSPrivacyAccessedAPITypeReasons".into(),
        Value::Array(vec!["CA92.1".into()]),
    );
    let mut d = Dictionary::new();
    d.insert("NSPrivacyTracking".into(), false.into());
    d.insert("NSPrivacyTrackingDomains".into(), Value::Array(Vec::new()));
    d.insert("NSPrivacyCollectedDataTypes".into(), Value::Array(Vec::new()));
    d.insert(
        "NSPrivacyAccessedAPITypes".into(),
        Value::Array(vec![Value::Dictionary(api)]),
    );
    plist_bytes(&d, PlistFormat::Xml)
}

/// A 1×1 PNG header-and-chunks shape; its pixels are never decoded.
fn tiny_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0, 0, 0, 13]);
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    png.extend_from_slice(&[0x1f, 0x15, 0xc4, 0x89]);
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&[0xae, 0x42, 0x60, 0x82]);
    png
}

/// Deterministic incompressible bytes (xorshift64*), so a padded sample has its real size on disk.
pub struct PatternReader {
    remaining: u64,
    state: u64,
    word: [u8; 8],
    used: usize,
}

impl PatternReader {
    pub fn new(len: u64) -> Self {
        PatternReader {
            remaining: len,
            state: 0x9E37_79B9_7F4A_7C15,
            word: [0; 8],
            used: 8,
        }
    }

    fn next_word(&mut self) {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.word = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        self.used = 0;
    }
}

impl Read for PatternReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let mut filled = 0;
        while filled < n {
            if self.used == 8 {
                self.next_word();
            }
            let take = (8 - self.used).min(n - filled);
            buf[filled..filled + take].copy_from_slice(&self.word[self.used..self.used + take]);
            self.used += take;
            filled += take;
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn sha256_of(mut reader: impl Read) -> io::Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_reader_yields_exactly_its_length() {
        for len in [0u64, 1, 7, 8, 9, 1000, 65_537] {
            let mut out = Vec::new();
            PatternReader::new(len).read_to_end(&mut out).unwrap();
            assert_eq!(out.len() as u64, len);
        }
        let mut a = Vec::new();
        PatternReader::new(64).read_to_end(&mut a).unwrap();
        assert_ne!(a[..8], a[8..16], "bytes vary");
    }
}
