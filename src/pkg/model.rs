//! What a `.pkg` adds to the inspection: the installer package's own facts (signature, TOC
//! integrity, PackageInfo, Distribution) and the app's sandbox entitlement.

use serde::Serialize;

use crate::ipa::Inspection;

/// An installer signature element of the TOC.
#[derive(Debug, Clone, Serialize)]
pub struct InstallerSignature {
    /// `RSA` for `<signature>`, `CMS` for `<x-signature>`.
    pub style: String,
    pub certificates: usize,
    /// The leaf certificate's common name, e.g. `3rd Party Mac Developer Installer: Team (ID)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// `PackageInfo` of the component package holding the app.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageInfoFacts {
    pub identifier: Option<String>,
    pub version: Option<String>,
    pub install_location: Option<String>,
    /// The `<bundle>` entry for the app, when PackageInfo lists one.
    pub app_bundle_id: Option<String>,
    pub app_short_version: Option<String>,
    pub app_version: Option<String>,
}

/// `Distribution`'s `<product>`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DistributionFacts {
    pub product_id: Option<String>,
    pub product_version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TocIntegrity {
    Verified,
    Mismatch,
    Unchecked,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageFacts {
    /// `<signature>` (what `productsign`/`productbuild --sign` write).
    pub signature: Option<InstallerSignature>,
    /// `<x-signature>` (CMS), written beside it.
    pub x_signature: Option<InstallerSignature>,
    pub toc_checksum: TocIntegrity,
    /// Component payloads (`<name>.pkg/Payload`).
    pub components: Vec<String>,
    /// The component payload the app was found in.
    pub app_component: Option<String>,
    pub package_info: Option<PackageInfoFacts>,
    pub distribution: Option<DistributionFacts>,
    /// `com.apple.security.app-sandbox` from the main executable's code signature; `None` when the
    /// executable or its entitlements could not be read.
    pub app_sandbox: Option<bool>,
    /// What could not be read (kept for the rules, which report it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl PackageFacts {
    pub fn is_signed(&self) -> bool {
        self.signature.is_some() || self.x_signature.is_some()
    }
}

/// An inspected `.pkg`: the same [`Inspection`] an IPA gives (platform `MAC_OS`, the app as
/// `bundles[0]`), plus the package's own facts.
#[derive(Debug, Clone, Serialize)]
pub struct PkgInspection {
    #[serde(flatten)]
    pub inspection: Inspection,
    pub package: PackageFacts,
}
