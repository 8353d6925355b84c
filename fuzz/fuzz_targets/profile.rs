//! Fuzz target: provisioning-profile decoding (CMS, certificates, the embedded plist).

#![no_main]

use asc_publish::profile::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = asc_publish::profile::decode(data, &TrustStore::apple());
});
