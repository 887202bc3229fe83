//! Object headers: the ones a request stores when it creates an object, and the ones answers
//! report from a stored object (ETag, dates, storage class, encryption).

use crate::clock;
use crate::errors::{self, OssError};
use crate::http::headers::{header_str, joined_header};
use crate::store::ObjectMeta;
use hyper::header::{HeaderMap, HeaderValue};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Largest total size of the `x-oss-meta-*` headers (names and values).
const MAX_USER_METADATA: usize = 8 * 1024;

const OBJECT_ACLS: &[&str] = &["default", "private", "public-read", "public-read-write"];
const STORAGE_CLASSES: &[&str] = &[
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];
const SSE_ALGORITHMS: &[&str] = &["AES256", "KMS", "SM4"];

/// Headers stored with an object when it is created (PutObject, first AppendObject).
#[derive(Debug)]
pub(super) struct CreationHeaders {
    content_type: String,
    metadata: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
}

impl CreationHeaders {
    pub(super) fn parse(headers: &HeaderMap) -> Result<CreationHeaders, OssError> {
        let mut stored = BTreeMap::new();
        for name in [
            "cache-control",
            "content-disposition",
            "content-encoding",
            "content-language",
            "expires",
            "x-oss-tagging",
        ] {
            if let Some(v) = joined_header(headers, name) {
                stored.insert(name.to_string(), v);
            }
        }
        if let Some(acl) = joined_header(headers, "x-oss-object-acl") {
            if !OBJECT_ACLS.contains(&acl.as_str()) {
                return Err(errors::invalid_object_acl(&acl));
            }
            stored.insert("x-oss-object-acl".to_string(), acl);
        }
        if let Some(class) = joined_header(headers, "x-oss-storage-class") {
            if !STORAGE_CLASSES.contains(&class.as_str()) {
                return Err(errors::invalid_storage_class(&class));
            }
            stored.insert("x-oss-storage-class".to_string(), class);
        }
        let sse = joined_header(headers, "x-oss-server-side-encryption");
        if let Some(alg) = &sse {
            if !SSE_ALGORITHMS.contains(&alg.as_str()) {
                return Err(errors::invalid_encryption(
                    "x-oss-server-side-encryption",
                    alg,
                ));
            }
            stored.insert("x-oss-server-side-encryption".to_string(), alg.clone());
        }
        if let Some(data_alg) = joined_header(headers, "x-oss-server-side-data-encryption") {
            // Only SM4 exists, and only as the data algorithm of KMS encryption.
            if data_alg != "SM4" || sse.as_deref() != Some("KMS") {
                return Err(errors::invalid_encryption(
                    "x-oss-server-side-data-encryption",
                    &data_alg,
                ));
            }
            stored.insert("x-oss-server-side-data-encryption".to_string(), data_alg);
        }
        if let Some(key_id) = joined_header(headers, "x-oss-server-side-encryption-key-id") {
            if sse.as_deref() != Some("KMS") {
                return Err(errors::invalid_encryption(
                    "x-oss-server-side-encryption-key-id",
                    &key_id,
                ));
            }
            stored.insert("x-oss-server-side-encryption-key-id".to_string(), key_id);
        } else if sse.as_deref() == Some("KMS") {
            // OSS uses the account's default KMS key and reports its id on every response.
            stored.insert(
                "x-oss-server-side-encryption-key-id".to_string(),
                fake_kms_key_id(),
            );
        }

        let mut metadata = BTreeMap::new();
        let mut total = 0usize;
        for name in headers.keys() {
            let Some(suffix) = name.as_str().strip_prefix("x-oss-meta-") else {
                continue;
            };
            if suffix.is_empty()
                || !suffix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(errors::invalid_metadata_name(name.as_str()));
            }
            if metadata.contains_key(suffix) {
                continue; // joined below
            }
            let joined = joined_header(headers, name.as_str()).unwrap_or_default();
            total += name.as_str().len() + joined.len();
            metadata.insert(suffix.to_string(), joined);
        }
        if total > MAX_USER_METADATA {
            return Err(errors::metadata_too_large());
        }
        let content_type = header_str(headers, "content-type")
            .map(str::to_string)
            .unwrap_or_else(|| "application/octet-stream".to_string());
        Ok(CreationHeaders {
            content_type,
            metadata,
            headers: stored,
        })
    }

    pub(super) fn into_meta(
        self,
        key: &str,
        appendable: bool,
        length: u64,
        crc64: u64,
        etag: String,
        now: SystemTime,
    ) -> ObjectMeta {
        ObjectMeta {
            key: key.to_string(),
            appendable,
            length,
            crc64,
            etag,
            content_type: self.content_type,
            last_modified: clock::unix_seconds(now),
            metadata: self.metadata,
            headers: self.headers,
            sealed_time: None,
        }
    }
}

pub(super) fn add_sse_headers(
    mut builder: hyper::http::response::Builder,
    meta: &ObjectMeta,
) -> hyper::http::response::Builder {
    for name in [
        "x-oss-server-side-encryption",
        "x-oss-server-side-data-encryption",
        "x-oss-server-side-encryption-key-id",
    ] {
        if let Some(v) = meta
            .headers
            .get(name)
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            builder = builder.header(name, v);
        }
    }
    builder
}

pub(super) fn quoted_etag(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// The ETag of an appendable object: not an MD5 (OSS uses an opaque id for non-PutObject
/// objects), 32 upper-case hex characters, new on every append.
pub(super) fn random_etag() -> String {
    hex::encode_upper(rand::random::<[u8; 16]>())
}

fn fake_kms_key_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The stored object's storage class (Standard unless it was created with another).
pub(super) fn storage_class(meta: &ObjectMeta) -> &str {
    meta.headers
        .get("x-oss-storage-class")
        .map(String::as_str)
        .unwrap_or("Standard")
}

/// Unix seconds as an HTTP date (`Last-Modified`, `x-oss-sealed-time`).
pub(super) fn unix_http_date(seconds: i64) -> String {
    clock::http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_headers_validation() {
        let mut h = HeaderMap::new();
        h.insert("x-oss-object-acl", "public-read".parse().unwrap());
        h.insert("x-oss-storage-class", "IA".parse().unwrap());
        h.insert("x-oss-meta-Author", "alice".parse().unwrap());
        h.insert("cache-control", "no-cache".parse().unwrap());
        let c = CreationHeaders::parse(&h).unwrap();
        assert_eq!(c.content_type, "application/octet-stream");
        assert_eq!(c.metadata["author"], "alice");
        assert_eq!(c.headers["x-oss-storage-class"], "IA");
        assert_eq!(c.headers["cache-control"], "no-cache");

        let bad = |name: &'static str, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            CreationHeaders::parse(&h).unwrap_err()
        };
        assert_eq!(bad("x-oss-object-acl", "public").ec, "0017-00000104");
        assert_eq!(bad("x-oss-storage-class", "Cold").ec, "0017-00000132");
        assert_eq!(
            bad("x-oss-storage-class", "standard").code,
            "InvalidArgument"
        );
        assert_eq!(
            bad("x-oss-server-side-encryption", "AES128").code,
            "InvalidEncryptionAlgorithmError"
        );
        assert_eq!(bad("x-oss-meta-a_b", "x").ec, "0011-00000004");
        assert_eq!(bad("x-oss-meta-big", &"x".repeat(8200)).ec, "0011-00000002");

        let mut h = HeaderMap::new();
        h.insert("x-oss-server-side-encryption", "KMS".parse().unwrap());
        h.insert("x-oss-server-side-data-encryption", "SM4".parse().unwrap());
        let c = CreationHeaders::parse(&h).unwrap();
        assert_eq!(c.headers["x-oss-server-side-encryption-key-id"].len(), 36);
    }
}
