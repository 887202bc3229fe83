//! [`StreamState`], what a stream reports, and [`WriteReceipt`], what a write resolves to.

use crate::stream::error::StreamError;

/// Where a write landed in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteReceipt {
    /// Stream offset of its first byte (the spool's bytes counted from its creation).
    pub offset: u64,
    /// Its length.
    pub len: u64,
}

impl WriteReceipt {
    /// Stream offset after it: once [`StreamState::uploaded`] reaches this, it is in OSS.
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// A snapshot of a stream. Offsets count the spool's bytes from its creation (they carry on
/// across reopenings); `position` and `crc64` are the current object's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamState {
    /// Bucket.
    pub bucket: String,
    /// The current object's key (changes on rollover).
    pub key: String,
    /// 0 for the first object, +1 per rollover.
    pub object_number: u32,
    /// Stream offset after the last durable write: bytes ever written to this spool.
    pub written: u64,
    /// Stream offset up to which everything is confirmed in OSS (CRC-64 verified).
    pub uploaded: u64,
    /// `written − uploaded`: durable bytes waiting for upload.
    pub spooled: u64,
    /// The object's length as last verified (`None` until the object was first asked).
    pub position: Option<u64>,
    /// The object's CRC-64 at `position`.
    pub crc64: u64,
    /// Whether the last request to OSS succeeded (false while retrying through an outage).
    pub online: bool,
    /// The latest failure (kept after recovery, for display); `None` if none yet.
    pub last_error: Option<StreamError>,
    /// Why the stream stopped, if it did (a conflict, a spool failure, a permanent refusal).
    pub stopped: Option<StreamError>,
    /// Whether `close` finished.
    pub closed: bool,
    /// Appends confirmed by this stream since it was opened.
    pub appends: u64,
    /// Spool fsyncs since it was opened.
    pub fsyncs: u64,
}
