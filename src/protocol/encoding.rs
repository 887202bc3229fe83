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

/// An object key as the URL's path. A key with a `.` or `..` segment (`./a.txt`, `p/../b`) would
/// lose it to URL normalisation on the way out — the request would go to another object than
/// the one signed — so such a key is sent with its `/` encoded too (`.%2Fa.txt`: one segment, as
/// the official V1 SDK `oss2` does); OSS decodes the path to the same key, and both signatures
/// cover the decoded key. The keys `.` and `..` themselves cannot be sent at all and are refused
/// by validation.
pub fn encode_key_path(key: &str) -> String {
    if key
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        encode_component(key)
    } else {
        encode_key(key)
    }
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
    fn keys_with_dot_segments_travel_as_one_segment() {
        assert_eq!(encode_key_path("p/./b.txt"), "p%2F.%2Fb.txt");
        assert_eq!(encode_key_path("./a.txt"), ".%2Fa.txt");
        assert_eq!(encode_key_path("p/a/../b.txt"), "p%2Fa%2F..%2Fb.txt");
        assert_eq!(encode_key_path("a/.."), "a%2F..");
        // Dots inside a segment are no dot segments.
        assert_eq!(encode_key_path("a/.hidden/..x/b."), "a/.hidden/..x/b.");
    }

    #[test]
    fn components_encode_slashes() {
        assert_eq!(encode_component("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_component("x-oss-process"), "x-oss-process");
    }
}
