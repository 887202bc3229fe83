//! [`SessionError`]: why a session call failed, and what each failure leaves behind.

use std::time::Duration;

use crate::protocol::error::{Error, ServiceError};

/// Why a session call failed. Unless it says otherwise, nothing of the failed append was
/// applied and the session can go on.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A request failed for good, or an argument was refused (nothing sent). Includes OSS's
    /// answers: `ObjectNotAppendable` (also when opening a non-appendable object),
    /// `PositionNotEqualToLength` from another writer and `CrcMismatch` (both stop the session).
    #[error("{0}")]
    Request(#[from] Error),

    /// After an ambiguous failure, the object is neither as it was nor as the append would have
    /// made it: another writer changed it. The session stops.
    #[error(
        "append conflict at position {position}: appending {length} bytes should leave the \
         object at {expected_length} bytes (or at {position} if it was not applied), but OSS \
         reports {server_length} bytes{}; another writer changed the object",
        detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    Conflict {
        /// Where the append started.
        position: u64,
        /// The body's length.
        length: u64,
        /// `position + length`.
        expected_length: u64,
        /// The length HEAD reports.
        server_length: u64,
        /// The CRC-64 the object has if the append was applied.
        expected_crc64: Option<u64>,
        /// The CRC-64 HEAD reports.
        server_crc64: Option<u64>,
        /// More about what HEAD showed (object type, sealed).
        detail: Option<String>,
    },

    /// Transient failures until the retry budget ran out. Nothing of this append was applied
    /// (every try was certainly refused or cut short); the session can go on.
    #[error("gave up after {attempts} tries in {elapsed:?} (nothing was appended): {last}")]
    GaveUp {
        /// Requests sent (appends and HEADs).
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last failure.
        last: Error,
    },

    /// The outcome of the append is unknown: a try may have been applied, and it could not be
    /// found out in time. The session stops; open a new one to learn the object's length.
    #[error(
        "the outcome of appending {length} bytes at position {position} is unknown ({last}); \
         open a new session to read the object's length"
    )]
    Unresolved {
        /// Where the append started.
        position: u64,
        /// The body's length.
        length: u64,
        /// The last failure.
        last: Error,
    },

    /// The session stopped earlier; nothing was sent.
    #[error("the append session stopped earlier: {reason}")]
    Poisoned {
        /// What stopped it.
        reason: String,
    },

    /// The session sealed the object; nothing was sent.
    #[error(
        "the object was sealed at position {position} ({sealed_time}); it takes no more appends"
    )]
    Sealed {
        /// The object's final length.
        position: u64,
        /// `x-oss-sealed-time`.
        sealed_time: String,
    },
}

impl SessionError {
    /// The underlying request error, if this is one.
    pub fn as_error(&self) -> Option<&Error> {
        match self {
            SessionError::Request(e) => Some(e),
            SessionError::GaveUp { last, .. } | SessionError::Unresolved { last, .. } => Some(last),
            _ => None,
        }
    }

    /// The OSS error behind this, if OSS answered with one.
    pub fn as_service(&self) -> Option<&ServiceError> {
        self.as_error().and_then(Error::as_service)
    }
}
