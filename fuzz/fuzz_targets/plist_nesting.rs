//! Fuzz target: plist nesting (issue 10). The input is used twice: as a plist as given, and as a
//! recipe that builds a nested XML and a nested binary plist (so deep and shared structures are
//! reached in a few bytes instead of thousands). Whatever `plist_guard` lets through must be at
//! most `MAX_DEPTH` deep, and nothing may overflow the stack or panic.

#![no_main]

use asc_publish::ipa::plist_guard::{MAX_DEPTH, parse_value};
use libfuzzer_sys::fuzz_target;
use plist::Value;

/// Nesting depth of a parsed value, measured without recursion.
fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(a) => {
                deepest = deepest.max(d);
                stack.extend(a.iter().map(|c| (c, d + 1)));
            }
            Value::Dictionary(m) => {
                deepest = deepest.max(d);
                stack.extend(m.values().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

fn check(bytes: &[u8]) {
    if let Ok(v) = parse_value(bytes) {
        let d = depth(&v);
        assert!(d <= MAX_DEPTH, "a plist {d} levels deep got through the guard");
    }
}

/// Each byte is an instruction: open an array or dictionary (once or 32× at a time), close, add a
/// scalar, or add markup the depth scan must skip exactly as the XML reader does.
fn recipe_xml(data: &[u8]) -> Vec<u8> {
    let mut x = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">"#);
    let mut open: Vec<&str> = Vec::new();
    for &b in data {
        let times = if b & 0x80 != 0 { 32 } else { 1 };
        match b & 0x0f {
            0 | 1 => {
                for _ in 0..times {
                    x.push_str("<array>");
                    open.push("</array>");
                }
            }
            2 => {
                for _ in 0..times {
                    x.push_str("<dict><key>k</key>");
                    open.push("</dict>");
                }
            }
            3 | 4 => {
                for _ in 0..times {
                    if let Some(close) = open.pop() {
                        x.push_str(close);
                    }
                }
            }
            5 => x.push_str("<string>s</string>"),
            6 => x.push_str("<!-- <array> -->"),
            7 => x.push_str("<![CDATA[<array>]]>"),
            8 => x.push_str("<array/>"),
            9 => x.push_str("<dict a=\">\">"),
            10 => x.push_str("</dict>"),
            11 => x.push_str("<?pi <array> ?>"),
            12 => x.push_str("<true/>"),
            13 => x.push('<'),
            14 => x.push_str("<array >"),
            _ => x.push_str("<integer>1</integer>"),
        }
    }
    while let Some(close) = open.pop() {
        x.push_str(close);
    }
    x.push_str("</plist>");
    x.into_bytes()
}

/// A binary plist with one object per input byte: an array referring to objects picked by the
/// byte (the next one, one further on, a shared earlier one, itself), or a scalar.
fn recipe_binary(data: &[u8]) -> Vec<u8> {
    let n = data.len().max(1) as u32;
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for (i, &b) in data.iter().enumerate() {
        let i = i as u32;
        offsets.push(out.len() as u32);
        let refs: Vec<u32> = match b % 6 {
            0 => vec![(i + 1) % n],
            1 => vec![(i + 1) % n, (i + 2) % n],
            2 => vec![(i + 1) % n, u32::from(b) % n],
            3 => vec![u32::from(b) % n],
            4 => Vec::new(),
            _ => {
                out.push(0x09);
                continue;
            }
        };
        out.push(0xA0 | refs.len() as u8);
        for r in refs {
            out.extend_from_slice(&r.to_be_bytes());
        }
    }
    if offsets.is_empty() {
        offsets.push(out.len() as u32);
        out.push(0x08);
    }
    let table = out.len() as u64;
    for o in &offsets {
        out.extend_from_slice(&o.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 4, 4]);
    out.extend_from_slice(&(offsets.len() as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&table.to_be_bytes());
    out
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&recipe_xml(data));
    check(&recipe_binary(data));
});
