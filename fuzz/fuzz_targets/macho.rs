//! Fuzz target: the Mach-O parser (thin and fat executables, load commands, code signature).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader: &[u8] = data;
    if let Ok(binary) = asc_publish::macho::parse(&mut reader) {
        let _ = binary.architectures();
        let _ = binary.signing_identity();
    }
});
