//! [`StreamError`]: why a stream call failed or why the stream stopped. Every variant is
//! `Clone` (one stop reason reaches every waiting `flush` and the state) and carries a stable
//! [`code`](StreamError::code) for bindings.

use std::path::PathBuf;
use std::time::Duration;

/// Why a stream call failed, or why the stream stopped. Whatever the error, data acknowledged
/// by `write` stays in the spool until it is confirmed in OSS: no variant drops it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// An option broke a rule; nothing was opened or written.
    #[error("invalid stream option `{field}`: {rule}")]
    InvalidOption {
        /// The option's name (as in `StreamOptions`).
        field: &'static str,
        /// The rule it broke.
        rule: String,
    },

    /// Reading or writing the spool failed (disk full, permissions, a vanished directory).
    /// The stream stops; what was acknowledged before is on disk.
    #[error("spool I/O failed ({op} {}): {message}", path.display())]
    SpoolIo {
        /// What was being done: `open`, `write`, `fsync`, `read`, `remove`, `lock`.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },

    /// A spool record other than the last one of the newest segment fails its checks: the
    /// spool was damaged after it was written. Nothing is uploaded; the spool is left as it is.
    #[error("spool is corrupt: {} at byte {file_offset}: {reason}", segment.display())]
    SpoolCorrupt {
        /// The segment file.
        segment: PathBuf,
        /// Where the bad record starts in it.
        file_offset: u64,
        /// Which check failed.
        reason: String,
    },

    /// Another stream (this process or another) has the spool directory open.
    #[error("spool directory {} is in use by another stream", dir.display())]
    SpoolLocked {
        /// The spool directory.
        dir: PathBuf,
    },

    /// The spool belongs to another object than the options name.
    #[error("spool belongs to {field} `{spool}`, the options name `{given}`")]
    SpoolMismatch {
        /// `bucket` or `key`.
        field: &'static str,
        /// What the spool records.
        spool: String,
        /// What the options say.
        given: String,
    },

    /// `FullPolicy::Reject`: the write does not fit into `max_spool_bytes` next to the data
    /// not yet uploaded. Nothing of it was written.
    #[error(
        "spool full: {pending} bytes not yet uploaded, {len} more would pass max_spool_bytes \
         ({max_spool_bytes})"
    )]
    SpoolFull {
        /// The limit.
        max_spool_bytes: u64,
        /// Bytes in the spool not yet confirmed in OSS.
        pending: u64,
        /// The refused write's length.
        len: u64,
    },

    /// The object is not what this spool left it: shorter than the spool's base, longer than
    /// everything spooled, or with a CRC-64 that no prefix of the spooled data explains —
    /// another writer changed it, or it is not appendable. The stream stops and keeps the spool
    /// untouched for the app to decide (e.g. open a stream on another key).
    #[error(
        "conflict on {bucket}/{key}: the spool expects the object to be between {base} and \
         {spooled_end} bytes long with a CRC-64 matching the spooled data, OSS reports \
         {server_length} bytes{}: {detail}",
        server_crc64.map(|c| format!(" (CRC-64 {c})")).unwrap_or_default()
    )]
    Conflict {
        /// Bucket.
        bucket: String,
        /// Object key.
        key: String,
        /// The object's length where this spool's data starts.
        base: u64,
        /// `base` + every spooled byte.
        spooled_end: u64,
        /// The length OSS reports.
        server_length: u64,
        /// The CRC-64 OSS reports, if any.
        server_crc64: Option<u64>,
        /// What exactly does not match.
        detail: String,
    },

    /// OSS refused an append in a way no retry mends (e.g. `AccessDenied`, `NoSuchBucket`).
    /// The stream stops; the spool is kept.
    #[error("upload failed for good: {message}")]
    Upload {
        /// The OSS error code, if OSS answered.
        code: Option<String>,
        /// The HTTP status, if OSS answered.
        status: Option<u16>,
        /// The whole message.
        message: String,
    },

    /// `Reconnect::give_up_after` passed without a successful upload. The stream stops; the
    /// spool is kept and a new stream on it continues.
    #[error("gave up uploading after {elapsed:?} of failures: {last}")]
    GaveUp {
        /// How long uploads kept failing.
        elapsed: Duration,
        /// The last failure.
        last: String,
    },

    /// A transient failure (network, 5xx, a session that gave up or lost track): the stream
    /// waits and tries again. Only ever seen in [`crate::stream::StreamState::last_error`].
    #[error("upload failed, retrying: {message}")]
    Retrying {
        /// What failed.
        message: String,
    },

    /// The stream was closed (or dropped); nothing was done.
    #[error("the stream is closed")]
    Closed,

    /// The stream stopped earlier for the reason given; nothing was done.
    #[error("the stream stopped: {0}")]
    Stopped(Box<StreamError>),
}

impl StreamError {
    /// A stable code for bindings: `StreamInvalidOption`, `StreamSpoolIo`, `StreamSpoolCorrupt`,
    /// `StreamSpoolLocked`, `StreamSpoolMismatch`, `StreamSpoolFull`, `StreamConflict`,
    /// `StreamUpload`, `StreamGaveUp`, `StreamRetrying`, `StreamClosed`; `Stopped` answers its reason's code.
    pub fn code(&self) -> &'static str {
        match self {
            StreamError::InvalidOption { .. } => "StreamInvalidOption",
            StreamError::SpoolIo { .. } => "StreamSpoolIo",
            StreamError::SpoolCorrupt { .. } => "StreamSpoolCorrupt",
            StreamError::SpoolLocked { .. } => "StreamSpoolLocked",
            StreamError::SpoolMismatch { .. } => "StreamSpoolMismatch",
            StreamError::SpoolFull { .. } => "StreamSpoolFull",
            StreamError::Conflict { .. } => "StreamConflict",
            StreamError::Upload { .. } => "StreamUpload",
            StreamError::GaveUp { .. } => "StreamGaveUp",
            StreamError::Retrying { .. } => "StreamRetrying",
            StreamError::Closed => "StreamClosed",
            StreamError::Stopped(reason) => reason.code(),
        }
    }

    /// The error behind a [`StreamError::Stopped`], or this one.
    pub fn root(&self) -> &StreamError {
        match self {
            StreamError::Stopped(reason) => reason.root(),
            other => other,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, e: &std::io::Error) -> Self {
        StreamError::SpoolIo {
            op,
            path: path.into(),
            message: e.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, rule: impl Into<String>) -> Self {
        StreamError::InvalidOption {
            field,
            rule: rule.into(),
        }
    }
}
