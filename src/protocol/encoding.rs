//! Percent-encoding, in the two forms OSS uses: a whole component (query names and values, V4's
//! canonical query) and a path (object keys, V4's canonical URI), which keeps `/`.
//!
//! The URL the client sends and the strings both signers canonicalise are built from these two
//! sets, so what is signed and what is sent cannot drift apart.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay as they are; everything else is
/// percent-encoded with upper-case hex.
pub(crate) const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`UNRESERVED`], but `/` is kept too (paths).
pub(crate) const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// Percent-encodes an object key for the URL path, keeping `/`.
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, PATH).to_string()
}

/// Percent-encodes a query parameter's name or value (`/` becomes `%2F`).
pub(crate) fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_slashes_and_unreserved_characters() {
        assert_eq!(encode_key("a/b c/ü~-._"), "a/b%20c/%C3%BC~-._");
    }

    #[test]
    fn components_encode_slashes() {
        assert_eq!(encode_component("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_component("x-oss-process"), "x-oss-process");
    }
}
