//! A payload entry's data, read forward only, as the Mach-O parser's [`RangeReader`]: the parser
//! asks for ranges in increasing offset order, so the gaps are skipped instead of kept.

use std::io::{self, Read};

use crate::macho::RangeReader;

pub struct Forward<'a> {
    inner: &'a mut dyn Read,
    pos: u64,
    len: u64,
}

impl<'a> Forward<'a> {
    pub fn new(inner: &'a mut dyn Read, len: u64) -> Self {
        Forward { inner, pos: 0, len }
    }
}

impl RangeReader for Forward<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        if offset < self.pos {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a packaged executable can only be read forward",
            ));
        }
        let gap = offset - self.pos;
        let skipped = io::copy(&mut (&mut *self.inner).take(gap), &mut io::sink())?;
        self.pos += skipped;
        if skipped < gap {
            return Ok(Vec::new());
        }
        let want = u64::try_from(len)
            .unwrap_or(u64::MAX)
            .min(self.len.saturating_sub(offset));
        let mut out = Vec::new();
        (&mut *self.inner).take(want).read_to_end(&mut out)?;
        self.pos += out.len() as u64;
        Ok(out)
    }
}
