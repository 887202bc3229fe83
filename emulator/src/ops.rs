//! The object operations: AppendObject, PutObject, GetObject, HeadObject, DeleteObject.
//!
//! Each handler gets the already authenticated request. Handlers that accept a body take it out
//! of `body`; if one is left there, the server drains it before answering (see `server`).
//!
//! Scripted faults (see [`crate::faults`]) are looked up here, once a request is authenticated
//! and its operation known, and carried out around or inside the operation.

use crate::auth::{self, AuthRequest};
use crate::clock;
use crate::errors::{self, storage_error, OssError};
use crate::faults::FaultState;
use crate::http::body::{empty_body, full_body, Body, FileBody};
use crate::http::headers::{
    content_md5, declared_body_length, header_pairs, header_str, joined_header, parse_decimal_u64,
};
use crate::http::range::{parse_range, RangeSpec};
use crate::http::receive::{receive_body, Tweaks};
use crate::routing::{self, Operation, Route};
use crate::state::Shared;
use crate::store::{ObjectMeta, ReadSource, SlotGuard, Upload, UploadKind};
use base64::Engine as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use md5::{Digest, Md5};
use oss_append::crc64::Crc64;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Largest object AppendObject may produce and largest PutObject body: 5 GiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Largest total size of the `x-oss-meta-*` headers (names and values).
pub const MAX_USER_METADATA: usize = 8 * 1024;

/// Routes, authenticates and runs one request, carrying out the scripted fault that hits it.
pub(crate) async fn dispatch(
    shared: &Shared,
    parts: &Parts,
    body: &mut Option<Incoming>,
    now: SystemTime,
    fault: &mut FaultState,
) -> Result<Response<Body>, OssError> {
    let host = header_str(&parts.headers, "host").unwrap_or("");
    let route = routing::resolve(
        host,
        parts.uri.path(),
        parts.uri.query(),
        &shared.config.buckets,
    )?;
    if let Some(bucket) = &route.bucket {
        if !shared.store().has_bucket(bucket) {
            return Err(errors::no_such_bucket(bucket));
        }
    }
    let headers = header_pairs(&parts.headers);
    auth::authenticate(
        &shared.config,
        &AuthRequest {
            method: parts.method.as_str(),
            bucket: route.bucket.as_deref(),
            key: route.key.as_deref(),
            query: &route.query,
            headers: &headers,
            now_unix: clock::unix_seconds(now),
        },
    )?;
    let operation = routing::operation(&parts.method, &route);
    fault.take(&shared.faults, &operation, route.key.as_deref());
    // Outside AppendObject, which handles each phase itself, "before" faults act before the
    // operation runs.
    if operation != Operation::AppendObject {
        if let Some(answer) = fault.before_operation() {
            return answer;
        }
    }
    let result = match operation {
        Operation::AppendObject => append_object(shared, &route, parts, body, now, fault).await,
        Operation::SealAppendObject => seal_append_object(shared, &route, now).await,
        Operation::PutObject => put_object(shared, &route, parts, body, now).await,
        Operation::GetObject => get_object(shared, &route, parts, false),
        Operation::HeadObject => get_object(shared, &route, parts, true),
        Operation::DeleteObject => delete_object(shared, &route).await,
        Operation::Unsupported(what) => Err(errors::not_implemented(&what)),
    };
    fault.after_operation(result).await
}

fn bucket_and_key(route: &Route) -> (&str, &str) {
    // `operation` only yields object operations for routes with both.
    (
        route.bucket.as_deref().unwrap_or(""),
        route.key.as_deref().unwrap_or(""),
    )
}

// ---------------------------------------------------------------------------------------------
// AppendObject

async fn append_object(
    shared: &Shared,
    route: &Route,
    parts: &Parts,
    body: &mut Option<Incoming>,
    now: SystemTime,
    fault: &mut FaultState,
) -> Result<Response<Body>, OssError> {
    let (bucket, key) = bucket_and_key(route);
    if route.has_param("versionId") {
        return Err(errors::append_version_id());
    }
    let position = match route.param("position") {
        None | Some(None) | Some(Some("")) => return Err(errors::position_missing()),
        Some(Some(v)) => parse_decimal_u64(v).ok_or_else(|| errors::position_invalid(v))?,
    };
    let declared_length = declared_body_length(&parts.headers)?;
    let expected_md5 = content_md5(&parts.headers)?;
    // Creation headers are validated on every append (like OSS parses them before looking at
    // the object) but only applied when the append creates the object.
    let creation = CreationHeaders::parse(&parts.headers)?;

    let slot = shared
        .store()
        .slot(bucket, key)
        .ok_or_else(|| errors::no_such_bucket(bucket))?;
    let guard = slot.lock().await;
    let current = guard.meta();
    let current_length = match &current {
        Some(m) if !m.appendable => return Err(errors::object_not_appendable()),
        Some(m) if m.sealed_time.is_some() => return Err(errors::append_to_sealed_object()),
        Some(m) => m.length,
        None => 0,
    };
    if position != current_length {
        return Err(errors::position_not_equal_to_length(current_length));
    }
    if let Some(len) = declared_length {
        if current_length.saturating_add(len) > MAX_OBJECT_SIZE {
            return Err(errors::inline_data_too_large());
        }
    }

    if let Some(answer) = fault.before_storing(body, declared_length).await {
        return answer;
    }
    let tweaks = fault.receive_tweaks();

    let upload = guard
        .begin(UploadKind::Append, declared_length)
        .await
        .map_err(storage_error)?;
    let mut crc = Crc64::resume(current.as_ref().map_or(0, |m| m.crc64));
    // The ETag of an appendable object is not an MD5, so hash only when Content-MD5 asks.
    let mut md5 = expected_md5.map(|_| Md5::new());
    let upload = receive_body(
        body.take(),
        upload,
        declared_length,
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
        Some(md5) => check_md5(upload, expected_md5, md5).await?,
        None => upload,
    };
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
            m.crc64 = crc.value();
            m.etag = random_etag();
            m.last_modified = clock::unix_seconds(now);
            commit(&guard, upload, m.clone()).await?;
            m
        }
        None => {
            let m =
                creation.into_meta(key, true, upload.written(), crc.value(), random_etag(), now);
            commit(&guard, upload, m.clone()).await?;
            m
        }
    };
    drop(guard);

    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("content-length", "0")
        .header("etag", quoted_etag(&meta.etag))
        .header("x-oss-next-append-position", meta.length.to_string())
        .header("x-oss-hash-crc64ecma", meta.crc64.to_string());
    response = add_sse_headers(response, &meta);
    Ok(response.body(empty_body()).expect("valid response"))
}

// ---------------------------------------------------------------------------------------------
// PutObject

async fn put_object(
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

// ---------------------------------------------------------------------------------------------
// GetObject / HeadObject

fn get_object(
    shared: &Shared,
    route: &Route,
    parts: &Parts,
    head: bool,
) -> Result<Response<Body>, OssError> {
    let (bucket, key) = bucket_and_key(route);
    let slot = shared
        .store()
        .existing_slot(bucket, key)
        .ok_or_else(|| errors::no_such_key(key))?;
    let meta = slot.meta().ok_or_else(|| errors::no_such_key(key))?;

    let standard_ranges = header_str(&parts.headers, "x-oss-range-behavior")
        .is_some_and(|v| v.eq_ignore_ascii_case("standard"));
    let range = match header_str(&parts.headers, "range") {
        Some(value) if !head => parse_range(value, meta.length, standard_ranges),
        _ => RangeSpec::Full,
    };
    let (status, start, len) = match range {
        RangeSpec::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        RangeSpec::Unsatisfiable => return Err(errors::invalid_range(meta.length)),
        RangeSpec::Full => (StatusCode::OK, 0, meta.length),
    };

    let mut response = Response::builder()
        .status(status)
        .header("content-length", len.to_string())
        .header("accept-ranges", "bytes")
        .header("etag", quoted_etag(&meta.etag))
        .header(
            "last-modified",
            clock::http_date(
                SystemTime::UNIX_EPOCH + Duration::from_secs(meta.last_modified.max(0) as u64),
            ),
        )
        .header(
            "x-oss-object-type",
            if meta.appendable {
                "Appendable"
            } else {
                "Normal"
            },
        )
        .header("x-oss-hash-crc64ecma", meta.crc64.to_string())
        .header(
            "x-oss-storage-class",
            meta.headers
                .get("x-oss-storage-class")
                .map(String::as_str)
                .unwrap_or("Standard"),
        );
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            "content-range",
            format!("bytes {}-{}/{}", start, start + len - 1, meta.length),
        );
    }
    if meta.appendable {
        response = response.header("x-oss-next-append-position", meta.length.to_string());
    }
    if let Some(sealed) = meta.sealed_time {
        response = response.header("x-oss-sealed-time", unix_http_date(sealed));
    }
    // Stored representation headers, each overridable by its response-* query parameter.
    const OVERRIDABLE: [(&str, &str); 6] = [
        ("content-type", "response-content-type"),
        ("content-language", "response-content-language"),
        ("expires", "response-expires"),
        ("cache-control", "response-cache-control"),
        ("content-disposition", "response-content-disposition"),
        ("content-encoding", "response-content-encoding"),
    ];
    for (header, param) in OVERRIDABLE {
        let stored = match header {
            "content-type" => Some(meta.content_type.as_str()),
            _ => meta.headers.get(header).map(String::as_str),
        };
        let value = match route.param(param) {
            Some(Some(v)) => Some(v),
            _ => stored,
        };
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            response = response.header(header, v);
        }
    }
    for (name, value) in &meta.metadata {
        if let Ok(v) = HeaderValue::from_str(value) {
            response = response.header(format!("x-oss-meta-{name}"), v);
        }
    }
    if let Some(tagging) = meta.headers.get("x-oss-tagging") {
        let count = tagging.split('&').filter(|t| !t.is_empty()).count();
        response = response.header("x-oss-tagging-count", count.to_string());
    }
    response = add_sse_headers(response, &meta);

    if head {
        return Ok(response.body(empty_body()).expect("valid response"));
    }
    let source = slot
        .read(start, len)
        .map_err(storage_error)?
        .ok_or_else(|| errors::no_such_key(key))?;
    let body = match source {
        ReadSource::Memory(bytes) => full_body(bytes),
        ReadSource::File {
            mut file,
            offset,
            len,
        } => {
            use std::io::{Seek, SeekFrom};
            file.seek(SeekFrom::Start(offset)).map_err(storage_error)?;
            FileBody::new(tokio::fs::File::from_std(file), len).boxed_unsync()
        }
    };
    Ok(response.body(body).expect("valid response"))
}

// ---------------------------------------------------------------------------------------------
// SealAppendObject

/// `POST /<key>?seal&position=N`: the object keeps its data and type (`Appendable`) but takes no
/// more appends. Sealing again at the same position succeeds and keeps the first sealed time.
async fn seal_append_object(
    shared: &Shared,
    route: &Route,
    now: SystemTime,
) -> Result<Response<Body>, OssError> {
    let (bucket, key) = bucket_and_key(route);
    let position = match route.param("position") {
        None | Some(None) | Some(Some("")) => return Err(errors::position_missing()),
        Some(Some(v)) => parse_decimal_u64(v).ok_or_else(|| errors::position_invalid(v))?,
    };
    let slot = shared
        .store()
        .existing_slot(bucket, key)
        .ok_or_else(|| errors::no_such_key(key))?;
    let guard = slot.lock().await;
    let mut meta = guard.meta().ok_or_else(|| errors::no_such_key(key))?;
    if !meta.appendable {
        return Err(errors::seal_not_appendable());
    }
    if position != meta.length {
        return Err(errors::position_not_equal_to_length(meta.length));
    }
    if meta.sealed_time.is_none() {
        meta.sealed_time = Some(clock::unix_seconds(now));
        guard
            .update_meta(meta.clone())
            .await
            .map_err(storage_error)?;
    }
    drop(guard);
    let sealed = meta.sealed_time.unwrap_or_default();
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("content-length", "0")
        .header("etag", quoted_etag(&meta.etag))
        .header("last-modified", unix_http_date(meta.last_modified))
        .header("x-oss-object-type", "Appendable")
        .header(
            "x-oss-storage-class",
            meta.headers
                .get("x-oss-storage-class")
                .map(String::as_str)
                .unwrap_or("Standard"),
        )
        .header("x-oss-sealed-time", unix_http_date(sealed));
    if let Ok(v) = HeaderValue::from_str(&meta.content_type) {
        response = response.header("content-type", v);
    }
    Ok(response.body(empty_body()).expect("valid response"))
}

fn unix_http_date(seconds: i64) -> String {
    clock::http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.max(0) as u64))
}

// ---------------------------------------------------------------------------------------------
// DeleteObject

async fn delete_object(shared: &Shared, route: &Route) -> Result<Response<Body>, OssError> {
    let (bucket, key) = bucket_and_key(route);
    let slot = shared
        .store()
        .slot(bucket, key)
        .ok_or_else(|| errors::no_such_bucket(bucket))?;
    let guard = slot.lock().await;
    guard.delete().await.map_err(storage_error)?;
    drop(guard);
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(empty_body())
        .expect("valid response"))
}

async fn check_md5(
    upload: Upload,
    expected: Option<[u8; 16]>,
    md5: Md5,
) -> Result<Upload, OssError> {
    let Some(expected) = expected else {
        return Ok(upload);
    };
    let actual: [u8; 16] = md5.finalize().into();
    if actual != expected {
        upload.abort().await;
        return Err(errors::invalid_digest(
            &base64::engine::general_purpose::STANDARD.encode(actual),
        ));
    }
    Ok(upload)
}

async fn commit(guard: &SlotGuard, upload: Upload, meta: ObjectMeta) -> Result<(), OssError> {
    guard.commit(upload, meta).await.map_err(storage_error)
}

// ---------------------------------------------------------------------------------------------
// Creation headers

const OBJECT_ACLS: &[&str] = &["default", "private", "public-read", "public-read-write"];
const STORAGE_CLASSES: &[&str] = &[
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];
const SSE_ALGORITHMS: &[&str] = &["AES256", "KMS", "SM4"];

/// Headers stored with an object when it is created (PutObject, first AppendObject).
#[derive(Debug)]
struct CreationHeaders {
    content_type: String,
    metadata: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
}

impl CreationHeaders {
    fn parse(headers: &HeaderMap) -> Result<CreationHeaders, OssError> {
        let mut stored = BTreeMap::new();
        for name in [
            "cache-control",
            "content-disposition",
            "content-encoding",
            "content-language",
            "expires",
            "x-oss-tagging",
        ] {
            if let Some(v) = joined_header(headers, name) {
                stored.insert(name.to_string(), v);
            }
        }
        if let Some(acl) = joined_header(headers, "x-oss-object-acl") {
            if !OBJECT_ACLS.contains(&acl.as_str()) {
                return Err(errors::invalid_object_acl(&acl));
            }
            stored.insert("x-oss-object-acl".to_string(), acl);
        }
        if let Some(class) = joined_header(headers, "x-oss-storage-class") {
            if !STORAGE_CLASSES.contains(&class.as_str()) {
                return Err(errors::invalid_storage_class(&class));
            }
            stored.insert("x-oss-storage-class".to_string(), class);
        }
        let sse = joined_header(headers, "x-oss-server-side-encryption");
        if let Some(alg) = &sse {
            if !SSE_ALGORITHMS.contains(&alg.as_str()) {
                return Err(errors::invalid_encryption(
                    "x-oss-server-side-encryption",
                    alg,
                ));
            }
            stored.insert("x-oss-server-side-encryption".to_string(), alg.clone());
        }
        if let Some(data_alg) = joined_header(headers, "x-oss-server-side-data-encryption") {
            // Only SM4 exists, and only as the data algorithm of KMS encryption.
            if data_alg != "SM4" || sse.as_deref() != Some("KMS") {
                return Err(errors::invalid_encryption(
                    "x-oss-server-side-data-encryption",
                    &data_alg,
                ));
            }
            stored.insert("x-oss-server-side-data-encryption".to_string(), data_alg);
        }
        if let Some(key_id) = joined_header(headers, "x-oss-server-side-encryption-key-id") {
            if sse.as_deref() != Some("KMS") {
                return Err(errors::invalid_encryption(
                    "x-oss-server-side-encryption-key-id",
                    &key_id,
                ));
            }
            stored.insert("x-oss-server-side-encryption-key-id".to_string(), key_id);
        } else if sse.as_deref() == Some("KMS") {
            // OSS uses the account's default KMS key and reports its id on every response.
            stored.insert(
                "x-oss-server-side-encryption-key-id".to_string(),
                fake_kms_key_id(),
            );
        }

        let mut metadata = BTreeMap::new();
        let mut total = 0usize;
        for name in headers.keys() {
            let Some(suffix) = name.as_str().strip_prefix("x-oss-meta-") else {
                continue;
            };
            if suffix.is_empty()
                || !suffix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(errors::invalid_metadata_name(name.as_str()));
            }
            if metadata.contains_key(suffix) {
                continue; // joined below
            }
            let joined = joined_header(headers, name.as_str()).unwrap_or_default();
            total += name.as_str().len() + joined.len();
            metadata.insert(suffix.to_string(), joined);
        }
        if total > MAX_USER_METADATA {
            return Err(errors::metadata_too_large());
        }
        let content_type = header_str(headers, "content-type")
            .map(str::to_string)
            .unwrap_or_else(|| "application/octet-stream".to_string());
        Ok(CreationHeaders {
            content_type,
            metadata,
            headers: stored,
        })
    }

    fn into_meta(
        self,
        key: &str,
        appendable: bool,
        length: u64,
        crc64: u64,
        etag: String,
        now: SystemTime,
    ) -> ObjectMeta {
        ObjectMeta {
            key: key.to_string(),
            appendable,
            length,
            crc64,
            etag,
            content_type: self.content_type,
            last_modified: clock::unix_seconds(now),
            metadata: self.metadata,
            headers: self.headers,
            sealed_time: None,
        }
    }
}

fn add_sse_headers(
    mut builder: hyper::http::response::Builder,
    meta: &ObjectMeta,
) -> hyper::http::response::Builder {
    for name in [
        "x-oss-server-side-encryption",
        "x-oss-server-side-data-encryption",
        "x-oss-server-side-encryption-key-id",
    ] {
        if let Some(v) = meta
            .headers
            .get(name)
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            builder = builder.header(name, v);
        }
    }
    builder
}

fn quoted_etag(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// The ETag of an appendable object: not an MD5 (OSS uses an opaque id for non-PutObject
/// objects), 32 upper-case hex characters, new on every append.
fn random_etag() -> String {
    hex::encode_upper(rand::random::<[u8; 16]>())
}

fn fake_kms_key_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_headers_validation() {
        let mut h = HeaderMap::new();
        h.insert("x-oss-object-acl", "public-read".parse().unwrap());
        h.insert("x-oss-storage-class", "IA".parse().unwrap());
        h.insert("x-oss-meta-Author", "alice".parse().unwrap());
        h.insert("cache-control", "no-cache".parse().unwrap());
        let c = CreationHeaders::parse(&h).unwrap();
        assert_eq!(c.content_type, "application/octet-stream");
        assert_eq!(c.metadata["author"], "alice");
        assert_eq!(c.headers["x-oss-storage-class"], "IA");
        assert_eq!(c.headers["cache-control"], "no-cache");

        let bad = |name: &'static str, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            CreationHeaders::parse(&h).unwrap_err()
        };
        assert_eq!(bad("x-oss-object-acl", "public").ec, "0017-00000104");
        assert_eq!(bad("x-oss-storage-class", "Cold").ec, "0017-00000132");
        assert_eq!(
            bad("x-oss-storage-class", "standard").code,
            "InvalidArgument"
        );
        assert_eq!(
            bad("x-oss-server-side-encryption", "AES128").code,
            "InvalidEncryptionAlgorithmError"
        );
        assert_eq!(bad("x-oss-meta-a_b", "x").ec, "0011-00000004");
        assert_eq!(bad("x-oss-meta-big", &"x".repeat(8200)).ec, "0011-00000002");

        let mut h = HeaderMap::new();
        h.insert("x-oss-server-side-encryption", "KMS".parse().unwrap());
        h.insert("x-oss-server-side-data-encryption", "SM4".parse().unwrap());
        let c = CreationHeaders::parse(&h).unwrap();
        assert_eq!(c.headers["x-oss-server-side-encryption-key-id"].len(), 36);
    }
}
