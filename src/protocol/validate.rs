//! The rules an append must satisfy before anything is sent. Each failure is an
//! [`Error::InvalidArgument`] naming the field (as the JS API spells it) and the rule.

use crate::protocol::error::{Error, Result};
use crate::protocol::limits::{
    MAX_APPENDABLE_SIZE, MAX_KEY_BYTES, MAX_METADATA_BYTES, TRAFFIC_LIMIT_RANGE,
};
use crate::protocol::options::{AppendOptions, ContentMd5, TEXT_OPTIONS};

/// Bucket names: 3–63 characters of lower-case letters, digits and '-', not starting or ending
/// with '-'.
pub fn bucket(name: &str) -> Result<()> {
    if !(3..=63).contains(&name.len()) {
        return Err(Error::invalid(
            "bucket",
            format!("must be 3 to 63 characters long, got {}", name.len()),
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::invalid(
            "bucket",
            "may contain only lower-case letters, digits and '-'",
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(Error::invalid("bucket", "must not start or end with '-'"));
    }
    Ok(())
}

/// Object keys: 1–1023 UTF-8 bytes, not starting with '/' or '\'.
pub fn key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("key", "must not be empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(
            "key",
            format!(
                "must be at most {MAX_KEY_BYTES} bytes in UTF-8, got {}",
                key.len()
            ),
        ));
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Err(Error::invalid("key", "must not start with '/' or '\\'"));
    }
    if key.contains('\0') {
        return Err(Error::invalid("key", "must not contain NUL characters"));
    }
    if key == "." || key == ".." {
        // A URL path cannot carry it: every encoding of it is a dot segment, removed on the way.
        return Err(Error::invalid("key", "must not be '.' or '..'"));
    }
    Ok(())
}

/// The position, and the object size after the append, stay within 5 GiB.
pub fn position_and_length(position: u64, body_len: u64) -> Result<()> {
    if position > MAX_APPENDABLE_SIZE {
        return Err(Error::invalid(
            "position",
            format!("must be at most {MAX_APPENDABLE_SIZE} (5 GiB), got {position}"),
        ));
    }
    if position + body_len > MAX_APPENDABLE_SIZE {
        return Err(Error::invalid(
            "data",
            format!(
                "appending {body_len} bytes at position {position} would make the object larger \
                 than 5 GiB ({MAX_APPENDABLE_SIZE} bytes)"
            ),
        ));
    }
    Ok(())
}

/// A previous CRC only makes sense for a non-empty object.
pub fn previous_crc(position: u64, previous_crc64: Option<u64>) -> Result<()> {
    if position == 0 && previous_crc64.is_some_and(|c| c != 0) {
        return Err(Error::invalid(
            "initCrc64",
            "must be 0 (or absent) when position is 0: an empty object has CRC-64 0",
        ));
    }
    Ok(())
}

/// HTTP header values: printable ASCII and spaces, so that they reach OSS unchanged. Other text
/// must be encoded by the caller (e.g. `encodeURIComponent`), as OSS documents for metadata.
pub fn header_value(field: &'static str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
        return Err(Error::invalid(
            field,
            format!(
                "must be printable ASCII; found {} (encode other text, e.g. with encodeURIComponent)",
                c.escape_default()
            ),
        ));
    }
    Ok(())
}

/// Every option of an append.
pub fn options(options: &AppendOptions) -> Result<()> {
    for option in &TEXT_OPTIONS {
        if let Some(value) = (option.value)(options) {
            header_value(option.name, value)?;
        }
    }
    if let Some(ContentMd5::Given(md5)) = &options.content_md5 {
        content_md5(md5)?;
    }
    metadata(&options.metadata)?;
    extra_headers(&options.extra_headers)?;
    if let Some(limit) = options.traffic_limit {
        if !TRAFFIC_LIMIT_RANGE.contains(&limit) {
            return Err(Error::invalid(
                "trafficLimit",
                format!(
                    "must be between {} and {} bit/s, got {limit}",
                    TRAFFIC_LIMIT_RANGE.start(),
                    TRAFFIC_LIMIT_RANGE.end()
                ),
            ));
        }
    }
    Ok(())
}

fn content_md5(value: &str) -> Result<()> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value);
    if !matches!(decoded, Ok(ref d) if d.len() == 16) {
        return Err(Error::invalid(
            "contentMd5",
            "must be the base64 encoding of a 16-byte MD5 digest",
        ));
    }
    Ok(())
}

/// Headers the client itself sends with every request (signing and framing).
const CLIENT_HEADERS: [&str; 3] = ["x-oss-date", "x-oss-content-sha256", "x-oss-security-token"];

/// Extra headers: `x-oss-*` names only (both signature versions sign exactly those), none the
/// client or an option sends, each once, printable values.
fn extra_headers(headers: &[(String, String)]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if !lower.starts_with("x-oss-") || !name.bytes().all(token) {
            return Err(Error::invalid(
                "headers",
                format!(
                    "{name:?}: only x-oss-* headers can be added (both signature versions sign \
                     them); Cache-Control, Content-Disposition, Content-Encoding, Expires, \
                     Content-Type and Content-MD5 have options of their own"
                ),
            ));
        }
        if CLIENT_HEADERS.contains(&lower.as_str()) {
            return Err(Error::invalid(
                "headers",
                format!("{name:?} is the client's own: it signs every request with it"),
            ));
        }
        if let Some(option) = crate::protocol::options::option_for_header(&lower) {
            return Err(Error::invalid(
                "headers",
                format!("{name:?} is what the option {option} sends: use that option"),
            ));
        }
        if !seen.insert(lower) {
            return Err(Error::invalid(
                "headers",
                format!("{name:?} is given twice (header names are case-insensitive)"),
            ));
        }
        header_value("headers", value)?;
    }
    Ok(())
}

fn metadata(meta: &std::collections::BTreeMap<String, String>) -> Result<()> {
    let mut total = 0;
    // Header names are case-insensitive: `A` and `a` would go out as two `x-oss-meta-a` lines,
    // which OSS stores joined ("1,2").
    let mut seen = std::collections::BTreeMap::new();
    for (name, value) in meta {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::invalid(
                "meta",
                format!("name {name:?} must be non-empty and contain only letters, digits and '-'"),
            ));
        }
        if let Some(other) = seen.insert(name.to_ascii_lowercase(), name) {
            return Err(Error::invalid(
                "meta",
                format!(
                    "names {other:?} and {name:?} differ only in case: both would be sent as \
                     x-oss-meta-{}",
                    name.to_ascii_lowercase()
                ),
            ));
        }
        header_value("meta", value)?;
        total += name.len() + value.len();
    }
    if total > MAX_METADATA_BYTES {
        return Err(Error::invalid(
            "meta",
            format!("names and values must total at most {MAX_METADATA_BYTES} bytes, got {total}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<()>) -> &'static str {
        match r {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn bucket_length() {
        assert_eq!(field_of(bucket("ab")), "bucket");
        assert_eq!(field_of(bucket(&"a".repeat(64))), "bucket");
        assert!(bucket("abc").is_ok());
        assert!(bucket(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn bucket_characters() {
        assert_eq!(field_of(bucket("My-Bucket")), "bucket");
        assert_eq!(field_of(bucket("my_bucket")), "bucket");
        assert_eq!(field_of(bucket("my.bucket")), "bucket");
        assert!(bucket("my-bucket-01").is_ok());
    }

    #[test]
    fn bucket_hyphen_ends() {
        assert_eq!(field_of(bucket("-abc")), "bucket");
        assert_eq!(field_of(bucket("abc-")), "bucket");
    }

    #[test]
    fn key_length_in_bytes() {
        assert_eq!(field_of(key("")), "key");
        assert!(key(&"k".repeat(1023)).is_ok());
        assert_eq!(field_of(key(&"k".repeat(1024))), "key");
        // 342 three-byte characters are 1026 bytes: over, though only 342 characters.
        assert_eq!(field_of(key(&"日".repeat(342))), "key");
    }

    #[test]
    fn key_leading_slash_or_backslash() {
        assert_eq!(field_of(key("/a")), "key");
        assert_eq!(field_of(key("\\a")), "key");
        assert!(key("a/b/c.log").is_ok());
        assert_eq!(field_of(key(".")), "key");
        assert_eq!(field_of(key("..")), "key");
        assert!(key("./a").is_ok());
    }

    #[test]
    fn position_limit() {
        assert!(position_and_length(MAX_APPENDABLE_SIZE, 0).is_ok());
        assert_eq!(
            field_of(position_and_length(MAX_APPENDABLE_SIZE + 1, 0)),
            "position"
        );
    }

    #[test]
    fn object_size_limit() {
        assert!(position_and_length(MAX_APPENDABLE_SIZE - 10, 10).is_ok());
        assert_eq!(
            field_of(position_and_length(MAX_APPENDABLE_SIZE - 10, 11)),
            "data"
        );
    }

    #[test]
    fn previous_crc_at_position_zero() {
        assert!(previous_crc(0, Some(0)).is_ok());
        assert!(previous_crc(0, None).is_ok());
        assert!(previous_crc(5, Some(42)).is_ok());
        assert_eq!(field_of(previous_crc(0, Some(42))), "initCrc64");
    }

    #[test]
    fn metadata_names() {
        let mut o = AppendOptions::default();
        o.metadata.insert("ok-Name-1".into(), "v".into());
        assert!(options(&o).is_ok());
        o.metadata.insert("bad name".into(), "v".into());
        assert_eq!(field_of(options(&o)), "meta");
        let mut o = AppendOptions::default();
        o.metadata.insert(String::new(), "v".into());
        assert_eq!(field_of(options(&o)), "meta");
    }

    #[test]
    fn extra_headers_are_x_oss_ones_no_option_or_the_client_sends() {
        let with = |name: &str, value: &str| AppendOptions {
            extra_headers: vec![(name.to_owned(), value.to_owned())],
            ..AppendOptions::default()
        };
        assert!(options(&with("x-oss-callback-var", "v")).is_ok());
        for (name, value, says) in [
            ("Cache-Control", "no-cache", "only x-oss-*"),
            ("X-Custom", "1", "only x-oss-*"),
            ("x-oss-bad name", "1", "only x-oss-*"),
            ("x-oss-security-token", "t", "client's own"),
            ("X-OSS-Date", "d", "client's own"),
            ("x-oss-object-acl", "private", "objectAcl"),
            ("x-oss-meta-a", "1", "meta"),
            ("x-oss-tagging", "a=b", "tagging"),
            ("x-oss-callback-var", "line\nbreak", "printable"),
        ] {
            match options(&with(name, value)) {
                Err(Error::InvalidArgument {
                    field: "headers",
                    rule,
                }) => {
                    assert!(rule.contains(says), "{name}: {rule}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let twice = AppendOptions {
            extra_headers: vec![
                ("x-oss-a".into(), "1".into()),
                ("X-OSS-A".into(), "2".into()),
            ],
            ..AppendOptions::default()
        };
        assert_eq!(field_of(options(&twice)), "headers");
    }

    #[test]
    fn metadata_names_differing_only_in_case_are_refused() {
        let mut o = AppendOptions::default();
        o.metadata.insert("Trace-Id".into(), "1".into());
        o.metadata.insert("trace-id".into(), "2".into());
        match options(&o) {
            Err(Error::InvalidArgument {
                field: "meta",
                rule,
            }) => {
                assert!(rule.contains("differ only in case"), "{rule}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn metadata_total_size() {
        let mut o = AppendOptions::default();
        o.metadata
            .insert("a".into(), "x".repeat(MAX_METADATA_BYTES - 1));
        assert!(options(&o).is_ok());
        o.metadata.insert("b".into(), "x".into());
        assert_eq!(field_of(options(&o)), "meta");
    }

    #[test]
    fn header_values_printable() {
        let o = AppendOptions {
            cache_control: Some("no-cache\r\nx-evil: 1".into()),
            ..Default::default()
        };
        assert_eq!(field_of(options(&o)), "cacheControl");
        let o = AppendOptions {
            content_disposition: Some("attachment; filename=\"日.txt\"".into()),
            ..Default::default()
        };
        assert_eq!(field_of(options(&o)), "contentDisposition");
        let mut o = AppendOptions::default();
        o.metadata.insert("a".into(), "tab\there".into());
        assert_eq!(field_of(options(&o)), "meta");
    }

    #[test]
    fn traffic_limit_range() {
        let mut o = AppendOptions {
            traffic_limit: Some(245_759),
            ..Default::default()
        };
        assert_eq!(field_of(options(&o)), "trafficLimit");
        o.traffic_limit = Some(838_860_801);
        assert_eq!(field_of(options(&o)), "trafficLimit");
        o.traffic_limit = Some(819_200);
        assert!(options(&o).is_ok());
    }

    #[test]
    fn content_md5_shape() {
        let mut o = AppendOptions {
            content_md5: Some(ContentMd5::Given("not base64!".into())),
            ..Default::default()
        };
        assert_eq!(field_of(options(&o)), "contentMd5");
        o.content_md5 = Some(ContentMd5::Given("XUFAKrxLKna5cZ2REBfFkg==".into()));
        assert!(options(&o).is_ok());
    }
}
