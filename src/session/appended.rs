//! What a session reports: each confirmed append ([`Appended`]) and its running counters
//! ([`SessionStats`]).

use crate::protocol::response::AppendObjectOutput;

/// A confirmed append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Where the body starts in the object.
    pub position: u64,
    /// The body's length.
    pub length: u64,
    /// The object's length now (`position + length`): where the next append goes.
    pub next_append_position: u64,
    /// CRC-64 of the whole object now, checked against the client's.
    pub hash_crc64ecma: u64,
    /// Append requests sent for it (1 unless something failed).
    pub attempts: u32,
    /// Confirmed by a HEAD after an ambiguous failure rather than by its own answer.
    pub recovered: bool,
    /// `x-oss-request-id` of the answer that confirmed it (the append's or the HEAD's).
    pub request_id: String,
    /// The append's own answer, when it was received.
    pub output: Option<AppendObjectOutput>,
}

impl Appended {
    /// The HTTP status and headers that stand for this append: its own answer's, or, when the
    /// answer was lost and a HEAD confirmed it, 200 with the confirmed
    /// `x-oss-next-append-position`, `x-oss-hash-crc64ecma` and `x-oss-request-id` — so callers
    /// reading the Harmony-style `origRes.headers` find the same keys either way.
    pub fn status_and_headers(&self) -> (u16, std::collections::BTreeMap<String, String>) {
        use crate::protocol::headers::{HASH_CRC64ECMA, NEXT_APPEND_POSITION, REQUEST_ID};
        match &self.output {
            Some(out) => (out.status, out.headers.clone()),
            None => (
                200,
                [
                    (NEXT_APPEND_POSITION, self.next_append_position.to_string()),
                    (HASH_CRC64ECMA, self.hash_crc64ecma.to_string()),
                    (REQUEST_ID, self.request_id.clone()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovered_append_stands_for_itself_with_confirmed_headers() {
        let a = Appended {
            position: 5,
            length: 3,
            next_append_position: 8,
            hash_crc64ecma: 14741617095266562575,
            attempts: 2,
            recovered: true,
            request_id: "HEADREQUESTID".into(),
            output: None,
        };
        let (status, headers) = a.status_and_headers();
        assert_eq!(status, 200);
        assert_eq!(headers["x-oss-next-append-position"], "8");
        assert_eq!(headers["x-oss-hash-crc64ecma"], "14741617095266562575");
        assert_eq!(headers["x-oss-request-id"], "HEADREQUESTID");
        assert_eq!(headers.len(), 3);
    }
}

/// What a session has done, for monitoring and for the fault-matrix report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Appends confirmed.
    pub appends: u64,
    /// Bytes confirmed.
    pub bytes: u64,
    /// Append requests sent.
    pub requests: u64,
    /// HEAD requests sent (opening and recovery).
    pub heads: u64,
    /// Backoff waits taken.
    pub retries: u64,
    /// Failures known not to be applied, tried again.
    pub transient_failures: u64,
    /// Failures that might have been applied (checked with HEAD).
    pub ambiguous_failures: u64,
    /// Ambiguous failures HEAD showed applied: confirmed without resending.
    pub recovered: u64,
    /// Ambiguous failures HEAD showed not applied: sent again.
    pub resent: u64,
}
