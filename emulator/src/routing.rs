//! From the request line and Host to bucket, key, decoded query and operation.
//!
//! Addressing (oss-protocol.md §7): when the Host is an IP address or `localhost[:port]` the
//! request is path-style (`/bucket/key`), which is what the SDKs switch to for IP endpoints.
//! When the Host's first label is a configured bucket (`bucket.oss-cn-hangzhou.aliyuncs.com`,
//! `bucket.localhost`), it is virtual-hosted and the whole path is the key. A bare endpoint
//! (`oss-cn-hangzhou.aliyuncs.com`) or a single-label host is path-style; any other
//! `<label>.<domain>` Host is virtual-hosted for the bucket `<label>` (NoSuchBucket if unknown).

use crate::errors::{self, OssError};
use hyper::Method;
use std::net::IpAddr;

/// Longest key OSS accepts, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1023;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub bucket: Option<String>,
    /// Raw UTF-8 key (percent-decoded). `None` for bucket- or service-level requests.
    pub key: Option<String>,
    /// Decoded query parameters in request order; `None` value for a bare name (`append`).
    pub query: Vec<(String, Option<String>)>,
    pub virtual_hosted: bool,
}

impl Route {
    pub(crate) fn has_param(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    /// The value of the first parameter with this name (`Some(None)` for a bare name).
    pub(crate) fn param(&self, name: &str) -> Option<Option<&str>> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_deref())
    }
}

/// What the request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    AppendObject,
    /// `POST /<key>?seal&position=N`.
    SealAppendObject,
    PutObject,
    GetObject,
    HeadObject,
    DeleteObject,
    /// Anything else; the string names it for the NotImplemented message.
    Unsupported(String),
}

/// Splits the request target into a `Route`.
pub(crate) fn resolve(
    host: &str,
    path: &str,
    raw_query: Option<&str>,
    buckets: &[String],
) -> Result<Route, OssError> {
    if !path.starts_with('/') {
        return Err(errors::invalid_uri());
    }
    let query = match raw_query {
        Some(q) => parse_query(q)?,
        None => Vec::new(),
    };
    let (bucket, raw_key, virtual_hosted) = match virtual_host_bucket(host, buckets) {
        Some(bucket) => (Some(bucket), &path[1..], true),
        None => {
            let rest = &path[1..];
            match rest.split_once('/') {
                Some((b, k)) => (Some(decode_component(b)?), k, false),
                None if rest.is_empty() => (None, "", false),
                None => (Some(decode_component(rest)?), "", false),
            }
        }
    };
    let bucket = bucket.filter(|b| !b.is_empty());
    let key = if raw_key.is_empty() {
        None
    } else {
        Some(decode_key(raw_key)?)
    };
    if bucket.is_none() && key.is_some() {
        return Err(errors::invalid_uri());
    }
    Ok(Route {
        bucket,
        key,
        query,
        virtual_hosted,
    })
}

/// Which operation a method on a route is. Query parameters that select another OSS API
/// (acl, tagging, symlink, uploads, …) make it Unsupported rather than silently ignored.
pub(crate) fn operation(method: &Method, route: &Route) -> Operation {
    let Some(_key) = &route.key else {
        let level = if route.bucket.is_some() {
            "bucket-level"
        } else {
            "service-level"
        };
        return Operation::Unsupported(format!("{level} {method} requests"));
    };
    // Parameters that select another OSS API on the same URL. Response-shaping parameters
    // (`response-content-type`, …) and unknown parameters are not in here: OSS ignores the
    // latter and the GET handler honours the former.
    const OTHER_APIS: &[&str] = &[
        "acl",
        "tagging",
        "symlink",
        "uploads",
        "uploadId",
        "partNumber",
        "restore",
        "objectMeta",
        "x-oss-process",
        "x-oss-async-process",
        "callback",
        "callback-var",
        "seal",
        "delete",
        "stat",
        "location",
        "bucketInfo",
        "versions",
        "versioning",
        "comp",
        "cors",
        "lifecycle",
        "logging",
        "website",
        "referer",
        "policy",
        "encryption",
        "cleanRestoredObject",
        "sequential",
        "rtc",
    ];
    let foreign = route.query.iter().find_map(|(k, v)| {
        if OTHER_APIS.contains(&k.as_str()) {
            return Some(k.clone());
        }
        // There is no versioning here: only the null version exists.
        if k == "versionId" && v.as_deref() != Some("null") {
            return Some(k.clone());
        }
        None
    });
    // versionId on an append is a documented AppendObject error, answered by the handler.
    if *method == Method::POST && route.has_param("append") {
        return Operation::AppendObject;
    }
    if *method == Method::POST && route.has_param("seal") {
        // Any other API parameter next to `seal` still makes it something unsupported.
        let others = route
            .query
            .iter()
            .any(|(k, _)| k != "seal" && OTHER_APIS.contains(&k.as_str()));
        if !others && !route.has_param("versionId") {
            return Operation::SealAppendObject;
        }
    }
    if let Some(param) = foreign {
        return Operation::Unsupported(format!("{method} with ?{param}"));
    }
    match *method {
        Method::PUT => Operation::PutObject,
        Method::GET => Operation::GetObject,
        Method::HEAD => Operation::HeadObject,
        Method::DELETE => Operation::DeleteObject,
        _ => Operation::Unsupported(format!("{method} on an object")),
    }
}

/// The bucket named by a virtual-hosted Host, if the Host is of that form: not an IP, not
/// `localhost`, not a bare endpoint (`oss-cn-hangzhou.aliyuncs.com`, first label `oss-…`), and
/// with at least two labels. The first label is then the bucket, configured or not (an unknown
/// one answers NoSuchBucket, as OSS does).
fn virtual_host_bucket(host: &str, buckets: &[String]) -> Option<String> {
    let name = strip_port(host);
    if name.parse::<IpAddr>().is_ok()
        || name.starts_with('[')
        || name.eq_ignore_ascii_case("localhost")
    {
        return None;
    }
    let (first, rest) = name.split_once('.')?;
    if first.is_empty() || rest.is_empty() {
        return None;
    }
    if buckets.iter().any(|b| b == first) || rest.eq_ignore_ascii_case("localhost") {
        return Some(first.to_string());
    }
    if first.starts_with("oss-") || first == "oss" {
        return None;
    }
    Some(first.to_string())
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:port
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn decode_component(raw: &str) -> Result<String, OssError> {
    let bytes = percent_decode(raw.as_bytes(), false).ok_or_else(errors::invalid_uri)?;
    String::from_utf8(bytes).map_err(|_| errors::invalid_uri())
}

fn decode_key(raw: &str) -> Result<String, OssError> {
    let bytes = percent_decode(raw.as_bytes(), false).ok_or_else(errors::invalid_uri)?;
    let key = String::from_utf8(bytes)
        .map_err(|_| errors::invalid_object_name("The object name is not valid UTF-8."))?;
    if key.len() > MAX_KEY_BYTES {
        return Err(errors::invalid_object_name(
            "The Length of Object name must be less than 1024.",
        ));
    }
    if key.starts_with('\\') {
        return Err(errors::invalid_object_name(
            "The specified object is not valid.",
        ));
    }
    Ok(key)
}

/// Splits and decodes a query string. `+` means a space in query strings (form encoding).
pub(crate) fn parse_query(raw: &str) -> Result<Vec<(String, Option<String>)>, OssError> {
    let mut out = Vec::new();
    for part in raw.split('&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (part, None),
        };
        let decode = |s: &str| -> Result<String, OssError> {
            let bytes = percent_decode(s.as_bytes(), true).ok_or_else(errors::invalid_uri)?;
            String::from_utf8(bytes).map_err(|_| errors::invalid_uri())
        };
        out.push((decode(k)?, v.map(decode).transpose()?));
    }
    Ok(out)
}

/// Percent-decoding that refuses malformed escapes (`%G1`, a trailing `%`) instead of passing
/// them through, as a strict server should.
pub(crate) fn percent_decode(input: &[u8], plus_is_space: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' => {
                let hex = input.get(i + 1..i + 3)?;
                let s = std::str::from_utf8(hex).ok()?;
                out.push(
                    u8::from_str_radix(s, 16)
                        .ok()
                        .filter(|_| hex.iter().all(u8::is_ascii_hexdigit))?,
                );
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// [`percent_decode`] of a string to a UTF-8 string (`+` stays `+`).
pub(crate) fn percent_decode_str(s: &str) -> Option<String> {
    String::from_utf8(percent_decode(s.as_bytes(), false)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets() -> Vec<String> {
        vec!["test-bucket".to_string()]
    }

    #[test]
    fn path_style_on_ip_hosts() {
        let r = resolve(
            "127.0.0.1:8080",
            "/test-bucket/dir/a%2Bb%20c.txt",
            Some("append&position=10"),
            &buckets(),
        )
        .unwrap();
        assert_eq!(r.bucket.as_deref(), Some("test-bucket"));
        assert_eq!(r.key.as_deref(), Some("dir/a+b c.txt"));
        assert_eq!(
            r.query,
            vec![
                ("append".into(), None),
                ("position".into(), Some("10".into()))
            ]
        );
        assert!(!r.virtual_hosted);
        let r = resolve("localhost:1", "/other/", None, &buckets()).unwrap();
        assert_eq!((r.bucket.as_deref(), r.key), (Some("other"), None));
        let r = resolve("[::1]:9", "/", None, &buckets()).unwrap();
        assert_eq!((r.bucket, r.key), (None, None));
        let r = resolve("127.0.0.1", "/b", None, &buckets()).unwrap();
        assert_eq!(r.bucket.as_deref(), Some("b"));
    }

    #[test]
    fn virtual_hosted() {
        let r = resolve(
            "test-bucket.oss-cn-hangzhou.aliyuncs.com",
            "/a/b",
            None,
            &buckets(),
        )
        .unwrap();
        assert_eq!(
            (r.bucket.as_deref(), r.key.as_deref(), r.virtual_hosted),
            (Some("test-bucket"), Some("a/b"), true)
        );
        let r = resolve("nosuch.localhost:9000", "/k", None, &buckets()).unwrap();
        assert_eq!(
            (r.bucket.as_deref(), r.key.as_deref()),
            (Some("nosuch"), Some("k"))
        );
        // An endpoint host whose first label is not a bucket is path-style.
        let r = resolve(
            "oss-cn-hangzhou.aliyuncs.com",
            "/test-bucket/k",
            None,
            &buckets(),
        )
        .unwrap();
        assert_eq!(
            (r.bucket.as_deref(), r.key.as_deref()),
            (Some("test-bucket"), Some("k"))
        );
    }

    #[test]
    fn query_decoding() {
        let q = parse_query("%2Bparam1=value3&%7Cparam2=&param2&a=b%20c+d&&x=%3D").unwrap();
        assert_eq!(
            q,
            vec![
                ("+param1".into(), Some("value3".into())),
                ("|param2".into(), Some("".into())),
                ("param2".into(), None),
                ("a".into(), Some("b c d".into())),
                ("x".into(), Some("=".into())),
            ]
        );
        assert!(parse_query("a=%G1").is_err());
        assert!(parse_query("a=%4").is_err());
        assert!(parse_query("a=%FF").is_err());
    }

    #[test]
    fn bad_keys() {
        assert!(resolve("127.0.0.1", "/test-bucket/%FF", None, &buckets()).is_err());
        let long = "a".repeat(1024);
        assert!(resolve(
            "127.0.0.1",
            &format!("/test-bucket/{long}"),
            None,
            &buckets()
        )
        .is_err());
        assert!(resolve(
            "127.0.0.1",
            &format!("/test-bucket/{}", &long[1..]),
            None,
            &buckets()
        )
        .is_ok());
        assert!(resolve("127.0.0.1", "test-bucket/k", None, &buckets()).is_err());
    }

    #[test]
    fn operations() {
        let r = |q: &str| resolve("127.0.0.1", "/test-bucket/k", Some(q), &buckets()).unwrap();
        assert_eq!(
            operation(&Method::POST, &r("append&position=0")),
            Operation::AppendObject
        );
        assert_eq!(
            operation(&Method::POST, &r("append")),
            Operation::AppendObject
        );
        assert_eq!(operation(&Method::PUT, &r("")), Operation::PutObject);
        assert_eq!(
            operation(&Method::GET, &r("response-content-type=text/plain")),
            Operation::GetObject
        );
        assert!(matches!(
            operation(&Method::PUT, &r("acl")),
            Operation::Unsupported(_)
        ));
        assert!(matches!(
            operation(&Method::POST, &r("")),
            Operation::Unsupported(_)
        ));
        assert_eq!(
            operation(&Method::POST, &r("seal&position=3")),
            Operation::SealAppendObject
        );
        assert!(matches!(
            operation(&Method::PUT, &r("seal&position=3")),
            Operation::Unsupported(_)
        ));
        assert!(matches!(
            operation(&Method::POST, &r("seal&acl")),
            Operation::Unsupported(_)
        ));
        assert!(matches!(
            operation(&Method::GET, &r("tagging")),
            Operation::Unsupported(_)
        ));
        let bucket = resolve("127.0.0.1", "/test-bucket/", None, &buckets()).unwrap();
        assert!(matches!(
            operation(&Method::GET, &bucket),
            Operation::Unsupported(_)
        ));
    }
}
