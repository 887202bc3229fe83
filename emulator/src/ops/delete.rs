//! DeleteObject: `DELETE /<key>`.

use super::params::bucket_and_key;
use crate::errors::{self, storage_error, OssError};
use crate::http::body::{empty_body, Body};
use crate::routing::Route;
use crate::state::Shared;
use hyper::{Response, StatusCode};

pub(super) async fn delete_object(
    shared: &Shared,
    route: &Route,
) -> Result<Response<Body>, OssError> {
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
