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

impl<'a> SignableRequest<'a> {
    /// The first value of header `name` (matched case-insensitively), as sent.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        let headers: &'a [(String, String)] = self.headers;
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Groups the headers accepted by `keep` (called with the lower-cased name) into
/// `name:v1,v2\n` lines: names lower-cased, values trimmed, repeated names joined with `,` in the
/// order sent, lines sorted by name. Shared by V1 (CanonicalizedOSSHeaders) and V4
/// (CanonicalHeaders).
fn canonical_header_block(
    headers: &[(String, String)],
    mut keep: impl FnMut(&str) -> bool,
) -> String {
    let mut grouped: std::collections::BTreeMap<String, Vec<&str>> =
        std::collections::BTreeMap::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if keep(&lower) {
            grouped.entry(lower).or_default().push(value.trim());
        }
    }
    let mut out = String::new();
    for (name, values) in grouped {
        out.push_str(&name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}
