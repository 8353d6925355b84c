//! A small, bounded XML tree for the package's XML documents (the TOC, PackageInfo,
//! Distribution): element names, attributes and text, with caps on nesting and element count so a
//! hostile document cannot exhaust the stack or memory.

use quick_xml::XmlVersion;
use quick_xml::events::Event;

/// Why a document gave no tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    Syntax(String),
    TooDeep(usize),
    TooManyElements(usize),
}

/// One element: local name (namespace prefix dropped), attributes, concatenated text, children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl DoubleEndedIterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child with this name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Limits on a parsed document.
#[derive(Debug, Clone, Copy)]
pub struct XmlLimits {
    pub max_depth: usize,
    pub max_elements: usize,
}

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => name.to_string(),
    }
}

fn start(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| XmlError::Syntax(e.to_string()))?;
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Syntax(e.to_string()))?;
        attrs.push((local(a.key.as_ref()), value.into_owned()));
    }
    Ok(Element {
        name: local(e.name().as_ref()),
        attrs,
        ..Element::default()
    })
}

/// Parses a whole document into its root element. Iterative: the tree's depth is bounded by
/// `max_depth`, so dropping it recurses at most that deep.
pub fn parse(bytes: &[u8], limits: XmlLimits) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::Syntax(format!("not UTF-8: {e}")))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let mut open = |stack: &mut Vec<Element>, el: Element| -> Result<(), XmlError> {
        count += 1;
        if count > limits.max_elements {
            return Err(XmlError::TooManyElements(limits.max_elements));
        }
        if stack.len() >= limits.max_depth {
            return Err(XmlError::TooDeep(limits.max_depth));
        }
        stack.push(el);
        Ok(())
    };
    fn close(stack: &mut Vec<Element>, root: &mut Option<Element>) -> Result<(), XmlError> {
        let el = stack
            .pop()
            .ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
        match stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None if root.is_none() => *root = Some(el),
            None => return Err(XmlError::Syntax("more than one root element".into())),
        }
        Ok(())
    }
    loop {
        let event = reader.read_event().map_err(|e| XmlError::Syntax(e.to_string()))?;
        match event {
            Event::Start(e) => {
                let el = start(&e)?;
                open(&mut stack, el)?;
            }
            Event::Empty(e) => {
                let el = start(&e)?;
                open(&mut stack, el)?;
                close(&mut stack, &mut root)?;
            }
            Event::End(_) => close(&mut stack, &mut root)?,
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match &*r {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        other => return Err(XmlError::Syntax(format!("unknown entity `&{other};`"))),
                    },
                    Err(e) => return Err(XmlError::Syntax(e.to_string())),
                };
                if let (Some(top), Some(c)) = (stack.last_mut(), resolved) {
                    top.text.push(c);
                }
            }
            Event::DocType(_) => {
                // Entity declarations are how XML bombs grow; package XML never has a DTD.
                return Err(XmlError::Syntax("a DOCTYPE is not allowed".into()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax("the document ends inside an element".into()));
    }
    root.ok_or_else(|| XmlError::Syntax("no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: XmlLimits = XmlLimits {
        max_depth: 8,
        max_elements: 20,
    };

    #[test]
    fn reads_names_attributes_and_text() {
        let root = parse(br#"<?xml version="1.0"?><a x="1 &amp; 2"><b>t&lt;&#65;</b><c/></a>"#, L).unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1 & 2"));
        assert_eq!(root.child_text("b"), Some("t<A"));
        assert!(root.child("c").is_some());
    }

    #[test]
    fn caps_depth_and_count_and_refuses_doctype() {
        let deep = "<a>".repeat(9) + &"</a>".repeat(9);
        assert_eq!(parse(deep.as_bytes(), L), Err(XmlError::TooDeep(8)));
        let many = format!("<a>{}</a>", "<b/>".repeat(20));
        assert_eq!(parse(many.as_bytes(), L), Err(XmlError::TooManyElements(20)));
        assert!(matches!(
            parse(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", L),
            Err(XmlError::Syntax(_))
        ));
        assert!(matches!(parse(b"<a><b></a>", L), Err(XmlError::Syntax(_))));
        assert!(matches!(parse(b"", L), Err(XmlError::Syntax(_))));
    }
}
