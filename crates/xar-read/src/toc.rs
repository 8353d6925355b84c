//! The table of contents: the files (paths joined from nested `<file>` elements), where each
//! one's data lies in the heap and how it is encoded, the TOC checksum, and the signatures.

use base64::Engine as _;

use crate::error::XarError;
use crate::xml::Element;

/// What kind of entry a `<file>` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileType {
    File,
    Directory,
    Symlink,
    Other(String),
}

/// How a heap file is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoding {
    /// `application/octet-stream` (or no `<encoding>`): stored as is.
    None,
    /// `application/x-gzip`: xar's name for a zlib stream.
    Zlib,
    /// Anything else (`application/x-bzip2`, `application/x-lzma`, …), by its style.
    Other(String),
}

/// Where a file's bytes are: `offset` from the start of the heap, `length` stored bytes, `size`
/// once decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRef {
    pub offset: u64,
    pub length: u64,
    pub size: u64,
    pub encoding: Encoding,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path from the archive root, components joined with `/`.
    pub path: String,
    pub kind: FileType,
    pub data: Option<DataRef>,
}

/// A `<signature>` (RSA over the TOC checksum) or `<x-signature>` (CMS) element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub style: String,
    pub offset: u64,
    pub size: u64,
    /// The `KeyInfo/X509Data/X509Certificate` chain, DER, leaf first (as xar writes it).
    pub certificates: Vec<Vec<u8>>,
}

/// The TOC checksum (hash of the compressed TOC, stored in the heap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocChecksum {
    pub style: String,
    pub offset: u64,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toc {
    pub files: Vec<FileEntry>,
    pub checksum: Option<TocChecksum>,
    pub signature: Option<Signature>,
    pub x_signature: Option<Signature>,
    pub creation_time: Option<String>,
}

impl Toc {
    pub fn find(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == path)
    }
}

fn number(el: &Element, name: &str) -> Option<u64> {
    el.child_text(name)?.parse().ok()
}

fn signature(el: &Element) -> Signature {
    let certificates = el
        .child("KeyInfo")
        .and_then(|k| k.child("X509Data"))
        .map(|d| {
            d.children_named("X509Certificate")
                .filter_map(|c| {
                    let b64: String = c.text.split_whitespace().collect();
                    base64::engine::general_purpose::STANDARD.decode(b64).ok()
                })
                .collect()
        })
        .unwrap_or_default();
    Signature {
        style: el.attr("style").unwrap_or_default().to_string(),
        offset: number(el, "offset").unwrap_or(0),
        size: number(el, "size").unwrap_or(0),
        certificates,
    }
}

fn name_of(el: &Element) -> Option<String> {
    let name = el.child("name")?;
    if name.attr("enctype") == Some("base64") {
        let b64: String = name.text.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        return Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    Some(name.text.clone())
}

fn data(el: &Element) -> Option<DataRef> {
    let d = el.child("data")?;
    let encoding = match d.child("encoding").and_then(|e| e.attr("style")) {
        None | Some("application/octet-stream") => Encoding::None,
        Some("application/x-gzip") => Encoding::Zlib,
        Some(other) => Encoding::Other(other.to_string()),
    };
    Some(DataRef {
        offset: number(d, "offset")?,
        length: number(d, "length")?,
        size: number(d, "size")?,
        encoding,
    })
}

/// Flattens the `<file>` tree into paths; iterative, and capped at `max_files`.
fn collect_files(toc: &Element, max_files: usize) -> Result<Vec<FileEntry>, XarError> {
    let mut out = Vec::new();
    let mut work: Vec<(&Element, String)> = toc.children_named("file").rev().map(|f| (f, String::new())).collect();
    while let Some((el, prefix)) = work.pop() {
        if out.len() >= max_files {
            return Err(XarError::TooManyFiles { limit: max_files });
        }
        let name = name_of(el).unwrap_or_default();
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = match el.child_text("type") {
            Some("file") | None => FileType::File,
            Some("directory") => FileType::Directory,
            Some("symlink") => FileType::Symlink,
            Some(other) => FileType::Other(other.to_string()),
        };
        let data = if kind == FileType::File { data(el) } else { None };
        for child in el.children_named("file").collect::<Vec<_>>().into_iter().rev() {
            work.push((child, path.clone()));
        }
        out.push(FileEntry { path, kind, data });
    }
    Ok(out)
}

/// Reads the TOC from its XML tree (`<xar><toc>…</toc></xar>`).
pub fn from_xml(root: &Element, max_files: usize) -> Result<Toc, XarError> {
    if root.name != "xar" {
        return Err(XarError::TocXml(format!(
            "the root element is <{}>, not <xar>",
            root.name
        )));
    }
    let toc = root
        .child("toc")
        .ok_or_else(|| XarError::TocXml("no <toc> element".into()))?;
    let checksum = toc.child("checksum").map(|c| TocChecksum {
        style: c.attr("style").unwrap_or_default().to_string(),
        offset: number(c, "offset").unwrap_or(0),
        size: number(c, "size").unwrap_or(0),
    });
    Ok(Toc {
        files: collect_files(toc, max_files)?,
        checksum,
        signature: toc.child("signature").map(signature),
        x_signature: toc.child("x-signature").map(signature),
        creation_time: toc.child_text("creation-time").map(str::to_string),
    })
}
