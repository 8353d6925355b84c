//! Ways a CI step can change an IPA while asc-publish uploads it (issue 10): the upload tests of
//! both backends use the same three.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Same size, new bytes.
    RewriteInPlace,
    Append,
    /// Another file renamed over it (what a re-export does).
    Replace,
}

pub fn change(path: &Path, how: Change) {
    match how {
        Change::RewriteInPlace => {
            let mut f = std::fs::File::options().write(true).open(path).unwrap();
            f.seek(SeekFrom::Start(4096)).unwrap();
            f.write_all(&[0xAB; 4096]).unwrap();
        }
        Change::Append => {
            let mut f = std::fs::File::options().append(true).open(path).unwrap();
            f.write_all(b"appended").unwrap();
        }
        Change::Replace => {
            let other = path.with_extension("new");
            std::fs::copy(path, &other).unwrap();
            std::fs::rename(&other, path).unwrap();
        }
    }
}
