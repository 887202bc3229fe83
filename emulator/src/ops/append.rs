//! AppendObject: `POST /<key>?append&position=N`.

use super::object_headers::{add_sse_headers, quoted_etag, random_etag, CreationHeaders};
use super::params::{self, bucket_and_key};
use super::upload::{check_md5, commit, MAX_OBJECT_SIZE};
use crate::clock;
use crate::errors::{self, storage_error, OssError};
use crate::faults::FaultState;
use crate::http::body::{empty_body, Body};
use crate::http::headers::{content_md5, declared_body_length};
use crate::http::receive::{receive_body, Tweaks};
use crate::routing::Route;
use crate::state::Shared;
use crate::store::{ObjectMeta, Upload, UploadKind};
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use md5::{Digest, Md5};
use oss_append::crc64::Crc64;
use std::time::SystemTime;

/// What an AppendObject request asks for, checked before the object is looked at.
struct AppendRequest {
    position: u64,
    declared_length: Option<u64>,
    expected_md5: Option<[u8; 16]>,
    creation: CreationHeaders,
}

impl AppendRequest {
    fn parse(route: &Route, parts: &Parts) -> Result<AppendRequest, OssError> {
        if route.has_param("versionId") {
            return Err(errors::append_version_id());
        }
        let position = params::position(route)?;
        let declared_length = declared_body_length(&parts.headers)?;
        let expected_md5 = content_md5(&parts.headers)?;
        // Creation headers are validated on every append (like OSS parses them before looking
        // at the object) but only applied when the append creates the object.
        let creation = CreationHeaders::parse(&parts.headers)?;
        Ok(AppendRequest {
            position,
            declared_length,
            expected_md5,
            creation,
        })
    }
}

pub(super) async fn append_object(
    shared: &Shared,
    route: &Route,
    parts: &Parts,
    body: &mut Option<Incoming>,
    now: SystemTime,
    fault: &mut FaultState,
) -> Result<Response<Body>, OssError> {
    let (bucket, key) = bucket_and_key(route);
    let request = AppendRequest::parse(route, parts)?;
    let slot = shared
        .store()
        .slot(bucket, key)
        .ok_or_else(|| errors::no_such_bucket(bucket))?;
    let guard = slot.lock().await;
    let current = guard.meta();
    let current_length = check_appendable(current.as_ref(), &request)?;

    if let Some(answer) = fault.before_storing(body, request.declared_length).await {
        return answer;
    }
    let upload = guard
        .begin(UploadKind::Append, request.declared_length)
        .await
        .map_err(storage_error)?;
    let current_crc = current.as_ref().map_or(0, |m| m.crc64);
    let (upload, crc64) = receive_appended(
        body.take(),
        upload,
        &request,
        current_length,
        current_crc,
        fault.receive_tweaks(),
    )
    .await?;
    if let Some(answer) = fault.after_receiving() {
        upload.abort().await;
        return answer;
    }
    let meta = match current {
        // Appending nothing to an existing object leaves it exactly as it was.
        Some(m) if upload.written() == 0 => {
            upload.abort().await;
            m
        }
        Some(mut m) => {
            m.length += upload.written();
            m.crc64 = crc64;
            m.etag = random_etag();
            m.last_modified = clock::unix_seconds(now);
            commit(&guard, upload, m.clone()).await?;
            m
        }
        None => {
            let length = upload.written();
            let m = request
                .creation
                .into_meta(key, true, length, crc64, random_etag(), now);
            commit(&guard, upload, m.clone()).await?;
            m
        }
    };
    drop(guard);
    Ok(appended(&meta))
}

/// The current length of the object the request may append to (0 when there is none yet).
fn check_appendable(
    current: Option<&ObjectMeta>,
    request: &AppendRequest,
) -> Result<u64, OssError> {
    let current_length = match current {
        Some(m) if !m.appendable => return Err(errors::object_not_appendable()),
        Some(m) if m.sealed_time.is_some() => return Err(errors::append_to_sealed_object()),
        Some(m) => m.length,
        None => 0,
    };
    if request.position != current_length {
        return Err(errors::position_not_equal_to_length(current_length));
    }
    if let Some(len) = request.declared_length {
        if current_length.saturating_add(len) > MAX_OBJECT_SIZE {
            return Err(errors::inline_data_too_large());
        }
    }
    Ok(current_length)
}

/// Receives the appended data into `upload`, checking Content-MD5 when the request sent one.
/// Returns the upload and the CRC-64 of the whole object after the append.
async fn receive_appended(
    body: Option<Incoming>,
    upload: Upload,
    request: &AppendRequest,
    current_length: u64,
    current_crc: u64,
    tweaks: Tweaks,
) -> Result<(Upload, u64), OssError> {
    let mut crc = Crc64::resume(current_crc);
    // The ETag of an appendable object is not an MD5, so hash only when Content-MD5 asks.
    let mut md5 = request.expected_md5.map(|_| Md5::new());
    let upload = receive_body(
        body,
        upload,
        request.declared_length,
        MAX_OBJECT_SIZE.saturating_sub(current_length),
        errors::inline_data_too_large,
        tweaks,
        |chunk| {
            crc.update(chunk);
            if let Some(md5) = &mut md5 {
                md5.update(chunk);
            }
        },
    )
    .await?;
    let upload = match md5 {
        Some(md5) => check_md5(upload, request.expected_md5, md5).await?,
        None => upload,
    };
    Ok((upload, crc.value()))
}

/// The answer to a successful append.
fn appended(meta: &ObjectMeta) -> Response<Body> {
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-length", "0")
        .header("etag", quoted_etag(&meta.etag))
        .header("x-oss-next-append-position", meta.length.to_string())
        .header("x-oss-hash-crc64ecma", meta.crc64.to_string());
    add_sse_headers(response, meta)
        .body(empty_body())
        .expect("valid response")
}
