//! The pre-signed part storage the upload operations point at: an S3-like `PUT` that checks the
//! signature token and the length, streams the bytes (to disk when a state directory is used),
//! and answers with the part MD5 as `ETag`. Also digests a committed file.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use md5::{Digest, Md5};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::server::{HttpResponse, Shared, lock};
use super::state::{AssetState, PartReceived, part_path};
use hex::encode_upper as hex_upper;

/// An S3-style XML error.
fn s3_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    r
}

fn query_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// What the PUT is allowed to write, decided under the lock.
struct Target {
    file_id: String,
    number: u64,
    length: u64,
}

fn check(shared: &Shared, req: &Request<Incoming>) -> Result<Target, Box<HttpResponse>> {
    if req.method() != Method::PUT {
        return Err(Box::new(s3_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )));
    }
    if req.headers().contains_key(hyper::header::AUTHORIZATION) {
        return Err(Box::new(s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        )));
    }
    let mut segments = req.uri().path().trim_start_matches("/storage/").split('/');
    let (Some(file_id), Some(number), None) = (segments.next(), segments.next(), segments.next()) else {
        return Err(Box::new(s3_error(
            404,
            "NoSuchKey",
            "The specified key does not exist.",
        )));
    };
    let signature = req.uri().query().and_then(|q| query_value(q, "X-Amz-Signature"));
    let store = shared.store();
    let Some(file) = store.files.get(file_id) else {
        return Err(Box::new(s3_error(
            404,
            "NoSuchUpload",
            "The specified upload does not exist.",
        )));
    };
    if signature.as_deref() != Some(file.token.as_str()) {
        return Err(Box::new(s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )));
    }
    if shared.now_millis() > file.created.saturating_add(super::state::URL_LIFETIME_MS) {
        return Err(Box::new(s3_error(403, "AccessDenied", "Request has expired")));
    }
    if file.state != AssetState::AwaitingUpload {
        return Err(Box::new(s3_error(
            404,
            "NoSuchUpload",
            "The specified multipart upload has already been completed.",
        )));
    }
    let Some(part) = number.parse::<u64>().ok().and_then(|n| file.part(n)) else {
        return Err(Box::new(s3_error(
            400,
            "InvalidArgument",
            "Part number is not one of this upload's parts.",
        )));
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        None => {
            return Err(Box::new(s3_error(
                411,
                "MissingContentLength",
                "You must provide the Content-Length HTTP header.",
            )));
        }
        Some(n) if n != part.length => {
            return Err(Box::new(s3_error(
                400,
                "InvalidRequest",
                &format!("Content-Length {n} does not match the part length {}.", part.length),
            )));
        }
        Some(_) => {}
    }
    Ok(Target {
        file_id: file.id.clone(),
        number: part.number,
        length: part.length,
    })
}

/// Handles one part `PUT`.
pub(crate) async fn put(shared: &Arc<Shared>, req: Request<Incoming>) -> HttpResponse {
    let target = match check(shared, &req) {
        Ok(t) => t,
        Err(resp) => return *resp,
    };
    if let Some(status) = lock(&shared.faults).fail_part() {
        return if status == 500 {
            s3_error(
                500,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        } else {
            s3_error(503, "SlowDown", "Please reduce your request rate.")
        };
    }
    let body = req.into_body();
    let received = match &shared.state_dir {
        Some(dir) => {
            let path = part_path(dir, &target.file_id, target.number);
            receive_to_file(body, target.length, path).await
        }
        None => receive_to_memory(body, target.length).await.map(|(md5, bytes)| {
            lock(&shared.mem_parts).insert((target.file_id.clone(), target.number), bytes);
            md5
        }),
    };
    let md5 = match received {
        Ok(md5) => md5,
        Err(Receive::Incomplete) => {
            return s3_error(
                400,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            );
        }
        Err(Receive::Io(e)) => {
            eprintln!("sim: cannot store part: {e}");
            return s3_error(
                500,
                "InternalError",
                "We encountered an internal error. Please try again.",
            );
        }
    };
    {
        let mut store = shared.store();
        match store.files.get_mut(&target.file_id) {
            Some(file) if file.state == AssetState::AwaitingUpload => {
                file.received.insert(
                    target.number,
                    PartReceived {
                        length: target.length,
                        md5: md5.clone(),
                    },
                );
            }
            _ => return s3_error(404, "NoSuchUpload", "The specified upload does not exist."),
        }
        shared.persist(&store);
    }
    let mut r = Response::new(Full::new(Bytes::new()));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{md5}\"")) {
        r.headers_mut().insert(hyper::header::ETAG, v);
    }
    r
}

enum Receive {
    Incomplete,
    Io(std::io::Error),
}

async fn receive_to_memory(mut body: Incoming, length: u64) -> Result<(String, Bytes), Receive> {
    // `length` is at most one 5 MiB part, planned by us.
    let mut buf = BytesMut::with_capacity(usize::try_from(length).unwrap_or(0));
    let mut md5 = Md5::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Receive::Incomplete)?;
        if let Ok(data) = frame.into_data() {
            if (buf.len() as u64).saturating_add(data.len() as u64) > length {
                return Err(Receive::Incomplete);
            }
            md5.update(&data);
            buf.extend_from_slice(&data);
        }
    }
    if buf.len() as u64 != length {
        return Err(Receive::Incomplete);
    }
    Ok((hex_upper(md5.finalize()), buf.freeze()))
}

async fn receive_to_file(mut body: Incoming, length: u64, path: PathBuf) -> Result<String, Receive> {
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    tokio::fs::create_dir_all(&dir).await.map_err(Receive::Io)?;
    let tmp = path.with_extension("partial");
    let mut file = tokio::fs::File::create(&tmp).await.map_err(Receive::Io)?;
    let mut md5 = Md5::new();
    let mut written = 0u64;
    let result = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| Receive::Incomplete)?;
            if let Ok(data) = frame.into_data() {
                written = written.saturating_add(data.len() as u64);
                if written > length {
                    return Err(Receive::Incomplete);
                }
                md5.update(&data);
                file.write_all(&data).await.map_err(Receive::Io)?;
            }
        }
        if written != length {
            return Err(Receive::Incomplete);
        }
        file.flush().await.map_err(Receive::Io)?;
        Ok(())
    }
    .await;
    drop(file);
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    tokio::fs::rename(&tmp, &path).await.map_err(Receive::Io)?;
    Ok(hex_upper(md5.finalize()))
}

/// Whole-file digests of a committed upload.
pub(crate) struct Digests {
    pub md5: String,
    pub sha256: String,
    pub composite: String,
}

/// Streams every part (in part-number order) through MD5 and SHA-256, and builds the S3-style
/// composite: MD5 of the concatenated binary part MD5s, then `-N`.
pub(crate) async fn digest(shared: &Arc<Shared>, file_id: &str, parts: &[(u64, String)]) -> std::io::Result<Digests> {
    let mut md5 = Md5::new();
    let mut sha = Sha256::new();
    let mut composite = Md5::new();
    for (number, part_md5) in parts {
        composite.update(decode_hex(part_md5));
        match &shared.state_dir {
            Some(dir) => {
                let mut f = tokio::fs::File::open(part_path(dir, file_id, *number)).await?;
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = f.read(&mut buf).await?;
                    let Some(chunk) = buf.get(..n) else { break };
                    if n == 0 {
                        break;
                    }
                    md5.update(chunk);
                    sha.update(chunk);
                }
            }
            None => {
                let bytes = lock(&shared.mem_parts)
                    .get(&(file_id.to_owned(), *number))
                    .cloned()
                    .ok_or_else(|| std::io::Error::other(format!("part {number} bytes are gone")))?;
                md5.update(&bytes);
                sha.update(&bytes);
            }
        }
    }
    Ok(Digests {
        md5: hex_upper(md5.finalize()),
        sha256: hex_upper(sha.finalize()),
        composite: format!("{}-{}", hex_upper(composite.finalize()), parts.len()),
    })
}

fn decode_hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

/// Where each part's bytes are, in part-number order, for reading the file back.
pub(crate) fn part_sources(
    shared: &Shared,
    file_id: &str,
    parts: &[(u64, u64)],
) -> Vec<(super::inspect::PartBytes, u64)> {
    use super::inspect::PartBytes;
    let mem = lock(&shared.mem_parts);
    parts
        .iter()
        .map(|(number, length)| {
            let source = match &shared.state_dir {
                Some(dir) => PartBytes::File(part_path(dir, file_id, *number)),
                None => PartBytes::Memory(mem.get(&(file_id.to_owned(), *number)).cloned().unwrap_or_default()),
            };
            (source, *length)
        })
        .collect()
}

/// Forgets the bytes of a file (after a delete).
pub(crate) async fn discard(shared: &Arc<Shared>, file_id: &str) {
    match &shared.state_dir {
        Some(dir) => {
            let _ = tokio::fs::remove_dir_all(dir.join("parts").join(file_id)).await;
        }
        None => lock(&shared.mem_parts).retain(|(id, _), _| id != file_id),
    }
}
