//! What the object operations read from the route: the object's bucket and key, and the
//! `position` parameter of AppendObject and SealAppendObject.

use crate::errors::{self, OssError};
use crate::http::headers::parse_decimal_u64;
use crate::routing::Route;

/// The bucket and key of an object operation.
pub(super) fn bucket_and_key(route: &Route) -> (&str, &str) {
    // `operation` only yields object operations for routes with both.
    (
        route.bucket.as_deref().unwrap_or(""),
        route.key.as_deref().unwrap_or(""),
    )
}

/// The `position` parameter: missing or empty is MissingArgument, anything but a strict
/// decimal InvalidArgument.
pub(super) fn position(route: &Route) -> Result<u64, OssError> {
    match route.param("position") {
        None | Some(None) | Some(Some("")) => Err(errors::position_missing()),
        Some(Some(v)) => parse_decimal_u64(v).ok_or_else(|| errors::position_invalid(v)),
    }
}
