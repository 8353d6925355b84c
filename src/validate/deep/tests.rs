//! Tests for `--deep` seal verification: synthesised app + framework + loose dylib, tampered one
//! way at a time, the real fixture, and damaged signatures.
use std::io::Read;

use super::*;
use crate::ipa::BundleKind;
use crate::macho::testkit::{MemEntries, bundle, inspection, parse_ok, run};
use crate::sample::macho::{
    Arch, CodeResourcesBuilder, MH_DYLIB, MachOBuilder, SignatureSpec, SliceSpec, primary_cdhash,
};

const APP: &str = "Payload/A.app";
const FW: &str = "Payload/A.app/Frameworks/F.framework";

fn signed(id: &str, info: &[u8], resources: &[u8], filetype: u32) -> Vec<u8> {
    let mut sig = SignatureSpec::new(id);
    sig.team_id = Some("ABCDE12345".into());
    sig.info_plist = Some(info.to_vec());
    sig.code_resources = Some(resources.to_vec());
    MachOBuilder::new()
        .slice(SliceSpec::new(Arch::Armv7).filetype(filetype).signature(sig.clone()))
        .slice(
            SliceSpec::new(Arch::Arm64)
                .filetype(filetype)
                .code_pages(5)
                .signature(sig),
        )
        .build()
}

/// A signed app with one signed framework and a loose Swift dylib, every seal intact.
fn sample(fw_identifier: &str) -> MemEntries {
    let mut e = MemEntries::default();
    let fw_info = b"<plist>framework</plist>".to_vec();
    let fw_cr = CodeResourcesBuilder::new().build();
    let fw_exe = signed(fw_identifier, &fw_info, &fw_cr, MH_DYLIB);
    let fw_cdhash = parse_ok(&fw_exe).slices[1].signature.as_ref().unwrap().code_directories[0]
        .cdhash
        .clone();
    let fw_cdhash: Vec<u8> = (0..20)
        .map(|i| u8::from_str_radix(&fw_cdhash[i * 2..i * 2 + 2], 16).unwrap())
        .collect();

    let swift = {
        let mut sig = SignatureSpec::new("com.apple.dt.runtime.swiftCore");
        sig.cms = None;
        MachOBuilder::new()
            .slice(SliceSpec::new(Arch::Arm64).filetype(MH_DYLIB).signature(sig))
            .build()
    };
    let swift_cdhash = primary_cdhash(&swift).unwrap();
    let info = b"<plist>app</plist>".to_vec();
    let car = vec![7u8; 10_000];
    let nib = b"nib".to_vec();
    let cr = CodeResourcesBuilder::new()
        .file("Assets.car", &car)
        .optional_file("Base.lproj/Main.storyboardc/Info.plist", &nib)
        .file("embedded.mobileprovision", b"profile")
        .nested("Frameworks/F.framework", &fw_cdhash)
        .nested("Frameworks/libswiftCore.dylib", &swift_cdhash)
        .build();
    let exe = signed("com.example.a", &info, &cr, crate::sample::macho::MH_EXECUTE);
    for (k, v) in [
        (format!("{APP}/A"), exe),
        (format!("{APP}/Info.plist"), info),
        (format!("{APP}/PkgInfo"), b"APPL????".to_vec()),
        (format!("{APP}/Assets.car"), car),
        (format!("{APP}/Base.lproj/Main.storyboardc/Info.plist"), nib),
        (format!("{APP}/embedded.mobileprovision"), b"profile".to_vec()),
        (format!("{APP}/_CodeSignature/CodeResources"), cr),
        (format!("{FW}/F"), fw_exe),
        (format!("{APP}/Frameworks/libswiftCore.dylib"), swift),
        (format!("{FW}/Info.plist"), fw_info),
        (format!("{FW}/_CodeSignature/CodeResources"), fw_cr),
    ] {
        e.0.insert(k, v);
    }
    e.0.insert(format!("{APP}/Base.lproj/"), Vec::new());
    e
}

fn verify(e: &MemEntries) -> Vec<Finding> {
    let app = bundle(
        APP,
        BundleKind::App,
        "com.example.a",
        Some(parse_ok(&e.0[&format!("{APP}/A")])),
        None,
    );
    let fw = bundle(
        FW,
        BundleKind::Framework,
        "com.example.f",
        Some(parse_ok(&e.0[&format!("{FW}/F")])),
        None,
    );
    let ipa = inspection(vec![app, fw]);
    let mut f = run(check_special_slots, &ipa, e, true);
    f.extend(run(check, &ipa, e, true));
    f
}

fn paths(f: &[Finding]) -> Vec<&str> {
    assert!(f.iter().all(|f| f.code == "ITMS-90035"));
    f.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn intact_signatures_pass_and_shallow_mode_skips() {
    let e = sample("com.example.f");
    assert_eq!(verify(&e), Vec::new());
    let mut broken = e;
    broken.0.insert(format!("{APP}/Assets.car"), vec![0u8; 3]);
    let app = bundle(
        APP,
        BundleKind::App,
        "com.example.a",
        Some(parse_ok(&broken.0[&format!("{APP}/A")])),
        None,
    );
    assert!(run(check, &inspection(vec![app]), &broken, false).is_empty());
}

#[test]
fn modified_missing_and_unsealed_resources() {
    let mut e = sample("com.example.f");
    e.0.insert(format!("{APP}/Assets.car"), vec![8u8; 10_000]);
    e.0.remove(&format!("{APP}/embedded.mobileprovision"));
    e.0.remove(&format!("{APP}/Base.lproj/Main.storyboardc/Info.plist"));
    e.0.insert(format!("{APP}/extra.txt"), b"late".to_vec());
    e.0.insert(format!("{APP}/.DS_Store"), b"junk".to_vec());
    let f = verify(&e);
    assert_eq!(
        paths(&f),
        [
            "Payload/A.app/Assets.car",
            "Payload/A.app/embedded.mobileprovision",
            "Payload/A.app/extra.txt"
        ],
        "{f:#?}"
    );
    assert!(
        f[0].message
            .contains("[A.app/Assets.car] is not properly signed: the file was modified")
    );
    assert!(f[1].message.contains("missing"));
    assert!(f[2].message.contains("not sealed"));
}

#[test]
fn info_plist_and_code_resources_are_checked_against_special_slots() {
    let mut e = sample("com.example.f");
    e.0.insert(format!("{APP}/Info.plist"), b"<plist>changed</plist>".to_vec());
    let f = verify(&e);
    assert_eq!(paths(&f), ["Payload/A.app/Info.plist"]);
    // Without --deep too: the special slots are checked on every validation (issue 12, item 9).
    let app = bundle(
        APP,
        BundleKind::App,
        "com.example.a",
        Some(parse_ok(&e.0[&format!("{APP}/A")])),
        None,
    );
    let shallow = run(check_special_slots, &inspection(vec![app]), &e, false);
    assert_eq!(paths(&shallow), ["Payload/A.app/Info.plist"]);
    assert!(shallow[0].message.contains("modified after signing"), "{shallow:#?}");
    let mut e = sample("com.example.f");
    let mut cr = e.0[&format!("{FW}/_CodeSignature/CodeResources")].clone();
    cr.extend_from_slice(b"\n");
    e.0.insert(format!("{FW}/_CodeSignature/CodeResources"), cr);
    let f = verify(&e);
    assert_eq!(
        paths(&f),
        ["Payload/A.app/Frameworks/F.framework/_CodeSignature/CodeResources"]
    );
}

#[test]
fn modified_code_page_is_reported_with_the_slice() {
    let mut e = sample("com.example.f");
    let exe = e.0.get_mut(&format!("{APP}/A")).unwrap();
    let arm64_start = parse_ok(exe).slices[1].offset as usize;
    exe[arm64_start + 0x2000 + 5] ^= 0xff;
    let f = verify(&e);
    assert_eq!(paths(&f), ["Payload/A.app/A"]);
    assert!(f[0].message.contains("1 of"), "{}", f[0].message);
    assert!(f[0].message.contains("arm64 slice") && f[0].message.contains("first at page 2"));
}

#[test]
fn resigned_nested_framework_breaks_the_cdhash_seal() {
    let good = sample("com.example.f");
    let mut e = sample("com.example.other");
    e.0.insert(format!("{APP}/A"), good.0[&format!("{APP}/A")].clone());
    e.0.insert(
        format!("{APP}/_CodeSignature/CodeResources"),
        good.0[&format!("{APP}/_CodeSignature/CodeResources")].clone(),
    );
    let f = verify(&e);
    assert_eq!(paths(&f), ["Payload/A.app/Frameworks/F.framework"], "{f:#?}");
    assert!(f[0].message.contains("cdhash"));
}

#[test]
fn damaged_signatures_never_panic() {
    let e = sample("com.example.f");
    let exe = e.0[&format!("{APP}/A")].clone();
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..150 {
        let mut m = exe.clone();
        for _ in 0..rng.usize(1..6) {
            // Land in the last slice's signature, where CodeDirectory fields live.
            let at = rng.usize(m.len() - 20_000..m.len());
            m[at] = rng.u8(..);
        }
        let mut r: &[u8] = &m;
        let Ok(binary) = crate::macho::parse(&mut r) else {
            continue;
        };
        let mut entries = MemEntries(e.0.clone());
        entries.0.insert(format!("{APP}/A"), m);
        let app = bundle(APP, BundleKind::App, "com.example.a", Some(binary), None);
        let _ = run(check, &inspection(vec![app]), &entries, true);
    }
}

#[test]
fn replaced_loose_dylib_breaks_its_seal() {
    let mut e = sample("com.example.f");
    let mut sig = SignatureSpec::new("com.apple.dt.runtime.swiftCore");
    sig.team_id = Some("OTHER".into());
    let other = MachOBuilder::new()
        .slice(SliceSpec::new(Arch::Arm64).filetype(MH_DYLIB).signature(sig))
        .build();
    e.0.insert(format!("{APP}/Frameworks/libswiftCore.dylib"), other);
    let f = verify(&e);
    assert_eq!(paths(&f), ["Payload/A.app/Frameworks/libswiftCore.dylib"]);
    e.0.remove(&format!("{APP}/Frameworks/libswiftCore.dylib"));
    let f = verify(&e);
    assert_eq!(paths(&f), ["Payload/A.app/Frameworks/libswiftCore.dylib"]);
    assert!(f[0].message.contains("missing"));
}

#[test]
fn real_fixture_seals_verify() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa"
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut e = MemEntries::default();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        e.0.insert(f.name().unwrap().to_string(), b);
    }
    let app_path = "Payload/ios-simple-objc.app";
    let exe = parse_ok(&e.0[&format!("{app_path}/ios-simple-objc")]);
    let ipa = inspection(vec![bundle(
        app_path,
        BundleKind::App,
        "Bitrise.ios-simple-objc",
        Some(exe),
        None,
    )]);
    assert_eq!(run(check, &ipa, &e, true), Vec::new());
    assert_eq!(run(check_special_slots, &ipa, &e, false), Vec::new());
    e.0.insert(format!("{app_path}/PkgInfo"), b"changed".to_vec());
    assert_eq!(run(check, &ipa, &e, true), Vec::new(), "PkgInfo is omitted by rules2");
    e.0.insert(
        format!("{app_path}/ios_simple_objc.momd/VersionInfo.plist"),
        b"changed".to_vec(),
    );
    let f = run(check, &ipa, &e, true);
    assert_eq!(
        paths(&f),
        ["Payload/ios-simple-objc.app/ios_simple_objc.momd/VersionInfo.plist"]
    );
}
