//! A pre-check for binary plists: how many values the object graph expands to once shared
//! references are copied out, computed without expanding it.
//!
//! Binary plists refer to objects by index, so a 1 KiB file whose arrays each reference the next
//! array twice expands to 2^n values (a "billion laughs"); the `plist` crate copies shared objects
//! out while building a `Value`. Counting first, with memoisation, keeps that linear.

/// More values than this and the plist is refused: real Info.plists hold a few hundred.
pub const MAX_EXPANDED_VALUES: u64 = 1_000_000;

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

/// Checks a binary plist's expansion; `Ok` for anything that is not a binary plist (the parser
/// reports those) and for graphs that expand to at most [`MAX_EXPANDED_VALUES`].
pub fn check_binary_plist(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(b"bplist00") {
        return Ok(());
    }
    let Some(t) = trailer(bytes) else {
        return Err("malformed binary plist trailer".into());
    };
    if t.top >= t.objects {
        return Err("malformed binary plist: the top object is out of range".into());
    }
    let mut expanded: Vec<Option<u64>> = vec![None; t.objects];
    let mut on_stack = vec![false; t.objects];
    // Iterative post-order walk: deep nesting must not exhaust our own stack either.
    let mut stack: Vec<(usize, Vec<usize>, usize, u64)> = Vec::new();
    let malformed = || "malformed binary plist object".to_string();
    let first = children(bytes, &t, t.top).ok_or_else(malformed)?;
    *on_stack.get_mut(t.top).ok_or_else(malformed)? = true;
    stack.push((t.top, first, 0, 1));
    while let Some((index, kids, next, total)) = stack.last_mut() {
        if let Some(&child) = kids.get(*next) {
            *next += 1;
            if let Some(Some(n)) = expanded.get(child) {
                *total = total.saturating_add(*n);
            } else if on_stack.get(child).copied().unwrap_or(true) {
                return Err("malformed binary plist: an object contains itself".into());
            } else {
                let grandkids = children(bytes, &t, child).ok_or_else(malformed)?;
                if let Some(flag) = on_stack.get_mut(child) {
                    *flag = true;
                }
                stack.push((child, grandkids, 0, 1));
            }
            continue;
        }
        let (index, total) = (*index, *total);
        if total > MAX_EXPANDED_VALUES {
            return Err(format!(
                "the binary plist expands to more than {MAX_EXPANDED_VALUES} values (shared references); refusing to parse it"
            ));
        }
        stack.pop();
        if let Some(slot) = expanded.get_mut(index) {
            *slot = Some(total);
        }
        if let Some(flag) = on_stack.get_mut(index) {
            *flag = false;
        }
        if let Some((_, _, _, parent_total)) = stack.last_mut() {
            *parent_total = parent_total.saturating_add(total);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary plist of the given encoded objects (object 0 is the top), 2-byte references.
    fn bplist(objects: &[Vec<u8>]) -> Vec<u8> {
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
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 4, 2]);
        out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
        out.extend_from_slice(&0u64.to_be_bytes());
        out.extend_from_slice(&table.to_be_bytes());
        out
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

    #[test]
    fn shared_references_are_counted_not_expanded() {
        assert!(check_binary_plist(&laughs(10)).is_ok());
        let plist = plist::Value::from_reader(std::io::Cursor::new(laughs(10)));
        assert!(plist.is_ok(), "the sample is a valid plist: {plist:?}");
        let err = check_binary_plist(&laughs(64)).expect_err("2^63 values");
        assert!(err.contains("expands"), "{err}");
    }

    #[test]
    fn cycles_and_garbage_are_refused() {
        let cyclic = bplist(&[vec![0xA1, 0, 1], vec![0xA1, 0, 0]]);
        let err = check_binary_plist(&cyclic).expect_err("cycle");
        assert!(err.contains("contains itself"), "{err}");
        assert!(check_binary_plist(b"bplist00garbage").is_err());
        assert!(check_binary_plist(b"<?xml version").is_ok());
        // Deep nesting is walked without recursion.
        let deep: Vec<Vec<u8>> = (1..20_000u16)
            .map(|next| {
                let [a, b] = next.to_be_bytes();
                vec![0xA1, a, b]
            })
            .chain([vec![0x09]])
            .collect();
        assert!(check_binary_plist(&bplist(&deep)).is_ok());
    }
}
