//! Reading request headers the way OSS does: repeated headers joined, strict decimals, the
//! declared body length and Content-MD5.

use crate::errors::{self, OssError};
use base64::Engine as _;
use hyper::header::HeaderMap;

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// All values of a header joined with `,` (how OSS treats repeated headers).
pub(crate) fn joined_header(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join(","))
    }
}

/// Headers as `(name, value)` pairs for signature checking; values that are not UTF-8 are
/// decoded lossily (they would not match a client's signature anyway).
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The body length the request declares: `Some(n)` from Content-Length, `None` when chunked.
/// Neither → 411 MissingContentLength.
pub(crate) fn declared_body_length(headers: &HeaderMap) -> Result<Option<u64>, OssError> {
    let chunked = headers.get_all("transfer-encoding").iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.to_ascii_lowercase().contains("chunked"))
    });
    match header_str(headers, "content-length") {
        // hyper already rejects conflicting or malformed Content-Length framing; this keeps
        // the OSS error for anything that slips through.
        Some(v) => parse_decimal_u64(v.trim())
            .map(Some)
            .ok_or_else(|| errors::invalid_content_length(v)),
        None if chunked => Ok(None),
        None => Err(errors::missing_content_length()),
    }
}

pub(crate) fn content_md5(headers: &HeaderMap) -> Result<Option<[u8; 16]>, OssError> {
    let Some(value) = header_str(headers, "content-md5") else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| errors::invalid_digest_format())?;
    <[u8; 16]>::try_from(decoded.as_slice())
        .map(Some)
        .map_err(|_| errors::invalid_digest_format())
}

/// A strict decimal u64: digits only (no sign, no spaces), no overflow.
pub(crate) fn parse_decimal_u64(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        assert_eq!(parse_decimal_u64("0"), Some(0));
        assert_eq!(parse_decimal_u64("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1 ",
            "0x10",
            "18446744073709551616",
            "1.0",
            "test",
        ] {
            assert_eq!(parse_decimal_u64(bad), None, "{bad}");
        }
    }
}
