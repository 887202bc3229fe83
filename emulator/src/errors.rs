//! OSS errors: HTTP status, `<Code>`, `<Message>`, the fine-grained `EC` (`x-oss-ec`), extra XML
//! elements, extra response headers, and the XML rendering.
//!
//! Where the EC values come from: the ones named in `oss-protocol.md` §2.2 and §9 and on the
//! official per-EC troubleshooting pages (0002-*, 0015-00000101, 0016-0000050x, 0017-000001xx,
//! 0017-0000050x, 0011-0000000x, 0026-00000001/16/17) are real. A few errors have no documented
//! EC; for those the emulator uses a value of its own, marked "emulator-chosen" below, so that
//! every error still carries `x-oss-ec` like real OSS does. Clients must not build logic on ECs
//! (OSS itself says they may change).

use hyper::StatusCode;

/// One OSS error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OssError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub ec: &'static str,
    /// Extra XML elements, rendered in order between `HostId` and `EC`.
    pub extra: Vec<(&'static str, String)>,
    /// Extra response headers (e.g. `x-oss-next-append-position` on PositionNotEqualToLength).
    pub headers: Vec<(&'static str, String)>,
}

impl OssError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        ec: &'static str,
    ) -> Self {
        OssError {
            status,
            code,
            message: message.into(),
            ec,
            extra: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds an XML element after `HostId`.
    pub(crate) fn with_element(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    /// Adds a response header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The XML body. `host_id` is the Host the client used.
    pub(crate) fn to_xml(&self, request_id: &str, host_id: &str) -> String {
        let mut out = String::with_capacity(512);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
        push_element(&mut out, "Code", self.code);
        push_element(&mut out, "Message", &self.message);
        push_element(&mut out, "RequestId", request_id);
        push_element(&mut out, "HostId", host_id);
        for (name, value) in &self.extra {
            push_element(&mut out, name, value);
        }
        push_element(&mut out, "EC", self.ec);
        push_element(
            &mut out,
            "RecommendDoc",
            &format!("https://api.aliyun.com/troubleshoot?q={}", self.ec),
        );
        out.push_str("</Error>\n");
        out
    }
}

fn push_element(out: &mut String, name: &str, value: &str) {
    out.push_str("  <");
    out.push_str(name);
    out.push('>');
    out.push_str(&xml_escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Escapes text for an XML element. Characters XML 1.0 cannot carry at all (most C0 controls,
/// even as character references) become U+FFFD, because no XML parser would accept them.
pub(crate) fn xml_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            // A carriage return would be normalised away by parsers; keep it as a reference.
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Space-separated upper-case hex bytes, each followed by a space, as real OSS renders
/// `StringToSignBytes` (its sample ends with a trailing space).
pub(crate) fn hex_bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 3);
    for b in data {
        out.push_str(&format!("{b:02X} "));
    }
    out
}

// ---- Constructors, one per OSS error the emulator answers. ----

/// Anonymous request (no Authorization) on a private bucket.
pub(crate) fn access_denied_anonymous() -> OssError {
    OssError::new(
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "You have no right to access this object because of bucket acl.",
        "0003-00000001",
    )
}

/// Presigned URLs (query-string auth) are not supported by the emulator yet.
pub(crate) fn access_denied_presigned() -> OssError {
    // emulator-chosen EC: the emulator refuses every presigned URL.
    OssError::new(
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "Query-string (presigned URL) authentication is not supported by this emulator.",
        "0002-00000030",
    )
}

pub(crate) fn invalid_authorization(detail: &str) -> OssError {
    // emulator-chosen EC (the 400 doc names InvalidArgument for a malformed Authorization).
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        format!("Authorization header is invalid: {detail}"),
        "0002-00000012",
    )
    .with_element("ArgumentName", "Authorization")
}

pub(crate) fn invalid_access_key_id(access_key_id: &str) -> OssError {
    OssError::new(
        StatusCode::FORBIDDEN,
        "InvalidAccessKeyId",
        "The OSS Access Key Id you provided does not exist in our records.",
        "0002-00000902",
    )
    .with_element("OSSAccessKeyId", access_key_id)
}

/// An STS access key id used without its security token. OSS answers this with EC
/// 0002-00000003; the Code is not printed on that page. `InvalidAccessKeyId` is chosen because
/// without the token OSS cannot resolve the temporary key id at all.
pub(crate) fn security_token_missing(access_key_id: &str) -> OssError {
    OssError::new(
        StatusCode::FORBIDDEN,
        "InvalidAccessKeyId",
        "The OSS Access Key Id you provided does not exist in our records.",
        "0002-00000003",
    )
    .with_element("OSSAccessKeyId", access_key_id)
}

pub(crate) fn invalid_security_token() -> OssError {
    OssError::new(
        StatusCode::FORBIDDEN,
        "InvalidSecurityToken",
        "The security token you provided is invalid.",
        "0002-00000006",
    )
}

pub(crate) fn security_token_expired() -> OssError {
    OssError::new(
        StatusCode::FORBIDDEN,
        "SecurityTokenExpired",
        "The security token you provided has expired.",
        "0002-00000007",
    )
}

/// What a SignatureDoesNotMatch error reports back so the client can compare.
pub(crate) struct SignatureMismatch<'a> {
    pub v4: bool,
    pub access_key_id: &'a str,
    pub signature_provided: &'a str,
    pub string_to_sign: &'a str,
    /// V4 only.
    pub canonical_request: Option<&'a str>,
}

pub(crate) fn signature_does_not_match(m: SignatureMismatch<'_>) -> OssError {
    let ec = if m.v4 {
        "0002-00000201"
    } else {
        "0002-00000040"
    };
    let mut err = OssError::new(
        StatusCode::FORBIDDEN,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ec,
    )
    .with_element("OSSAccessKeyId", m.access_key_id)
    .with_element("SignatureProvided", m.signature_provided)
    .with_element("StringToSign", m.string_to_sign)
    .with_element("StringToSignBytes", hex_bytes(m.string_to_sign.as_bytes()));
    if let Some(cr) = m.canonical_request {
        err = err
            .with_element("CanonicalRequest", cr)
            .with_element("CanonicalRequestBytes", hex_bytes(cr.as_bytes()));
    }
    err
}

pub(crate) fn date_missing(v4: bool) -> OssError {
    let msg = if v4 {
        "Missing x-oss-date header."
    } else {
        "Missing Date header."
    };
    OssError::new(StatusCode::FORBIDDEN, "AccessDenied", msg, "0002-00000503")
}

pub(crate) fn date_malformed(v4: bool) -> OssError {
    let msg = if v4 {
        "Invalid x-oss-date header, it must be in the form YYYYMMDDTHHMMSSZ."
    } else {
        "Invalid Date header, it must be an RFC 1123 GMT date."
    };
    OssError::new(StatusCode::FORBIDDEN, "AccessDenied", msg, "0002-00000502")
}

pub(crate) fn request_time_too_skewed(request_time: &str, server_time: &str) -> OssError {
    OssError::new(
        StatusCode::FORBIDDEN,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        "0002-00000504",
    )
    .with_element("RequestTime", request_time)
    .with_element("ServerTime", server_time)
}

/// V4 Authorization / header format problems. OSS documents the ECs but not the Code/status for
/// header-signed requests; the emulator answers 400 InvalidArgument with ArgumentName/Value,
/// the same shape OSS uses for the PostObject V4 credential errors (0002-00000715).
pub(crate) fn v4_invalid(ec: &'static str, message: &str, argument: &str, value: &str) -> OssError {
    OssError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message, ec)
        .with_element("ArgumentName", argument)
        .with_element("ArgumentValue", value)
}

pub(crate) fn no_such_bucket(bucket: &str) -> OssError {
    OssError::new(
        StatusCode::NOT_FOUND,
        "NoSuchBucket",
        "The specified bucket does not exist.",
        "0015-00000101",
    )
    .with_element("BucketName", bucket)
}

pub(crate) fn no_such_key(key: &str) -> OssError {
    OssError::new(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
        "0026-00000001",
    )
    .with_element("Key", key)
}

pub(crate) fn position_missing() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "MissingArgument",
        "Missing Some Required Arguments.",
        "0016-00000501",
    )
    .with_element("ArgumentName", "position")
}

pub(crate) fn position_invalid(value: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "The value of position is not a valid positive integer.",
        "0016-00000502",
    )
    .with_element("ArgumentName", "position")
    .with_element("ArgumentValue", value)
}

pub(crate) fn append_version_id() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "AppendObject does not support the versionId parameter.",
        "0016-00000504",
    )
    .with_element("ArgumentName", "versionId")
}

pub(crate) fn object_not_appendable() -> OssError {
    OssError::new(
        StatusCode::CONFLICT,
        "ObjectNotAppendable",
        "The object is not appendable.",
        "0026-00000017",
    )
}

/// AppendObject on a sealed object. The code is from the official SDK v2 tests; the HTTP
/// status (400) follows the Python SDK v2 integration test, the SealAppendObject page lists no
/// status for this case. Emulator-chosen EC.
pub(crate) fn append_to_sealed_object() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "AppendSealedObjectNotAllowed",
        "The object has been sealed and cannot be appended.",
        "0026-00000018",
    )
}

/// SealAppendObject on an object that is not appendable (SealAppendObject error table: 409).
/// Emulator-chosen EC.
pub(crate) fn seal_not_appendable() -> OssError {
    OssError::new(
        StatusCode::CONFLICT,
        "AppendSealedObjectNotAllowed",
        "The object is not appendable and cannot be sealed.",
        "0026-00000019",
    )
}

/// The answer of an injected `status` fault. Emulator-chosen EC `0000-00000<status>`.
pub(crate) fn injected_fault(status: u16) -> OssError {
    let (code, message, ec) = match status {
        502 => (
            "BadGateway",
            "Bad gateway (injected fault).",
            "0000-00000502",
        ),
        503 => (
            "ServiceUnavailable",
            "The service is unavailable, please try again (injected fault).",
            "0000-00000503",
        ),
        504 => (
            "GatewayTimeout",
            "Gateway timeout (injected fault).",
            "0000-00000504",
        ),
        _ => (
            "InternalError",
            "We encountered an internal error. Please try again. (injected fault)",
            "0000-00000500",
        ),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    OssError::new(status, code, message, ec)
}

pub(crate) fn position_not_equal_to_length(current_length: u64) -> OssError {
    OssError::new(
        StatusCode::CONFLICT,
        "PositionNotEqualToLength",
        "Position is not equal to file length.",
        "0026-00000016",
    )
    .with_header("x-oss-next-append-position", current_length.to_string())
}

pub(crate) fn invalid_digest_format() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidDigest",
        "The Content-MD5 you specified is not valid.",
        "0017-00000502",
    )
}

pub(crate) fn invalid_digest(calculated_base64: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidDigest",
        "The Content-MD5 you specified was invalid.",
        "0017-00000503",
    )
    .with_element("CalculatedDigest", calculated_base64)
}

pub(crate) fn missing_content_length() -> OssError {
    OssError::new(
        StatusCode::LENGTH_REQUIRED,
        "MissingContentLength",
        "You must provide the Content-Length HTTP header.",
        "0017-00000101",
    )
}

pub(crate) fn invalid_content_length(value: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "The Content-Length you specified is not a valid integer.",
        "0017-00000103",
    )
    .with_element("ArgumentName", "Content-Length")
    .with_element("ArgumentValue", value)
}

/// The request body ended before Content-Length bytes arrived.
pub(crate) fn incomplete_body() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "IncompleteBody",
        "The request body is shorter than the Content-Length you specified.",
        "0017-00000505",
    )
}

/// An append that would make the object larger than 5 GiB. The Code is the best evidence in
/// the 400 doc ("Append upload … cannot be larger than 5 GB"); emulator-chosen EC.
pub(crate) fn inline_data_too_large() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InlineDataTooLarge",
        "Inline data exceeds the maximum allowed size.",
        "0026-00000010",
    )
}

/// A PutObject body over 5 GiB. Emulator-chosen EC.
pub(crate) fn entity_too_large() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size.",
        "0017-00000106",
    )
}

pub(crate) fn invalid_object_acl(value: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "no such object access control exists",
        "0017-00000104",
    )
    .with_element("ArgumentName", "x-oss-object-acl")
    .with_element("ArgumentValue", value)
}

pub(crate) fn invalid_storage_class(value: &str) -> OssError {
    let ec = if value.is_empty() {
        "0017-00000131"
    } else {
        "0017-00000132"
    };
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "Invalid storage class.",
        ec,
    )
    .with_element("ArgumentName", "x-oss-storage-class")
    .with_element("ArgumentValue", value)
}

/// Unsupported `x-oss-server-side-encryption` (or data-encryption) value. Emulator-chosen EC.
pub(crate) fn invalid_encryption(header: &str, value: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidEncryptionAlgorithmError",
        "The encryption request you specified is not valid. Supported value: AES256/KMS/SM4",
        "0017-00000301",
    )
    .with_element("ArgumentName", header)
    .with_element("ArgumentValue", value)
}

pub(crate) fn metadata_too_large() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "Your metadata headers exceed the maximum allowed metadata size.",
        "0011-00000002",
    )
}

pub(crate) fn invalid_metadata_name(name: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidArgument",
        "The user metadata name is invalid.",
        "0011-00000004",
    )
    .with_element("ArgumentName", name)
}

/// Key not valid UTF-8 after percent-decoding, empty, or too long. Emulator-chosen EC.
pub(crate) fn invalid_object_name(message: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidObjectName",
        message,
        "0016-00000001",
    )
}

/// Emulator-chosen EC.
pub(crate) fn invalid_uri() -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidURI",
        "Could not parse the specified URI.",
        "0016-00000002",
    )
}

/// Emulator-chosen EC.
pub(crate) fn invalid_range(length: u64) -> OssError {
    OssError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "InvalidRange",
        "The requested range cannot be satisfied.",
        "0016-00000003",
    )
    .with_header("content-range", format!("bytes */{length}"))
}

/// `x-oss-forbid-overwrite: true` on an existing object. Emulator-chosen EC.
pub(crate) fn file_already_exists() -> OssError {
    OssError::new(
        StatusCode::CONFLICT,
        "FileAlreadyExists",
        "The object you specified already exists and can not be overwritten.",
        "0026-00000015",
    )
}

/// An operation the emulator does not implement. Emulator-chosen EC.
pub(crate) fn not_implemented(what: &str) -> OssError {
    OssError::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        format!("A header or parameter you provided implies functionality that is not implemented: {what}"),
        "0000-00000001",
    )
}

/// Storage failure inside the emulator. Emulator-chosen EC.
pub(crate) fn internal_error(detail: &str) -> OssError {
    OssError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        format!("We encountered an internal error. Please try again. ({detail})"),
        "0000-00000500",
    )
}

/// A storage failure (disk full, I/O error): the client gets a 500, the cause goes to stderr
/// only.
pub(crate) fn storage_error(e: std::io::Error) -> OssError {
    eprintln!("oss-emulator: storage error: {e}");
    internal_error("storage failure")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_documented_layout() {
        let err = position_missing();
        let xml = err.to_xml("5C3D8D2A0ACA54D87B430000", "127.0.0.1:9000");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>MissingArgument</Code>\n  \
             <Message>Missing Some Required Arguments.</Message>\n  <RequestId>5C3D8D2A0ACA54D87B430000</RequestId>\n  \
             <HostId>127.0.0.1:9000</HostId>\n  <ArgumentName>position</ArgumentName>\n  <EC>0016-00000501</EC>\n  \
             <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0016-00000501</RecommendDoc>\n</Error>\n"
        );
    }

    #[test]
    fn escapes_markup_in_every_element() {
        let err = OssError::new(StatusCode::BAD_REQUEST, "X", "a<b>&\"c'", "0000-00000000")
            .with_element("Key", "</Key><x>");
        let xml = err.to_xml("id", "h&<>");
        assert!(xml.contains("<Message>a&lt;b&gt;&amp;&quot;c&apos;</Message>"));
        assert!(xml.contains("<Key>&lt;/Key&gt;&lt;x&gt;</Key>"));
        assert!(xml.contains("<HostId>h&amp;&lt;&gt;</HostId>"));
    }

    #[test]
    fn keeps_newlines_and_replaces_control_characters() {
        assert_eq!(xml_escape("PUT\n\nx\r\u{1}"), "PUT\n\nx&#13;\u{FFFD}");
    }

    #[test]
    fn string_to_sign_bytes_format() {
        assert_eq!(hex_bytes(b"PUT\n/"), "50 55 54 0A 2F ");
        assert_eq!(hex_bytes(b""), "");
    }

    #[test]
    fn position_mismatch_carries_next_position_header() {
        let err = position_not_equal_to_length(42);
        assert_eq!(err.status, StatusCode::CONFLICT);
        assert_eq!(
            err.headers,
            vec![("x-oss-next-append-position", "42".to_string())]
        );
    }

    #[test]
    fn signature_mismatch_elements() {
        let err = signature_does_not_match(SignatureMismatch {
            v4: false,
            access_key_id: "ak",
            signature_provided: "sig",
            string_to_sign: "GET\n",
            canonical_request: None,
        });
        assert_eq!(err.ec, "0002-00000040");
        let names: Vec<_> = err.extra.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "OSSAccessKeyId",
                "SignatureProvided",
                "StringToSign",
                "StringToSignBytes"
            ]
        );
        assert_eq!(err.extra[3].1, "47 45 54 0A ");
    }
}
