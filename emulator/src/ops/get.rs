//! GetObject and HeadObject: the object's headers, and for GET its data (or a Range of it).

use super::object_headers::{add_sse_headers, quoted_etag, storage_class, unix_http_date};
use super::params::bucket_and_key;
use crate::errors::{self, storage_error, OssError};
use crate::http::body::{empty_body, full_body, Body, FileBody};
use crate::http::headers::header_str;
use crate::http::range::{parse_range, RangeSpec};
use crate::routing::Route;
use crate::state::Shared;
use crate::store::{ObjectMeta, ReadSource, Slot};
use http_body_util::BodyExt;
use hyper::header::HeaderValue;
use hyper::http::request::Parts;
use hyper::http::response::Builder;
use hyper::{Response, StatusCode};

/// What an answer covers: the status (200 or 206), the first byte and the byte count.
struct Extent {
    status: StatusCode,
    start: u64,
    len: u64,
}

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
    let extent = requested_extent(parts, &meta, head)?;
    let response = object_headers(&extent, &meta);
    let response = representation_headers(response, &meta, route);
    let response = add_sse_headers(response, &meta);
    if head {
        return Ok(response.body(empty_body()).expect("valid response"));
    }
    let body = object_body(&slot, key, &extent)?;
    Ok(response.body(body).expect("valid response"))
}

/// The part of the object to answer with: everything, or what a usable `Range` asks for (GET
/// only; HEAD ignores `Range`).
fn requested_extent(parts: &Parts, meta: &ObjectMeta, head: bool) -> Result<Extent, OssError> {
    let standard_ranges = header_str(&parts.headers, "x-oss-range-behavior")
        .is_some_and(|v| v.eq_ignore_ascii_case("standard"));
    let range = match header_str(&parts.headers, "range") {
        Some(value) if !head => parse_range(value, meta.length, standard_ranges),
        _ => RangeSpec::Full,
    };
    Ok(match range {
        RangeSpec::Partial { start, end } => Extent {
            status: StatusCode::PARTIAL_CONTENT,
            start,
            len: end - start + 1,
        },
        RangeSpec::Unsatisfiable => return Err(errors::invalid_range(meta.length)),
        RangeSpec::Full => Extent {
            status: StatusCode::OK,
            start: 0,
            len: meta.length,
        },
    })
}

/// Status, length and the headers describing the stored object itself.
fn object_headers(extent: &Extent, meta: &ObjectMeta) -> Builder {
    let mut response = Response::builder()
        .status(extent.status)
        .header("content-length", extent.len.to_string())
        .header("accept-ranges", "bytes")
        .header("etag", quoted_etag(&meta.etag))
        .header("last-modified", unix_http_date(meta.last_modified))
        .header(
            "x-oss-object-type",
            if meta.appendable {
                "Appendable"
            } else {
                "Normal"
            },
        )
        .header("x-oss-hash-crc64ecma", meta.crc64.to_string())
        .header("x-oss-storage-class", storage_class(meta));
    if extent.status == StatusCode::PARTIAL_CONTENT {
        let last = extent.start + extent.len - 1;
        response = response.header(
            "content-range",
            format!("bytes {}-{}/{}", extent.start, last, meta.length),
        );
    }
    if meta.appendable {
        response = response.header("x-oss-next-append-position", meta.length.to_string());
    }
    if let Some(sealed) = meta.sealed_time {
        response = response.header("x-oss-sealed-time", unix_http_date(sealed));
    }
    response
}

/// Stored representation headers (each overridable by its `response-*` query parameter), user
/// metadata and the tag count.
fn representation_headers(mut response: Builder, meta: &ObjectMeta, route: &Route) -> Builder {
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
    response
}

/// The answered bytes: from memory, or streamed from the object's file.
fn object_body(slot: &Slot, key: &str, extent: &Extent) -> Result<Body, OssError> {
    let source = slot
        .read(extent.start, extent.len)
        .map_err(storage_error)?
        .ok_or_else(|| errors::no_such_key(key))?;
    Ok(match source {
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
    })
}
