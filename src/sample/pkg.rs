//! Synthesised Mac App Store packages: a real flat package (xar, zlib-compressed XML TOC with a
//! SHA-1 checksum, Distribution, a component package with PackageInfo and a gzip'd cpio "odc"
//! payload holding `<Name>.app`), with switches for each broken variant the rules and the reader's
//! caps are tested with.
//!
//! The installer signature is a `<signature>` element with a real certificate (self-signed, named
//! like Apple's installer certificates) over placeholder signature bytes: the reader reports the
//! signature's presence and signer, it does not verify the RSA signature.

use std::io::Write as _;
use std::path::Path;

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use sha1::Digest as _;

use crate::sample::macho::{Arch, MachOBuilder, SignatureSpec, SliceSpec};

/// How the component payload is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    /// gzip'd cpio "odc" (what `pkgbuild`/`productbuild` write).
    GzipOdc,
    /// gzip'd cpio "newc".
    GzipNewc,
    /// cpio "odc", not compressed (accepted by the reader; lets mutation tests reach the cpio,
    /// plist and Mach-O parsers without breaking a gzip stream first).
    RawOdc,
    /// A `pbzx` header (Apple's own system packages): refused by the reader.
    Pbzx,
}

#[derive(Debug, Clone)]
pub struct PkgBuilder {
    pub name: String,
    pub bundle_id: String,
    pub short_version: String,
    pub version: String,
    pub min_os: Option<String>,
    pub category: Option<String>,
    /// `com.apple.security.app-sandbox` in the executable's signature; `None` signs no entitlements.
    pub sandbox: Option<bool>,
    pub with_executable: bool,
    /// The installer certificate's common name; `None` leaves the package unsigned.
    pub signer: Option<String>,
    pub with_distribution: bool,
    pub distribution_id: Option<String>,
    pub distribution_version: Option<String>,
    pub package_info_bundle_id: Option<String>,
    pub package_info_short_version: Option<String>,
    pub payload_format: PayloadFormat,
    /// Files written into the payload before the app (`Filler/<n>.dat`, `filler_size` bytes each).
    pub filler_entries: usize,
    pub filler_size: usize,
    /// Files written into the payload after the app (`Trailing/<n>.dat`, empty).
    pub trailing_entries: usize,
    /// Replaces the app's Info.plist bytes.
    pub info_plist: Option<Vec<u8>>,
    /// Write `Contents/embedded.provisionprofile` (a Mac App Store profile for the bundle id, as a
    /// bare plist: the package rules read its app id, not its signature).
    pub with_profile: bool,
    pub corrupt_toc_checksum: bool,
}

impl Default for PkgBuilder {
    fn default() -> Self {
        PkgBuilder {
            name: "Sample".into(),
            bundle_id: "com.example.sample".into(),
            short_version: "1.0.0".into(),
            version: "1".into(),
            min_os: Some("13.0".into()),
            category: Some("public.app-category.developer-tools".into()),
            sandbox: Some(true),
            with_executable: true,
            signer: Some("3rd Party Mac Developer Installer: Sample Team (ABCDE12345)".into()),
            with_distribution: true,
            distribution_id: None,
            distribution_version: None,
            package_info_bundle_id: None,
            package_info_short_version: None,
            payload_format: PayloadFormat::GzipOdc,
            filler_entries: 0,
            filler_size: 0,
            trailing_entries: 0,
            info_plist: None,
            with_profile: true,
            corrupt_toc_checksum: false,
        }
    }
}

/// One file of the xar heap.
pub struct XarFile {
    /// Path in the archive (`a/b` creates directory `a`).
    pub path: String,
    pub bytes: Vec<u8>,
    /// zlib-compress it (`application/x-gzip`), or store it as is.
    pub compress: bool,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).expect("write to memory");
    e.finish().expect("finish in memory")
}

/// A cpio "odc" entry.
pub fn odc_entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
    let namez = name.len() + 1;
    let header = format!(
        "070707{:06o}{:06o}{:06o}{:06o}{:06o}{:06o}{:06o}{:011o}{:06o}{:011o}",
        0,
        1,
        mode,
        0,
        80,
        1,
        0,
        0,
        namez,
        data.len()
    );
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.extend_from_slice(data);
}

/// A cpio "newc" entry (header and name padded to 4 bytes, data too).
pub fn newc_entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
    let namez = name.len() + 1;
    let header = format!(
        "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
        1,
        mode,
        0,
        80,
        1,
        0,
        data.len(),
        0,
        0,
        0,
        0,
        namez,
        0
    );
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// Writes a xar archive around a TOC body (the elements inside `<toc>` after the checksum) and a
/// heap whose first 20 bytes are reserved for the SHA-1 TOC checksum.
pub fn xar_from_toc(toc_inner: &str, heap_after_checksum: &[u8], corrupt_checksum: bool) -> Vec<u8> {
    let toc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xar>\n <toc>\n  <checksum style=\"sha1\"><offset>0</offset><size>20</size></checksum>\n  <creation-time>2026-12-05T00:00:00</creation-time>\n{toc_inner} </toc>\n</xar>\n"
    );
    let compressed = zlib(toc.as_bytes());
    let mut sum = sha1::Sha1::digest(&compressed).to_vec();
    if corrupt_checksum {
        sum[0] ^= 0xff;
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"xar!");
    out.extend_from_slice(&28u16.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(compressed.len() as u64).to_be_bytes());
    out.extend_from_slice(&(toc.len() as u64).to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&compressed);
    out.extend_from_slice(&sum);
    out.extend_from_slice(heap_after_checksum);
    out
}

/// The `<file>` elements and heap for `files` (heap offsets start after the 20-byte checksum and
/// `reserved` more bytes).
pub fn toc_files(files: &[XarFile], reserved: usize) -> (String, Vec<u8>) {
    let mut heap = Vec::new();
    let mut xml = String::new();
    let mut id = 1;
    let mut open_dir: Option<String> = None;
    for f in files {
        let (dir, name) = match f.path.rsplit_once('/') {
            Some((d, n)) => (Some(d.to_string()), n.to_string()),
            None => (None, f.path.clone()),
        };
        if open_dir != dir {
            if open_dir.is_some() {
                xml.push_str("  </file>\n");
            }
            if let Some(d) = &dir {
                xml.push_str(&format!(
                    "  <file id=\"{id}\"><name>{}</name><type>directory</type>\n",
                    xml_escape(d)
                ));
                id += 1;
            }
            open_dir = dir;
        }
        let stored = if f.compress { zlib(&f.bytes) } else { f.bytes.clone() };
        let encoding = if f.compress {
            "application/x-gzip"
        } else {
            "application/octet-stream"
        };
        let offset = 20 + reserved + heap.len();
        xml.push_str(&format!(
            "   <file id=\"{id}\"><name>{}</name><type>file</type><data><length>{}</length><offset>{offset}</offset><size>{}</size><encoding style=\"{encoding}\"/></data></file>\n",
            xml_escape(&name),
            stored.len(),
            f.bytes.len()
        ));
        id += 1;
        heap.extend_from_slice(&stored);
    }
    if open_dir.is_some() {
        xml.push_str("  </file>\n");
    }
    (xml, heap)
}

/// A self-signed certificate with this common name (DER).
fn certificate(common_name: &str) -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("generate a key");
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    params.self_signed(&key).expect("self-sign").der().to_vec()
}

impl PkgBuilder {
    pub fn new() -> Self {
        PkgBuilder::default()
    }

    fn info_plist_bytes(&self) -> Vec<u8> {
        if let Some(bytes) = &self.info_plist {
            return bytes.clone();
        }
        let mut d = plist::Dictionary::new();
        d.insert("CFBundleIdentifier".into(), self.bundle_id.clone().into());
        d.insert("CFBundleShortVersionString".into(), self.short_version.clone().into());
        d.insert("CFBundleVersion".into(), self.version.clone().into());
        d.insert("CFBundleExecutable".into(), self.name.clone().into());
        d.insert("CFBundlePackageType".into(), "APPL".into());
        d.insert("CFBundleName".into(), self.name.clone().into());
        d.insert("DTPlatformName".into(), "macosx".into());
        d.insert("DTSDKName".into(), "macosx15.2".into());
        d.insert("DTXcode".into(), "1620".into());
        d.insert("ITSAppUsesNonExemptEncryption".into(), false.into());
        if let Some(v) = &self.min_os {
            d.insert("LSMinimumSystemVersion".into(), v.clone().into());
        }
        if let Some(c) = &self.category {
            d.insert("LSApplicationCategoryType".into(), c.clone().into());
        }
        let mut out = Vec::new();
        plist::Value::Dictionary(d)
            .to_writer_xml(&mut out)
            .expect("write plist");
        out
    }

    fn executable(&self) -> Vec<u8> {
        let mut slice = SliceSpec::new(Arch::Arm64)
            .platform(1)
            .minos(13, 0, 0)
            .sdk(15, 2, 0)
            .cryptid(None);
        if let Some(sandbox) = self.sandbox {
            let mut ents = plist::Dictionary::new();
            ents.insert("com.apple.security.app-sandbox".into(), sandbox.into());
            ents.insert(
                "com.apple.application-identifier".into(),
                format!("ABCDE12345.{}", self.bundle_id).into(),
            );
            slice = slice.signature(
                SignatureSpec::new(&self.bundle_id)
                    .team_id("ABCDE12345")
                    .entitlements(ents),
            );
        }
        MachOBuilder::new().slice(slice).build()
    }

    /// The component package's payload, encoded.
    pub fn payload(&self) -> Vec<u8> {
        let app = format!("./{}.app", self.name);
        let mut entries: Vec<(String, u32, Vec<u8>)> = vec![(".".into(), 0o040755, Vec::new())];
        for i in 0..self.filler_entries {
            entries.push((format!("./Filler/{i:06}.dat"), 0o100644, vec![b'x'; self.filler_size]));
        }
        entries.push((app.clone(), 0o040755, Vec::new()));
        entries.push((format!("{app}/Contents"), 0o040755, Vec::new()));
        entries.push((format!("{app}/Contents/Info.plist"), 0o100644, self.info_plist_bytes()));
        if self.with_executable {
            entries.push((
                format!("{app}/Contents/MacOS/{}", self.name),
                0o100755,
                self.executable(),
            ));
        }
        entries.push((format!("{app}/Contents/PkgInfo"), 0o100644, b"APPL????".to_vec()));
        if self.with_profile {
            let mut profile = crate::sample::profile::ProfileBuilder::new(
                crate::profile::ProfileKind::AppStore,
                "ABCDE12345",
                &format!("ABCDE12345.{}", self.bundle_id),
            );
            profile.platforms = vec!["OSX".into()];
            entries.push((
                format!("{app}/Contents/embedded.provisionprofile"),
                0o100644,
                profile.build_unsigned(),
            ));
        }
        for i in 0..self.trailing_entries {
            entries.push((format!("./Trailing/{i:06}.dat"), 0o100644, Vec::new()));
        }
        let mut cpio = Vec::new();
        for (name, mode, data) in &entries {
            match self.payload_format {
                PayloadFormat::GzipNewc => newc_entry(&mut cpio, name, *mode, data),
                _ => odc_entry(&mut cpio, name, *mode, data),
            }
        }
        match self.payload_format {
            PayloadFormat::GzipNewc => newc_entry(&mut cpio, "TRAILER!!!", 0, &[]),
            _ => odc_entry(&mut cpio, "TRAILER!!!", 0, &[]),
        }
        if self.payload_format == PayloadFormat::RawOdc {
            return cpio;
        }
        if self.payload_format == PayloadFormat::Pbzx {
            let mut out = b"pbzx".to_vec();
            out.extend_from_slice(&(16u64 << 20).to_be_bytes());
            out.extend_from_slice(&cpio);
            return out;
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&cpio).expect("write to memory");
        gz.finish().expect("finish in memory")
    }

    fn package_info(&self) -> String {
        let id = self.package_info_bundle_id.as_deref().unwrap_or(&self.bundle_id);
        let short = self
            .package_info_short_version
            .as_deref()
            .unwrap_or(&self.short_version);
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<pkg-info overwrite-permissions=\"true\" relocatable=\"false\" identifier=\"{id}\" postinstall-action=\"none\" version=\"{short}\" format-version=\"2\" install-location=\"/Applications\" auth=\"root\">\n    <payload numberOfFiles=\"6\" installKBytes=\"64\"/>\n    <bundle path=\"./{name}.app\" id=\"{id}\" CFBundleShortVersionString=\"{short}\" CFBundleVersion=\"{version}\"/>\n    <bundle-version>\n        <bundle id=\"{id}\"/>\n    </bundle-version>\n</pkg-info>\n",
            id = xml_escape(id),
            short = xml_escape(short),
            name = xml_escape(&self.name),
            version = xml_escape(&self.version),
        )
    }

    fn distribution(&self) -> String {
        let id = self.distribution_id.as_deref().unwrap_or(&self.bundle_id);
        let version = self.distribution_version.as_deref().unwrap_or(&self.short_version);
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<installer-gui-script minSpecVersion=\"2\">\n    <pkg-ref id=\"{bid}\">\n        <bundle-version>\n            <bundle CFBundleShortVersionString=\"{short}\" CFBundleVersion=\"{build}\" id=\"{bid}\" path=\"{name}.app\"/>\n        </bundle-version>\n    </pkg-ref>\n    <product id=\"{id}\" version=\"{version}\"/>\n    <options customize=\"never\" require-scripts=\"false\" hostArchitectures=\"arm64,x86_64\"/>\n    <volume-check>\n        <allowed-os-versions>\n            <os-version min=\"13.0\"/>\n        </allowed-os-versions>\n    </volume-check>\n    <choices-outline>\n        <line choice=\"default\">\n            <line choice=\"{bid}\"/>\n        </line>\n    </choices-outline>\n    <choice id=\"default\"/>\n    <choice id=\"{bid}\" visible=\"false\">\n        <pkg-ref id=\"{bid}\"/>\n    </choice>\n    <pkg-ref id=\"{bid}\" version=\"{short}\" onConclusion=\"none\" installKBytes=\"64\">#{bid}.pkg</pkg-ref>\n</installer-gui-script>\n",
            id = xml_escape(id),
            version = xml_escape(version),
            bid = xml_escape(&self.bundle_id),
            short = xml_escape(&self.short_version),
            build = xml_escape(&self.version),
            name = xml_escape(&self.name),
        )
    }

    /// The whole package.
    pub fn build(&self) -> Vec<u8> {
        let component = format!("{}.pkg", self.bundle_id);
        let mut files = Vec::new();
        if self.with_distribution {
            files.push(XarFile {
                path: "Distribution".into(),
                bytes: self.distribution().into_bytes(),
                compress: true,
            });
        }
        files.push(XarFile {
            path: format!("{component}/PackageInfo"),
            bytes: self.package_info().into_bytes(),
            compress: true,
        });
        files.push(XarFile {
            path: format!("{component}/Payload"),
            bytes: self.payload(),
            compress: false,
        });
        // The signature's placeholder bytes sit right after the checksum, as productbuild lays out.
        const SIG_LEN: usize = 256;
        let reserved = if self.signer.is_some() { SIG_LEN } else { 0 };
        let (files_xml, heap) = toc_files(&files, reserved);
        let mut toc = String::new();
        let mut heap_all = Vec::new();
        if let Some(cn) = &self.signer {
            use base64::Engine as _;
            let cert = base64::engine::general_purpose::STANDARD.encode(certificate(cn));
            toc.push_str(&format!(
                "  <signature style=\"RSA\"><offset>20</offset><size>{SIG_LEN}</size><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></signature>\n"
            ));
            heap_all.extend_from_slice(&[0x5a; SIG_LEN]);
        }
        toc.push_str(&files_xml);
        heap_all.extend_from_slice(&heap);
        xar_from_toc(&toc, &heap_all, self.corrupt_toc_checksum)
    }

    pub fn write_to(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.build())
    }
}
