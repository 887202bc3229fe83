//! The final report: the object's length and CRC-64 on stdout, only as far as they are known,
//! and after a failure, on stderr, how much of the input was not appended.
//!
//! Scripts resume from the printed position. After a failure whose outcome is open, or one
//! caused by another writer, the session's own idea of the length is not the object's, and
//! resuming from it would write data twice (or leave a gap): then the object is asked (HEAD).

use oss_append::session::retry::{is_transient, Backoff};
use oss_append::{crc64, Client, Error, HeadObjectOutput, RetryPolicy, SessionError};

use crate::args::Object;

/// The object's end as the report states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectEnd {
    /// Confirmed by the session or by HEAD. The CRC-64 is `None` when HEAD did not report one.
    Known { position: u64, crc64: Option<u64> },
    /// HEAD failed too; the text says why.
    Unknown(String),
}

impl std::fmt::Display for ObjectEnd {
    /// The stdout line scripts read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObjectEnd::Known {
                position,
                crc64: Some(crc),
            } => write!(f, "position={position} crc64={crc}"),
            ObjectEnd::Known {
                position,
                crc64: None,
            } => write!(f, "position={position}"),
            ObjectEnd::Unknown(_) => f.write_str("position=unknown"),
        }
    }
}

/// An append that failed with its outcome open: it may or may not be in the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InDoubt {
    /// The body's length.
    pub length: u64,
    /// CRC-64 of the body alone, when it could be computed.
    pub body_crc64: Option<u64>,
}

/// Where the input comes from, for the stderr count.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    File(String),
}

/// What became of the input.
#[derive(Debug)]
pub struct Tally {
    pub source: Source,
    /// Bytes taken from the input: read from stdin, or the file's length (`None`: unknown).
    pub read: Option<u64>,
    /// Bytes the session confirmed appended.
    pub appended: u64,
    /// The append after those, whose outcome is open.
    pub in_doubt: Option<InDoubt>,
}

impl Tally {
    pub fn new(source: Source, read: Option<u64>) -> Self {
        Self {
            source,
            read,
            appended: 0,
            in_doubt: None,
        }
    }

    /// Records a failed append of `length` bytes (`body_crc64`: computed on demand, only when
    /// the outcome is open).
    pub fn failed(
        &mut self,
        error: &SessionError,
        length: u64,
        body_crc64: impl FnOnce() -> Option<u64>,
    ) {
        if leaves_outcome_open(error) {
            self.in_doubt = Some(InDoubt {
                length,
                body_crc64: body_crc64(),
            });
        }
    }

    /// The stderr line on a failure: bytes of the input certainly not appended, and those
    /// whose fate is open; `None` when the input's size is unknown.
    pub fn not_appended_line(&self) -> Option<String> {
        let read = self.read?;
        let in_doubt = self.in_doubt.map_or(0, |d| d.length);
        let not_appended = read.saturating_sub(self.appended + in_doubt);
        let what = match &self.source {
            Source::Stdin => format!("{not_appended} bytes read from stdin were not appended"),
            Source::File(name) => format!("{not_appended} bytes of {name} were not appended"),
        };
        Some(if in_doubt == 0 {
            what
        } else {
            format!("{what}; whether {in_doubt} more bytes were appended is unknown")
        })
    }

    /// Settles the open append by what the object holds: still at `before` (the session's
    /// position and CRC-64, which stopped there), or at `before` plus exactly this body.
    /// Anything else (another writer, no CRC-64) leaves it open.
    pub fn settle(&mut self, before: (u64, u64), end: &ObjectEnd) {
        let (
            Some(doubt),
            ObjectEnd::Known {
                position,
                crc64: Some(crc),
            },
        ) = (self.in_doubt, end)
        else {
            return;
        };
        let (before_position, before_crc) = before;
        if (*position, *crc) == (before_position, before_crc) {
            self.in_doubt = None;
        } else if let Some(body_crc) = doubt.body_crc64 {
            let applied = (
                before_position + doubt.length,
                crc64::combine(before_crc, body_crc, doubt.length),
            );
            if (*position, *crc) == applied {
                self.appended += doubt.length;
                self.in_doubt = None;
            }
        }
    }
}

/// Whether the failed append may be in the object: the session could not find out, or found
/// the object changed by someone else.
fn leaves_outcome_open(error: &SessionError) -> bool {
    matches!(
        error,
        SessionError::Unresolved { .. } | SessionError::Conflict { .. }
    )
}

/// Whether the session's position and CRC-64 may not be the object's after `error`: the session
/// stopped (an outcome it could not learn, another writer, an answer it could not trust), or OSS
/// refused the append as not fitting the object (409: changed, replaced or sealed by someone
/// else).
pub fn session_cannot_vouch(poisoned: bool, error: Option<&SessionError>) -> bool {
    poisoned
        || error
            .and_then(SessionError::as_service)
            .is_some_and(|s| s.status == 409)
}

/// The object's end from HEAD, transient failures retried within `policy`. A missing object
/// is empty.
pub async fn head_end(client: &Client, object: &Object, policy: &RetryPolicy) -> ObjectEnd {
    let mut backoff = Backoff::new(policy);
    loop {
        let error = match client.head_object_output(&object.bucket, &object.key).await {
            Ok(head) => return end_of(&head),
            Err(Error::Service(s)) if s.status == 404 && s.code != "NoSuchBucket" => {
                return ObjectEnd::Known {
                    position: 0,
                    crc64: Some(0),
                }
            }
            Err(e) => e,
        };
        match backoff.next_delay() {
            Some(delay) if is_transient(&error) => tokio::time::sleep(delay).await,
            _ => {
                return ObjectEnd::Unknown(format!(
                    "HEAD failed after {} tries: {error}",
                    backoff.retries() + 1
                ))
            }
        }
    }
}

fn end_of(head: &HeadObjectOutput) -> ObjectEnd {
    ObjectEnd::Known {
        position: head.next_append_position.unwrap_or(head.content_length),
        crc64: head.hash_crc64ecma,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(position: u64, crc: u64) -> ObjectEnd {
        ObjectEnd::Known {
            position,
            crc64: Some(crc),
        }
    }

    #[test]
    fn the_stdout_line_states_only_what_is_known() {
        assert_eq!(known(5, 7).to_string(), "position=5 crc64=7");
        let no_crc = ObjectEnd::Known {
            position: 5,
            crc64: None,
        };
        assert_eq!(no_crc.to_string(), "position=5");
        assert_eq!(
            ObjectEnd::Unknown("HEAD failed".into()).to_string(),
            "position=unknown"
        );
    }

    #[test]
    fn an_open_append_is_settled_by_length_and_crc() {
        let (head, body) = (b"head:".as_slice(), b"body".as_slice());
        let before = (head.len() as u64, crc64::checksum(head));
        let tally = || Tally {
            source: Source::Stdin,
            read: Some(20),
            appended: 5,
            in_doubt: Some(InDoubt {
                length: 4,
                body_crc64: Some(crc64::checksum(body)),
            }),
        };
        let line = |t: &Tally| t.not_appended_line().unwrap();
        assert_eq!(
            line(&tally()),
            "11 bytes read from stdin were not appended; whether 4 more bytes were appended is \
             unknown"
        );

        let mut applied = tally();
        applied.settle(before, &known(9, crc64::checksum(b"head:body")));
        assert_eq!(line(&applied), "11 bytes read from stdin were not appended");
        assert_eq!(applied.appended, 9);

        let mut not_applied = tally();
        not_applied.settle(before, &known(before.0, before.1));
        assert_eq!(
            line(&not_applied),
            "15 bytes read from stdin were not appended"
        );

        // Same length, other bytes (another writer): still open; so without a CRC-64.
        for end in [
            known(9, crc64::checksum(b"head:xxxx")),
            ObjectEnd::Known {
                position: 9,
                crc64: None,
            },
            ObjectEnd::Unknown("down".into()),
        ] {
            let mut open = tally();
            open.settle(before, &end);
            assert!(open.in_doubt.is_some(), "{end:?}");
        }
    }
}
