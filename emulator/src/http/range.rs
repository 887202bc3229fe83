//! The `Range` header of GetObject, in OSS's default and `standard` behaviours.

use super::headers::parse_decimal_u64;

/// What a `Range` header asks for, against an object of known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeSpec {
    /// Answer 200 with the whole object: no usable range.
    Full,
    /// Answer 206 with bytes `start..=end` (inside the object).
    Partial { start: u64, end: u64 },
    /// Answer 416 InvalidRange (standard behaviour only).
    Unsatisfiable,
}

/// Interprets `bytes=a-b`, `bytes=a-`, `bytes=-n`.
///
/// OSS's default behaviour (GetObject doc): a range that is malformed or does not fit inside
/// the object — including an end or suffix past the end — is ignored: 200 with everything.
/// With `x-oss-range-behavior: standard` (`standard = true`) it follows RFC 7233: an end or
/// suffix past the end is clipped, a start at or past the end is 416.
pub(crate) fn parse_range(value: &str, length: u64, standard: bool) -> RangeSpec {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeSpec::Full;
    };
    if spec.contains(',') {
        return RangeSpec::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeSpec::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let out_of_range = if standard {
        RangeSpec::Unsatisfiable
    } else {
        RangeSpec::Full
    };
    let (start, end) = match (first.is_empty(), last.is_empty()) {
        (true, true) => return RangeSpec::Full,
        (true, false) => {
            let Some(n) = parse_decimal_u64(last) else {
                return RangeSpec::Full;
            };
            if n == 0 || length == 0 {
                return out_of_range;
            }
            if n > length && !standard {
                return RangeSpec::Full;
            }
            (length.saturating_sub(n), length - 1)
        }
        (false, _) => {
            let Some(start) = parse_decimal_u64(first) else {
                return RangeSpec::Full;
            };
            let end = if last.is_empty() {
                length.saturating_sub(1)
            } else {
                match parse_decimal_u64(last) {
                    Some(e) if e >= start => e,
                    _ => return RangeSpec::Full,
                }
            };
            if start >= length {
                return out_of_range;
            }
            if end >= length && !standard {
                return RangeSpec::Full;
            }
            (start, end.min(length - 1))
        }
    };
    RangeSpec::Partial { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeSpec::*;
        for standard in [false, true] {
            assert_eq!(
                parse_range("bytes=0-4", 10, standard),
                Partial { start: 0, end: 4 }
            );
            assert_eq!(
                parse_range("bytes=5-", 10, standard),
                Partial { start: 5, end: 9 }
            );
            assert_eq!(
                parse_range("bytes=-3", 10, standard),
                Partial { start: 7, end: 9 }
            );
            assert_eq!(
                parse_range("bytes=-10", 10, standard),
                Partial { start: 0, end: 9 }
            );
            assert_eq!(
                parse_range("bytes=9-9", 10, standard),
                Partial { start: 9, end: 9 }
            );
            assert_eq!(parse_range("bytes=5-2", 10, standard), Full);
            assert_eq!(parse_range("bytes=0-1,3-4", 10, standard), Full);
            assert_eq!(parse_range("bytes=a-b", 10, standard), Full);
            assert_eq!(parse_range("items=0-1", 10, standard), Full);
            assert_eq!(parse_range("bytes=-", 10, standard), Full);
            assert_eq!(parse_range("bytes=+1-2", 10, standard), Full);
        }
        // Default behaviour: anything past the end means "ignore the range".
        assert_eq!(parse_range("bytes=2-100", 10, false), Full);
        assert_eq!(parse_range("bytes=-30", 10, false), Full);
        assert_eq!(parse_range("bytes=10-20", 10, false), Full);
        assert_eq!(parse_range("bytes=10-", 10, false), Full);
        assert_eq!(parse_range("bytes=0-0", 0, false), Full);
        // Standard behaviour: clip the end, 416 for a start past the end.
        assert_eq!(
            parse_range("bytes=2-100", 10, true),
            Partial { start: 2, end: 9 }
        );
        assert_eq!(
            parse_range("bytes=-30", 10, true),
            Partial { start: 0, end: 9 }
        );
        assert_eq!(parse_range("bytes=10-20", 10, true), Unsatisfiable);
        assert_eq!(parse_range("bytes=10-", 10, true), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10, true), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0, true), Unsatisfiable);
    }
}
