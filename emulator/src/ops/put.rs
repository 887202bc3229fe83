//! PutObject: `PUT /<key>`, creating or replacing a Normal object.

use super::object_headers::{add_sse_headers, quoted_etag, CreationHeaders};
use super::params::bucket_and_key;
use super::upload::{check_md5, commit, MAX_OBJECT_SIZE};
use crate::errors::{self, storage_error, OssError};
use crate::http::body::{empty_body, Body};
use crate::http::headers::{content_md5, declared_body_length, header_str};
use crate::http::receive::{receive_body, Tweaks};
use crate::routing::Route;
use crate::state::Shared;
use crate::store::UploadKind;
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use md5::{Digest, Md5};
use oss_append::crc64::Crc64;
use std::time::SystemTime;

pub(super) async fn put_object(
    shared: &Shared,
    route: &Route,
    parts: &Parts,
    body: &mut Option<Incoming>,
    now: SystemTime,
) -> Result<Response<Body>, OssError> {
    let (bucket, key) = bucket_and_key(route);
    let declared_length = declared_body_length(&parts.headers)?;
    if declared_length.is_some_and(|len| len > MAX_OBJECT_SIZE) {
        return Err(errors::entity_too_large());
    }
    let expected_md5 = content_md5(&parts.headers)?;
    let creation = CreationHeaders::parse(&parts.headers)?;
    let forbid_overwrite = header_str(&parts.headers, "x-oss-forbid-overwrite")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));

    let slot = shared
        .store()
        .slot(bucket, key)
        .ok_or_else(|| errors::no_such_bucket(bucket))?;
    let guard = slot.lock().await;
    if forbid_overwrite && guard.meta().is_some() {
        return Err(errors::file_already_exists());
    }
    let upload = guard
        .begin(UploadKind::Replace, declared_length)
        .await
        .map_err(storage_error)?;
    let mut crc = Crc64::new();
    let mut md5 = Md5::new();
    let upload = receive_body(
        body.take(),
        upload,
        declared_length,
        MAX_OBJECT_SIZE,
        errors::entity_too_large,
        Tweaks::default(),
        |chunk| {
            crc.update(chunk);
            md5.update(chunk);
        },
    )
    .await?;
    let digest: [u8; 16] = md5.clone().finalize().into();
    let upload = check_md5(upload, expected_md5, md5).await?;
    let etag = hex::encode_upper(digest);
    let meta = creation.into_meta(key, false, upload.written(), crc.value(), etag, now);
    commit(&guard, upload, meta.clone()).await?;
    drop(guard);

    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("content-length", "0")
        .header("etag", quoted_etag(&meta.etag))
        .header(
            "content-md5",
            base64::engine::general_purpose::STANDARD.encode(digest),
        )
        .header("x-oss-hash-crc64ecma", meta.crc64.to_string());
    response = add_sse_headers(response, &meta);
    Ok(response.body(empty_body()).expect("valid response"))
}
