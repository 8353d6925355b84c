//! Fuzz target: Info.plist parsing (binary and XML) behind the expansion guard.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = asc_publish::ipa::inspect::parse_plist_dict(data);
});
