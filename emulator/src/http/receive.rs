//! Reading request bodies: into an upload (with the fault-driven tweaks), partly and thrown
//! away (a fault's "part of the body"), or drained after an early answer.

use crate::errors::{self, OssError};
use crate::store::Upload;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};
use hyper::http::request::Parts;
use std::time::Duration;

/// A body that sends nothing for this long is given up (and the upload rolled back), so a
/// stalled client cannot hold an object's lock forever.
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// A body left unread by a handler (an early error) is drained up to this much so the client,
/// which may still be sending, gets the answer instead of a reset. Beyond it, the connection is
/// closed after the answer.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;
const DRAIN_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Fault-driven changes to how a body is received.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tweaks {
    /// Read at most this fast.
    pub(crate) bytes_per_sec: Option<u64>,
    /// Flip the first byte before storing it.
    pub(crate) corrupt: bool,
}

/// Streams the request body into `upload`, feeding every chunk to `observe` (CRC, MD5).
/// On any failure the upload is rolled back and nothing is committed: a client that
/// disconnects, stalls, or sends fewer bytes than Content-Length changes nothing.
pub(crate) async fn receive_body(
    body: Option<Incoming>,
    mut upload: Upload,
    declared: Option<u64>,
    limit: u64,
    too_large: fn() -> OssError,
    tweaks: Tweaks,
    mut observe: impl FnMut(&[u8]),
) -> Result<Upload, OssError> {
    let Some(mut body) = body else {
        upload.abort().await;
        return Err(errors::incomplete_body());
    };
    loop {
        let frame = match tokio::time::timeout(BODY_IDLE_TIMEOUT, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(_))) | Err(_) => {
                upload.abort().await;
                return Err(errors::incomplete_body());
            }
        };
        let Ok(mut chunk) = frame.into_data() else {
            continue;
        };
        if upload.written() + chunk.len() as u64 > limit {
            upload.abort().await;
            return Err(too_large());
        }
        if tweaks.corrupt && upload.written() == 0 && !chunk.is_empty() {
            let mut bytes = chunk.to_vec();
            bytes[0] ^= 0xFF;
            chunk = Bytes::from(bytes);
        }
        observe(&chunk);
        if let Err(e) = upload.write(&chunk).await {
            upload.abort().await;
            return Err(errors::storage_error(e));
        }
        if let Some(rate) = tweaks.bytes_per_sec {
            let pause = Duration::from_secs_f64(chunk.len() as f64 / rate as f64);
            tokio::time::sleep(pause).await;
        }
    }
    if declared.is_some_and(|n| n != upload.written()) {
        upload.abort().await;
        return Err(errors::incomplete_body());
    }
    Ok(upload)
}

/// Reads and discards up to `limit` bytes of a body (a fault's "part of the body").
pub(crate) async fn discard_body(body: Option<Incoming>, limit: u64) {
    let Some(mut body) = body else {
        return;
    };
    let mut read = 0u64;
    while read < limit {
        match tokio::time::timeout(BODY_IDLE_TIMEOUT, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    read += data.len() as u64;
                }
            }
            _ => return,
        }
    }
}

/// Reads and discards an unread request body. Returns whether the connection can be kept
/// (the body was fully consumed).
pub(crate) async fn drain(mut body: Incoming, parts: &Parts) -> bool {
    if body.is_end_stream() {
        return true;
    }
    // A client waiting for `100 Continue` has not sent the body: answering now without reading
    // it is exactly right, but the connection cannot be reused.
    let expects_continue = parts
        .headers
        .get("expect")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    // Too much declared to be worth reading (e.g. an append refused for exceeding 5 GiB):
    // answer at once and close.
    if expects_continue || body.size_hint().lower() > DRAIN_LIMIT {
        return false;
    }
    let mut total = 0u64;
    loop {
        match tokio::time::timeout(DRAIN_IDLE_TIMEOUT, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    total += data.len() as u64;
                    if total > DRAIN_LIMIT {
                        return false;
                    }
                }
            }
            Ok(None) => return true,
            Ok(Some(Err(_))) | Err(_) => return false,
        }
    }
}
