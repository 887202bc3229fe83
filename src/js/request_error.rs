//! How errors look to JS callers: the fields of the `RequestError` the facade throws (the
//! Harmony SDK's `code`, `message`, `requestId`, `status`, `ec`, … plus this client's own), and
//! the stable `Client…` codes of client-side failures. Plain Rust, so the mapping is tested here;
//! the N-API binding only turns [`RequestErrorFields`] into a JS `Error`.

use std::collections::BTreeMap;

use crate::protocol::error::{Error, TlsFailure, TransportErrorKind};
use crate::session::SessionError;
use crate::stream::StreamError;

/// `status` of every client-side error: there is no HTTP status to report.
pub const CLIENT_ERROR_STATUS: i32 = -1;

/// Declares the client-side codes once: each becomes a constant of [`codes`] and an entry of
/// [`codes::ALL`] with its JS name, so `errorCodes()` and the error mapping cannot drift apart.
macro_rules! client_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal as $js_name:literal,)+) => {
        /// Client-side error codes (stable; documented in `ohos-package/README.md`).
        pub mod codes {
            $($(#[$doc])* pub const $name: &str = $code;)+

            /// Every code with the name `errorCodes()` gives it in JS
            /// (`{ invalidArgument: 'ClientInvalidArgument', … }`).
            pub const ALL: &[(&str, &str)] = &[$(($js_name, $name)),+];
        }
    };
}

client_codes! {
    /// An argument broke a rule; nothing was sent.
    INVALID_ARGUMENT = "ClientInvalidArgument" as "invalidArgument",
    /// Could not connect (DNS, refused, TLS handshake); nothing was sent.
    CONNECT = "ClientConnectError" as "connect",
    /// TLS: the server's certificate does not lead to a trusted root (add the private CA to
    /// `caCerts`, or an intercepting proxy is in the way); nothing was sent.
    TLS_UNKNOWN_ISSUER = "ClientTlsUnknownIssuer" as "tlsUnknownIssuer",
    /// TLS: the certificate is not for the host name the client connected to; nothing was sent.
    TLS_NAME_MISMATCH = "ClientTlsNameMismatch" as "tlsNameMismatch",
    /// TLS: the certificate has expired (or the device's clock is far off); nothing was sent.
    TLS_CERTIFICATE_EXPIRED = "ClientTlsCertificateExpired" as "tlsCertificateExpired",
    /// TLS: the certificate is not valid yet (or the device's clock is far off); nothing was
    /// sent.
    TLS_CERTIFICATE_NOT_YET_VALID = "ClientTlsCertificateNotYetValid" as "tlsCertificateNotYetValid",
    /// TLS: the certificate was refused for another reason (revoked, bad signature, usage);
    /// nothing was sent.
    TLS_BAD_CERTIFICATE = "ClientTlsBadCertificate" as "tlsBadCertificate",
    /// TLS: the handshake failed (no common version or cipher, an alert, not TLS at all);
    /// nothing was sent.
    TLS_PROTOCOL = "ClientTlsProtocolError" as "tlsProtocol",
    /// No progress within the read/write timeout.
    TIMEOUT = "ClientTimeout" as "timeout",
    /// The connection failed mid-request (reset, closed early).
    NETWORK = "ClientNetworkError" as "network",
    /// Reading the data to send (a file) failed.
    BODY_READ = "ClientBodyReadError" as "bodyRead",
    /// OSS stored data whose CRC-64 differs from the one the client computed.
    CRC_MISMATCH = "ClientCrcMismatch" as "crcMismatch",
    /// OSS answered success without what the protocol promises (e.g. the next position).
    INVALID_RESPONSE = "ClientInvalidResponse" as "invalidResponse",
    /// The caller cancelled the call (`signal`); `requestSent` says whether OSS may have
    /// applied it.
    CANCELLED = "ClientCancelled" as "cancelled",
    /// Append session: after a lost answer or a cancel, the object was neither as before nor
    /// as the append would have made it (another writer); the session stopped.
    APPEND_CONFLICT = "ClientAppendConflict" as "appendConflict",
    /// Append session: it stopped earlier (conflict, another writer, CRC mismatch, unknown
    /// outcome); nothing was sent. Open a new one.
    SESSION_POISONED = "ClientSessionPoisoned" as "sessionPoisoned",
    /// Append session: it sealed the object; nothing was sent.
    SESSION_SEALED = "ClientSessionSealed" as "sessionSealed",
    /// Append session: a try may have been applied and it could not be found out; the session
    /// stopped (open a new one to read the object's length).
    OUTCOME_UNKNOWN = "ClientOutcomeUnknown" as "outcomeUnknown",
    /// Append session: transient failures until the retry budget ran out; nothing of the
    /// append was applied (`lastError` is the last failure).
    RETRIES_EXHAUSTED = "ClientRetriesExhausted" as "retriesExhausted",
    /// No usable credentials: the `credentialsProvider` threw or returned bad data, or the
    /// credentials expired with no provider to refresh them; nothing was sent.
    CREDENTIALS = "ClientCredentialsError" as "credentials",
    /// Append stream: reading or writing the spool failed (disk full, permissions); the stream
    /// stopped, what was acknowledged is on disk.
    STREAM_SPOOL_IO = "ClientStreamSpoolIo" as "streamSpoolIo",
    /// Append stream: a spool record other than the very last one fails its checks; nothing is
    /// uploaded, the spool is left as it is.
    STREAM_SPOOL_CORRUPT = "ClientStreamSpoolCorrupt" as "streamSpoolCorrupt",
    /// Append stream: another stream has the spool directory open.
    STREAM_SPOOL_LOCKED = "ClientStreamSpoolLocked" as "streamSpoolLocked",
    /// Append stream: the spool belongs to another bucket or key (`field` says which).
    STREAM_SPOOL_MISMATCH = "ClientStreamSpoolMismatch" as "streamSpoolMismatch",
    /// Append stream (`whenFull: 'reject'`): the write does not fit `maxSpoolBytes`; nothing of
    /// it was written.
    STREAM_SPOOL_FULL = "ClientStreamSpoolFull" as "streamSpoolFull",
    /// Append stream: the object is not what the spool left it (another writer); the stream
    /// stopped and kept the spool.
    STREAM_CONFLICT = "ClientStreamConflict" as "streamConflict",
    /// Append stream: OSS refused an append for good (`details.Code`); the stream stopped and
    /// kept the spool.
    STREAM_UPLOAD = "ClientStreamUploadError" as "streamUpload",
    /// Append stream: uploads failed for longer than `reconnect.giveUpAfterMs`; the stream
    /// stopped and kept the spool.
    STREAM_GAVE_UP = "ClientStreamGaveUp" as "streamGaveUp",
    /// Append stream: an upload failed and is being retried (only in `state().lastError`).
    STREAM_RETRYING = "ClientStreamRetrying" as "streamRetrying",
    /// Append stream: it was closed; nothing was done.
    STREAM_CLOSED = "ClientStreamClosed" as "streamClosed",
}

/// The fields of the error a JS caller catches (`RequestError`): OSS's own for a service error,
/// a `Client…` code with status -1 for a client-side one, plus what an append session adds.
/// Optional fields are left off the JS object when `None`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RequestErrorFields {
    pub code: String,
    pub message: String,
    pub request_id: String,
    pub status: i32,
    pub ec: String,
    pub host_id: String,
    pub recommend_doc: String,
    pub headers: BTreeMap<String, String>,
    pub details: BTreeMap<String, String>,
    pub next_append_position: Option<i64>,
    pub field: Option<String>,
    pub request_sent: Option<bool>,
    pub client_crc64: Option<String>,
    pub server_crc64: Option<String>,
    pub attempts: Option<u32>,
    pub position: Option<f64>,
    pub length: Option<f64>,
    pub expected_length: Option<f64>,
    pub server_length: Option<f64>,
    pub last_error: Option<Box<RequestErrorFields>>,
}

/// A client-side error: `status` -1, no answer.
fn client_error(code: &str, message: String) -> RequestErrorFields {
    RequestErrorFields {
        code: code.to_owned(),
        message,
        status: CLIENT_ERROR_STATUS,
        ..RequestErrorFields::default()
    }
}

/// The code of each kind of TLS failure.
fn tls_code(failure: TlsFailure) -> &'static str {
    match failure {
        TlsFailure::UnknownIssuer => codes::TLS_UNKNOWN_ISSUER,
        TlsFailure::NameMismatch => codes::TLS_NAME_MISMATCH,
        TlsFailure::Expired => codes::TLS_CERTIFICATE_EXPIRED,
        TlsFailure::NotYetValid => codes::TLS_CERTIFICATE_NOT_YET_VALID,
        TlsFailure::BadCertificate => codes::TLS_BAD_CERTIFICATE,
        TlsFailure::Protocol => codes::TLS_PROTOCOL,
    }
}

impl From<&Error> for RequestErrorFields {
    fn from(e: &Error) -> Self {
        error_fields(e)
    }
}

impl From<&SessionError> for RequestErrorFields {
    fn from(e: &SessionError) -> Self {
        session_error_fields(e)
    }
}

fn error_fields(e: &Error) -> RequestErrorFields {
    let client = |code: &str, request_id: String| RequestErrorFields {
        request_id,
        ..client_error(code, e.to_string())
    };
    match e {
        Error::Service(s) => RequestErrorFields {
            code: s.code.clone(),
            message: s.message.clone(),
            request_id: s.request_id.clone(),
            status: i32::from(s.status),
            ec: s.ec.clone(),
            host_id: s.host_id.clone(),
            recommend_doc: s.recommend_doc.clone(),
            headers: s.headers.clone(),
            details: s.details.clone(),
            next_append_position: s.next_append_position().and_then(|p| i64::try_from(p).ok()),
            ..RequestErrorFields::default()
        },
        Error::InvalidArgument { field, .. } => RequestErrorFields {
            field: Some((*field).to_owned()),
            request_sent: Some(false),
            ..client(codes::INVALID_ARGUMENT, String::new())
        },
        Error::Transport {
            kind, request_sent, ..
        } => {
            let code = match kind {
                TransportErrorKind::Connect => codes::CONNECT,
                TransportErrorKind::Tls(failure) => tls_code(*failure),
                TransportErrorKind::Timeout => codes::TIMEOUT,
                TransportErrorKind::Body => codes::BODY_READ,
                TransportErrorKind::Io => codes::NETWORK,
                TransportErrorKind::Cancelled => codes::CANCELLED,
            };
            RequestErrorFields {
                request_sent: Some(*request_sent),
                ..client(code, String::new())
            }
        }
        Error::CrcMismatch {
            client: c,
            server,
            request_id,
        } => RequestErrorFields {
            client_crc64: Some(c.to_string()),
            server_crc64: Some(server.to_string()),
            request_sent: Some(true),
            ..client(codes::CRC_MISMATCH, request_id.clone())
        },
        Error::InvalidResponse { request_id, .. } => RequestErrorFields {
            request_sent: Some(true),
            ..client(codes::INVALID_RESPONSE, request_id.clone())
        },
        Error::Credentials { .. } => RequestErrorFields {
            request_sent: Some(false),
            ..client(codes::CREDENTIALS, String::new())
        },
    }
}

impl From<&StreamError> for RequestErrorFields {
    fn from(e: &StreamError) -> Self {
        stream_error_fields(e)
    }
}

/// The JS error of an append stream's failure: `InvalidOption` is `ClientInvalidArgument` (its
/// field in the JS spelling), every other kind its `ClientStream…` code; `Stopped` has its
/// reason's fields with the whole message.
fn stream_error_fields(e: &StreamError) -> RequestErrorFields {
    let message = e.to_string();
    let detail = |pairs: &[(&str, String)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    match e {
        StreamError::Stopped(reason) => RequestErrorFields {
            message,
            ..stream_error_fields(reason)
        },
        StreamError::InvalidOption { field, .. } => RequestErrorFields {
            field: Some(crate::js::stream_options::js_field(field).to_owned()),
            request_sent: Some(false),
            ..client_error(codes::INVALID_ARGUMENT, message)
        },
        StreamError::SpoolIo { op, path, .. } => RequestErrorFields {
            details: detail(&[
                ("Op", (*op).to_owned()),
                ("Path", path.display().to_string()),
            ]),
            ..client_error(codes::STREAM_SPOOL_IO, message)
        },
        StreamError::SpoolCorrupt {
            segment,
            file_offset,
            ..
        } => RequestErrorFields {
            details: detail(&[
                ("Segment", segment.display().to_string()),
                ("FileOffset", file_offset.to_string()),
            ]),
            ..client_error(codes::STREAM_SPOOL_CORRUPT, message)
        },
        StreamError::SpoolLocked { .. } => client_error(codes::STREAM_SPOOL_LOCKED, message),
        StreamError::SpoolMismatch { field, .. } => RequestErrorFields {
            field: Some((*field).to_owned()),
            ..client_error(codes::STREAM_SPOOL_MISMATCH, message)
        },
        StreamError::SpoolFull { len, .. } => RequestErrorFields {
            request_sent: Some(false),
            length: Some(*len as f64),
            ..client_error(codes::STREAM_SPOOL_FULL, message)
        },
        StreamError::Conflict {
            base,
            spooled_end,
            server_length,
            server_crc64,
            ..
        } => RequestErrorFields {
            position: Some(*base as f64),
            expected_length: Some(*spooled_end as f64),
            server_length: Some(*server_length as f64),
            server_crc64: server_crc64.map(|c| c.to_string()),
            ..client_error(codes::STREAM_CONFLICT, message)
        },
        StreamError::Upload { code, status, .. } => {
            let mut pairs = Vec::new();
            if let Some(code) = code {
                pairs.push(("Code", code.clone()));
            }
            if let Some(status) = status {
                pairs.push(("Status", status.to_string()));
            }
            RequestErrorFields {
                details: detail(&pairs),
                ..client_error(codes::STREAM_UPLOAD, message)
            }
        }
        StreamError::GaveUp { .. } => client_error(codes::STREAM_GAVE_UP, message),
        StreamError::Retrying { .. } => client_error(codes::STREAM_RETRYING, message),
        StreamError::Closed => RequestErrorFields {
            request_sent: Some(false),
            ..client_error(codes::STREAM_CLOSED, message)
        },
    }
}

/// The JS error of an append session's failure. Plain request errors map as for
/// `appendObject`; the session's own outcomes get the `Client…` session codes.
fn session_error_fields(e: &SessionError) -> RequestErrorFields {
    let message = e.to_string();
    match e {
        SessionError::Request(inner) => error_fields(inner),
        SessionError::Conflict {
            position,
            length,
            expected_length,
            server_length,
            expected_crc64,
            server_crc64,
            ..
        } => RequestErrorFields {
            request_sent: Some(true),
            position: Some(*position as f64),
            length: Some(*length as f64),
            expected_length: Some(*expected_length as f64),
            server_length: Some(*server_length as f64),
            client_crc64: expected_crc64.map(|c| c.to_string()),
            server_crc64: server_crc64.map(|c| c.to_string()),
            ..client_error(codes::APPEND_CONFLICT, message)
        },
        SessionError::GaveUp { attempts, last, .. } => RequestErrorFields {
            request_sent: Some(false),
            attempts: Some(*attempts),
            last_error: Some(Box::new(error_fields(last))),
            ..client_error(codes::RETRIES_EXHAUSTED, message)
        },
        SessionError::Unresolved {
            position,
            length,
            last,
        } => RequestErrorFields {
            request_sent: Some(true),
            position: Some(*position as f64),
            length: Some(*length as f64),
            last_error: Some(Box::new(error_fields(last))),
            ..client_error(codes::OUTCOME_UNKNOWN, message)
        },
        SessionError::Poisoned { .. } => RequestErrorFields {
            request_sent: Some(false),
            ..client_error(codes::SESSION_POISONED, message)
        },
        SessionError::Sealed {
            position,
            sealed_time,
        } => {
            let mut details = BTreeMap::new();
            details.insert("SealedTime".to_owned(), sealed_time.clone());
            RequestErrorFields {
                request_sent: Some(false),
                position: Some(*position as f64),
                details,
                ..client_error(codes::SESSION_SEALED, message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ServiceError;

    #[test]
    fn every_client_code_is_listed_once_under_one_js_name() {
        let mut codes_seen = std::collections::BTreeSet::new();
        let mut names_seen = std::collections::BTreeSet::new();
        for (name, code) in codes::ALL {
            assert!(codes_seen.insert(*code), "{code} listed twice");
            assert!(names_seen.insert(*name), "{name} names two codes");
            assert!(code.starts_with("Client"), "{code}");
            assert!(name.starts_with(|c: char| c.is_ascii_lowercase()), "{name}");
        }
        assert_eq!(codes::ALL.len(), 30);
        assert!(codes::ALL.contains(&("credentials", codes::CREDENTIALS)));
        assert!(codes::ALL.contains(&("invalidArgument", codes::INVALID_ARGUMENT)));
        assert!(codes::ALL.contains(&("retriesExhausted", codes::RETRIES_EXHAUSTED)));
    }

    #[test]
    fn stream_errors_get_the_client_form_of_their_stream_code() {
        use std::path::PathBuf;
        let errors = [
            StreamError::SpoolIo {
                op: "fsync",
                path: PathBuf::from("/spool/seg"),
                message: "disk full".into(),
            },
            StreamError::SpoolCorrupt {
                segment: PathBuf::from("/spool/seg"),
                file_offset: 7,
                reason: "crc".into(),
            },
            StreamError::SpoolLocked {
                dir: PathBuf::from("/spool"),
            },
            StreamError::SpoolMismatch {
                field: "key",
                spool: "a".into(),
                given: "b".into(),
            },
            StreamError::SpoolFull {
                max_spool_bytes: 10,
                pending: 9,
                len: 2,
            },
            StreamError::Conflict {
                bucket: "b".into(),
                key: "k".into(),
                base: 0,
                spooled_end: 10,
                server_length: 11,
                server_crc64: Some(5),
                detail: "longer".into(),
            },
            StreamError::Upload {
                code: Some("AccessDenied".into()),
                status: Some(403),
                message: "no".into(),
            },
            StreamError::GaveUp {
                elapsed: std::time::Duration::from_secs(1),
                last: "refused".into(),
            },
            StreamError::Retrying {
                message: "reset".into(),
            },
            StreamError::Closed,
        ];
        for e in &errors {
            let f = RequestErrorFields::from(e);
            let expected = match e.code() {
                "StreamUpload" => "ClientStreamUploadError".to_owned(),
                other => format!("Client{other}"),
            };
            assert_eq!(f.code, expected, "{e:?}");
            assert!(codes::ALL.iter().any(|(_, c)| *c == f.code), "{}", f.code);
            assert_eq!(f.status, CLIENT_ERROR_STATUS);
            assert_eq!(f.message, e.to_string());
            let stopped = StreamError::Stopped(Box::new(e.clone()));
            let g = RequestErrorFields::from(&stopped);
            assert_eq!(g.code, f.code);
            assert!(
                g.message.starts_with("the stream stopped: "),
                "{}",
                g.message
            );
        }
        let conflict = RequestErrorFields::from(&errors[5]);
        assert_eq!(conflict.server_length, Some(11.0));
        assert_eq!(conflict.expected_length, Some(10.0));
        assert_eq!(conflict.server_crc64.as_deref(), Some("5"));
        let upload = RequestErrorFields::from(&errors[6]);
        assert_eq!(
            upload.details.get("Code").map(String::as_str),
            Some("AccessDenied")
        );
        let invalid = RequestErrorFields::from(&StreamError::InvalidOption {
            field: "max_append_bytes",
            rule: "too big".into(),
        });
        assert_eq!(invalid.code, codes::INVALID_ARGUMENT);
        assert_eq!(invalid.field.as_deref(), Some("maxAppendBytes"));
    }

    #[test]
    fn a_service_error_keeps_what_oss_sent() {
        let mut s = ServiceError {
            status: 409,
            code: "PositionNotEqualToLength".into(),
            message: "Position is not equal to file length".into(),
            request_id: "RID".into(),
            ec: "0026-00000016".into(),
            ..ServiceError::default()
        };
        s.headers
            .insert("x-oss-next-append-position".into(), "42".into());
        let f = RequestErrorFields::from(&Error::Service(Box::new(s)));
        assert_eq!(f.code, "PositionNotEqualToLength");
        assert_eq!(f.status, 409);
        assert_eq!(f.request_id, "RID");
        assert_eq!(f.ec, "0026-00000016");
        assert_eq!(f.next_append_position, Some(42));
        assert_eq!(f.request_sent, None, "a service error needs no requestSent");
    }

    #[test]
    fn client_errors_have_status_minus_one_a_client_code_and_request_sent() {
        let cases = [
            (TransportErrorKind::Connect, codes::CONNECT, false),
            (
                TransportErrorKind::Tls(TlsFailure::UnknownIssuer),
                codes::TLS_UNKNOWN_ISSUER,
                false,
            ),
            (
                TransportErrorKind::Tls(TlsFailure::NameMismatch),
                codes::TLS_NAME_MISMATCH,
                false,
            ),
            (
                TransportErrorKind::Tls(TlsFailure::Expired),
                codes::TLS_CERTIFICATE_EXPIRED,
                false,
            ),
            (
                TransportErrorKind::Tls(TlsFailure::NotYetValid),
                codes::TLS_CERTIFICATE_NOT_YET_VALID,
                false,
            ),
            (
                TransportErrorKind::Tls(TlsFailure::BadCertificate),
                codes::TLS_BAD_CERTIFICATE,
                false,
            ),
            (
                TransportErrorKind::Tls(TlsFailure::Protocol),
                codes::TLS_PROTOCOL,
                false,
            ),
            (TransportErrorKind::Timeout, codes::TIMEOUT, true),
            (TransportErrorKind::Body, codes::BODY_READ, false),
            (TransportErrorKind::Io, codes::NETWORK, true),
            (TransportErrorKind::Cancelled, codes::CANCELLED, false),
        ];
        for (kind, code, request_sent) in cases {
            let e = Error::Transport {
                kind,
                message: "m".into(),
                request_sent,
            };
            let f = RequestErrorFields::from(&e);
            assert_eq!((f.code.as_str(), f.status), (code, CLIENT_ERROR_STATUS));
            assert_eq!(f.request_sent, Some(request_sent));
            assert_eq!(f.message, e.to_string());
        }
        let f = RequestErrorFields::from(&Error::InvalidArgument {
            field: "position",
            rule: "must be a non-negative integer".into(),
        });
        assert_eq!(f.code, codes::INVALID_ARGUMENT);
        assert_eq!(f.field.as_deref(), Some("position"));
        assert_eq!(f.request_sent, Some(false));
        let f = RequestErrorFields::from(&Error::CrcMismatch {
            client: 1,
            server: 2,
            request_id: "RID".into(),
        });
        assert_eq!(f.code, codes::CRC_MISMATCH);
        assert_eq!(
            (f.client_crc64.as_deref(), f.server_crc64.as_deref()),
            (Some("1"), Some("2"))
        );
        assert_eq!((f.request_id.as_str(), f.request_sent), ("RID", Some(true)));
        let e = Error::Credentials {
            message: "the credentials provider failed: down".into(),
        };
        let f = RequestErrorFields::from(&e);
        assert_eq!(f.code, "ClientCredentialsError");
        assert_eq!(
            (f.status, f.request_sent),
            (CLIENT_ERROR_STATUS, Some(false))
        );
        assert_eq!(f.message, e.to_string());
    }

    #[test]
    fn session_outcomes_get_session_codes_and_nest_the_last_error() {
        let last = Error::Transport {
            kind: TransportErrorKind::Timeout,
            message: "m".into(),
            request_sent: true,
        };
        let f = RequestErrorFields::from(&SessionError::GaveUp {
            attempts: 4,
            elapsed: std::time::Duration::from_millis(300),
            last,
        });
        assert_eq!(f.code, codes::RETRIES_EXHAUSTED);
        assert_eq!((f.attempts, f.request_sent), (Some(4), Some(false)));
        assert_eq!(
            f.last_error.map(|l| l.code),
            Some(codes::TIMEOUT.to_owned())
        );
        let f = RequestErrorFields::from(&SessionError::Sealed {
            position: 7,
            sealed_time: "Wed, 25 Nov 2026 12:00:00 GMT".into(),
        });
        assert_eq!(f.code, codes::SESSION_SEALED);
        assert_eq!(f.position, Some(7.0));
        assert_eq!(
            f.details.get("SealedTime").map(String::as_str),
            Some("Wed, 25 Nov 2026 12:00:00 GMT")
        );
        let inner = Error::Transport {
            kind: TransportErrorKind::Connect,
            message: "m".into(),
            request_sent: false,
        };
        let direct = RequestErrorFields::from(&inner);
        assert_eq!(
            RequestErrorFields::from(&SessionError::Request(inner)),
            direct,
            "a plain request error maps as for appendObject"
        );
    }
}
