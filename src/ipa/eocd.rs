//! The entry count a zip's end-of-central-directory record declares, read before the central
//! directory itself so an absurd count is refused before anything is allocated for it.

use std::fs::File;

const EOCD_SIG: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
const EOCD_LEN: u64 = 22;
const LOCATOR_SIG: u32 = 0x0706_4b50;
const LOCATOR_LEN: u64 = 20;
const EOCD64_SIG: u32 = 0x0606_4b50;
/// The archive comment is at most 64 KiB, so the record sits in the last 64 KiB + 22 bytes.
const TAIL: u64 = EOCD_LEN + 0xFFFF;

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset).ok()
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> Option<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf.get_mut(done..)?, offset + done as u64).ok()?;
        if n == 0 {
            return None;
        }
        done += n;
    }
    Some(())
}

fn le(b: &[u8], at: usize, width: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(width)?)?;
    Some(s.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// The total entry count declared by the last end-of-central-directory record (its zip64 twin
/// when there is one), or `None` when no record can be found: the zip reader then reports that.
pub fn declared_entry_count(file: &File, file_len: u64) -> Option<u64> {
    let start = file_len.saturating_sub(TAIL);
    let mut tail = vec![0u8; usize::try_from(file_len - start).ok()?];
    read_at(file, &mut tail, start)?;
    let pos = tail.windows(4).rposition(|w| w == EOCD_SIG)?;
    let record = tail.get(pos..)?;
    let count16 = le(record, 10, 2)?;
    let mut count = count16;
    let eocd_at = start + pos as u64;
    if let Some(locator_at) = eocd_at.checked_sub(LOCATOR_LEN) {
        let mut locator = [0u8; LOCATOR_LEN as usize];
        if read_at(file, &mut locator, locator_at).is_some() && le(&locator, 0, 4) == Some(u64::from(LOCATOR_SIG)) {
            let eocd64_at = le(&locator, 8, 8)?;
            let mut eocd64 = [0u8; 40];
            if eocd64_at.checked_add(40).is_some_and(|end| end <= file_len)
                && read_at(file, &mut eocd64, eocd64_at).is_some()
                && le(&eocd64, 0, 4) == Some(u64::from(EOCD64_SIG))
            {
                count = count.max(le(&eocd64, 32, 8)?);
            }
        }
    }
    Some(count)
}
