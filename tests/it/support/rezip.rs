//! Rewriting one entry of an existing IPA, everything else copied byte for byte (compressed data,
//! names, order): for tests that tamper with a real or sample archive after it was signed.

use std::io::{Read, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Copies `from` to `to`, replacing the content of every entry whose name `pick` accepts with
/// what `edit` makes of the old content. Panics (a test helper) when nothing was picked.
pub fn rewrite(from: &Path, to: &Path, pick: impl Fn(&str) -> bool, edit: impl Fn(Vec<u8>) -> Vec<u8>) {
    let mut archive = ZipArchive::new(std::fs::File::open(from).expect("open IPA")).expect("zip");
    let mut out = ZipWriter::new(std::fs::File::create(to).expect("create IPA"));
    let mut picked = 0;
    for i in 0..archive.len() {
        let name = archive
            .by_index_raw(i)
            .expect("entry")
            .name()
            .expect("name")
            .to_string();
        if pick(&name) {
            let mut old = Vec::new();
            archive.by_index(i).expect("entry").read_to_end(&mut old).expect("read");
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .unix_permissions(0o644);
            out.start_file(name.as_str(), options).expect("start");
            out.write_all(&edit(old)).expect("write");
            picked += 1;
        } else {
            out.raw_copy_file(archive.by_index_raw(i).expect("entry"))
                .expect("copy");
        }
    }
    out.finish().expect("finish");
    assert!(picked > 0, "no entry of {} was picked", from.display());
}

/// The main app's Info.plist (`Payload/X.app/Info.plist`, nothing nested).
pub fn is_main_info_plist(name: &str) -> bool {
    name.strip_prefix("Payload/")
        .and_then(|rest| rest.strip_suffix("/Info.plist"))
        .is_some_and(|app| app.ends_with(".app") && !app.contains('/'))
}
