//! HTTP plumbing under the OSS operations: body types, reading request bodies and headers,
//! the `Range` header, and the headers and error rendering every answer shares. Nothing here
//! knows which operation a request is.

pub(crate) mod body;
pub(crate) mod headers;
pub(crate) mod range;
pub(crate) mod receive;
pub(crate) mod response;
