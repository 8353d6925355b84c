//! The part uploads: validate every pre-signed operation, then PUT byte ranges streamed from disk
//! (never buffered whole) concurrently, each with exactly its `requestHeaders`, no Authorization,
//! and its own retries. The commit's MD5 is computed from the very chunks the bodies send (see
//! `sent_md5`), so it cannot describe bytes other than the ones Apple received.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::asc::PartUpload;
use crate::asc::client::{describe, is_loopback};
use crate::asc::clock::SharedClock;
use crate::asc::error::sanitize;
use crate::asc::retry::{RetryPolicy, is_retryable_status, parse_retry_after};
use crate::publish::error::PublishError;
use crate::publish::progress::Progress;
use crate::publish::sent_md5::SentMd5;

/// Bytes read from disk per body chunk. Memory per part in flight is about two chunks (one being
/// read, one queued in the connection), so 8 parts hold ~8 MiB whatever the file size.
pub const CHUNK: usize = 512 * 1024;

/// One validated part.
#[derive(Debug, Clone)]
pub struct Part {
    pub number: u64,
    pub offset: u64,
    pub length: u64,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
}

/// Checks every operation against the file before anything is sent.
pub fn validate_operations(
    ops: &[PartUpload],
    file_size: u64,
    now: std::time::SystemTime,
) -> Result<Vec<Part>, PublishError> {
    let bad = |m: String| PublishError::BadReservation(m);
    if ops.is_empty() {
        return Err(bad("no upload operations".into()));
    }
    let mut parts = Vec::with_capacity(ops.len().min(100_000));
    for (i, op) in ops.iter().enumerate() {
        let number = op.part_number.unwrap_or(i as u64 + 1);
        let url_s = op.url.as_deref().unwrap_or_default().trim();
        if url_s.is_empty() {
            return Err(bad(format!("part {number} has no URL")));
        }
        let url = Url::parse(url_s).map_err(|_| bad(format!("part {number} has an invalid URL")))?;
        if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback(&url)) {
            return Err(bad(format!("part {number} URL is not https")));
        }
        let length = op
            .length
            .filter(|l| *l > 0)
            .ok_or_else(|| bad(format!("part {number} has no length")))?;
        let offset = op.offset.ok_or_else(|| bad(format!("part {number} has no offset")))?;
        let end = offset.checked_add(length).filter(|e| *e <= file_size).ok_or_else(|| {
            bad(format!(
                "part {number} ({offset}+{length}) lies outside the {file_size}-byte file"
            ))
        })?;
        let _ = end;
        let method = match op.method.as_deref().unwrap_or("PUT").to_ascii_uppercase().as_str() {
            "PUT" => Method::PUT,
            "POST" => Method::POST,
            other => return Err(bad(format!("part {number} asks for method {}", sanitize(other)))),
        };
        if let Some(exp) = op.expiration.as_deref() {
            if let Ok(t) = time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339) {
                if std::time::SystemTime::from(t) <= now {
                    return Err(bad(format!("part {number}'s upload URL expired at {}", sanitize(exp))));
                }
            }
        }
        let mut headers = HeaderMap::new();
        for h in op.headers.iter().flatten() {
            let name = HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|_| bad(format!("part {number} has an invalid header name")))?;
            let value = HeaderValue::from_str(&h.value)
                .map_err(|_| bad(format!("part {number} has an invalid header value")))?;
            headers.append(name, value);
        }
        parts.push(Part {
            number,
            offset,
            length,
            method,
            url,
            headers,
        });
    }
    // The parts must tile the file exactly; anything else could never be assembled by Apple.
    let mut sorted: Vec<&Part> = parts.iter().collect();
    sorted.sort_by_key(|p| p.offset);
    let mut next = 0u64;
    for p in sorted {
        if p.offset != next {
            return Err(bad(format!(
                "the parts do not cover the file contiguously (gap or overlap at byte {next})"
            )));
        }
        next = p.offset.saturating_add(p.length);
    }
    if next != file_size {
        return Err(bad(format!("the parts cover {next} of {file_size} bytes")));
    }
    Ok(parts)
}

/// Whether an operation list can still be used (for resuming a reservation).
pub fn operations_usable(ops: &[PartUpload], file_size: u64, now: std::time::SystemTime) -> bool {
    validate_operations(ops, file_size, now).is_ok()
}

/// Settings for the part uploads.
#[derive(Debug, Clone)]
pub struct PartsConfig {
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub verbose: bool,
    /// Where a retried part is told, with `verbose`.
    pub events: crate::publish::events::Events,
}

/// What the part uploads did.
#[derive(Debug, Clone, Default)]
pub struct PartsReport {
    pub parts: usize,
    pub bytes_sent: u64,
    pub retries: u64,
    /// Lowercase hex MD5 of the bytes the successful attempts sent, in file order.
    pub md5: String,
}

/// PUTs every part (bounded concurrency) and returns once all succeeded, or on the first part that
/// failed for good.
pub async fn upload_parts(
    http: &reqwest::Client,
    path: &Path,
    parts: Vec<Part>,
    config: &PartsConfig,
    progress: Arc<Progress>,
    clock: SharedClock,
) -> Result<PartsReport, PublishError> {
    let sent = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let count = parts.len();
    let file_size = parts.iter().fold(0u64, |acc, p| acc.saturating_add(p.length));
    let hasher = Arc::new(SentMd5::new(path, parts.iter().map(|p| (p.offset, p.length))));
    // In file order, so the hash frontier is usually in flight (it never waits on a part that has
    // not started) and little has to be kept ahead of it.
    let mut parts = parts;
    parts.sort_by_key(|p| p.offset);
    let results = futures_util::stream::iter(parts.into_iter().map(|part| {
        let http = http.clone();
        let path = path.to_path_buf();
        let progress = progress.clone();
        let clock = clock.clone();
        let sent = sent.clone();
        let retries = retries.clone();
        let config = config.clone();
        let hasher = hasher.clone();
        async move {
            let counters = Counters {
                progress: &progress,
                sent: &sent,
                retries: &retries,
                hasher: &hasher,
            };
            upload_part(&http, &path, &part, &config, &clock, counters).await
        }
    }))
    .buffer_unordered(config.concurrency.clamp(1, 64));
    futures_util::pin_mut!(results);
    while let Some(r) = results.next().await {
        r?;
    }
    let md5 = hasher.finish(file_size)?;
    Ok(PartsReport {
        parts: count,
        bytes_sent: sent.load(Ordering::Relaxed),
        retries: retries.load(Ordering::Relaxed),
        md5,
    })
}

/// What every part reports into.
struct Counters<'a> {
    progress: &'a Arc<Progress>,
    sent: &'a AtomicU64,
    retries: &'a AtomicU64,
    hasher: &'a Arc<SentMd5>,
}

async fn upload_part(
    http: &reqwest::Client,
    path: &Path,
    part: &Part,
    config: &PartsConfig,
    clock: &SharedClock,
    counters: Counters<'_>,
) -> Result<(), PublishError> {
    let Counters {
        progress,
        sent,
        retries,
        hasher,
    } = counters;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let attempt_bytes = Arc::new(AtomicU64::new(0));
        let hashed = Hashed {
            hasher: hasher.clone(),
            part: part.offset,
            attempt: hasher.begin(part.offset),
        };
        let body = range_body(
            path.to_path_buf(),
            part.offset,
            part.length,
            progress.clone(),
            attempt_bytes.clone(),
            hashed.clone(),
        );
        let mut headers = part.headers.clone();
        headers.insert(reqwest::header::CONTENT_LENGTH, HeaderValue::from(part.length));
        let result = http
            .request(part.method.clone(), part.url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await;
        let (why, retry_after, retryable, expired) = match result {
            Ok(resp) if resp.status().is_success() => {
                sent.fetch_add(part.length, Ordering::Relaxed);
                // May read the file to verify chunks kept only by digest: off the async workers.
                let Hashed { hasher, part, attempt } = hashed;
                blocking(move || {
                    hasher.done(part, attempt);
                    Ok(())
                })
                .await
                .map_err(|e| PublishError::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                return Ok(());
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                let ra = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, clock.now()));
                let text = resp.text().await.unwrap_or_default();
                let expired = status == 403 && text.contains("xpired");
                let snippet: String = sanitize(&text).chars().take(200).collect();
                (
                    format!("HTTP {status} {snippet}"),
                    ra,
                    is_retryable_status(status),
                    expired,
                )
            }
            Err(e) => (describe(&e), None, true, false),
        };
        progress.rewind(attempt_bytes.load(Ordering::Relaxed));
        if !retryable || attempt >= config.retry.max_attempts {
            return Err(PublishError::PartFailed {
                part: part.number,
                message: format!("{why} (after {attempt} attempt{})", if attempt == 1 { "" } else { "s" }),
                expired,
            });
        }
        retries.fetch_add(1, Ordering::Relaxed);
        let d = config.retry.delay(attempt, retry_after);
        if config.verbose {
            config.events.send(crate::publish::events::Event::Detail(format!(
                "  part {}: {why}; retry {attempt} in {:.1}s",
                part.number,
                d.as_secs_f64()
            )));
        }
        clock.sleep(d).await;
    }
}

/// Where a body reports the chunks it sends: attempt `attempt` of the part at `part`.
#[derive(Clone)]
struct Hashed {
    hasher: Arc<SentMd5>,
    part: u64,
    attempt: u32,
}

/// A streaming body over `[offset, offset+length)` of the file, read in [`CHUNK`]s as the network
/// takes them. Each chunk is one positional read on the blocking pool: no shared cursor, no
/// per-read copy through an intermediate buffer, and a few hundred hand-offs per GiB rather than
/// tens of thousands.
fn range_body(
    path: PathBuf,
    offset: u64,
    length: u64,
    progress: Arc<Progress>,
    counted: Arc<AtomicU64>,
    hashed: Hashed,
) -> reqwest::Body {
    struct State {
        file: Option<Arc<std::fs::File>>,
        path: PathBuf,
        offset: u64,
        left: u64,
        progress: Arc<Progress>,
        counted: Arc<AtomicU64>,
        hashed: Hashed,
    }
    let state = State {
        file: None,
        path,
        offset,
        left: length,
        progress,
        counted,
        hashed,
    };
    let stream = futures_util::stream::try_unfold(state, |mut st| async move {
        if st.left == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        let file = match &st.file {
            Some(f) => f.clone(),
            None => {
                let path = st.path.clone();
                let f = Arc::new(blocking(move || std::fs::File::open(path)).await?);
                st.file = Some(f.clone());
                f
            }
        };
        let want = usize::try_from(st.left).unwrap_or(CHUNK).min(CHUNK);
        let at = st.offset;
        let chunk = blocking(move || read_exact_at(&file, want, at)).await?;
        // Handed over before the body yields it: what is hashed is exactly what is sent. Here, not
        // inside the blocking read: there, reads queued behind the hasher's lock kept more chunks
        // alive (tests/it/upload_memory.rs peaked at +34 MiB instead of +25 MiB).
        st.hashed.hasher.sent(st.hashed.part, st.hashed.attempt, at, &chunk);
        st.offset += want as u64;
        st.left -= want as u64;
        st.progress.add(want as u64);
        st.counted.fetch_add(want as u64, Ordering::Relaxed);
        Ok(Some((chunk, st)))
    });
    reqwest::Body::wrap_stream(stream)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
}

/// Exactly `len` bytes at `offset`, or an error if the file is now shorter.
fn read_exact_at(file: &std::fs::File, len: usize, offset: u64) -> std::io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    read_exact_into(file, &mut buf, offset)?;
    Ok(buf.freeze())
}

/// Fills `buf` from `offset`, or an error if the file is now shorter.
pub(crate) fn read_exact_into(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    let mut filled = 0usize;
    while filled < buf.len() {
        let dst = buf.get_mut(filled..).unwrap_or_default();
        let n = positional_read(file, dst, offset + filled as u64)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while uploading",
            ));
        }
        filled += n;
    }
    Ok(())
}

#[cfg(unix)]
fn positional_read(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn positional_read(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Upper bound for a part request with no progress at all (a hung connection).
pub const PART_TIMEOUT: Duration = Duration::from_secs(600);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asc::PartHeader;

    fn op(offset: u64, length: u64, n: u64) -> PartUpload {
        PartUpload {
            method: Some("PUT".into()),
            url: Some(format!("https://storage.example/p?partNumber={n}")),
            length: Some(length),
            offset: Some(offset),
            headers: Some(vec![PartHeader {
                name: "Content-Type".into(),
                value: "application/octet-stream".into(),
            }]),
            expiration: Some("2099-01-01T00:00:00Z".into()),
            part_number: Some(n),
        }
    }

    #[test]
    fn positional_reads_return_exact_ranges_and_notice_a_shrunk_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("f.bin");
        let data: Vec<u8> = (0..(CHUNK as u32 * 3)).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{e}"));
        let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let got = read_exact_at(&f, CHUNK, CHUNK as u64 + 7).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&got[..], &data[CHUNK + 7..2 * CHUNK + 7]);
        let past = read_exact_at(&f, CHUNK, 2 * CHUNK as u64 + 8).map(|_| ());
        assert_eq!(past.map_err(|e| e.kind()), Err(std::io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn operations_must_tile_the_file() {
        let now = std::time::SystemTime::now();
        assert!(validate_operations(&[op(5, 5, 2), op(0, 5, 1)], 10, now).is_ok());
        assert!(validate_operations(&[op(0, 5, 1)], 10, now).is_err());
        assert!(validate_operations(&[op(0, 6, 1), op(5, 5, 2)], 10, now).is_err());
        assert!(validate_operations(&[op(0, 5, 1), op(5, 6, 2)], 10, now).is_err());
        assert!(validate_operations(&[op(u64::MAX, 5, 1)], 10, now).is_err());
        let mut no_url = op(0, 10, 1);
        no_url.url = Some(" ".into());
        assert!(validate_operations(&[no_url], 10, now).is_err());
        let mut expired = op(0, 10, 1);
        expired.expiration = Some("2001-01-01T00:00:00Z".into());
        assert!(validate_operations(&[expired], 10, now).is_err());
        let mut plain = op(0, 10, 1);
        plain.url = Some("http://storage.example/p".into());
        assert!(validate_operations(&[plain], 10, now).is_err());
    }
}
