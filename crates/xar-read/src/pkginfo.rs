//! The installer's own descriptions of what a package installs: a component package's
//! `PackageInfo` and a product archive's `Distribution`. Only the identity fields are read.

use crate::xml::{self, Element, XmlLimits};

/// `<pkg-info identifier=… version=… install-location=…>` with its `<bundle>` elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageInfo {
    pub identifier: Option<String>,
    pub version: Option<String>,
    pub install_location: Option<String>,
    pub bundles: Vec<BundleRef>,
}

/// `<bundle path="./Foo.app" id="…" CFBundleShortVersionString="…" CFBundleVersion="…"/>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleRef {
    pub path: Option<String>,
    pub id: Option<String>,
    pub short_version: Option<String>,
    pub version: Option<String>,
}

/// The identity fields of `<installer-gui-script>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution {
    /// `<product id=… version=…>`: what the Mac App Store takes as the bundle id and version.
    pub product_id: Option<String>,
    pub product_version: Option<String>,
    /// `<pkg-ref id=… version=…>` elements (those with an id).
    pub pkg_refs: Vec<PkgRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgRef {
    pub id: String,
    pub version: Option<String>,
}

fn attr(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(str::to_string)
}

/// Every element of the tree, iteratively (the tree's depth is already capped by the parser).
fn walk(root: &Element) -> Vec<&Element> {
    let mut out = Vec::new();
    let mut work = vec![root];
    while let Some(el) = work.pop() {
        out.push(el);
        work.extend(el.children.iter().rev());
    }
    out
}

pub fn parse_package_info(bytes: &[u8], limits: XmlLimits) -> Result<PackageInfo, String> {
    let root = xml::parse(bytes, limits).map_err(|e| format!("{e:?}"))?;
    if root.name != "pkg-info" {
        return Err(format!("the root element is <{}>, not <pkg-info>", root.name));
    }
    let bundles = walk(&root)
        .into_iter()
        .filter(|e| e.name == "bundle")
        .map(|b| BundleRef {
            path: attr(b, "path"),
            id: attr(b, "id"),
            short_version: attr(b, "CFBundleShortVersionString"),
            version: attr(b, "CFBundleVersion"),
        })
        .collect();
    Ok(PackageInfo {
        identifier: attr(&root, "identifier"),
        version: attr(&root, "version"),
        install_location: attr(&root, "install-location"),
        bundles,
    })
}

pub fn parse_distribution(bytes: &[u8], limits: XmlLimits) -> Result<Distribution, String> {
    let root = xml::parse(bytes, limits).map_err(|e| format!("{e:?}"))?;
    if root.name != "installer-gui-script" && root.name != "installer-script" {
        return Err(format!(
            "the root element is <{}>, not <installer-gui-script>",
            root.name
        ));
    }
    let product = root.child("product");
    let mut pkg_refs: Vec<PkgRef> = Vec::new();
    for r in walk(&root).into_iter().filter(|e| e.name == "pkg-ref") {
        let Some(id) = attr(r, "id") else { continue };
        // A pkg-ref is often listed twice (once in choices, once with the version and href).
        match pkg_refs.iter_mut().find(|p| p.id == id) {
            Some(p) if p.version.is_none() => p.version = attr(r, "version"),
            Some(_) => {}
            None => pkg_refs.push(PkgRef {
                id,
                version: attr(r, "version"),
            }),
        }
    }
    Ok(Distribution {
        product_id: product.and_then(|p| attr(p, "id")),
        product_version: product.and_then(|p| attr(p, "version")),
        pkg_refs,
    })
}
