//! Request signing for OSS: V1 (`OSS ak:sig`, HMAC-SHA1) and V4 (`OSS4-HMAC-SHA256`).
//!
//! Everything here is a pure function of its inputs (no clock, no I/O), so the official test
//! vectors in `oss-protocol.md` §4–§5 prove it. The same functions serve both sides: the client
//! signs the request it is about to send, and the emulator recomputes the signature of the
//! request it received.
//!
//! [`sign`] is the one entry the client uses: it decides which headers the signature needs
//! (`Date`, `x-oss-security-token`, and for V4 `x-oss-date` and `x-oss-content-sha256`), builds
//! the V4 scope, and returns those headers with the `Authorization` value, kept [`Sensitive`].
//! `v1` and `v4` hold the steps, each proven by the official vectors.

pub mod v1;
pub mod v4;

use std::fmt;

use crate::protocol::config::SignatureVersion;
use crate::protocol::credentials::Credentials;

/// Who signs, with which algorithm, for which region, and when.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    /// The access key and secret (and the STS token, sent as `x-oss-security-token`).
    pub credentials: &'a Credentials,
    /// V1 or V4.
    pub version: SignatureVersion,
    /// The region of the V4 scope (`cn-hangzhou`).
    pub region: &'a str,
    /// The signing time, Unix seconds (the caller reads the clock: signing stays pure).
    pub unix_time: u64,
}

/// What signing adds to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// Headers to send as well, in this order, before `Authorization`.
    pub headers: Vec<(String, String)>,
    /// The `Authorization` header's value.
    pub authorization: Sensitive,
}

/// A secret-bearing value (a signature, a token): shown as `<redacted>` by `Debug`, so it never
/// reaches a log or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value, consumed.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Signs `request`, whose headers are all it sends apart from what signing adds.
pub fn sign(request: &SignableRequest<'_>, params: &SigningParams<'_>) -> SigningOutput {
    let creds = params.credentials;
    let date = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(params.unix_time),
    );
    let mut added: Vec<(String, String)> = vec![("Date".into(), date.clone())];
    if let Some(token) = creds.security_token() {
        added.push(("x-oss-security-token".into(), token.to_owned()));
    }
    let authorization = match params.version {
        SignatureVersion::V1 => {
            let headers = [request.headers, &added].concat();
            let signed = SignableRequest {
                headers: &headers,
                ..*request
            };
            let sts = v1::string_to_sign(&signed, &date);
            v1::authorization(
                creds.access_key_id(),
                &v1::signature(creds.access_key_secret(), &sts),
            )
        }
        SignatureVersion::V4 => {
            let datetime = v4::format_datetime(params.unix_time);
            added.push(("x-oss-date".into(), datetime.clone()));
            added.push(("x-oss-content-sha256".into(), v4::UNSIGNED_PAYLOAD.into()));
            let headers = [request.headers, &added].concat();
            let signed = SignableRequest {
                headers: &headers,
                ..*request
            };
            let scope = v4::Scope::new(params.unix_time, params.region, "oss");
            let canonical = v4::canonical_request(&signed, &[]);
            let sts = v4::string_to_sign(&datetime, &scope, &canonical);
            let signature =
                v4::signature(&v4::signing_key(creds.access_key_secret(), &scope), &sts);
            v4::authorization(creds.access_key_id(), &scope, &[], &signature)
        }
    };
    SigningOutput {
        headers: added,
        authorization: Sensitive(authorization),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a [(String, String)]) -> SignableRequest<'a> {
        SignableRequest {
            method: "POST",
            bucket: Some("b"),
            key: Some("k"),
            query: &[],
            headers,
        }
    }

    #[test]
    fn sign_adds_what_each_version_needs_and_hides_the_authorization() {
        let creds = Credentials::new("ak", "sk", Some("sts-token".into())).unwrap();
        let headers = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
        let names = |out: &SigningOutput| -> Vec<String> {
            out.headers.iter().map(|(n, _)| n.clone()).collect()
        };
        let params = |version| SigningParams {
            credentials: &creds,
            version,
            region: "cn-hangzhou",
            unix_time: 1_702_743_657,
        };
        let v1 = sign(&request(&headers), &params(SignatureVersion::V1));
        assert_eq!(names(&v1), ["Date", "x-oss-security-token"]);
        assert!(v1.authorization.expose().starts_with("OSS ak:"));
        let v4 = sign(&request(&headers), &params(SignatureVersion::V4));
        assert_eq!(
            names(&v4),
            [
                "Date",
                "x-oss-security-token",
                "x-oss-date",
                "x-oss-content-sha256"
            ]
        );
        assert!(v4.authorization.expose().starts_with(
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        ));
        let shown = format!("{v4:?}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains("Signature="), "{shown}");
    }
}
