//! Hostile and broken archives: the reader must answer with a clear error or a finding, never a
//! panic, a hang or unbounded memory.

use std::time::SystemTime;

use crate::support::ipa::{Raw, minimal_app, write_bytes, write_ipa, zip, zip64_declaring};
use asc_publish::ipa::archive::{Limits, open_with};
use asc_publish::ipa::{EntrySource, IpaError, inspect};
use asc_publish::macho::RangeReader;
use asc_publish::profile::TrustStore;
use asc_publish::sample::ipa::{BundleSpec, IpaBuilder};
use asc_publish::validate::{Options, Report, validate};

fn trust() -> TrustStore {
    TrustStore::apple()
}

fn report(path: &std::path::Path) -> Report {
    let inspected = inspect(path, &trust()).expect("readable archive");
    validate(&inspected, &trust(), &Options::default(), SystemTime::now())
}

fn codes(report: &Report) -> Vec<&str> {
    report.findings.iter().map(|f| f.code.as_str()).collect()
}

fn not_zip(bytes: &[u8]) -> String {
    let file = write_bytes(bytes);
    match inspect(&file.path, &trust()) {
        Err(e @ IpaError::NotZip { .. }) => e.to_string(),
        Err(other) => panic!("expected NotZip, got {other}"),
        Ok(_) => panic!("expected NotZip, got an inspection"),
    }
}

#[test]
fn non_zip_empty_and_truncated_files_are_not_zips() {
    assert!(not_zip(b"").contains("empty"));
    not_zip(b"this is a text file, not an IPA\n");
    let good = zip(&minimal_app());
    not_zip(&good[..good.len() / 2]);
    not_zip(&good[..good.len() - 10]);
    // A corrupt central directory: break the first central header's signature.
    let mut corrupt = good.clone();
    let cd = corrupt
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .expect("central header");
    corrupt[cd + 2] = 0xEE;
    not_zip(&corrupt);
}

#[test]
fn missing_file_and_directory_are_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(
        inspect(&dir.path().join("nope.ipa"), &trust()),
        Err(IpaError::Open { .. })
    ));
    assert!(matches!(inspect(dir.path(), &trust()), Err(IpaError::NotZip { .. })));
}

#[test]
fn huge_entry_counts_are_refused_before_reading_the_directory() {
    let file = write_bytes(&zip64_declaring(3_000_000_000));
    match inspect(&file.path, &trust()) {
        Err(IpaError::TooManyEntries { count, .. }) => assert_eq!(count, 3_000_000_000),
        Err(other) => panic!("expected TooManyEntries, got {other}"),
        Ok(_) => panic!("expected TooManyEntries"),
    }
    let many: Vec<Raw> = (0..50)
        .map(|i| Raw::stored(&format!("Payload/A.app/f{i}"), b"x"))
        .collect();
    let file = write_bytes(&zip(&many));
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    assert!(matches!(
        open_with(&file.path, limits),
        Err(IpaError::TooManyEntries { .. })
    ));
}

#[test]
fn an_entry_inflating_past_its_declared_size_is_stopped() {
    let mut app = minimal_app();
    // 64 MiB of zeros declared as 1000 bytes: reading must stop at 1000 and say why.
    let mut bomb = Raw::deflated_zeros("Payload/Raw.app/Info.plist", 64 << 20);
    bomb.size = 1000;
    app[0] = bomb;
    let file = write_bytes(&zip(&app));
    let inspected = inspect(&file.path, &trust()).expect("readable");
    let info_error = inspected.inspection.bundles[0].info_error.clone().unwrap_or_default();
    assert!(info_error.contains("inflates past"), "{info_error}");
    let report = validate(&inspected, &trust(), &Options::default(), SystemTime::now());
    assert!(codes(&report).contains(&"ASC-ARCHIVE-INFLATE"), "{:?}", codes(&report));
}

#[test]
fn declared_sizes_above_the_limits_are_refused_unread() {
    let mut app = minimal_app();
    app.push(Raw::deflated_zeros("Payload/Raw.app/big.bin", 3 << 20));
    let mut huge_plist = Raw::deflated_zeros("Payload/Raw.app/PlugIns/X.appex/Info.plist", 5 << 20);
    huge_plist.name = b"Payload/Raw.app/PlugIns/X.appex/Info.plist".to_vec();
    app.push(huge_plist);
    let file = write_bytes(&zip(&app));

    let inspected = inspect(&file.path, &trust()).expect("readable");
    let appex = inspected
        .inspection
        .bundles
        .iter()
        .find(|b| b.path.ends_with("X.appex"))
        .expect("appex");
    assert!(
        appex.info_error.as_deref().unwrap_or("").contains("limit"),
        "{:?}",
        appex.info_error
    );

    let limits = Limits {
        max_entry_size: 1 << 20,
        ..Limits::default()
    };
    let archive = open_with(&file.path, limits).expect("readable");
    let err = archive
        .stream("Payload/Raw.app/big.bin", &mut |_| Ok(()))
        .expect_err("over the cap");
    assert!(err.to_string().contains("limit"), "{err}");
    assert!(archive.problems().iter().any(|p| p.name.ends_with("big.bin")));
    let err = archive
        .read("Payload/Raw.app/big.bin", 1024)
        .expect_err("over the read limit");
    assert!(err.to_string().contains("limit"), "{err}");
}

#[test]
fn overlapping_entries_are_found() {
    let mut app = minimal_app();
    let mut twin = Raw::stored("Payload/Raw.app/twin", b"not a mach-o");
    twin.share_header_of = Some(1);
    app.push(twin);
    let file = write_bytes(&zip(&app));
    let archive = open_with(&file.path, Limits::default()).expect("readable");
    let overlaps = archive.overlaps();
    assert_eq!(overlaps.len(), 1, "{overlaps:?}");
    assert!(codes(&report(&file.path)).contains(&"ASC-ARCHIVE-OVERLAP"));
    // A well-formed archive has none.
    let clean = write_ipa(IpaBuilder::new());
    assert!(
        open_with(&clean.path, Limits::default())
            .expect("readable")
            .overlaps()
            .is_empty()
    );
}

#[test]
fn crc_errors_are_reported_when_read() {
    let mut app = minimal_app();
    app[0].crc ^= 0xFFFF;
    let file = write_bytes(&zip(&app));
    let inspected = inspect(&file.path, &trust()).expect("readable");
    assert!(
        inspected.inspection.bundles[0]
            .info_error
            .as_deref()
            .unwrap_or("")
            .contains("CRC")
    );
    let report = validate(&inspected, &trust(), &Options::default(), SystemTime::now());
    let crc = report
        .findings
        .iter()
        .find(|f| f.code == "ASC-ARCHIVE-CRC")
        .expect("CRC finding");
    assert_eq!(crc.path, "Payload/Raw.app/Info.plist");
}

#[test]
fn deep_mode_checks_every_crc() {
    let mut app = minimal_app();
    let mut bad = Raw::stored("Payload/Raw.app/image.png", b"\x89PNG....");
    bad.crc ^= 1;
    app.push(bad);
    let file = write_bytes(&zip(&app));
    // Nothing reads image.png in a normal run…
    assert!(!codes(&report(&file.path)).contains(&"ASC-ARCHIVE-CRC"));
    // …but --deep reads everything.
    let inspected = inspect(&file.path, &trust()).expect("readable");
    let deep = Options {
        deep: true,
        ..Options::default()
    };
    let report = validate(&inspected, &trust(), &deep, SystemTime::now());
    assert!(codes(&report).contains(&"ASC-ARCHIVE-CRC"), "{:?}", codes(&report));
}

#[test]
fn unsupported_methods_and_truncated_data_are_entry_findings() {
    let mut app = minimal_app();
    app[1].method = 12; // bzip2
    app.push(Raw::stored("Payload/Raw.app/PlugIns/E.appex/Info.plist", b"<plist/>"));
    let file = write_bytes(&zip(&app));
    let inspected = inspect(&file.path, &trust()).expect("readable");
    let exe = inspected.inspection.bundles[0]
        .executable
        .as_ref()
        .expect("executable located");
    assert!(exe.ok().is_none());
    let report = validate(&inspected, &trust(), &Options::default(), SystemTime::now());
    assert!(codes(&report).contains(&"ASC-ARCHIVE-ENTRY"), "{:?}", codes(&report));
}

#[test]
fn malformed_and_binary_plists() {
    let garbage =
        IpaBuilder::new().map_app(|a| a.file("PlugIns/Bad.appex/Info.plist", b"<plist><dict><key>x".to_vec()));
    let binary = IpaBuilder::new().map_app(|a| a.info_format(asc_publish::ipa::PlistFormat::Binary));
    let not_dict =
        IpaBuilder::new().map_app(|a| a.file("PlugIns/Arr.appex/Info.plist", b"<plist><array/></plist>".to_vec()));

    let file = write_ipa(garbage);
    let inspected = inspect(&file.path, &trust()).expect("readable");
    let bad = inspected
        .inspection
        .bundles
        .iter()
        .find(|b| b.path.ends_with("Bad.appex"))
        .expect("bundle");
    assert!(bad.info.is_none() && bad.info_error.as_deref().unwrap_or("").contains("not a valid plist"));

    let file = write_ipa(binary);
    let inspected = inspect(&file.path, &trust()).expect("readable");
    assert_eq!(inspected.inspection.app.bundle_id.as_deref(), Some("com.example.demo"));
    let raw = inspected
        .archive
        .read("Payload/Demo.app/Info.plist", 1 << 20)
        .expect("read");
    assert!(raw.starts_with(b"bplist00"));

    let file = write_ipa(not_dict);
    let inspected = inspect(&file.path, &trust()).expect("readable");
    let arr = inspected
        .inspection
        .bundles
        .iter()
        .find(|b| b.path.ends_with("Arr.appex"))
        .expect("bundle");
    assert!(arr.info_error.as_deref().unwrap_or("").contains("not a dictionary"));
}

#[test]
fn non_utf8_names_are_kept_and_reported() {
    let mut app = minimal_app();
    let mut odd = Raw::stored("", b"x");
    odd.name = b"Payload/Raw.app/caf\xe9.txt".to_vec();
    app.push(odd);
    let file = write_bytes(&zip(&app));
    let report = report(&file.path);
    assert!(
        codes(&report).contains(&"ASC-ARCHIVE-NAME-ENCODING"),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn range_reader_streams_forward_and_reopens_backwards() {
    let mut rng = fastrand::Rng::with_seed(7);
    let exe: Vec<u8> = (0..3_000_000)
        .map(|i| if i % 3 == 0 { rng.u8(..) } else { (i % 251) as u8 })
        .collect();
    for method in [
        asc_publish::sample::ipa::Method::Deflated,
        asc_publish::sample::ipa::Method::Stored,
    ] {
        let file = write_ipa(IpaBuilder::new().method(method).map_app(|a| a.executable(exe.clone())));
        let inspected = inspect(&file.path, &trust()).expect("readable");
        let mut reader = inspected.archive.range_reader("Payload/Demo.app/Demo").expect("entry");
        assert_eq!(reader.len(), exe.len() as u64);
        assert_eq!(reader.read_range(0, 16).expect("read"), exe[..16]);
        assert_eq!(
            reader.read_range(2_000_000, 4096).expect("read"),
            exe[2_000_000..2_004_096]
        );
        assert_eq!(reader.read_range(100, 10).expect("backwards"), exe[100..110]);
        assert_eq!(reader.read_range(2_999_990, 100).expect("tail"), exe[2_999_990..]);
        assert!(reader.read_range(5_000_000, 10).expect("past the end").is_empty());
        // Reading it whole verifies the CRC and leaves no problem behind.
        assert_eq!(
            inspected.archive.read("Payload/Demo.app/Demo", 1 << 30).expect("whole"),
            exe
        );
        assert!(inspected.archive.problems().is_empty());
    }
}

#[test]
fn bundle_count_and_plist_budget_stay_bounded() {
    // A hundred resource bundles, each with a 1 MiB Info.plist of zeros: parsed within budget.
    let mut app = minimal_app();
    let zeros = Raw::deflated_zeros("", 1 << 20);
    for i in 0..100 {
        let mut plist = zeros.clone();
        plist.name = format!("Payload/Raw.app/R{i}.bundle/Info.plist").into_bytes();
        app.push(plist);
    }
    let file = write_bytes(&zip(&app));
    let inspected = inspect(&file.path, &trust()).expect("readable");
    let skipped = inspected
        .inspection
        .bundles
        .iter()
        .filter(|b| b.info_error.as_deref().is_some_and(|e| e.contains("exceed the total")))
        .count();
    assert!(skipped >= 30, "{skipped} bundles skipped");
    let _ = report(&file.path);
}

#[test]
fn a_bundle_with_everything_wrong_still_validates() {
    let spec = BundleSpec::app("Weird", "")
        .set("CFBundleExecutable", "../../etc/passwd")
        .set("CFBundleVersion", plist::Value::Integer(7.into()))
        .no_profile();
    let file = write_ipa(IpaBuilder::new().app(spec));
    let report = report(&file.path);
    assert!(report.findings.iter().all(|f| !f.code.is_empty()));
}

#[test]
fn thousands_of_bundles_validate_in_linear_time() {
    let mut app = minimal_app();
    for i in 0..4000 {
        app.push(Raw::stored(
            &format!("Payload/Raw.app/F{i}.framework/Frameworks/x"),
            b"x",
        ));
        app.push(Raw::stored(
            &format!("Payload/Raw.app/S{i}.app/Frameworks/libswiftCore.dylib"),
            b"x",
        ));
        app.push(Raw::stored(&format!("Payload/Z{i}.app/x"), b"x"));
    }
    let file = write_bytes(&zip(&app));
    let started = std::time::Instant::now();
    let report = report(&file.path);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(codes(&report).contains(&"ITMS-90206"));
    assert!(codes(&report).contains(&"ASC-ARCHIVE-MULTIPLE-APPS"));
}

#[test]
fn duplicate_names_are_reported() {
    let mut app = minimal_app();
    app.push(Raw::stored("Payload/Raw.app/Raw", b"a second executable"));
    let file = write_bytes(&zip(&app));
    let archive = open_with(&file.path, Limits::default()).expect("readable");
    assert!(archive.has_duplicate_names());
    assert!(codes(&report(&file.path)).contains(&"ASC-ARCHIVE-DUPLICATE-NAME"));
    let clean = write_bytes(&zip(&minimal_app()));
    assert!(
        !open_with(&clean.path, Limits::default())
            .expect("readable")
            .has_duplicate_names()
    );
}
