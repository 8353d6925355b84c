//! Sample builder: `_CodeSignature/CodeResources` (legacy `files`, `files2` with SHA-256
//! `hash2`, nested code by `cdhash`, and Xcode's default rules).

use std::collections::BTreeMap;

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// One sealed entry of a `CodeResources` file.
#[derive(Debug, Clone)]
enum Sealed {
    File {
        sha1: Vec<u8>,
        sha256: Vec<u8>,
        optional: bool,
    },
    Nested {
        cdhash: Vec<u8>,
    },
}

/// Builds `_CodeSignature/CodeResources` (`files`, `files2` with `hash2`, Xcode's default rules).
#[derive(Debug, Clone, Default)]
pub struct CodeResourcesBuilder {
    entries: BTreeMap<String, Sealed>,
}

impl CodeResourcesBuilder {
    pub fn new() -> Self {
        CodeResourcesBuilder::default()
    }

    /// Seals a file by content; `path` is relative to the bundle.
    pub fn file(mut self, path: &str, bytes: &[u8]) -> Self {
        self.entries.insert(path.to_string(), sealed_file(bytes, false));
        self
    }

    /// Seals a file that may be absent (localisations).
    pub fn optional_file(mut self, path: &str, bytes: &[u8]) -> Self {
        self.entries.insert(path.to_string(), sealed_file(bytes, true));
        self
    }

    /// Seals a file known only by its SHA-256 (content streamed elsewhere, e.g. gigabytes of
    /// benchmark padding); it gets no legacy SHA-1 `files` entry.
    pub fn file_sha256(mut self, path: &str, sha256: &[u8; 32]) -> Self {
        self.entries.insert(
            path.to_string(),
            Sealed::File {
                sha1: Vec::new(),
                sha256: sha256.to_vec(),
                optional: false,
            },
        );
        self
    }

    /// Seals nested code (a framework, an appex) by its CodeDirectory hash (20 bytes).
    pub fn nested(mut self, path: &str, cdhash: &[u8]) -> Self {
        self.entries.insert(
            path.to_string(),
            Sealed::Nested {
                cdhash: cdhash.to_vec(),
            },
        );
        self
    }

    pub fn build(&self) -> Vec<u8> {
        use plist::{Dictionary, Value};
        let mut files = Dictionary::new();
        let mut files2 = Dictionary::new();
        for (path, e) in &self.entries {
            let mut d2 = Dictionary::new();
            match e {
                Sealed::File { sha1, sha256, optional } if sha1.is_empty() => {
                    if *optional {
                        d2.insert("optional".into(), Value::Boolean(true));
                    }
                    d2.insert("hash2".into(), Value::Data(sha256.clone()));
                }
                Sealed::File { sha1, sha256, optional } => {
                    if *optional {
                        let mut d = Dictionary::new();
                        d.insert("hash".into(), Value::Data(sha1.clone()));
                        d.insert("optional".into(), Value::Boolean(true));
                        files.insert(path.clone(), Value::Dictionary(d));
                        d2.insert("optional".into(), Value::Boolean(true));
                    } else {
                        files.insert(path.clone(), Value::Data(sha1.clone()));
                    }
                    d2.insert("hash".into(), Value::Data(sha1.clone()));
                    d2.insert("hash2".into(), Value::Data(sha256.clone()));
                }
                Sealed::Nested { cdhash } => {
                    d2.insert("cdhash".into(), Value::Data(cdhash.clone()));
                    d2.insert("requirement".into(), Value::String("cdhash H\"…\"".into()));
                }
            }
            files2.insert(path.clone(), Value::Dictionary(d2));
        }
        let mut root = Dictionary::new();
        root.insert("files".into(), Value::Dictionary(files));
        root.insert("files2".into(), Value::Dictionary(files2));
        root.insert("rules".into(), Value::Dictionary(rules(false)));
        root.insert("rules2".into(), Value::Dictionary(rules(true)));
        let mut out = Vec::new();
        // Writing a Dictionary of plain values into a Vec cannot fail.
        let _ = plist::to_writer_xml(&mut out, &root);
        out
    }
}

fn sealed_file(bytes: &[u8], optional: bool) -> Sealed {
    Sealed::File {
        sha1: Sha1::digest(bytes).to_vec(),
        sha256: Sha256::digest(bytes).to_vec(),
        optional,
    }
}

/// Xcode's default resource rules.
fn rules(v2: bool) -> plist::Dictionary {
    use plist::{Dictionary, Value};
    let rule = |pairs: &[(&str, Value)]| {
        let mut d = Dictionary::new();
        for (k, v) in pairs {
            d.insert((*k).into(), v.clone());
        }
        Value::Dictionary(d)
    };
    let mut r = Dictionary::new();
    r.insert("^.*".into(), Value::Boolean(true));
    r.insert(
        "^.*\\.lproj/".into(),
        rule(&[("optional", true.into()), ("weight", 1000.0.into())]),
    );
    r.insert(
        "^.*\\.lproj/locversion.plist$".into(),
        rule(&[("omit", true.into()), ("weight", 1100.0.into())]),
    );
    r.insert("^Base\\.lproj/".into(), rule(&[("weight", 1010.0.into())]));
    r.insert("^version.plist$".into(), Value::Boolean(true));
    if v2 {
        r.insert(".*\\.dSYM($|/)".into(), rule(&[("weight", 11.0.into())]));
        r.insert(
            "^(.*/)?\\.DS_Store$".into(),
            rule(&[("omit", true.into()), ("weight", 2000.0.into())]),
        );
        r.insert(
            "^Info\\.plist$".into(),
            rule(&[("omit", true.into()), ("weight", 20.0.into())]),
        );
        r.insert(
            "^PkgInfo$".into(),
            rule(&[("omit", true.into()), ("weight", 20.0.into())]),
        );
        r.insert("^embedded\\.provisionprofile$".into(), rule(&[("weight", 20.0.into())]));
        r.insert(
            "^[^/]+$".into(),
            rule(&[("nested", true.into()), ("weight", 10.0.into())]),
        );
        r.insert(
            "^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/(Automator|Spotlight|LoginItems))/".into(),
            rule(&[("nested", true.into()), ("weight", 10.0.into())]),
        );
    }
    r
}
