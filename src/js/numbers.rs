//! JS numbers and decimal strings as the core's integers: positions, CRC values, timeouts and
//! counts arrive from ArkTS as IEEE-754 doubles or as text (the `x-oss-next-append-position`
//! header passed on as is), and each must be exact before it means a byte offset.

use crate::protocol::error::{Error, Result};
use crate::protocol::headers::{self, DecimalError};
use crate::protocol::validate::position_and_length;

/// The largest integer a JS number (an IEEE-754 double) holds exactly: 2^53 - 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A JS number that must be a non-negative integer, exactly representable (at most 2^53 - 1).
/// NaN, infinities, negative and fractional values are refused, naming `field`.
pub fn non_negative_integer(field: &'static str, value: f64) -> Result<u64> {
    if value.is_nan() {
        return Err(Error::invalid(field, "must be a number, got NaN"));
    }
    if value.is_infinite() {
        return Err(Error::invalid(
            field,
            format!("must be finite, got {value}"),
        ));
    }
    if value < 0.0 {
        return Err(Error::invalid(
            field,
            format!("must not be negative, got {value}"),
        ));
    }
    if value.fract() != 0.0 {
        return Err(Error::invalid(
            field,
            format!("must be an integer, got {value}"),
        ));
    }
    if value > MAX_SAFE_INTEGER as f64 {
        return Err(Error::invalid(
            field,
            format!(
                "must be at most 2^53 - 1 ({MAX_SAFE_INTEGER}) to be exact as a number, got {value}; \
                 pass larger values as a decimal string"
            ),
        ));
    }
    Ok(value as u64)
}

/// A decimal string of an unsigned 64-bit integer: ASCII digits only (no sign, spaces, `0x` or
/// exponent), as OSS prints `x-oss-next-append-position` and `x-oss-hash-crc64ecma`.
pub fn decimal_u64(field: &'static str, text: &str) -> Result<u64> {
    match headers::parse_decimal(text) {
        Ok(n) => Ok(n),
        Err(DecimalError::Empty) => Err(Error::invalid(
            field,
            "must be a decimal integer, got an empty string",
        )),
        Err(DecimalError::NotDigits) => Err(Error::invalid(
            field,
            format!("must be a decimal integer of digits 0-9 only, got {text:?}"),
        )),
        Err(DecimalError::TooLarge) => Err(Error::invalid(
            field,
            format!("must be at most {} (2^64 - 1), got {text}", u64::MAX),
        )),
    }
}

/// `position` given as a JS number: an integer 0 ..= 5 GiB.
pub fn position_from_number(value: f64) -> Result<u64> {
    let position = non_negative_integer("position", value)?;
    position_and_length(position, 0)?;
    Ok(position)
}

/// `position` given as a decimal string (e.g. the `x-oss-next-append-position` header as is).
pub fn position_from_decimal(text: &str) -> Result<u64> {
    let position = decimal_u64("position", text)?;
    position_and_length(position, 0)?;
    Ok(position)
}

/// The position of `sealAppendObject`, which has no default: sealing at a position other than
/// the object's length is refused by OSS, so the caller must say which length it means.
pub fn required_position(position: Option<u64>) -> Result<u64> {
    position.ok_or_else(|| {
        Error::invalid(
            "position",
            "is required: the object's length (its x-oss-next-append-position)",
        )
    })
}

/// A timeout in milliseconds given as a JS number: a positive integer.
pub fn timeout_ms(field: &'static str, value: f64) -> Result<std::time::Duration> {
    let ms = non_negative_integer(field, value)?;
    if ms == 0 {
        return Err(Error::invalid(
            field,
            "must be greater than 0 (milliseconds)",
        ));
    }
    Ok(std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::limits::MAX_APPENDABLE_SIZE;

    fn field_of(r: Result<()>) -> &'static str {
        crate::js::test_support::refusal(r).0
    }

    #[test]
    fn js_numbers_as_integers() {
        assert_eq!(non_negative_integer("n", 0.0).unwrap(), 0);
        assert_eq!(non_negative_integer("n", 42.0).unwrap(), 42);
        assert_eq!(
            non_negative_integer("n", MAX_SAFE_INTEGER as f64).unwrap(),
            MAX_SAFE_INTEGER
        );
        for bad in [f64::NAN, -1.0, 0.5, f64::INFINITY, 2f64.powi(53), 1e300] {
            assert_eq!(
                field_of(non_negative_integer("n", bad).map(|_| ())),
                "n",
                "{bad}"
            );
        }
        // -0 is an integer zero, as in JS.
        assert_eq!(non_negative_integer("n", -0.0).unwrap(), 0);
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(decimal_u64("d", "0").unwrap(), 0);
        assert_eq!(decimal_u64("d", "007").unwrap(), 7);
        assert_eq!(decimal_u64("d", "18446744073709551615").unwrap(), u64::MAX);
        for bad in [
            "",
            " 1",
            "1 ",
            "+1",
            "-1",
            "0x10",
            "1e3",
            "1.0",
            "18446744073709551616",
        ] {
            assert_eq!(field_of(decimal_u64("d", bad).map(|_| ())), "d", "{bad:?}");
        }
    }

    #[test]
    fn positions_from_js() {
        assert_eq!(position_from_number(11.0).unwrap(), 11);
        assert_eq!(
            position_from_number(MAX_APPENDABLE_SIZE as f64).unwrap(),
            MAX_APPENDABLE_SIZE
        );
        for bad in [
            f64::NAN,
            -1.0,
            1.5,
            (MAX_APPENDABLE_SIZE + 1) as f64,
            9_007_199_254_740_993.0,
            2f64.powi(60),
        ] {
            assert_eq!(
                field_of(position_from_number(bad).map(|_| ())),
                "position",
                "{bad}"
            );
        }
        assert_eq!(
            position_from_decimal("5368709120").unwrap(),
            MAX_APPENDABLE_SIZE
        );
        for bad in ["5368709121", "-0", "abc", "", "1.0", "0x10"] {
            assert_eq!(
                field_of(position_from_decimal(bad).map(|_| ())),
                "position",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn sealing_needs_a_position() {
        assert_eq!(required_position(Some(0)).unwrap(), 0);
        assert_eq!(field_of(required_position(None).map(|_| ())), "position");
    }

    #[test]
    fn timeouts_and_signature_versions() {
        assert_eq!(
            timeout_ms("timeout", 1500.0).unwrap(),
            std::time::Duration::from_millis(1500)
        );
        for bad in [0.0, -5.0, 0.5, f64::NAN] {
            assert_eq!(
                field_of(timeout_ms("timeout", bad).map(|_| ())),
                "timeout",
                "{bad}"
            );
        }
        use crate::protocol::config::SignatureVersion;
        assert_eq!(
            "v1".parse::<SignatureVersion>().unwrap(),
            SignatureVersion::V1
        );
        assert_eq!(
            "V4".parse::<SignatureVersion>().unwrap(),
            SignatureVersion::V4
        );
        assert_eq!(
            field_of("v2".parse::<SignatureVersion>().map(|_| ())),
            "signatureVersion"
        );
    }
}
