//! Synthesised profiles signed by the test PKI: classification, trust, tampering, hostile input.

use asc_publish::profile::{ProfileError, ProfileKind, SignatureVerdict, TrustStore, cms, decode};
use asc_publish::sample::pki::{ROOT_NAME, TestPki};
use asc_publish::sample::profile::{ProfileBuilder, tamper};

fn pki() -> TestPki {
    TestPki::generate().expect("test PKI")
}

#[test]
fn every_kind_classifies_right() {
    let pki = pki();
    let trust = pki.trust_store().unwrap();
    for kind in [
        ProfileKind::AppStore,
        ProfileKind::AdHoc,
        ProfileKind::Development,
        ProfileKind::Enterprise,
    ] {
        let builder = ProfileBuilder::for_pki(kind, &pki, "com.example.demo");
        let signed = decode(&builder.build_signed(&pki).unwrap(), &trust).unwrap();
        assert_eq!(signed.kind, kind);
        let unsigned = decode(&builder.build_unsigned(), &trust).unwrap();
        assert_eq!(unsigned.kind, kind);
        assert_eq!(unsigned.signature, SignatureVerdict::Unsigned);
    }
}

#[test]
fn test_ca_profile_is_not_apple_until_its_root_is_trusted() {
    let pki = pki();
    let bytes = ProfileBuilder::for_pki(ProfileKind::AppStore, &pki, "com.example.demo")
        .build_signed(&pki)
        .unwrap();

    let p = decode(&bytes, &TrustStore::apple()).unwrap();
    match &p.signature {
        SignatureVerdict::Untrusted { signer, reason } => {
            assert!(signer.contains("NOT APPLE"));
            assert!(reason.contains(ROOT_NAME), "{reason}");
            assert!(p.signature.describe().starts_with("not signed by Apple"));
        }
        other => panic!("expected untrusted, got {other:?}"),
    }

    let trust = TrustStore::apple().with_extra_root_pem(&pki.root_pem()).unwrap();
    let p = decode(&bytes, &trust).unwrap();
    assert_eq!(
        p.signature,
        SignatureVerdict::TrustedExtraRoot {
            signer: "asc-publish Test Profile Signing (NOT APPLE)".into(),
            root: ROOT_NAME.into()
        }
    );
    assert!(p.signature.is_trusted() && !p.signature.is_apple());
    assert_eq!(p.team_id(), Some(pki.team_id.as_str()));
    assert_eq!(
        p.certificates[0].subject.as_deref(),
        Some(pki.distribution.common_name())
    );
    assert_eq!(p.certificates[0].team_id.as_deref(), Some(pki.team_id.as_str()));
}

#[test]
fn another_pkis_root_does_not_help() {
    let (a, b) = (pki(), pki());
    let bytes = ProfileBuilder::for_pki(ProfileKind::AppStore, &a, "com.example.demo")
        .build_signed(&a)
        .unwrap();
    let p = decode(&bytes, &b.trust_store().unwrap()).unwrap();
    assert!(
        matches!(p.signature, SignatureVerdict::Untrusted { .. }),
        "{:?}",
        p.signature
    );
}

#[test]
fn tampered_synthesised_profile_fails() {
    let pki = pki();
    let bytes = ProfileBuilder::for_pki(ProfileKind::AppStore, &pki, "com.example.demo")
        .build_signed(&pki)
        .unwrap();
    let p = decode(&tamper(&bytes).unwrap(), &pki.trust_store().unwrap()).unwrap();
    match p.signature {
        SignatureVerdict::Invalid { reason } => assert!(reason.contains("changed after signing"), "{reason}"),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn verify_chain_for_code_signing_certificates() {
    let pki = pki();
    let trust = pki.trust_store().unwrap();
    let chain = pki.distribution.chain().to_vec();
    trust.verify_chain(pki.distribution.der(), &chain).unwrap();
    let info = trust.chain(pki.development.der(), &chain).unwrap();
    assert!(!info.apple);
    assert_eq!(info.root, ROOT_NAME);
    assert_eq!(info.path.len(), 3);
    // Without the intermediate the issuer cannot be found.
    let err = trust.verify_chain(pki.distribution.der(), &[]).unwrap_err();
    assert!(err.contains("asc-publish Test WWDR CA"), "{err}");
    // Apple's store alone does not trust it.
    let err = TrustStore::apple()
        .verify_chain(pki.distribution.der(), &chain)
        .unwrap_err();
    assert!(err.contains("not a trusted root"), "{err}");
    // An impostor intermediate with the right name but another key does not verify.
    let other = TestPki::generate().unwrap();
    let err = trust
        .verify_chain(pki.distribution.der(), &[other.intermediate.der().to_vec()])
        .unwrap_err();
    assert!(err.contains("not validly signed"), "{err}");
}

#[test]
fn detached_cms_verifies_against_the_given_content() {
    let pki = pki();
    let code_directory = b"pretend CodeDirectory bytes";
    let blob = pki.distribution.sign_cms(code_directory, true).unwrap();
    let parsed = cms::parse(&blob).unwrap();
    assert!(parsed.content.is_none());
    assert_eq!(parsed.certificates.len(), 3);
    let signer = parsed.verify(Some(code_directory)).unwrap();
    assert_eq!(signer.certificate, pki.distribution.der());
    assert!(signer.signing_time.is_some());
    pki.trust_store()
        .unwrap()
        .verify_chain(&signer.certificate, &signer.others)
        .unwrap();
    assert!(parsed.verify(Some(b"other bytes")).is_err());
    assert!(parsed.verify(None).is_err());
    // A detached CMS is not a profile.
    assert!(matches!(
        decode(&blob, &TrustStore::apple()),
        Err(ProfileError::NoContent)
    ));
}

#[test]
fn hostile_input_is_an_error_never_a_panic() {
    let pki = pki();
    let good = ProfileBuilder::for_pki(ProfileKind::AppStore, &pki, "com.example.demo")
        .build_signed(&pki)
        .unwrap();
    let trust = TrustStore::apple();
    for bad in [
        &b""[..],
        b"garbage that is not a profile",
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06],
        &[0x30, 0x80, 0x30, 0x80],
        &good[..10],
        &good[..good.len() / 2],
        &good[..good.len() - 1],
        b"<?xml version=\"1.0\"?><plist><array/></plist>",
        b"bplist00\xff\xff",
    ] {
        assert!(decode(bad, &trust).is_err(), "accepted {} bytes", bad.len());
    }
    // Every truncation and every single-byte corruption of the envelope header area: no panic.
    for n in 0..good.len().min(400) {
        let _ = decode(&good[..n], &trust);
        let mut corrupt = good.clone();
        corrupt[n] ^= 0xff;
        let _ = decode(&corrupt, &trust);
    }
    // Corrupt bytes all over (sampled), including inside certificates and signer info: whatever
    // still verifies as trusted must carry exactly the content that was signed.
    let original = decode(&good, &pki.trust_store().unwrap()).unwrap();
    for n in (0..good.len()).step_by(7) {
        let mut corrupt = good.clone();
        corrupt[n] = corrupt[n].wrapping_add(1);
        if let Ok(p) = decode(&corrupt, &pki.trust_store().unwrap()) {
            if p.signature.is_trusted() {
                assert_eq!(
                    (&p.uuid, &p.name, p.kind),
                    (&original.uuid, &original.name, original.kind)
                );
            }
        }
    }
    let huge = vec![0u8; asc_publish::profile::MAX_PROFILE_SIZE + 1];
    assert!(matches!(decode(&huge, &trust), Err(ProfileError::TooLarge { .. })));
}

#[test]
fn pki_debug_never_shows_keys() {
    let pki = pki();
    let debug = format!("{pki:?}");
    assert!(debug.contains("<redacted>"));
    assert!(!debug.contains("key_pkcs8"));
}
