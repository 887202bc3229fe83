//! The object operations: AppendObject, PutObject, GetObject, HeadObject, DeleteObject.
//!
//! Each handler gets the already authenticated request. Handlers that accept a body take it out
//! of `body`; if one is left there, the server drains it before answering (see `server`).
//!
//! Scripted faults (see [`crate::faults`]) are looked up here, once a request is authenticated
//! and its operation known, and carried out around or inside the operation.
//!
//! One file per operation (`append.rs`, `put.rs`, `get.rs` for GET and HEAD, `seal.rs`,
//! `delete.rs`), over three they share: `params.rs` (bucket, key, `position`),
//! `object_headers.rs` (headers stored at creation and answered from a stored object) and
//! `upload.rs` (size limit, Content-MD5 check, commit). Handlers import only those three;
//! this file imports the handlers.

mod append;
mod delete;
mod get;
mod object_headers;
mod params;
mod put;
mod seal;
mod upload;

use crate::auth::{self, AuthRequest};
use crate::clock;
use crate::errors::{self, OssError};
use crate::faults::FaultState;
use crate::http::body::Body;
use crate::http::headers::{header_pairs, header_str};
use crate::routing::{self, Operation, Route};
use crate::state::Shared;
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::Response;
use std::time::SystemTime;

/// Routes, authenticates and runs one request, carrying out the scripted fault that hits it.
pub(crate) async fn dispatch(
    shared: &Shared,
    parts: &Parts,
    body: &mut Option<Incoming>,
    now: SystemTime,
    fault: &mut FaultState,
) -> Result<Response<Body>, OssError> {
    let route = authenticated_route(shared, parts, now)?;
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
        Operation::AppendObject => {
            append::append_object(shared, &route, parts, body, now, fault).await
        }
        Operation::SealAppendObject => seal::seal_append_object(shared, &route, now).await,
        Operation::PutObject => put::put_object(shared, &route, parts, body, now).await,
        Operation::GetObject => get::get_object(shared, &route, parts, false),
        Operation::HeadObject => get::get_object(shared, &route, parts, true),
        Operation::DeleteObject => delete::delete_object(shared, &route).await,
        Operation::Unsupported(what) => Err(errors::not_implemented(&what)),
    };
    fault.after_operation(result).await
}

/// Where the request goes (an existing bucket), once its signature, time and token are right.
fn authenticated_route(shared: &Shared, parts: &Parts, now: SystemTime) -> Result<Route, OssError> {
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
        &shared.sts,
        &AuthRequest {
            method: parts.method.as_str(),
            bucket: route.bucket.as_deref(),
            key: route.key.as_deref(),
            query: &route.query,
            headers: &headers,
            now_unix: clock::unix_seconds(now),
        },
    )?;
    Ok(route)
}
