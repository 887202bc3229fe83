//! SealAppendObject: `POST /<key>?seal&position=N`.

use super::object_headers::{quoted_etag, storage_class, unix_http_date};
use super::params::{self, bucket_and_key};
use crate::clock;
use crate::errors::{self, storage_error, OssError};
use crate::http::body::{empty_body, Body};
use crate::routing::Route;
use crate::state::Shared;
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};
use std::time::SystemTime;

/// `POST /<key>?seal&position=N`: the object keeps its data and type (`Appendable`) but takes no
/// more appends. Sealing again at the same position succeeds and keeps the first sealed time.
pub(super) async fn seal_append_object(
    shared: &Shared,
    route: &Route,
    now: SystemTime,
) -> Result<Response<Body>, OssError> {
    let (bucket, key) = bucket_and_key(route);
    let position = params::position(route)?;
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
        .header("x-oss-storage-class", storage_class(&meta))
        .header("x-oss-sealed-time", unix_http_date(sealed));
    if let Ok(v) = HeaderValue::from_str(&meta.content_type) {
        response = response.header("content-type", v);
    }
    Ok(response.body(empty_body()).expect("valid response"))
}
