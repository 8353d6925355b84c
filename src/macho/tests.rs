//! Parser tests: builder round trips, the real fixture, and hostile bytes (no panic, typed errors).

use std::io::Read;

use super::testkit::{identity, parse_ok, signer_closure};
use super::*;
use crate::sample::macho::{Arch, MH_DYLIB, MH_OBJECT, MachOBuilder, SignatureSpec, SliceSpec, VersionCommand};

fn signed_spec(arch: Arch) -> SliceSpec {
    let id = identity("Apple Distribution: Example Ltd (ABCDE12345)", "ABCDE12345");
    let mut ent = plist::Dictionary::new();
    ent.insert("application-identifier".into(), "ABCDE12345.com.example.app".into());
    ent.insert("get-task-allow".into(), false.into());
    let mut sig = SignatureSpec::new("com.example.app");
    sig.team_id = Some("ABCDE12345".into());
    sig.entitlements = Some(ent);
    sig.info_plist = Some(b"<plist/>".to_vec());
    sig.code_resources = Some(b"<resources/>".to_vec());
    sig.cms = Some(signer_closure(&id));
    SliceSpec::new(arch).signature(sig)
}

#[test]
fn thin_unsigned_round_trips_every_field() {
    let bytes = MachOBuilder::new()
        .slice(
            SliceSpec::new(Arch::Arm64)
                .minos(16, 4, 1)
                .sdk(18, 2, 0)
                .code_pages(3)
                .dylib("@rpath/Foo.framework/Foo"),
        )
        .build();
    let b = parse_ok(&bytes);
    assert!(!b.fat);
    assert_eq!(b.architectures(), vec!["arm64"]);
    let s = &b.slices[0];
    assert!(s.is_64_bit && s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.filetype, FileType::Execute);
    assert_eq!(s.offset, 0);
    assert_eq!(s.size, bytes.len() as u64);
    let build = s.build.as_ref().expect("build version");
    assert_eq!((build.platform, build.platform_name.as_str()), (2, "iOS"));
    assert_eq!((build.minos.as_str(), build.sdk.as_str()), ("16.4.1", "18.2"));
    assert_eq!(build.source, "LC_BUILD_VERSION");
    let enc = s.encryption.expect("encryption");
    assert_eq!(enc.cryptid, 0);
    let text = s.text_segment().expect("__TEXT");
    assert!(u64::from(enc.cryptoff) + u64::from(enc.cryptsize) <= text.fileoff + text.filesize);
    let names: Vec<_> = s.segments.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["__PAGEZERO", "__TEXT", "__LINKEDIT"]);
    assert!(!s.has_bitcode);
    assert_eq!(s.dylibs.len(), 3);
    assert_eq!(s.dylibs[2], "@rpath/Foo.framework/Foo");
    assert!(s.signature.is_none() && s.code_signature_location.is_none());
    assert_eq!(b.signing_identity(), None);
}

#[test]
fn fat_signed_round_trips_signature() {
    let bytes = MachOBuilder::new()
        .slice(signed_spec(Arch::Armv7))
        .slice(signed_spec(Arch::Arm64))
        .build();
    let b = parse_ok(&bytes);
    assert!(b.fat);
    assert_eq!(b.architectures(), vec!["armv7", "arm64"]);
    assert!(b.all_problems().is_empty(), "{:?}", b.all_problems());
    assert!(!b.slices[0].is_64_bit);
    for s in &b.slices {
        let sig = s.signature.as_ref().expect("signature");
        assert!(!sig.is_adhoc());
        assert_eq!(sig.identifier(), Some("com.example.app"));
        assert_eq!(sig.team_id(), Some("ABCDE12345"));
        let cd = sig.code_directory().expect("cd");
        assert_eq!(cd.hash_type, HashType::Sha256);
        assert_eq!(cd.page_size, 4096);
        assert_eq!(cd.code_limit, u64::from(s.code_signature_location.unwrap().dataoff));
        assert_eq!(cd.n_code_slots as u64, cd.code_limit.div_ceil(4096));
        assert_eq!(
            cd.special_slot(SLOT_INFO_PLIST),
            HashType::Sha256.digest(b"<plist/>").as_deref()
        );
        assert_eq!(
            cd.special_slot(SLOT_RESOURCES),
            HashType::Sha256.digest(b"<resources/>").as_deref()
        );
        let ent_blob = sig.entitlements_blob.as_deref().expect("entitlements blob");
        assert_eq!(
            cd.special_slot(SLOT_ENTITLEMENTS),
            HashType::Sha256.digest(ent_blob).as_deref()
        );
        assert_eq!(cd.cdhash.len(), 40);
        let ent = sig.entitlements.as_ref().expect("entitlements");
        assert_eq!(ent.get("get-task-allow").and_then(|v| v.as_boolean()), Some(false));
        let signer = sig.signer.as_ref().expect("signer");
        assert_eq!(
            signer.common_name.as_deref(),
            Some("Apple Distribution: Example Ltd (ABCDE12345)")
        );
        assert_eq!(signer.team_id.as_deref(), Some("ABCDE12345"));
        assert_eq!(
            signer.issuer_common_name.as_deref(),
            Some("Test Worldwide Developer Relations CA")
        );
        assert_eq!(signer.intermediates.len(), 1);
        // Code page 0 is the header page: its hash must be the hash of the bytes written.
        let start = s.offset as usize;
        assert_eq!(
            cd.code_slot(0),
            HashType::Sha256.digest(&bytes[start..start + 4096]).as_deref()
        );
    }
    assert_eq!(
        b.signing_identity().as_deref(),
        Some("Apple Distribution: Example Ltd (ABCDE12345)")
    );
    // JSON carries the summary, never certificate bytes.
    let json = serde_json::to_string(&b).unwrap();
    assert!(json.contains("\"filetype\":\"EXECUTE\"") && json.contains("Apple Distribution"));
    assert!(!json.contains("certificate_der") && !json.contains("intermediates"));
}

#[test]
fn sha1_primary_with_sha256_alternate() {
    let mut spec = signed_spec(Arch::Arm64);
    if let Some(s) = spec.signature.as_mut() {
        s.sha1_primary = true;
    }
    let b = parse_ok(&MachOBuilder::new().slice(spec).build());
    let sig = b.slices[0].signature.as_ref().unwrap();
    let kinds: Vec<_> = sig.code_directories.iter().map(|c| (c.slot, c.hash_type)).collect();
    assert_eq!(kinds, vec![(0, HashType::Sha1), (0x1000, HashType::Sha256)]);
}

#[test]
fn adhoc_bitcode_dylib_and_old_version_command() {
    let spec = SliceSpec::new(Arch::Arm64)
        .filetype(MH_DYLIB)
        .bitcode(true)
        .cryptid(Some(1))
        .version_command(VersionCommand::MinIphoneos)
        .minos(9, 0, 0)
        .signature(SignatureSpec::new("Foo"));
    let b = parse_ok(&MachOBuilder::new().slice(spec).fat(true).build());
    assert!(b.fat);
    let s = &b.slices[0];
    assert_eq!(s.filetype, FileType::Dylib);
    assert!(s.has_bitcode);
    assert_eq!(s.encryption.unwrap().cryptid, 1);
    let build = s.build.as_ref().unwrap();
    assert_eq!((build.source, build.minos.as_str()), ("LC_VERSION_MIN_IPHONEOS", "9.0"));
    let sig = s.signature.as_ref().unwrap();
    assert!(sig.is_adhoc() && sig.signer.is_none() && sig.team_id().is_none());
}

#[test]
fn other_architectures_and_platforms() {
    let b = parse_ok(
        &MachOBuilder::new()
            .slice(SliceSpec::new(Arch::X86_64).platform(7).cryptid(None))
            .slice(SliceSpec::new(Arch::I386).filetype(MH_OBJECT))
            .slice(SliceSpec::new(Arch::Arm64e).platform(6))
            .slice(SliceSpec::new(Arch::Armv7s).version_command(VersionCommand::None))
            .build(),
    );
    assert_eq!(b.architectures(), vec!["x86_64", "i386", "arm64e", "armv7s"]);
    assert_eq!(b.slices[0].build.as_ref().unwrap().platform_name, "iOS Simulator");
    assert!(b.slices[0].encryption.is_none());
    assert_eq!(b.slices[1].filetype, FileType::Object);
    assert!(b.slices[2].build.as_ref().unwrap().is_simulator_or_catalyst());
    assert!(b.slices[3].build.is_none());
    assert_eq!(arch_name(0x1234, 0), "unknown(4660)");
}

#[test]
fn big_endian_thin_header_is_read() {
    // A hand-made big-endian 32-bit header with one LC_VERSION_MIN_IPHONEOS.
    let mut b = Vec::new();
    for v in [0xfeed_face_u32, 12, 9, 2, 1, 16, 0, 0x25, 16, 0x000c_0000, 0x000d_0000] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    let bin = parse_ok(&b);
    let s = &bin.slices[0];
    assert_eq!(s.arch, "armv7");
    assert_eq!(s.build.as_ref().unwrap().minos, "12.0");
}

#[test]
fn reads_are_forward_only() {
    struct Recorder<'a>(&'a [u8], Vec<(u64, usize)>);
    impl RangeReader for Recorder<'_> {
        fn len(&self) -> u64 {
            self.0.len() as u64
        }
        fn read_range(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
            self.1.push((offset, len));
            let mut r = self.0;
            r.read_range(offset, len)
        }
    }
    let bytes = MachOBuilder::new()
        .slice(signed_spec(Arch::Armv7))
        .slice(signed_spec(Arch::Arm64))
        .build();
    let mut rec = Recorder(&bytes, Vec::new());
    parse(&mut rec).unwrap();
    let mut end = 0u64;
    for &(off, len) in &rec.1 {
        assert!(off >= end, "read at {off} after reading up to {end}: {:?}", rec.1);
        end = off + len as u64;
    }
    let total: usize = rec.1.iter().map(|r| r.1).sum();
    assert!(total < bytes.len() / 2, "read {total} of {} bytes", bytes.len());
}

#[test]
fn hostile_inputs_give_typed_errors() {
    let parse_bytes = |b: &[u8]| {
        let mut r: &[u8] = b;
        parse(&mut r)
    };
    assert!(matches!(parse_bytes(b""), Err(MachOError::Empty)));
    assert!(matches!(
        parse_bytes(b"#!/bin/sh\necho hi\n"),
        Err(MachOError::NotMachO)
    ));
    assert!(matches!(parse_bytes(&[0xca, 0xfe]), Err(MachOError::NotMachO)));
    // A Java class file shares the fat magic.
    assert!(matches!(
        parse_bytes(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
        Err(MachOError::TooManySlices(52))
    ));
    assert!(matches!(
        parse_bytes(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0]),
        Err(MachOError::NoSlices(_))
    ));
    // Fat entry pointing past the end.
    let mut fat = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1];
    for v in [0x0100_000c_u32, 0, 0x1000, 0xffff_0000, 14] {
        fat.extend_from_slice(&v.to_be_bytes());
    }
    assert!(matches!(parse_bytes(&fat), Err(MachOError::NoSlices(_))));
    // Thin header with absurd sizeofcmds and ncmds: partial result with problems.
    let mut thin = Vec::new();
    for v in [0xfeed_facf_u32, 0x0100_000c, 0, 2, u32::MAX, u32::MAX, 0, 0] {
        thin.extend_from_slice(&v.to_le_bytes());
    }
    thin.extend_from_slice(&[0x19, 0, 0, 0, 4, 0, 0, 0]);
    let b = parse_bytes(&thin).unwrap();
    assert!(!b.slices[0].problems.is_empty());
    assert!(matches!(parse_bytes(&thin[..20]), Err(MachOError::Truncated(_))));
}

#[test]
fn truncations_and_bit_flips_never_panic() {
    let bytes = MachOBuilder::new()
        .slice(signed_spec(Arch::Armv7))
        .slice(signed_spec(Arch::Arm64))
        .build();
    let step = (bytes.len() / 300).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        let mut r: &[u8] = &bytes[..cut];
        let _ = parse(&mut r);
    }
    let mut rng = fastrand::Rng::with_seed(7);
    let sig_start = bytes.len() - 12_000;
    for _ in 0..400 {
        let mut m = bytes.clone();
        for _ in 0..rng.usize(1..8) {
            // Half the flips land in headers/commands, half in the signature area.
            let at = if rng.bool() {
                rng.usize(0..0x5000)
            } else {
                rng.usize(sig_start..m.len())
            };
            m[at] = rng.u8(..);
        }
        let mut r: &[u8] = &m;
        let _ = parse(&mut r);
    }
    for _ in 0..200 {
        let mut junk = vec![0u8; rng.usize(0..4096)];
        rng.fill(&mut junk);
        if junk.len() >= 4 {
            junk[..4].copy_from_slice(&[0xcf, 0xfa, 0xed, 0xfe]);
        }
        let mut r: &[u8] = &junk;
        let _ = parse(&mut r);
    }
}

#[test]
fn superblob_garbage_is_recorded_not_fatal() {
    let (sig, problems) =
        signature::parse_signature(&[0xfa, 0xde, 0x0c, 0xc0, 0, 0, 0, 12, 0xff, 0xff, 0xff, 0xff]).unwrap();
    assert!(sig.is_some() && !problems.is_empty());
    let (sig, problems) = signature::parse_signature(b"nope").unwrap();
    assert!(sig.is_none() && !problems.is_empty());
    assert!(cms_signer::ber_to_der(&[0x30, 0x80, 0x04, 0x80]).is_err());
    assert!(signer_from_cms(&[0x30, 0x03, 0x02, 0x01, 0x01]).is_err());
}

#[test]
fn real_fixture_fat_armv7_arm64_developer_signed() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa"
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut b = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut b).unwrap();
        b
    };
    let exe = read("Payload/ios-simple-objc.app/ios-simple-objc");
    let profile = read("Payload/ios-simple-objc.app/embedded.mobileprovision");
    // The profile's plist sits verbatim inside its CMS; enough for a test to read its certificates.
    let start = profile.windows(5).position(|w| w == b"<?xml").unwrap();
    let end = profile.windows(8).position(|w| w == b"</plist>").unwrap() + 8;
    let plist: plist::Dictionary = plist::from_bytes(&profile[start..end]).unwrap();
    let profile_certs: Vec<Vec<u8>> = plist["DeveloperCertificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_data().unwrap().to_vec())
        .collect();
    let b = parse_ok(&exe);
    assert!(b.fat);
    assert_eq!(b.architectures(), vec!["armv7", "arm64"]);
    for s in &b.slices {
        assert_eq!(s.filetype, FileType::Execute);
        let enc = s.encryption.expect("encryption info");
        assert_eq!(enc.cryptid, 0);
        let build = s.build.as_ref().expect("version");
        assert_eq!(build.source, "LC_VERSION_MIN_IPHONEOS");
        let sig = s.signature.as_ref().expect("signature");
        assert_eq!(sig.identifier(), Some("Bitrise.ios-simple-objc"));
        assert_eq!(sig.code_directories.len(), 2);
        assert!(
            sig.entitlements
                .as_ref()
                .is_some_and(|e| e.contains_key("get-task-allow"))
        );
        let signer = sig.signer.as_ref().expect("signer (BER CMS decoded)");
        assert!(
            signer
                .common_name
                .as_deref()
                .is_some_and(|cn| cn.starts_with("iPhone Developer: "))
        );
        assert!(
            signer
                .issuer_common_name
                .as_deref()
                .is_some_and(|cn| cn.contains("Worldwide Developer Relations"))
        );
        assert!(signer.team_id.as_deref().is_some_and(|t| t.len() == 10));
        assert!(!signer.intermediates.is_empty());
        // The signer certificate comes out byte-identical to the one the profile lists (ITMS-90179).
        assert!(profile_certs.contains(&signer.certificate_der));
    }
    assert!(b.all_problems().is_empty(), "{:?}", b.all_problems());
}

#[test]
fn damaged_cms_never_panics() {
    let id = identity("Apple Distribution: Example Ltd (ABCDE12345)", "ABCDE12345");
    let cms = super::testkit::cms_for(&id, b"cd");
    assert!(signer_from_cms(&cms).is_ok());
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..500 {
        let mut m = cms.clone();
        for _ in 0..rng.usize(1..4) {
            let at = rng.usize(..m.len());
            m[at] = rng.u8(..);
        }
        let _ = signer_from_cms(&m);
        let cut = rng.usize(..m.len());
        let _ = signer_from_cms(&m[..cut]);
    }
    // Deep indefinite nesting is refused, not recursed into without bound.
    let mut deep = Vec::new();
    for _ in 0..10_000 {
        deep.extend_from_slice(&[0x30, 0x80]);
    }
    assert!(cms_signer::ber_to_der(&deep).is_err());
}

#[test]
fn ber_nesting_stops_at_the_limit() {
    let nested = |levels: usize| {
        let mut v = [0x30, 0x80].repeat(levels);
        v.extend([0x00, 0x00].repeat(levels));
        v
    };
    let limit = cms_signer::MAX_DEPTH;
    assert!(cms_signer::ber_to_der(&nested(limit)).is_ok());
    assert!(cms_signer::ber_to_der(&nested(limit + 1)).is_err());
    assert!(cms_signer::ber_to_der(&nested(250_000)).is_err());
    // Definite lengths recurse the same way; the leaf is a level too.
    let definite = |wrappers: usize| {
        let mut v = vec![0x04, 0x00];
        for _ in 0..wrappers {
            let mut outer = vec![0x30, 0x84];
            outer.extend_from_slice(&(v.len() as u32).to_be_bytes());
            outer.extend_from_slice(&v);
            v = outer;
        }
        v
    };
    assert!(cms_signer::ber_to_der(&definite(limit - 1)).is_ok());
    assert!(cms_signer::ber_to_der(&definite(limit)).is_err());
}

/// A SuperBlob holding only an entitlements blob with `payload`.
fn entitlements_superblob(payload: &[u8]) -> Vec<u8> {
    let blob_len = 8 + payload.len() as u32;
    let mut sb = Vec::new();
    sb.extend_from_slice(&0xfade_0cc0u32.to_be_bytes());
    sb.extend_from_slice(&(20 + blob_len).to_be_bytes());
    sb.extend_from_slice(&1u32.to_be_bytes());
    sb.extend_from_slice(&5u32.to_be_bytes());
    sb.extend_from_slice(&20u32.to_be_bytes());
    sb.extend_from_slice(&0xfade_7171u32.to_be_bytes());
    sb.extend_from_slice(&blob_len.to_be_bytes());
    sb.extend_from_slice(payload);
    sb
}

/// Entitlements whose `deep` value is `depth - 1` arrays (the root dictionary is level one).
fn nested_entitlements(depth: usize) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>get-task-allow</key><false/><key>deep</key>{}{}</dict></plist>"#,
        "<array>".repeat(depth - 1),
        "</array>".repeat(depth - 1)
    )
    .into_bytes()
}

#[test]
fn entitlements_nesting_is_capped() {
    let limit = plist_guard::MAX_DEPTH;
    let (sig, _) =
        signature::parse_signature(&entitlements_superblob(&nested_entitlements(limit))).expect("128 levels are read");
    let ent = sig.and_then(|s| s.entitlements).expect("entitlements parsed");
    assert!(ent.contains_key("deep"));
    // The blob is capped at 1 MiB, so the hostile case is as deep as fits: 60 000 levels.
    for depth in [limit + 1, 60_000] {
        match signature::parse_signature(&entitlements_superblob(&nested_entitlements(depth))) {
            Err(MachOError::TooDeep { limit: l }) => assert_eq!(l, limit),
            other => panic!("{depth} levels: {:?}", other.map(|(_, p)| p)),
        }
    }
}
