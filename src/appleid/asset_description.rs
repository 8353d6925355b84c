//! `AppStoreInfo.plist`: the asset description the content-delivery service expects next to the
//! IPA, generated here from the inspection as a binary plist. Apple's `swinfo` writes a much larger
//! one; this minimal form is the one ios-uploader 4.0 sends (keys, `bundle-path` as the bare
//! `Name.app`, the profile as a base64 string in `file-data`). It is the most fragile part of the
//! protocol: no public capture of what the service accepts exists.

use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use plist::{Dictionary, Value};

use crate::appleid::AppleIdError;
use crate::ipa::model::Inspection;

/// The largest provisioning profile embedded (real ones are a few KiB to ~100 KiB).
const MAX_PROFILE: u64 = 2 * 1024 * 1024;

/// The asset description's file name.
pub const FILE_NAME: &str = "AppStoreInfo.plist";

/// What goes into the description.
#[derive(Debug, Clone)]
pub struct DescriptionInput {
    pub ipa_file_name: String,
    pub ipa_size: u64,
    /// `Payload/Name.app`.
    pub app_path: String,
    pub bundle_id: String,
    pub short_version: String,
    pub version: String,
    pub profile: Vec<u8>,
}

impl DescriptionInput {
    /// Gathers the facts from the inspection and reads the main app's embedded profile (which the
    /// service requires).
    pub fn from_ipa(ipa: &Path, inspection: &Inspection, file_name: &str, size: u64) -> Result<Self, AppleIdError> {
        let app = inspection
            .main_app()
            .ok_or_else(|| AppleIdError::Ipa("the IPA has no main app bundle".into()))?;
        let app_path = app.path.trim_end_matches('/').to_string();
        let profile_path = format!("{app_path}/embedded.mobileprovision");
        let profile = read_entry(ipa, &profile_path)?;
        let s = &inspection.app;
        let missing = |w: &str| AppleIdError::Ipa(format!("the main app has no {w}"));
        Ok(DescriptionInput {
            ipa_file_name: file_name.to_string(),
            ipa_size: size,
            app_path,
            bundle_id: s.bundle_id.clone().ok_or_else(|| missing("CFBundleIdentifier"))?,
            short_version: s
                .short_version
                .clone()
                .ok_or_else(|| missing("CFBundleShortVersionString"))?,
            version: s.version.clone().ok_or_else(|| missing("CFBundleVersion"))?,
            profile,
        })
    }
}

fn read_entry(ipa: &Path, name: &str) -> Result<Vec<u8>, AppleIdError> {
    let f = std::fs::File::open(ipa).map_err(|e| AppleIdError::Ipa(format!("cannot open the IPA: {e}")))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| AppleIdError::Ipa(format!("cannot read the IPA: {e}")))?;
    let entry = zip.by_name(name).map_err(|_| {
        AppleIdError::Ipa(format!(
            "{name} is missing; an Apple ID upload needs the App Store provisioning profile embedded"
        ))
    })?;
    let mut out = Vec::new();
    entry
        .take(MAX_PROFILE + 1)
        .read_to_end(&mut out)
        .map_err(|e| AppleIdError::Ipa(format!("cannot read {name}: {e}")))?;
    if out.len() as u64 > MAX_PROFILE {
        return Err(AppleIdError::Ipa(format!("{name} is larger than 2 MiB")));
    }
    Ok(out)
}

/// The binary plist bytes.
pub fn generate(input: &DescriptionInput) -> Result<Vec<u8>, AppleIdError> {
    let app_name = input.app_path.rsplit('/').next().unwrap_or(&input.app_path).to_string();
    let mut bundle = Dictionary::new();
    bundle.insert("CFBundleShortVersionString".into(), input.short_version.clone().into());
    bundle.insert("CFBundleVersion".into(), input.version.clone().into());
    bundle.insert("bundle-identifier".into(), input.bundle_id.clone().into());
    // The bundle's own directory name, as ios-uploader sends it (not the `Payload/` path).
    bundle.insert("bundle-path".into(), app_name.clone().into());
    bundle.insert("bundles".into(), Value::Array(Vec::new()));
    bundle.insert("icons".into(), Value::Array(Vec::new()));
    bundle.insert("platform-display-name".into(), "iOS App".into());
    bundle.insert("platform-id".into(), Value::Integer(1.into()));

    let mut profile = Dictionary::new();
    profile.insert("file-size".into(), Value::Integer((input.profile.len() as u64).into()));
    profile.insert("file-type".into(), "NSFileTypeRegular".into());
    // A base64 string, as ios-uploader sends it (not a plist <data> element).
    profile.insert(
        "file-data".into(),
        base64::engine::general_purpose::STANDARD.encode(&input.profile).into(),
    );
    profile.insert("uti".into(), "com.apple.mobileprovision".into());
    profile.insert("path".into(), format!("{app_name}/embedded.mobileprovision").into());

    let mut package = Dictionary::new();
    package.insert("bundles".into(), Value::Array(vec![Value::Dictionary(bundle)]));
    package.insert("files".into(), Value::Array(vec![Value::Dictionary(profile)]));

    let mut meta = Dictionary::new();
    meta.insert("archive-bytes".into(), Value::Integer(input.ipa_size.into()));
    meta.insert("file-name".into(), input.ipa_file_name.clone().into());
    meta.insert("packages".into(), Value::Array(vec![Value::Dictionary(package)]));

    let mut root = Dictionary::new();
    root.insert("product-metadata".into(), Value::Dictionary(meta));
    let mut out = Vec::new();
    plist::to_writer_binary(&mut out, &Value::Dictionary(root))
        .map_err(|e| AppleIdError::Ipa(format!("cannot write {FILE_NAME}: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_a_binary_plist_with_the_bundle_and_profile() {
        let input = DescriptionInput {
            ipa_file_name: "Demo.ipa".into(),
            ipa_size: 1234,
            app_path: "Payload/Demo.app".into(),
            bundle_id: "com.example.demo".into(),
            short_version: "1.0".into(),
            version: "7".into(),
            profile: b"profile-bytes".to_vec(),
        };
        let bytes = generate(&input).unwrap();
        assert!(bytes.starts_with(b"bplist00"));
        let v: Value = plist::from_bytes(&bytes).unwrap();
        let meta = v.as_dictionary().unwrap()["product-metadata"].as_dictionary().unwrap();
        assert_eq!(meta["archive-bytes"].as_unsigned_integer(), Some(1234));
        let pkg = meta["packages"].as_array().unwrap()[0].as_dictionary().unwrap();
        let b = pkg["bundles"].as_array().unwrap()[0].as_dictionary().unwrap();
        assert_eq!(b["bundle-identifier"].as_string(), Some("com.example.demo"));
        assert_eq!(b["CFBundleVersion"].as_string(), Some("7"));
        assert_eq!(b["bundle-path"].as_string(), Some("Demo.app"), "the bare bundle name");
        let f = pkg["files"].as_array().unwrap()[0].as_dictionary().unwrap();
        let data = f["file-data"].as_string().expect("file-data is a base64 string");
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(data).unwrap(),
            b"profile-bytes"
        );
        assert_eq!(f["path"].as_string(), Some("Demo.app/embedded.mobileprovision"));
    }
}
