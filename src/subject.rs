//! What `inspect`, `validate` and `upload` read: an IPA or a Mac App Store package, chosen by the
//! file's first bytes (a `.pkg` is a xar archive, an IPA a zip), so the commands need no flag.

use std::path::Path;
use std::time::SystemTime;

use crate::error::Error;
use crate::ipa::{Inspected, Inspection};
use crate::pkg::PkgInspection;
use crate::profile::TrustStore;
use crate::validate::{Options, Report};

#[derive(Debug)]
pub enum Subject {
    Ipa(Box<Inspected>),
    Pkg(Box<PkgInspection>),
}

impl Subject {
    /// Opens and inspects the file: a package when it starts with `xar!`, an IPA otherwise.
    pub fn open(path: &Path, trust: &TrustStore) -> Result<Subject, Error> {
        if crate::pkg::is_package(path) {
            Ok(Subject::Pkg(Box::new(crate::pkg::inspect(path, trust)?)))
        } else {
            Ok(Subject::Ipa(Box::new(crate::ipa::inspect(path, trust)?)))
        }
    }

    pub fn inspection(&self) -> &Inspection {
        match self {
            Subject::Ipa(i) => &i.inspection,
            Subject::Pkg(p) => &p.inspection,
        }
    }

    /// The Build Uploads file type (`uti` of `buildUploadFiles`).
    pub fn uti(&self) -> &'static str {
        match self {
            Subject::Ipa(_) => "com.apple.ipa",
            Subject::Pkg(_) => "com.apple.pkg",
        }
    }

    /// Runs the rules for this kind of file.
    pub fn validate(&self, trust: &TrustStore, options: &Options, now: SystemTime) -> Report {
        match self {
            Subject::Ipa(i) => crate::validate::validate(i, trust, options, now),
            Subject::Pkg(p) => {
                let mut findings = Vec::new();
                crate::validate::rules::mac_pkg::check(p, &mut findings);
                Report::new(findings)
            }
        }
    }

    /// The `inspect --format json` document: the inspection, plus `package` for a `.pkg`.
    pub fn to_json_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Subject::Ipa(i) => serde_json::to_value(&i.inspection),
            Subject::Pkg(p) => serde_json::to_value(p.as_ref()),
        }
    }
}
