//! Guards in front of the `plist` crate, for plists an IPA controls: Info.plists, entitlements,
//! provisioning profiles, privacy manifests, CodeResources.
//!
//! Two shapes make a small file dangerous once parsed:
//! - **Shared references** (binary plists refer to objects by index): a 1 KiB file whose arrays each
//!   reference the next array twice expands to 2^n values (a "billion laughs"); the `plist` crate
//!   copies shared objects out while building a `Value`. Counting first, with memoisation, keeps
//!   that linear.
//! - **Deep nesting**: `plist` builds values iteratively, but a `Value` is dropped, serialised,
//!   compared and walked by recursion (ours and serde's), so 250 000 nested `<array>`s (3.75 MB)
//!   overflow the stack and abort the process. Nothing real nests more than a dozen levels; we
//!   refuse anything deeper than [`MAX_DEPTH`] before a `Value` exists. Binary plists are measured
//!   on their object table, XML and ASCII (OpenStep) ones by a scan of their brackets and tags.
//!   The scans count every opening the parser could see as one (a comment, string or CDATA
//!   section hides nothing from them that it would not hide from the parser): when unsure they
//!   over-count, which can only refuse a file the parser would reject anyway.
//!
//! [`parse_dict`] and [`parse_value`] are the only way asc-publish and its simulator parse a plist
//! they did not write (its own crate so the simulator, which the product does not contain, shares it).

/// More values than this and the plist is refused: real Info.plists hold a few hundred.
pub const MAX_EXPANDED_VALUES: u64 = 1_000_000;

/// Deepest nesting of arrays and dictionaries accepted (real plists stay under 10).
pub const MAX_DEPTH: usize = 128;

/// Why a plist was not parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlistError {
    /// Nested deeper than [`MAX_DEPTH`]: hostile, never a damaged real file.
    #[error("it nests arrays and dictionaries more than {limit} levels deep; refusing to parse it")]
    TooDeep { limit: usize },
    /// The binary object graph is malformed, cyclic or expands too far.
    #[error("{0}")]
    Refused(String),
    #[error("not a valid plist: {0}")]
    Invalid(String),
    #[error("the root of the plist is not a dictionary")]
    NotADictionary,
}

/// Parses a plist (binary, XML or ASCII) after the expansion and depth checks.
pub fn parse_value(bytes: &[u8]) -> Result<plist::Value, PlistError> {
    check(bytes)?;
    plist::Value::from_reader(std::io::Cursor::new(bytes)).map_err(|e| PlistError::Invalid(e.to_string()))
}

/// [`parse_value`] for a plist whose root must be a dictionary.
pub fn parse_dict(bytes: &[u8]) -> Result<plist::Dictionary, PlistError> {
    parse_value(bytes)?.into_dictionary().ok_or(PlistError::NotADictionary)
}

/// Both checks, without building anything: `Ok` means the `plist` crate may parse the bytes.
pub fn check(bytes: &[u8]) -> Result<(), PlistError> {
    if bytes.starts_with(b"bplist00") {
        return check_binary_graph(bytes, MAX_DEPTH);
    }
    let too_deep = Err(PlistError::TooDeep { limit: MAX_DEPTH });
    if xml_depth(bytes) > MAX_DEPTH {
        return too_deep;
    }
    // The crate falls back to ASCII when the text is not XML; an XML plist starts with `<`, and
    // its text is not scanned for brackets (a string may hold any number of parentheses).
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'<') && ascii_depth(body) > MAX_DEPTH {
        return too_deep;
    }
    Ok(())
}

/// Index of the first occurrence of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The deepest `<array>`/`<dict>` nesting in XML text (the most it reached, up to one past
/// `MAX_DEPTH`). Comments, CDATA, processing instructions and declarations are skipped the way
/// an XML reader skips them; quotes inside a tag are honoured, so a `>` in an attribute does not
/// end it.
fn xml_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(lt) = find(bytes, i, b"<") {
        let rest = bytes.get(lt..).unwrap_or_default();
        let skip_to = |end: &[u8]| find(bytes, lt + 1, end).map(|e| e + end.len());
        let next = if rest.starts_with(b"<!--") {
            skip_to(b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            skip_to(b"]]>")
        } else if rest.starts_with(b"<?") {
            skip_to(b"?>")
        } else {
            tag_end(bytes, lt + 1, rest.starts_with(b"<!"))
        };
        let Some(end) = next else { break };
        if !rest.starts_with(b"<!") && !rest.starts_with(b"<?") {
            // `<name …>`, `<name …/>` or `</name …>`, `end` is just past the `>`.
            let inner = bytes.get(lt + 1..end - 1).unwrap_or_default();
            let (closing, inner) = match inner.strip_prefix(b"/") {
                Some(i) => (true, i),
                None => (false, inner),
            };
            let name_len = inner
                .iter()
                .position(|b| b.is_ascii_whitespace() || *b == b'/')
                .unwrap_or(inner.len());
            let name = inner.get(..name_len).unwrap_or_default();
            if name == b"array" || name == b"dict" {
                if closing {
                    depth = depth.saturating_sub(1);
                } else {
                    // `<array/>` is an (empty) level too, it just closes at once.
                    deepest = deepest.max(depth + 1);
                    if !inner.ends_with(b"/") {
                        depth += 1;
                    }
                    if deepest > MAX_DEPTH {
                        return deepest;
                    }
                }
            }
        }
        i = end;
    }
    deepest
}

/// Just past the `>` ending the tag whose content starts at `from`, skipping quoted values (and,
/// in a `<!DOCTYPE … [ … ]>` declaration, its bracketed internal subset).
fn tag_end(bytes: &[u8], from: usize, declaration: bool) -> Option<usize> {
    let (mut quote, mut brackets) = (None::<u8>, 0usize);
    for (k, &b) in bytes.get(from..)?.iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'[') if declaration => brackets += 1,
            (None, b']') if declaration => brackets = brackets.saturating_sub(1),
            (None, b'>') if brackets == 0 => return Some(from + k + 1),
            _ => {}
        }
    }
    None
}

/// The deepest `(`/`{` nesting in an ASCII (OpenStep) plist, skipping quoted strings (with their
/// backslash escapes), `<hex data>`, and `//` and `/* */` comments.
fn ascii_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'(' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_DEPTH {
                    return deepest;
                }
            }
            b')' | b'}' => depth = depth.saturating_sub(1),
            b'"' | b'\'' => {
                while let Some(&c) = bytes.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b {
                        break;
                    }
                }
            }
            b'<' => i = find(bytes, i, b">").map_or(bytes.len(), |e| e + 1),
            b'/' if bytes.get(i) == Some(&b'/') => i = find(bytes, i, b"\n").map_or(bytes.len(), |e| e + 1),
            b'/' if bytes.get(i) == Some(&b'*') => i = find(bytes, i + 1, b"*/").map_or(bytes.len(), |e| e + 2),
            _ => {}
        }
    }
    deepest
}

fn be(bytes: &[u8], at: usize, width: usize) -> Option<u64> {
    let slice = bytes.get(at..at.checked_add(width)?)?;
    if width > 8 {
        return None;
    }
    Some(slice.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

struct Trailer {
    offset_size: usize,
    ref_size: usize,
    objects: usize,
    top: usize,
    table: usize,
}

fn trailer(bytes: &[u8]) -> Option<Trailer> {
    let at = bytes.len().checked_sub(32)?;
    let t = Trailer {
        offset_size: usize::from(*bytes.get(at + 6)?),
        ref_size: usize::from(*bytes.get(at + 7)?),
        objects: usize::try_from(be(bytes, at + 8, 8)?).ok()?,
        top: usize::try_from(be(bytes, at + 16, 8)?).ok()?,
        table: usize::try_from(be(bytes, at + 24, 8)?).ok()?,
    };
    // Every object takes at least one byte, so more objects than bytes is a lie.
    (t.objects <= bytes.len() && (1..=8).contains(&t.offset_size) && (1..=8).contains(&t.ref_size)).then_some(t)
}

/// The child object indexes of the object at `index` (empty for scalars); `None` when malformed.
fn children(bytes: &[u8], t: &Trailer, index: usize) -> Option<Vec<usize>> {
    let offset = usize::try_from(be(
        bytes,
        t.table.checked_add(index.checked_mul(t.offset_size)?)?,
        t.offset_size,
    )?)
    .ok()?;
    let marker = *bytes.get(offset)?;
    let (kind, info) = (marker >> 4, marker & 0x0f);
    let per_entry = match kind {
        0xA | 0xC => 1,
        0xD => 2,
        _ => return Some(Vec::new()),
    };
    let (len, mut pos) = if info == 0x0f {
        let int_marker = *bytes.get(offset + 1)?;
        if int_marker >> 4 != 0x1 {
            return None;
        }
        let width = 1usize << (int_marker & 0x03);
        (usize::try_from(be(bytes, offset + 2, width)?).ok()?, offset + 2 + width)
    } else {
        (usize::from(info), offset + 1)
    };
    let count = len.checked_mul(per_entry)?;
    // The references must fit in the file before we allocate room for them.
    if count.checked_mul(t.ref_size)? > bytes.len() {
        return None;
    }
    let mut refs = Vec::with_capacity(count);
    for _ in 0..count {
        let r = usize::try_from(be(bytes, pos, t.ref_size)?).ok()?;
        if r >= t.objects {
            return None;
        }
        refs.push(r);
        pos = pos.checked_add(t.ref_size)?;
    }
    Some(refs)
}

/// One container being walked: its index, children, the next child to visit, the values it
/// expands to so far and the height of its tallest child so far.
struct Frame {
    index: usize,
    kids: Vec<usize>,
    next: usize,
    total: u64,
    height: usize,
}

fn check_binary_graph(bytes: &[u8], limit: usize) -> Result<(), PlistError> {
    let refused = |m: &str| PlistError::Refused(m.to_string());
    let Some(t) = trailer(bytes) else {
        return Err(refused("malformed binary plist trailer"));
    };
    if t.top >= t.objects {
        return Err(refused("malformed binary plist: the top object is out of range"));
    }
    // Per object, once walked: the values it expands to and its nesting height (0 for a scalar).
    let mut done: Vec<Option<(u64, usize)>> = vec![None; t.objects];
    let mut on_stack = vec![false; t.objects];
    let malformed = || refused("malformed binary plist object");
    let frame = |index: usize| -> Result<Frame, PlistError> {
        Ok(Frame {
            index,
            kids: children(bytes, &t, index).ok_or_else(malformed)?,
            next: 0,
            total: 1,
            height: 0,
        })
    };
    // Iterative post-order walk: deep nesting must not exhaust our own stack either. Only the top
    // frame can be a scalar (scalars have no children), so the stack length is the number of
    // containers above a child. A shared object is walked once; its memoised height still counts
    // wherever it is referenced again.
    let mut stack: Vec<Frame> = vec![frame(t.top)?];
    *on_stack.get_mut(t.top).ok_or_else(malformed)? = true;
    while let Some(top) = stack.last_mut() {
        if let Some(&child) = top.kids.get(top.next) {
            top.next += 1;
            if let Some(Some((n, h))) = done.get(child) {
                top.total = top.total.saturating_add(*n);
                top.height = top.height.max(*h);
                if *h > 0 && stack.len() + *h > limit {
                    return Err(PlistError::TooDeep { limit });
                }
            } else if on_stack.get(child).copied().unwrap_or(true) {
                return Err(refused("malformed binary plist: an object contains itself"));
            } else {
                if stack.len() + 1 > limit && is_container(bytes, &t, child) {
                    return Err(PlistError::TooDeep { limit });
                }
                let f = frame(child)?;
                if let Some(flag) = on_stack.get_mut(child) {
                    *flag = true;
                }
                stack.push(f);
            }
            continue;
        }
        let Some(f) = stack.pop() else { break };
        let height = if is_container(bytes, &t, f.index) {
            f.height + 1
        } else {
            0
        };
        if f.total > MAX_EXPANDED_VALUES {
            return Err(PlistError::Refused(format!(
                "the binary plist expands to more than {MAX_EXPANDED_VALUES} values (shared references); refusing to parse it"
            )));
        }
        if let Some(slot) = done.get_mut(f.index) {
            *slot = Some((f.total, height));
        }
        if let Some(flag) = on_stack.get_mut(f.index) {
            *flag = false;
        }
        if let Some(parent) = stack.last_mut() {
            parent.total = parent.total.saturating_add(f.total);
            parent.height = parent.height.max(height);
        }
    }
    Ok(())
}

/// Whether the object at `index` is an array, set or dictionary.
fn is_container(bytes: &[u8], t: &Trailer, index: usize) -> bool {
    let marker = index
        .checked_mul(t.offset_size)
        .and_then(|o| t.table.checked_add(o))
        .and_then(|at| be(bytes, at, t.offset_size))
        .and_then(|offset| usize::try_from(offset).ok())
        .and_then(|offset| bytes.get(offset).copied());
    matches!(marker.map(|m| m >> 4), Some(0xA | 0xC | 0xD))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary plist of the given encoded objects (object 0 is the top), `ref_size`-byte
    /// references and 4-byte offsets.
    fn bplist_with(objects: &[Vec<u8>], ref_size: u8) -> Vec<u8> {
        let mut out = b"bplist00".to_vec();
        let mut offsets = Vec::new();
        for object in objects {
            offsets.push(out.len() as u32);
            out.extend_from_slice(object);
        }
        let table = out.len() as u64;
        for o in &offsets {
            out.extend_from_slice(&o.to_be_bytes());
        }
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 4, ref_size]);
        out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
        out.extend_from_slice(&0u64.to_be_bytes());
        out.extend_from_slice(&table.to_be_bytes());
        out
    }

    fn bplist(objects: &[Vec<u8>]) -> Vec<u8> {
        bplist_with(objects, 2)
    }

    /// `levels` arrays, each referencing the next one twice: 2^levels values once expanded.
    fn laughs(levels: u16) -> Vec<u8> {
        let mut objects: Vec<Vec<u8>> = (1..levels)
            .map(|next| {
                let [a, b] = next.to_be_bytes();
                vec![0xA2, a, b, a, b]
            })
            .collect();
        objects.push(vec![0x08]);
        bplist(&objects)
    }

    /// `depth` arrays, each holding the next; the innermost holds `true`.
    fn binary_nested(depth: u32) -> Vec<u8> {
        let mut objects: Vec<Vec<u8>> = (1..=depth)
            .map(|next| {
                let mut o = vec![0xA1];
                o.extend_from_slice(&next.to_be_bytes());
                o
            })
            .collect();
        objects.push(vec![0x09]);
        bplist_with(&objects, 4)
    }

    /// `depth` nested XML containers: arrays, or dictionaries when `dicts`.
    fn xml_nested(depth: usize, dicts: bool) -> Vec<u8> {
        let (open, close) = if dicts {
            ("<dict><key>k</key>", "</dict>")
        } else {
            ("<array>", "</array>")
        };
        let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">"#);
        xml.push_str(&open.repeat(depth));
        xml.push_str(if dicts { "<true/>" } else { "" });
        xml.push_str(&close.repeat(depth));
        xml.push_str("</plist>");
        xml.into_bytes()
    }

    #[test]
    fn shared_references_are_counted_not_expanded() {
        assert!(check(&laughs(10)).is_ok());
        let plist = plist::Value::from_reader(std::io::Cursor::new(laughs(10)));
        assert!(plist.is_ok(), "the sample is a valid plist: {plist:?}");
        let err = check(&laughs(64)).expect_err("2^63 values").to_string();
        assert!(err.contains("expands"), "{err}");
    }

    #[test]
    fn cycles_and_garbage_are_refused() {
        let cyclic = bplist(&[vec![0xA1, 0, 1], vec![0xA1, 0, 0]]);
        let err = check(&cyclic).expect_err("cycle").to_string();
        assert!(err.contains("contains itself"), "{err}");
        assert!(check(b"bplist00garbage").is_err());
        assert!(check(b"<?xml version").is_ok());
    }

    #[test]
    fn xml_nesting_is_capped_at_the_limit() {
        for dicts in [false, true] {
            let ok = parse_value(&xml_nested(MAX_DEPTH, dicts)).expect("128 levels parse");
            assert!(matches!(ok, plist::Value::Array(_) | plist::Value::Dictionary(_)));
            assert_eq!(
                parse_value(&xml_nested(MAX_DEPTH + 1, dicts)),
                Err(PlistError::TooDeep { limit: MAX_DEPTH }),
                "dicts: {dicts}"
            );
        }
        // The report's input: 250 000 nested arrays, 3.75 MB. Without the cap, dropping the parsed
        // value alone overflows the stack.
        // An empty self-closed container is a level too (found by the plist_nesting fuzz target:
        // 128 arrays around `<array/>`).
        let mut self_closed = xml_nested(MAX_DEPTH, false);
        let at = self_closed.windows(8).position(|w| w == b"</array>").expect("close");
        self_closed.splice(at..at, b"<array/>".iter().copied());
        assert_eq!(parse_value(&self_closed), Err(PlistError::TooDeep { limit: MAX_DEPTH }));
        let hostile = xml_nested(250_000, false);
        assert!(hostile.len() > 3_700_000);
        assert_eq!(parse_value(&hostile), Err(PlistError::TooDeep { limit: MAX_DEPTH }));
        assert_eq!(parse_dict(&hostile), Err(PlistError::TooDeep { limit: MAX_DEPTH }));
    }

    #[test]
    fn binary_nesting_is_capped_at_the_limit() {
        let limit = MAX_DEPTH as u32;
        let ok = parse_value(&binary_nested(limit)).expect("128 levels parse");
        assert!(matches!(ok, plist::Value::Array(_)));
        assert_eq!(
            parse_value(&binary_nested(limit + 1)),
            Err(PlistError::TooDeep { limit: MAX_DEPTH })
        );
        assert_eq!(
            parse_value(&binary_nested(250_000)),
            Err(PlistError::TooDeep { limit: MAX_DEPTH })
        );
        // Written by the crate itself, read back: the two agree on what a level is.
        let mut v = plist::Value::Boolean(true);
        for _ in 0..MAX_DEPTH {
            v = plist::Value::Array(vec![v]);
        }
        let mut bytes = Vec::new();
        plist::to_writer_binary(&mut bytes, &v).expect("write");
        assert!(check(&bytes).is_ok());
        let mut deeper = Vec::new();
        plist::to_writer_binary(&mut deeper, &plist::Value::Array(vec![v])).expect("write");
        assert_eq!(check(&deeper), Err(PlistError::TooDeep { limit: MAX_DEPTH }));
    }

    #[test]
    fn a_shared_subtree_counts_at_its_deepest_reference() {
        // Object 0 = [1, 2]: 1 is a 100-deep chain ending in the shared object 2, and 2 is a
        // 100-deep chain of its own. Walked first through 0 (shallow), then again at depth 101.
        const CHAIN: u32 = 100;
        let shared = CHAIN + 1;
        let mut objects: Vec<Vec<u8>> = vec![{
            let mut o = vec![0xA2];
            o.extend_from_slice(&1u32.to_be_bytes());
            o.extend_from_slice(&shared.to_be_bytes());
            o
        }];
        // 1..=CHAIN: each holds the next; the last one holds the shared chain's head.
        for i in 1..=CHAIN {
            let mut o = vec![0xA1];
            o.extend_from_slice(&(i + 1).to_be_bytes());
            objects.push(o);
        }
        // The shared chain: CHAIN arrays, then `true`.
        for i in 0..CHAIN {
            let mut o = vec![0xA1];
            o.extend_from_slice(&(shared + i + 1).to_be_bytes());
            objects.push(o);
        }
        objects.push(vec![0x09]);
        // Reorder object 0's references so the shared chain is visited first, at depth 2.
        let first = objects.remove(0);
        let mut swapped = vec![0xA2];
        swapped.extend_from_slice(&first[5..9]);
        swapped.extend_from_slice(&first[1..5]);
        objects.insert(0, swapped);
        assert_eq!(
            check(&bplist_with(&objects, 4)),
            Err(PlistError::TooDeep { limit: MAX_DEPTH })
        );
    }

    #[test]
    fn ascii_plists_are_measured_too() {
        let deep = format!("{}{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(check(deep.as_bytes()), Err(PlistError::TooDeep { limit: MAX_DEPTH }));
        let fine = format!("{}{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse_value(fine.as_bytes()).is_ok());
    }
}
