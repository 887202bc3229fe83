//! Request signing for OSS: V1 (`OSS ak:sig`, HMAC-SHA1) and V4 (`OSS4-HMAC-SHA256`).
//!
//! Everything here is a pure function of its inputs (no clock, no I/O), so the official test
//! vectors in `oss-protocol.md` §4–§5 prove it. The same functions serve both sides: the client
//! signs the request it is about to send, and the emulator recomputes the signature of the
//! request it received.

pub mod v1;
pub mod v4;

/// The parts of an HTTP request that a signature covers, independent of any HTTP library.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// HTTP method, upper case (`POST`).
    pub method: &'a str,
    /// Bucket name, if the request addresses a bucket.
    pub bucket: Option<&'a str>,
    /// Object key, raw UTF-8 (not percent-encoded), if the request addresses an object.
    pub key: Option<&'a str>,
    /// Query parameters, decoded; `None` for a bare parameter such as `append`.
    pub query: &'a [(String, Option<String>)],
    /// Request headers as sent, names in any case. Repeated names are allowed.
    pub headers: &'a [(String, String)],
}
