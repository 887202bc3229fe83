//! The one error type of the crate. Each variant maps 1:1 to what the JS binding throws, so a
//! caller can tell "OSS said no" from "we never asked" from "the network broke".

use std::collections::BTreeMap;
use std::fmt;

/// Everything that can go wrong in an OSS call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// OSS answered with an error status (4xx/5xx).
    #[error("{0}")]
    Service(Box<ServiceError>),

    /// An argument broke a rule; nothing was sent.
    #[error("invalid argument `{field}`: {rule}")]
    InvalidArgument {
        /// The option's name as the JS API spells it (`bucket`, `position`, `meta`, …).
        field: &'static str,
        /// The rule it broke, phrased so the caller can fix the call.
        rule: String,
    },

    /// The request did not complete: no (complete) answer from OSS.
    #[error("{kind} error: {message}")]
    Transport {
        /// What kind of failure it was.
        kind: TransportErrorKind,
        /// What happened, with the cause.
        message: String,
        /// Whether some of the request may have reached the server. When true, an append may
        /// or may not have been applied: find out with HEAD before appending again.
        request_sent: bool,
    },

    /// The data OSS stored does not have the CRC-64 the client computed for it.
    #[error(
        "CRC-64 mismatch: the client computed {client} but OSS reports {server} (request id {request_id})"
    )]
    CrcMismatch {
        /// The whole-object CRC-64 the client expected.
        client: u64,
        /// The whole-object CRC-64 from `x-oss-hash-crc64ecma`.
        server: u64,
        /// The `x-oss-request-id` of the append.
        request_id: String,
    },

    /// OSS answered success but the answer lacks something the protocol promises.
    #[error("invalid response from OSS: {message} (request id {request_id})")]
    InvalidResponse {
        /// What was missing or malformed.
        message: String,
        /// The `x-oss-request-id`, if any.
        request_id: String,
    },

    /// No usable credentials to sign with: the credentials provider failed or returned bad
    /// data, or the credentials expired with no provider to refresh them. Nothing was sent.
    /// The message never holds a secret or a token.
    #[error("credentials error: {message}")]
    Credentials {
        /// What went wrong (the provider's own message, or the rule its answer broke).
        message: String,
    },
}

/// Kinds of [`Error::Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Could not connect (DNS, refused, unreachable).
    Connect,
    /// The TLS handshake failed: the server's certificate was not trusted or the handshake
    /// broke. Nothing was sent; trying again will not help until the cause is fixed.
    Tls(TlsFailure),
    /// No progress within the configured timeout.
    Timeout,
    /// Reading the request body (a file) failed.
    Body,
    /// Any other I/O failure on the connection (reset, closed early).
    Io,
    /// The caller cancelled the call (a [`crate::CancellationToken`]). Sending stopped at once;
    /// `request_sent` says whether every byte of the body had already been handed over (only
    /// then may OSS have applied an append).
    Cancelled,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Tls(failure) => return write!(f, "TLS ({failure})"),
            Self::Timeout => "timeout",
            Self::Body => "body",
            Self::Io => "I/O",
            Self::Cancelled => "cancelled",
        })
    }
}

/// Why a TLS handshake failed, as far as the client can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsFailure {
    /// The certificate chain does not lead to a trusted root (a private CA not in `caCerts`, an
    /// intercepting proxy, a captive portal).
    UnknownIssuer,
    /// The certificate is valid, but not for the host name the client asked for.
    NameMismatch,
    /// The certificate has expired (or the device's clock is far off).
    Expired,
    /// The certificate is not valid yet (or the device's clock is far off).
    NotYetValid,
    /// The certificate was rejected for another reason (revoked, bad signature, wrong usage).
    BadCertificate,
    /// The handshake itself failed: no common protocol version or cipher suite, an alert from
    /// the server, or something that is not TLS on the other end.
    Protocol,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownIssuer => "unknown issuer",
            Self::NameMismatch => "name mismatch",
            Self::Expired => "certificate expired",
            Self::NotYetValid => "certificate not valid yet",
            Self::BadCertificate => "bad certificate",
            Self::Protocol => "protocol",
        })
    }
}

/// An error answer from OSS, with everything it said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceError {
    /// HTTP status (409, 403, …).
    pub status: u16,
    /// OSS error code (`PositionNotEqualToLength`).
    pub code: String,
    /// Human-readable message from OSS.
    pub message: String,
    /// `RequestId` / `x-oss-request-id`.
    pub request_id: String,
    /// Fine-grained error code `EC` / `x-oss-ec` (`0026-00000016`).
    pub ec: String,
    /// `HostId`: the host the request went to.
    pub host_id: String,
    /// `RecommendDoc`: a troubleshooting link.
    pub recommend_doc: String,
    /// Every response header, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// Elements of the error body beyond the common ones (`StringToSign`, `BucketName`, …).
    pub details: BTreeMap<String, String>,
}

impl ServiceError {
    /// `x-oss-next-append-position` of a 409 PositionNotEqualToLength: the object's length now
    /// (`None` when absent, garbled, or beyond the 5 GiB an appendable object can hold).
    pub fn next_append_position(&self) -> Option<u64> {
        self.headers
            .get(crate::protocol::headers::NEXT_APPEND_POSITION)
            .and_then(|v| crate::protocol::headers::parse_decimal(v).ok())
            .filter(|&n| n <= crate::protocol::limits::MAX_APPENDABLE_SIZE)
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OSS error {} {}: {}",
            self.status, self.code, self.message
        )?;
        if !self.ec.is_empty() {
            write!(f, " (ec {})", self.ec)?;
        }
        if !self.request_id.is_empty() {
            write!(f, " (request id {})", self.request_id)?;
        }
        Ok(())
    }
}

impl Error {
    pub(crate) fn invalid(field: &'static str, rule: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field,
            rule: rule.into(),
        }
    }

    /// The error of a call cancelled through its [`crate::CancellationToken`].
    pub(crate) fn cancelled(request_sent: bool, detail: impl std::fmt::Display) -> Self {
        Error::Transport {
            kind: TransportErrorKind::Cancelled,
            message: format!("the call was cancelled {detail}"),
            request_sent,
        }
    }

    /// Whether the caller cancelled the call.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                kind: TransportErrorKind::Cancelled,
                ..
            }
        )
    }

    /// The error of missing, failing or unusable credentials (see [`Error::Credentials`]).
    pub(crate) fn credentials(message: impl Into<String>) -> Self {
        Error::Credentials {
            message: message.into(),
        }
    }

    /// The service error, if OSS answered with one.
    pub fn as_service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
