//! Mac App Store packages: the synthesised `.pkg` inspects to the app's identity and the
//! installer's facts, every Mac App Store package rule fires on its broken variant (and not on the
//! clean one), and every cap of the xar reader refuses with its own typed error.

use std::path::{Path, PathBuf};

use asc_publish::ipa::Platform;
use asc_publish::pkg::PkgInspection;
use asc_publish::profile::TrustStore;
use asc_publish::sample::pkg::{PayloadFormat, PkgBuilder, XarFile, toc_files, xar_from_toc};
use asc_publish::subject::Subject;
use asc_publish::validate::Options;
use xar_read::{Limits, XarError};

fn write(dir: &Path, b: &PkgBuilder) -> PathBuf {
    let path = dir.join("Sample.pkg");
    b.write_to(&path).unwrap();
    path
}

fn inspect(b: &PkgBuilder) -> PkgInspection {
    let dir = tempfile::tempdir().unwrap();
    asc_publish::pkg::inspect(&write(dir.path(), b), &TrustStore::apple()).unwrap()
}

fn codes(b: &PkgBuilder) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let trust = TrustStore::apple();
    let subject = Subject::open(&write(dir.path(), b), &trust).unwrap();
    let report = subject.validate(&trust, &Options::default(), std::time::SystemTime::now());
    report.findings.into_iter().map(|f| f.code).collect()
}

fn with_limits(b: &PkgBuilder, limits: Limits) -> Result<PkgInspection, XarError> {
    let dir = tempfile::tempdir().unwrap();
    asc_publish::pkg::inspect_with(&write(dir.path(), b), &TrustStore::apple(), limits).map_err(|e| e.source)
}

#[test]
fn a_clean_package_inspects_to_the_app_and_passes_every_rule() {
    let p = inspect(&PkgBuilder::new());
    let app = &p.inspection.app;
    assert_eq!(app.platform, Platform::MacOs);
    assert_eq!(app.bundle_id.as_deref(), Some("com.example.sample"));
    assert_eq!(app.short_version.as_deref(), Some("1.0.0"));
    assert_eq!(app.version.as_deref(), Some("1"));
    assert_eq!(app.minimum_os.as_deref(), Some("13.0"));
    let pkg = &p.package;
    assert!(pkg.is_signed());
    assert_eq!(
        pkg.signature.as_ref().and_then(|s| s.signer.as_deref()),
        Some("3rd Party Mac Developer Installer: Sample Team (ABCDE12345)")
    );
    assert_eq!(serde_json::to_value(&pkg.toc_checksum).unwrap(), "verified");
    assert_eq!(pkg.app_component.as_deref(), Some("com.example.sample.pkg/Payload"));
    assert_eq!(pkg.app_sandbox, Some(true));
    assert_eq!(
        pkg.distribution.as_ref().and_then(|d| d.product_id.as_deref()),
        Some("com.example.sample")
    );
    assert_eq!(
        pkg.package_info.as_ref().and_then(|i| i.app_version.as_deref()),
        Some("1")
    );
    assert!(pkg.problems.is_empty(), "{:?}", pkg.problems);
    let profile = p.inspection.bundles[0].profile.as_ref().and_then(|l| l.ok()).unwrap();
    assert_eq!(
        profile.application_identifier.as_deref(),
        Some("ABCDE12345.com.example.sample")
    );
    assert_eq!(
        p.inspection.bundles[0].path,
        "com.example.sample.pkg/Payload/Sample.app"
    );
    assert!(codes(&PkgBuilder::new()).is_empty(), "{:?}", codes(&PkgBuilder::new()));
}

#[test]
fn a_newc_payload_reads_like_odc() {
    let p = inspect(&PkgBuilder {
        payload_format: PayloadFormat::GzipNewc,
        ..PkgBuilder::new()
    });
    assert_eq!(p.inspection.app.bundle_id.as_deref(), Some("com.example.sample"));
    assert_eq!(p.package.app_sandbox, Some(true));
}

fn assert_code(b: PkgBuilder, code: &str) {
    let got = codes(&b);
    assert!(got.iter().any(|c| c == code), "expected {code}, got {got:?}");
}

#[test]
fn each_mac_app_store_rule_fires_on_its_broken_package() {
    assert_code(
        PkgBuilder {
            signer: None,
            ..PkgBuilder::new()
        },
        "ITMS-90237",
    );
    assert_code(
        PkgBuilder {
            signer: Some("Developer ID Installer: Sample Team (ABCDE12345)".into()),
            ..PkgBuilder::new()
        },
        "ITMS-90237",
    );
    assert_code(
        PkgBuilder {
            sandbox: Some(false),
            ..PkgBuilder::new()
        },
        "ITMS-90296",
    );
    assert_code(
        PkgBuilder {
            sandbox: None,
            ..PkgBuilder::new()
        },
        "ITMS-90296",
    );
    assert_code(
        PkgBuilder {
            with_executable: false,
            ..PkgBuilder::new()
        },
        "ASC-PKG-NO-EXECUTABLE",
    );
    assert_code(
        PkgBuilder {
            category: None,
            ..PkgBuilder::new()
        },
        "ITMS-90242",
    );
    assert_code(
        PkgBuilder {
            with_profile: false,
            ..PkgBuilder::new()
        },
        "ITMS-90889",
    );
    assert_code(
        PkgBuilder {
            sandbox: None,
            ..PkgBuilder::new()
        },
        "ITMS-90886",
    );
    assert_code(
        PkgBuilder {
            min_os: None,
            ..PkgBuilder::new()
        },
        "ASC-PKG-MIN-OS",
    );
    assert_code(
        PkgBuilder {
            distribution_id: Some("com.example.other".into()),
            ..PkgBuilder::new()
        },
        "ASC-PKG-ID-MISMATCH",
    );
    assert_code(
        PkgBuilder {
            distribution_version: Some("2.0".into()),
            ..PkgBuilder::new()
        },
        "ASC-PKG-VERSION-MISMATCH",
    );
    assert_code(
        PkgBuilder {
            package_info_bundle_id: Some("com.example.other".into()),
            ..PkgBuilder::new()
        },
        "ASC-PKG-ID-MISMATCH",
    );
    assert_code(
        PkgBuilder {
            package_info_short_version: Some("9.9".into()),
            ..PkgBuilder::new()
        },
        "ASC-PKG-VERSION-MISMATCH",
    );
    assert_code(
        PkgBuilder {
            with_distribution: false,
            ..PkgBuilder::new()
        },
        "ASC-PKG-NOT-PRODUCT-ARCHIVE",
    );
    assert_code(
        PkgBuilder {
            corrupt_toc_checksum: true,
            ..PkgBuilder::new()
        },
        "ASC-PKG-TOC-CHECKSUM",
    );
    assert_code(
        PkgBuilder {
            payload_format: PayloadFormat::Pbzx,
            ..PkgBuilder::new()
        },
        "ASC-PKG-UNREADABLE",
    );
    assert_code(
        PkgBuilder {
            payload_format: PayloadFormat::Pbzx,
            ..PkgBuilder::new()
        },
        "ASC-PKG-NO-APP",
    );
    assert_code(
        PkgBuilder {
            info_plist: Some(b"not a plist".to_vec()),
            ..PkgBuilder::new()
        },
        "ASC-PKG-INFO-PLIST",
    );
    let mut no_version = plist::Dictionary::new();
    no_version.insert("CFBundleExecutable".into(), "Sample".into());
    let mut bytes = Vec::new();
    plist::Value::Dictionary(no_version).to_writer_xml(&mut bytes).unwrap();
    let got = codes(&PkgBuilder {
        info_plist: Some(bytes),
        ..PkgBuilder::new()
    });
    for code in ["ITMS-90049", "ITMS-90056", "ITMS-90057"] {
        assert!(got.iter().any(|c| c == code), "expected {code}, got {got:?}");
    }
}

#[test]
fn the_pbzx_payload_is_named_in_the_problem() {
    let p = inspect(&PkgBuilder {
        payload_format: PayloadFormat::Pbzx,
        ..PkgBuilder::new()
    });
    assert!(
        p.package.problems.iter().any(|m| m.contains("pbzx")),
        "{:?}",
        p.package.problems
    );
    assert!(p.inspection.bundles.is_empty());
}

#[test]
fn the_walk_stops_once_the_app_is_read() {
    // With 2,000 files before the app, a cap of 100 entries trips; with them after the app, it
    // never does, because the walk stops once it has left the app.
    let before = PkgBuilder {
        filler_entries: 2000,
        ..PkgBuilder::new()
    };
    let capped = Limits {
        max_payload_entries: 100,
        ..Limits::default()
    };
    let p = with_limits(&before, capped).unwrap();
    assert!(
        p.package.problems.iter().any(|m| m.contains("more than 100 entries")),
        "{:?}",
        p.package.problems
    );
    let after = PkgBuilder {
        trailing_entries: 2000,
        ..PkgBuilder::new()
    };
    let p = with_limits(&after, capped).unwrap();
    assert!(p.package.problems.is_empty(), "{:?}", p.package.problems);
    assert_eq!(p.package.app_sandbox, Some(true));
}

#[test]
fn payload_caps_are_reported_not_fatal() {
    let big = PkgBuilder {
        filler_entries: 4,
        filler_size: 64 * 1024,
        ..PkgBuilder::new()
    };
    let p = with_limits(
        &big,
        Limits {
            max_payload_bytes: 100_000,
            ..Limits::default()
        },
    )
    .unwrap();
    assert!(
        p.package
            .problems
            .iter()
            .any(|m| m.contains("decompresses past 100000 bytes")),
        "{:?}",
        p.package.problems
    );
    let p = with_limits(
        &PkgBuilder::new(),
        Limits {
            max_name: 8,
            ..Limits::default()
        },
    )
    .unwrap();
    assert!(
        p.package.problems.iter().any(|m| m.contains("the limit is 8")),
        "{:?}",
        p.package.problems
    );
}

#[test]
fn toc_caps_refuse_the_package_with_typed_errors() {
    let b = PkgBuilder::new();
    let err = with_limits(
        &b,
        Limits {
            max_toc_compressed: 64,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, XarError::TocTooLarge { limit: 64, .. }), "{err}");
    let err = with_limits(
        &b,
        Limits {
            max_toc_xml: 256,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, XarError::TocTooLarge { limit: 256, .. }), "{err}");
    let err = with_limits(
        &b,
        Limits {
            max_files: 2,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, XarError::TooManyFiles { limit: 2 }), "{err}");
    let err = with_limits(
        &b,
        Limits {
            max_depth: 3,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, XarError::TooDeep { limit: 3 }), "{err}");
}

fn open_bytes(bytes: Vec<u8>) -> Result<xar_read::Xar<std::io::Cursor<Vec<u8>>>, XarError> {
    xar_read::Xar::open(std::io::Cursor::new(bytes), Limits::default())
}

#[test]
fn crafted_headers_and_tocs_are_refused() {
    assert!(matches!(
        open_bytes(b"PK\x03\x04 not xar at all, a zip".to_vec()),
        Err(XarError::NotXar)
    ));
    assert!(matches!(open_bytes(b"xar!".to_vec()), Err(XarError::BadHeader(_))));
    let good = PkgBuilder::new().build();
    // The header claims a 1 TiB TOC.
    let mut huge = good.clone();
    huge[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes());
    assert!(matches!(open_bytes(huge), Err(XarError::TocTooLarge { .. })));
    // The TOC runs past the end of the file.
    let mut short = good.clone();
    short.truncate(40);
    assert!(matches!(open_bytes(short), Err(XarError::BadHeader(_))));
    // Not zlib.
    let mut garbled = good.clone();
    for b in garbled.iter_mut().skip(28).take(16) {
        *b = 0xee;
    }
    assert!(matches!(open_bytes(garbled), Err(XarError::TocCompression(_))));
    // <file> elements nested past the depth cap.
    let deep = "<file><name>d</name><type>directory</type>".repeat(80) + &"</file>".repeat(80);
    assert!(matches!(
        open_bytes(xar_from_toc(&deep, &[], false)),
        Err(XarError::TooDeep { limit: 64 })
    ));
    // A DOCTYPE (entity expansion) is refused outright.
    let mut toc = xar_from_toc("", &[], false);
    toc.truncate(0);
    let bomb = "<!DOCTYPE xar [<!ENTITY a \"aaaaaaaaaa\">]>";
    let xml_with_doctype = format!("<?xml version=\"1.0\"?>{bomb}<xar><toc/></xar>");
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, xml_with_doctype.as_bytes()).unwrap();
    let z = e.finish().unwrap();
    let mut bytes = b"xar!".to_vec();
    bytes.extend_from_slice(&28u16.to_be_bytes());
    bytes.extend_from_slice(&1u16.to_be_bytes());
    bytes.extend_from_slice(&(z.len() as u64).to_be_bytes());
    bytes.extend_from_slice(&(xml_with_doctype.len() as u64).to_be_bytes());
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(&z);
    assert!(matches!(open_bytes(bytes), Err(XarError::TocXml(_))));
}

#[test]
fn heap_reads_are_bounded_by_the_file_and_the_caller() {
    let files = [XarFile {
        path: "Distribution".into(),
        bytes: vec![b'x'; 5000],
        compress: true,
    }];
    let (xml, heap) = toc_files(&files, 0);
    let mut xar = open_bytes(xar_from_toc(&xml, &heap, false)).unwrap();
    assert!(matches!(
        xar.read_file("Distribution", 100),
        Err(XarError::FileTooLarge {
            size: 5000,
            limit: 100,
            ..
        })
    ));
    assert_eq!(xar.read_file("Distribution", 10_000).unwrap().len(), 5000);
    assert!(matches!(xar.read_file("Nope", 10), Err(XarError::NotFound(_))));
    // Data said to lie past the end of the file.
    let lying = xml.replace("<offset>20</offset>", "<offset>999999</offset>");
    let mut xar = open_bytes(xar_from_toc(&lying, &heap, false)).unwrap();
    assert!(matches!(
        xar.read_file("Distribution", 10_000),
        Err(XarError::OutOfBounds { .. })
    ));
}

#[test]
fn the_cli_inspects_and_validates_a_package() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &PkgBuilder::new());
    let bin = env!("CARGO_BIN_EXE_asc-publish");
    let out = std::process::Command::new(bin)
        .args(["inspect", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["app"]["platform"], "MAC_OS");
    assert_eq!(doc["app"]["bundle_id"], "com.example.sample");
    assert_eq!(doc["package"]["app_sandbox"], true);
    assert_eq!(doc["package"]["signature"]["style"], "RSA");

    let broken = write(
        dir.path(),
        &PkgBuilder {
            sandbox: Some(false),
            ..PkgBuilder::new()
        },
    );
    let out = std::process::Command::new(bin)
        .args(["validate", "--format", "json"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["findings"][0]["code"], "ITMS-90296");
}

/// A real xar archive written by the xar tool itself (see tests/fixtures/SOURCES.md): the TOC
/// checksum verifies, the files are found by name and decode to their text. It holds no package,
/// so the package rules report that no app was found.
#[test]
fn a_real_xar_archive_reads_and_verifies() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mackyle__xar__demo.xar");
    let bytes = std::fs::read(&path).unwrap();
    let mut xar = open_bytes(bytes).unwrap();
    assert_eq!(xar.integrity(), &xar_read::TocIntegrity::Verified);
    let names: Vec<&str> = xar.toc().files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, ["txt2", "txt1"]);
    assert_eq!(xar.toc().creation_time.as_deref(), Some("2016-09-27T21:26:30Z"));
    assert_eq!(
        xar.read_file("txt1", 1024).unwrap(),
        b"This is a short sample text file.\n"
    );
    assert_eq!(
        xar.read_file("txt2", 1024).unwrap(),
        b"This is another short sample text file.\n"
    );
    assert!(xar.payload_paths().is_empty());
    let got = codes_at(&path);
    assert!(got.iter().any(|c| c == "ASC-PKG-NO-APP"), "{got:?}");
    assert!(got.iter().any(|c| c == "ITMS-90237"), "{got:?}");
}

fn codes_at(path: &Path) -> Vec<String> {
    let trust = TrustStore::apple();
    let subject = Subject::open(path, &trust).unwrap();
    let report = subject.validate(&trust, &Options::default(), std::time::SystemTime::now());
    report.findings.into_iter().map(|f| f.code).collect()
}

/// `inspect` of a package without an app speaks of the package's payload, not of an IPA's
/// `Payload/` folder.
#[test]
fn inspect_of_a_package_without_an_app_names_the_payload() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mackyle__xar__demo.xar");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .arg("inspect")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("MAC_OS"), "{text}");
    assert!(text.contains("No <Name>.app found in the package's payload."), "{text}");
    assert!(!text.contains("Payload/<Name>.app"), "{text}");
}
