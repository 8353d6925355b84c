//! Read access to an archive's entries, without extracting: what the inspection and the rules
//! read through, so tests can hand them an in-memory archive instead of a zip file.

/// Read access to the IPA's entries, without extracting. Implemented by the archive reader and by
/// in-memory maps in tests.
pub trait EntrySource {
    /// Every entry name, in central-directory order (directories end with `/`).
    fn names(&self) -> Vec<String>;
    /// Whether an entry with exactly this name exists.
    fn contains(&self, name: &str) -> bool;
    /// Reads an entry whole, refusing (with an error) entries whose uncompressed size exceeds `limit`.
    fn read(&self, name: &str, limit: u64) -> std::io::Result<Vec<u8>>;
    /// Streams an entry through `sink` in chunks (bounded memory whatever its size); returns the
    /// number of bytes streamed.
    fn stream(&self, name: &str, sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64>;
}
