//! What OSS answers: the typed result of an append, and service errors parsed from the XML body
//! (or, when there is no usable body, from the `x-oss-*` headers).

use std::collections::BTreeMap;

use base64::Engine;

use crate::protocol::error::{Error, ServiceError};
use crate::protocol::limits::{MAX_APPENDABLE_SIZE, MAX_EXACT_SIZE};

use crate::protocol::headers::{
    parse_decimal, EC, ERR, HASH_CRC64ECMA, NEXT_APPEND_POSITION, OBJECT_TYPE, REQUEST_ID,
    SEALED_TIME, VERSION_ID,
};

/// An HTTP answer, before interpretation.
#[derive(Debug, Clone, Default)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, lower-case names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// The body: a GET's object data, else at most [`MAX_ANSWER_BYTES`] (error XML or nothing).
    pub body: bytes::Bytes,
}

/// The most the client reads of any answer's body but a successful GET's: error XML and the
/// (empty) bodies of append, HEAD, seal and put answers are far smaller. Past it the client stops
/// reading and drops the connection, so a broken or hostile server cannot make it buffer an
/// unbounded body.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A numeric header: absent, or a decimal ([`parse_decimal`]); anything else is a message
/// naming the header and what it held.
pub(crate) fn number_header(raw: &RawResponse, name: &str) -> Result<Option<u64>, String> {
    match raw.headers.get(name) {
        None => Ok(None),
        Some(v) => parse_decimal(v)
            .map(Some)
            .map_err(|_| format!("{name} is not a number: {v:?}")),
    }
}

/// `value` of header `name` if it is at most `max`: an appendable object never passes 5 GiB,
/// and a position beyond that would reach JS rounded (2^64 - 1 prints as 18446744073709552000).
fn within(name: &str, value: Option<u64>, max: u64) -> Result<Option<u64>, String> {
    match value {
        Some(n) if n > max => Err(format!("{name} {n} is beyond the largest possible ({max})")),
        other => Ok(other),
    }
}

/// The result of a successful append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendObjectOutput {
    /// HTTP status (200).
    pub status: u16,
    /// Every response header, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// Where the next append must start: the object's length now.
    pub next_append_position: u64,
    /// CRC-64 of the whole object after this append (`x-oss-hash-crc64ecma`).
    pub hash_crc64ecma: Option<u64>,
    /// `ETag`, with its quotes.
    pub etag: Option<String>,
    /// `x-oss-version-id` in versioned buckets.
    pub version_id: Option<String>,
}

impl AppendObjectOutput {
    /// Reads a 2xx append answer. The next position is required: without it no further append
    /// is possible, so its absence is an error, not a default.
    pub fn from_response(raw: &RawResponse) -> Result<Self, Error> {
        let request_id = raw.headers.get(REQUEST_ID).cloned().unwrap_or_default();
        let invalid = |message: String| Error::InvalidResponse {
            message,
            request_id: request_id.clone(),
        };
        let next_append_position = number_header(raw, NEXT_APPEND_POSITION)
            .and_then(|n| within(NEXT_APPEND_POSITION, n, MAX_APPENDABLE_SIZE))
            .map_err(invalid)?
            .ok_or_else(|| invalid(format!("{NEXT_APPEND_POSITION} is missing")))?;
        let hash_crc64ecma = number_header(raw, HASH_CRC64ECMA).map_err(invalid)?;
        Ok(Self {
            status: raw.status,
            headers: raw.headers.clone(),
            request_id: request_id.clone(),
            next_append_position,
            hash_crc64ecma,
            etag: raw.headers.get("etag").cloned(),
            version_id: raw.headers.get(VERSION_ID).cloned(),
        })
    }
}

/// What `HEAD` says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadObjectOutput {
    /// HTTP status (200).
    pub status: u16,
    /// Every response header, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// `x-oss-object-type` (`Appendable`, `Normal`, …), if sent.
    pub object_type: Option<String>,
    /// `Content-Length`: the object's size.
    pub content_length: u64,
    /// `x-oss-next-append-position` (appendable objects only).
    pub next_append_position: Option<u64>,
    /// `x-oss-hash-crc64ecma`: CRC-64 of the whole object.
    pub hash_crc64ecma: Option<u64>,
    /// `ETag`, with its quotes.
    pub etag: Option<String>,
    /// `Last-Modified`, as sent.
    pub last_modified: Option<String>,
    /// `x-oss-sealed-time`: set once the object has been sealed.
    pub sealed_time: Option<String>,
}

impl HeadObjectOutput {
    /// Reads a 2xx HEAD answer. The size is required (`Content-Length`); numbers that are
    /// present must parse, so a garbled answer is an error rather than a silent default.
    pub fn from_response(raw: &RawResponse) -> Result<Self, Error> {
        let request_id = raw.headers.get(REQUEST_ID).cloned().unwrap_or_default();
        let invalid = |message: String| Error::InvalidResponse {
            message,
            request_id: request_id.clone(),
        };
        let number = |name: &str| number_header(raw, name).map_err(invalid);
        let content_length = number("content-length")
            .and_then(|n| within("content-length", n, MAX_EXACT_SIZE).map_err(invalid))?
            .ok_or_else(|| invalid("content-length is missing".to_owned()))?;
        let next_append_position = number(NEXT_APPEND_POSITION)
            .and_then(|n| within(NEXT_APPEND_POSITION, n, MAX_APPENDABLE_SIZE).map_err(invalid))?;
        let hash_crc64ecma = number(HASH_CRC64ECMA)?;
        Ok(Self {
            status: raw.status,
            headers: raw.headers.clone(),
            request_id: request_id.clone(),
            object_type: raw.headers.get(OBJECT_TYPE).cloned(),
            content_length,
            next_append_position,
            hash_crc64ecma,
            etag: raw.headers.get("etag").cloned(),
            last_modified: raw.headers.get("last-modified").cloned(),
            sealed_time: raw.headers.get(SEALED_TIME).cloned(),
        })
    }

    /// Whether the object is appendable (`x-oss-object-type: Appendable`).
    pub fn is_appendable(&self) -> bool {
        self.object_type.as_deref() == Some("Appendable")
    }

    /// Whether the object has been sealed (`x-oss-sealed-time` present).
    pub fn is_sealed(&self) -> bool {
        self.sealed_time.is_some()
    }
}

/// The result of a successful SealAppendObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealAppendObjectOutput {
    /// HTTP status (200).
    pub status: u16,
    /// Every response header, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// `x-oss-sealed-time`: when the object was first sealed (unchanged by repeated seals).
    pub sealed_time: String,
    /// `ETag`, with its quotes.
    pub etag: Option<String>,
}

impl SealAppendObjectOutput {
    /// Reads a 2xx seal answer. `x-oss-sealed-time` is documented for every success, so its
    /// absence is an error.
    pub fn from_response(raw: &RawResponse) -> Result<Self, Error> {
        let request_id = raw.headers.get(REQUEST_ID).cloned().unwrap_or_default();
        let sealed_time =
            raw.headers
                .get(SEALED_TIME)
                .cloned()
                .ok_or_else(|| Error::InvalidResponse {
                    message: format!("{SEALED_TIME} is missing"),
                    request_id: request_id.clone(),
                })?;
        Ok(Self {
            status: raw.status,
            headers: raw.headers.clone(),
            request_id,
            sealed_time,
            etag: raw.headers.get("etag").cloned(),
        })
    }
}

/// Builds the service error for a non-2xx answer. Never fails: whatever OSS sent, the caller
/// gets the status, the headers and as many fields as could be read.
pub fn service_error(raw: &RawResponse) -> ServiceError {
    let mut err = ServiceError {
        status: raw.status,
        headers: raw.headers.clone(),
        ..Default::default()
    };
    let from_body = std::str::from_utf8(&raw.body)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned);
    // HEAD answers carry the error XML base64-encoded in a header instead of a body.
    let from_header = || {
        raw.headers
            .get(ERR)
            .and_then(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .ok()
            })
            .and_then(|b| String::from_utf8(b).ok())
    };
    if let Some(xml) = from_body.or_else(from_header) {
        fill_from_xml(&mut err, &xml);
    }
    if err.request_id.is_empty() {
        err.request_id = raw.headers.get(REQUEST_ID).cloned().unwrap_or_default();
    }
    if err.ec.is_empty() {
        err.ec = raw.headers.get(EC).cloned().unwrap_or_default();
    }
    if err.code.is_empty() {
        // No XML (a proxy's page, or a HEAD without x-oss-err): name the status instead.
        err.code = match raw.status {
            404 => "NoSuchKey".to_owned(),
            _ => format!("HttpStatus{}", raw.status),
        };
        if err.message.is_empty() {
            err.message = format!("OSS answered HTTP {} without an error body", raw.status);
        }
    }
    err
}

/// The most of one element's text an error keeps (`Message`, `StringToSign`, …): OSS's run to a
/// few hundred characters; a longer one is a broken or hostile server's and is cut.
pub const MAX_ERROR_TEXT_CHARS: usize = 2048;

/// `text`, cut at [`MAX_ERROR_TEXT_CHARS`] characters with a note of what was left out.
fn capped(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_TEXT_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => format!(
            "{}… ({} more bytes left out)",
            &text[..cut],
            text.len() - cut
        ),
    }
}

fn fill_from_xml(err: &mut ServiceError, xml: &str) {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return;
    };
    let root = doc.root_element();
    if root.tag_name().name() != "Error" {
        return;
    }
    for child in root.children().filter(|n| n.is_element()) {
        let text = capped(child.text().unwrap_or_default());
        match child.tag_name().name() {
            "Code" => err.code = text,
            "Message" => err.message = text,
            "RequestId" => err.request_id = text,
            "HostId" => err.host_id = text,
            "EC" => err.ec = text,
            "RecommendDoc" => err.recommend_doc = text,
            other => {
                err.details.insert(other.to_owned(), text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, headers: &[(&str, &str)], body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    #[test]
    fn parses_position_error_with_next_position() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>PositionNotEqualToLength</Code>
  <Message>Position is not equal to file length</Message>
  <RequestId>5C3D8D2A0ACA54D87B43AAAA</RequestId>
  <HostId>demo.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0026-00000016</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000016</RecommendDoc>
</Error>"#;
        let e = service_error(&raw(409, &[(NEXT_APPEND_POSITION, "1717")], body));
        assert_eq!(e.status, 409);
        assert_eq!(e.code, "PositionNotEqualToLength");
        assert_eq!(e.message, "Position is not equal to file length");
        assert_eq!(e.request_id, "5C3D8D2A0ACA54D87B43AAAA");
        assert_eq!(e.host_id, "demo.oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(e.ec, "0026-00000016");
        assert_eq!(
            e.recommend_doc,
            "https://api.aliyun.com/troubleshoot?q=0026-00000016"
        );
        assert_eq!(e.next_append_position(), Some(1717));
    }

    #[test]
    fn keeps_extra_elements() {
        let body = "<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message>\
                    <StringToSign>POST\n\n</StringToSign><OSSAccessKeyId>ak</OSSAccessKeyId></Error>";
        let e = service_error(&raw(403, &[], body));
        assert_eq!(e.details["StringToSign"], "POST\n\n");
        assert_eq!(e.details["OSSAccessKeyId"], "ak");
    }

    #[test]
    fn falls_back_to_headers_without_body() {
        let e = service_error(&raw(503, &[(REQUEST_ID, "RID"), (EC, "0000-00000000")], ""));
        assert_eq!(e.request_id, "RID");
        assert_eq!(e.ec, "0000-00000000");
        assert_eq!(e.code, "HttpStatus503");
        assert!(!e.message.is_empty());
    }

    #[test]
    fn non_xml_body_still_gives_status_and_ids() {
        let e = service_error(&raw(502, &[(REQUEST_ID, "R2")], "<html>Bad Gateway</html>"));
        assert_eq!(e.status, 502);
        assert_eq!(e.request_id, "R2");
        assert_eq!(e.code, "HttpStatus502");
    }

    #[test]
    fn decodes_x_oss_err_of_head_answers() {
        let xml = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><EC>0026-00000001</EC></Error>";
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml);
        let e = service_error(&raw(404, &[(ERR, &b64)], ""));
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.ec, "0026-00000001");
    }

    #[test]
    fn output_reads_u64_crc_above_i64() {
        let out = AppendObjectOutput::from_response(&raw(
            200,
            &[
                (NEXT_APPEND_POSITION, "1717"),
                (HASH_CRC64ECMA, "14741617095266562575"),
                (REQUEST_ID, "559CC9BDC755F95A6448AAAA"),
                ("etag", "\"0F7230CAA4BE94CCBDC99C5500000000\""),
            ],
            "",
        ))
        .unwrap();
        assert_eq!(out.next_append_position, 1717);
        assert_eq!(out.hash_crc64ecma, Some(14741617095266562575));
        assert_eq!(out.request_id, "559CC9BDC755F95A6448AAAA");
        assert_eq!(
            out.etag.as_deref(),
            Some("\"0F7230CAA4BE94CCBDC99C5500000000\"")
        );
    }

    #[test]
    fn head_output_reads_appendable_and_sealed_state() {
        let head = HeadObjectOutput::from_response(&raw(
            200,
            &[
                ("content-length", "344606"),
                (OBJECT_TYPE, "Appendable"),
                (NEXT_APPEND_POSITION, "344606"),
                (HASH_CRC64ECMA, "14741617095266562575"),
                (SEALED_TIME, "Wed, 07 May 2025 23:00:00 GMT"),
                (REQUEST_ID, "559CC9BDC755F95A6448AAAA"),
            ],
            "",
        ))
        .unwrap();
        assert!(head.is_appendable() && head.is_sealed());
        assert_eq!(head.content_length, 344606);
        assert_eq!(head.next_append_position, Some(344606));
        assert_eq!(head.hash_crc64ecma, Some(14741617095266562575));
        let normal = HeadObjectOutput::from_response(&raw(
            200,
            &[("content-length", "3"), (OBJECT_TYPE, "Normal")],
            "",
        ))
        .unwrap();
        assert!(!normal.is_appendable() && !normal.is_sealed());
        assert_eq!(normal.next_append_position, None);
    }

    #[test]
    fn head_output_refuses_garbled_numbers() {
        for headers in [
            &[(OBJECT_TYPE, "Appendable")][..],
            &[("content-length", "x")][..],
            &[("content-length", "1"), (HASH_CRC64ECMA, "-1")][..],
            &[("content-length", "1"), (NEXT_APPEND_POSITION, "1.5")][..],
        ] {
            let err = HeadObjectOutput::from_response(&raw(200, headers, "")).unwrap_err();
            assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
        }
    }

    #[test]
    fn numbers_beyond_what_an_object_can_be_are_refused() {
        let max = u64::MAX.to_string();
        let beyond_5_gib = (5u64 << 30) + 1;
        let err = AppendObjectOutput::from_response(&raw(
            200,
            &[(NEXT_APPEND_POSITION, max.as_str())],
            "",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("beyond"), "{err}");
        let beyond = beyond_5_gib.to_string();
        for headers in [
            &[
                ("content-length", "1"),
                (NEXT_APPEND_POSITION, beyond.as_str()),
            ][..],
            &[("content-length", "9007199254740992")][..],
        ] {
            let err = HeadObjectOutput::from_response(&raw(200, headers, "")).unwrap_err();
            assert!(err.to_string().contains("beyond"), "{err}");
        }
        // CRC-64 values use all 64 bits; 5 GiB itself is a valid position.
        let at_limit = (5u64 << 30).to_string();
        let out = AppendObjectOutput::from_response(&raw(
            200,
            &[
                (NEXT_APPEND_POSITION, at_limit.as_str()),
                (HASH_CRC64ECMA, max.as_str()),
            ],
            "",
        ))
        .unwrap();
        assert_eq!(out.hash_crc64ecma, Some(u64::MAX));
        // A 409's position hint is dropped rather than passed on out of range.
        let e = service_error(&raw(409, &[(NEXT_APPEND_POSITION, max.as_str())], ""));
        assert_eq!(e.next_append_position(), None);
    }

    #[test]
    fn seal_output_needs_the_sealed_time() {
        let out = SealAppendObjectOutput::from_response(&raw(
            200,
            &[
                (SEALED_TIME, "Wed, 07 May 2025 23:00:00 GMT"),
                (REQUEST_ID, "R"),
                ("etag", "\"E\""),
            ],
            "",
        ))
        .unwrap();
        assert_eq!(out.sealed_time, "Wed, 07 May 2025 23:00:00 GMT");
        assert_eq!(out.etag.as_deref(), Some("\"E\""));
        let err =
            SealAppendObjectOutput::from_response(&raw(200, &[(REQUEST_ID, "R")], "")).unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    }

    #[test]
    fn output_without_next_position_is_an_error() {
        let err =
            AppendObjectOutput::from_response(&raw(200, &[(REQUEST_ID, "R")], "")).unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
        let err = AppendObjectOutput::from_response(&raw(200, &[(NEXT_APPEND_POSITION, "-1")], ""))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    }
}
