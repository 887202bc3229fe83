//! What each fuzz target does with its input, shared with the regression test
//! (`tests/faults_fuzz_regressions.rs`), which replays `fuzz/seeds/*` and `fuzz/regressions/*`.
//! Besides "never panics", each checks invariants of its parser.

#![allow(dead_code)]

use std::collections::BTreeMap;

use oss_append::protocol::headers as names;
use oss_append::protocol::limits::MAX_APPENDABLE_SIZE;
use oss_append::protocol::response::{
    self, AppendObjectOutput, HeadObjectOutput, RawResponse, SealAppendObjectOutput,
};
use oss_emulator::auth::parse::{self, Authorization};

/// `oss_append::protocol::response::service_error`: input = 2 bytes of status, then the body, then
/// (after the first NUL) an `x-oss-err` header value and (after a second NUL) an `x-oss-ec`.
pub fn service_error(data: &[u8]) {
    let (status, rest) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (500, data),
    };
    let mut parts = rest.splitn(3, |b| *b == 0);
    let body = parts.next().unwrap_or_default();
    let mut headers = BTreeMap::new();
    if let Some(err) = parts.next() {
        headers.insert(
            names::ERR.to_owned(),
            String::from_utf8_lossy(err).into_owned(),
        );
    }
    if let Some(ec) = parts.next() {
        headers.insert(
            names::EC.to_owned(),
            String::from_utf8_lossy(ec).into_owned(),
        );
    }
    headers.insert(names::REQUEST_ID.to_owned(), "FUZZ".to_owned());
    let raw = RawResponse {
        status,
        headers: headers.clone(),
        body: bytes::Bytes::copy_from_slice(body),
    };
    let e = response::service_error(&raw);
    assert_eq!(e.status, status);
    assert!(!e.code.is_empty(), "a service error always has a code");
    assert!(!e.request_id.is_empty());
    assert_eq!(e.headers, headers);
    // Display and the next-position accessor never panic either.
    let _ = e.to_string();
    let _ = e.next_append_position();
}

/// The success-answer parsers (`AppendObjectOutput`, `HeadObjectOutput`,
/// `SealAppendObjectOutput::from_response`): input = `name: value` lines, as a transport
/// would collect them (names lower-cased, repeats joined with ", ").
pub fn response_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for line in text.split('\n') {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        headers
            .entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let raw = RawResponse {
        status: 200,
        headers: headers.clone(),
        body: bytes::Bytes::new(),
    };
    if let Ok(out) = AppendObjectOutput::from_response(&raw) {
        let next: u64 = headers[names::NEXT_APPEND_POSITION].parse().unwrap();
        assert_eq!(out.next_append_position, next);
        if let Some(crc) = out.hash_crc64ecma {
            assert_eq!(headers[names::HASH_CRC64ECMA].parse::<u64>().unwrap(), crc);
        } else {
            assert!(!headers.contains_key(names::HASH_CRC64ECMA));
        }
    } else {
        // Refused only for a missing, non-decimal or out-of-range (beyond 5 GiB) next position,
        // or a CRC that is not a decimal u64.
        let next_ok = headers
            .get(names::NEXT_APPEND_POSITION)
            .and_then(|v| names::parse_decimal(v).ok())
            .is_some_and(|n| n <= MAX_APPENDABLE_SIZE);
        let crc_ok = headers
            .get(names::HASH_CRC64ECMA)
            .is_none_or(|v| names::parse_decimal(v).is_ok());
        assert!(!(next_ok && crc_ok), "refused a valid answer: {headers:?}");
    }
    if let Ok(head) = HeadObjectOutput::from_response(&raw) {
        assert_eq!(
            head.content_length,
            headers["content-length"].trim().parse::<u64>().unwrap()
        );
        assert_eq!(head.is_sealed(), headers.contains_key(names::SEALED_TIME));
    }
    if let Ok(seal) = SealAppendObjectOutput::from_response(&raw) {
        assert_eq!(seal.sealed_time, headers[names::SEALED_TIME]);
    }
}

/// `oss_emulator::auth::parse::parse_authorization` on any text.
pub fn parse_authorization_input(text: &str) {
    match parse::parse_authorization(text) {
        Ok(Authorization::V1(v1)) => {
            assert!(text.starts_with("OSS "));
            assert!(!v1.access_key_id.is_empty() && !v1.signature.is_empty());
            assert!(!v1.signature.contains(':'));
            assert!(!v1.access_key_id.chars().any(char::is_whitespace));
        }
        Ok(Authorization::V4(v4)) => {
            assert!(text.starts_with("OSS4-HMAC-SHA256"));
            assert!(!v4.signature.is_empty());
            let _ = v4.access_key_id();
            if let Some(scope) = &v4.scope {
                let joined = format!(
                    "{}/{}/{}/{}/{}",
                    scope.access_key_id, scope.date, scope.region, scope.product, scope.terminator
                );
                assert_eq!(joined, v4.credential);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Fuzz entry for [`parse_authorization_input`] (header values are bytes; lossy text).
pub fn parse_authorization(data: &[u8]) {
    parse_authorization_input(&String::from_utf8_lossy(data));
}
