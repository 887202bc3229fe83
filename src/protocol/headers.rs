//! Names of the OSS headers the client reads, and the one strict way their numbers are parsed.

/// `x-oss-next-append-position`.
pub const NEXT_APPEND_POSITION: &str = "x-oss-next-append-position";
/// `x-oss-hash-crc64ecma`.
pub const HASH_CRC64ECMA: &str = "x-oss-hash-crc64ecma";
/// `x-oss-request-id`.
pub const REQUEST_ID: &str = "x-oss-request-id";
/// `x-oss-ec`.
pub const EC: &str = "x-oss-ec";
/// `x-oss-err`: base64 error XML on responses without a body (HEAD).
pub const ERR: &str = "x-oss-err";
/// `x-oss-version-id`.
pub const VERSION_ID: &str = "x-oss-version-id";
/// `x-oss-object-type`: `Normal`, `Appendable`, `Multipart`, `Symlink`.
pub const OBJECT_TYPE: &str = "x-oss-object-type";
/// `x-oss-sealed-time`: when SealAppendObject first sealed the object (HEAD, GET, seal answer).
pub const SEALED_TIME: &str = "x-oss-sealed-time";

/// Why a decimal number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// No digits at all.
    Empty,
    /// Something other than `0-9`: a sign, a space, `0x`, an exponent, a point.
    NotDigits,
    /// More than 2^64 - 1.
    TooLarge,
}

/// An unsigned decimal as OSS prints its numbers (`x-oss-next-append-position`,
/// `x-oss-hash-crc64ecma`, `Content-Length`): ASCII digits only. Rust's own `u64` parsing also
/// takes a leading `+`, which no OSS header carries; the one rule for every number read from the
/// network and every decimal string from JS is this one.
pub fn parse_decimal(text: &str) -> Result<u64, DecimalError> {
    if text.is_empty() {
        return Err(DecimalError::Empty);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::NotDigits);
    }
    text.parse().map_err(|_| DecimalError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_digits_only() {
        assert_eq!(parse_decimal("0"), Ok(0));
        assert_eq!(parse_decimal("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_decimal(""), Err(DecimalError::Empty));
        for bad in ["+1", "-1", " 1", "1 ", "0x10", "1e3", "1.0"] {
            assert_eq!(parse_decimal(bad), Err(DecimalError::NotDigits), "{bad:?}");
        }
        assert_eq!(
            parse_decimal("18446744073709551616"),
            Err(DecimalError::TooLarge)
        );
    }
}
