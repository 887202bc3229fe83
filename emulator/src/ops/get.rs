//! GetObject and HeadObject: the object's headers, and for GET its data (or a Range of it).

use super::object_headers::{add_sse_headers, quoted_etag, unix_http_date};
use super::params::bucket_and_key;
use crate::clock;
use crate::errors::{self, storage_error, OssError};
use crate::http::body::{empty_body, full_body, Body, FileBody};
use crate::http::headers::header_str;
use crate::http::range::{parse_range, RangeSpec};
use crate::routing::Route;
use crate::state::Shared;
use crate::store::ReadSource;
use http_body_util::BodyExt;
use hyper::header::HeaderValue;
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use std::time::{Duration, SystemTime};

pub(super) fn get_object(
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
