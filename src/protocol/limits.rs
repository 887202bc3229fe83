//! OSS's limits, as numbers: what validation checks before sending, and what answers are
//! range-checked against.

/// The largest object an append can build: 5 GiB.
pub const MAX_APPENDABLE_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// User metadata limit: names and values together.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;
/// `x-oss-traffic-limit` range in bit/s.
pub const TRAFFIC_LIMIT_RANGE: std::ops::RangeInclusive<u64> = 245_760..=838_860_800;
/// Longest key OSS accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1023;
/// The largest size taken from an answer: what a JS number holds exactly (2^53 - 1), far above
/// the largest object OSS stores (48.8 TB). A larger value is a garbled answer, not a size.
pub const MAX_EXACT_SIZE: u64 = (1 << 53) - 1;
