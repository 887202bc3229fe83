//! The append session: appends to one object with automatic positions, a verified CRC-64 chain,
//! retries of transient failures, and recovery from lost answers, such that every append the
//! session confirms is in the object exactly once and nothing else is.
//!
//! An append is not idempotent. When its answer is lost (a timeout, a reset, a 5xx after the
//! whole body went out), the client cannot tell whether OSS applied it. The session finds out
//! with a HEAD and compares the object's length **and** CRC-64 with what the append would have
//! made:
//!
//! * length = old length + body length and CRC-64 = combine(old CRC, body CRC): applied; the
//!   append is confirmed without sending it again;
//! * length = old length (and the old CRC-64): not applied; the body is sent again at the same
//!   position, so at most one of the tries can ever land;
//! * anything else: another writer changed the object; [`SessionError::Conflict`] names both
//!   lengths and the session stops.
//!
//! Failures that certainly did not reach OSS (connect errors, a body cut short, a 5xx before
//! the body was out) are retried with [`crate::session::retry`]'s backoff. A `PositionNotEqualToLength`
//! that is not preceded by an ambiguous failure of the session's own request is another
//! writer's doing: it is returned and the session stops. So does a CRC-64 mismatch (OSS stored
//! something else than what was sent). A stopped ("poisoned") session answers every later call
//! with [`SessionError::Poisoned`], saying why.
//!
//! ```no_run
//! use oss_append::{AppenderOptions, Body, Client, ClientConfig, Credentials};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("<access key id>", "<access key secret>", None)?;
//! let client = Client::new(ClientConfig::new(credentials, "cn-hangzhou")?)?;
//! let mut log = client.appender(AppenderOptions::new("my-bucket", "logs/app.log")).await?;
//! log.append("first line\n").await?;
//! log.append(Body::from_path("/tmp/chunk.bin")).await?;
//! println!("{} bytes, CRC-64 {}", log.position(), log.crc64());
//! # Ok(()) }
//! ```

mod cancellable;
pub mod retry;

pub use cancellable::CancellableAppender;

use std::time::Duration;

use crate::client::Client;
use crate::io::body::{Body, OpenedBody};
use crate::io::transport::Call;
use crate::protocol::error::{Error, ServiceError};
use crate::protocol::options::{AppendOptions, ContentMd5};
use crate::protocol::response::{AppendObjectOutput, HeadObjectOutput, SealAppendObjectOutput};
use crate::protocol::validate;
use retry::{Backoff, Disposition, RetryPolicy};

/// How to open an append session.
#[derive(Debug, Clone)]
pub struct AppenderOptions {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Headers. All of them go with the append that creates the object (content type, cache
    /// headers, metadata, ACL, storage class, encryption, tagging, `forbid_overwrite`); later
    /// appends carry only the per-request ones: `traffic_limit`, `request_payer_is_requester`,
    /// `content_type` and `content_md5`. When the object already exists, the creation headers
    /// are never sent. `content_md5` may only be `Compute` (one digest per body).
    pub options: AppendOptions,
    /// Retries and recovery budget.
    pub retry: RetryPolicy,
}

impl AppenderOptions {
    /// A session on `bucket`/`key` with default options and retry policy.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            options: AppendOptions::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// Sets the headers.
    pub fn with_options(mut self, options: AppendOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

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
mod appended_tests {
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

#[derive(Debug, Clone)]
enum State {
    Open,
    Poisoned(String),
    Sealed { sealed_time: String },
}

/// An append session on one object. Calls take `&mut self`: one append at a time, in order.
#[derive(Debug)]
pub struct Appender {
    client: Client,
    bucket: String,
    key: String,
    create_options: AppendOptions,
    append_options: AppendOptions,
    retry: RetryPolicy,
    position: u64,
    crc64: u64,
    exists: bool,
    state: State,
    stats: SessionStats,
}

/// What HEAD says about an append whose answer was lost.
enum Verdict {
    Applied(HeadObjectOutput),
    NotApplied,
    Conflict(SessionError),
    Unknown(Error),
}

impl Appender {
    /// Opens a session (see [`Client::appender`]): checks the options, then HEADs the object.
    /// A missing object is created by the first append; an appendable one is resumed at its
    /// length and CRC-64; a normal object is refused with OSS's `ObjectNotAppendable` (409) and
    /// a sealed one with `AppendSealedObjectNotAllowed`, as an append would be.
    pub async fn open(client: Client, options: AppenderOptions) -> Result<Self, SessionError> {
        let AppenderOptions {
            bucket,
            key,
            options,
            retry,
        } = options;
        validate::bucket(&bucket)?;
        validate::key(&key)?;
        validate::options(&options)?;
        retry.validate()?;
        if let Some(ContentMd5::Given(_)) = options.content_md5 {
            return Err(Error::invalid(
                "contentMd5",
                "an append session computes one digest per body: use Compute, not a fixed value",
            )
            .into());
        }
        let append_options = AppendOptions {
            content_type: options.content_type.clone(),
            content_md5: options.content_md5.clone(),
            traffic_limit: options.traffic_limit,
            request_payer_is_requester: options.request_payer_is_requester,
            ..AppendOptions::default()
        };
        let mut session = Self {
            client,
            bucket,
            key,
            create_options: options,
            append_options,
            retry,
            position: 0,
            crc64: 0,
            exists: false,
            state: State::Open,
            stats: SessionStats::default(),
        };
        let mut backoff = Backoff::new(&session.retry);
        let head = loop {
            session.stats.heads += 1;
            match session.head().await {
                Ok(head) => break head,
                Err(e) if retry::is_transient(&e) => {
                    log::debug!("opening append session: HEAD failed ({e})");
                    // A HEAD changes nothing: giving up is always "nothing was appended".
                    session
                        .wait_or_give_up(&mut backoff, false, 0, 0, e)
                        .await?;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let Some(head) = head else {
            return Ok(session); // no object yet: the first append creates it
        };
        if !head.is_appendable() {
            return Err(refusal(
                &head,
                409,
                "ObjectNotAppendable",
                "The object is not appendable.",
                "0026-00000017",
            )
            .into());
        }
        if head.is_sealed() {
            return Err(refusal(
                &head,
                400,
                "AppendSealedObjectNotAllowed",
                "The object is sealed and takes no more appends.",
                "",
            )
            .into());
        }
        let Some(crc64) = head.hash_crc64ecma else {
            return Err(Error::InvalidResponse {
                message: "HEAD of an appendable object lacks x-oss-hash-crc64ecma".into(),
                request_id: head.request_id,
            }
            .into());
        };
        session.position = head.next_append_position.unwrap_or(head.content_length);
        session.crc64 = crc64;
        session.exists = true;
        Ok(session)
    }

    /// Where the next append goes: the object's length as far as the session knows.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// CRC-64 of the whole object as far as the session knows (0 for an empty object).
    pub fn crc64(&self) -> u64 {
        self.crc64
    }

    /// Whether the object exists (opened existing, or created by an append of this session).
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// Bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Counters of what the session did.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Why the session stopped, if it did.
    pub fn poisoned(&self) -> Option<&str> {
        match &self.state {
            State::Poisoned(reason) => Some(reason),
            _ => None,
        }
    }

    /// Whether this session sealed the object.
    pub fn is_sealed(&self) -> bool {
        matches!(self.state, State::Sealed { .. })
    }

    /// Appends `body` at the current position. Returns once the append is confirmed — by its
    /// answer with a matching CRC-64, or by a HEAD after an ambiguous failure — or with an
    /// error; see [`SessionError`] for what each leaves behind.
    ///
    /// A file body is opened once (its length is fixed then) and re-read from its first byte
    /// for every resend; bytes are shared, not copied.
    pub async fn append(&mut self, body: impl Into<Body>) -> Result<Appended, SessionError> {
        self.usable()?;
        let body = body.into().open().await?;
        let (position, length) = (self.position, body.len());
        validate::position_and_length(position, length)?;
        let mut options = if self.exists {
            self.append_options.clone()
        } else {
            self.create_options.clone()
        };
        if let Some(ContentMd5::Compute) = options.content_md5 {
            // One digest for every try.
            options.content_md5 = Some(ContentMd5::Given(body.md5_base64().await?));
        }
        let mut backoff = Backoff::new(&self.retry);
        // Whole-object CRCs the object has if one of our tries landed (one per distinct
        // content sent: a file changed between tries gives two).
        let mut candidates: Vec<u64> = Vec::new();
        let mut own_ambiguity = false;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            self.stats.requests += 1;
            let (result, sent) = self
                .client
                .send_append(
                    &self.bucket,
                    &self.key,
                    position,
                    Some(self.crc64),
                    &options,
                    OpenedBody::clone(&body),
                    Call::default(),
                )
                .await;
            if sent.whole_body_sent && !candidates.contains(&sent.crc64) {
                candidates.push(sent.crc64);
            }
            let error = match result {
                Ok(output) => return self.confirmed(position, length, attempts, output),
                Err(e) => e,
            };
            let position_error = error
                .as_service()
                .is_some_and(|s| s.code == "PositionNotEqualToLength");
            let disposition = if position_error && own_ambiguity {
                // Maybe our own earlier try landed after all: HEAD decides.
                Disposition::Ambiguous
            } else {
                retry::classify_append(&error, sent.whole_body_sent)
            };
            match disposition {
                Disposition::Fatal => {
                    if let Error::CrcMismatch { client, server, .. } = &error {
                        self.poison(format!(
                            "OSS reports CRC-64 {server} after the append at position {position} \
                             ({length} bytes), the client computed {client}: the object holds \
                             other data than was sent"
                        ));
                        return Err(error.into());
                    }
                    if position_error {
                        let next = error
                            .as_service()
                            .and_then(ServiceError::next_append_position)
                            .map_or_else(|| "unknown".to_owned(), |p| p.to_string());
                        self.poison(format!(
                            "another writer appended to the object: the session expected it to \
                             be {position} bytes long, OSS says the next position is {next}"
                        ));
                        return Err(error.into());
                    }
                    if own_ambiguity {
                        // An earlier try may still be applied late: "nothing was appended"
                        // would be a guess.
                        self.poison(format!(
                            "the outcome of the append at position {position} is unknown"
                        ));
                        return Err(SessionError::Unresolved {
                            position,
                            length,
                            last: error,
                        });
                    }
                    return Err(error.into());
                }
                Disposition::Retry => {
                    self.stats.transient_failures += 1;
                    log::debug!(
                        "append to {}/{} at {position} failed before OSS could apply it ({error}); \
                         retrying",
                        self.bucket,
                        self.key
                    );
                    self.wait_or_give_up(&mut backoff, own_ambiguity, position, length, error)
                        .await?;
                }
                Disposition::Ambiguous => {
                    own_ambiguity = true;
                    self.stats.ambiguous_failures += 1;
                    log::warn!(
                        "append to {}/{} at {position} ({length} bytes) may or may not have been \
                         applied ({error}); checking with HEAD",
                        self.bucket,
                        self.key
                    );
                    match self
                        .verify(position, length, &candidates, &mut backoff)
                        .await
                    {
                        Verdict::Applied(head) => {
                            self.stats.recovered += 1;
                            return Ok(self.recovered(position, length, attempts, head));
                        }
                        Verdict::NotApplied => {
                            self.stats.resent += 1;
                            log::info!(
                                "append to {}/{} at {position} was not applied; sending it again",
                                self.bucket,
                                self.key
                            );
                            self.wait_or_give_up(&mut backoff, true, position, length, error)
                                .await?;
                        }
                        Verdict::Conflict(e) => {
                            self.poison(e.to_string());
                            return Err(e);
                        }
                        Verdict::Unknown(last) => {
                            self.poison(format!(
                                "the outcome of the append at position {position} is unknown"
                            ));
                            return Err(SessionError::Unresolved {
                                position,
                                length,
                                last,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Seals the object at the current position (`SealAppendObject`): it takes no more appends,
    /// from this session or anyone. Transient failures are retried (sealing again at the same
    /// position is harmless). Afterwards, appends answer [`SessionError::Sealed`].
    pub async fn seal(&mut self) -> Result<SealAppendObjectOutput, SessionError> {
        match &self.state {
            State::Poisoned(reason) => {
                return Err(SessionError::Poisoned {
                    reason: reason.clone(),
                })
            }
            State::Sealed { .. } | State::Open => {}
        }
        let mut backoff = Backoff::new(&self.retry);
        loop {
            match self
                .client
                .seal_append_object(&self.bucket, &self.key, self.position)
                .await
            {
                Ok(output) => {
                    self.state = State::Sealed {
                        sealed_time: output.sealed_time.clone(),
                    };
                    return Ok(output);
                }
                Err(e) if retry::is_transient(&e) => {
                    // Sealing again at the same position is harmless: nothing to be unsure of.
                    self.wait_or_give_up(&mut backoff, false, self.position, 0, e)
                        .await?;
                }
                Err(e) => {
                    if e.as_service()
                        .is_some_and(|s| s.code == "PositionNotEqualToLength")
                    {
                        self.poison(format!(
                            "another writer appended to the object: sealing at {} failed",
                            self.position
                        ));
                    }
                    return Err(e.into());
                }
            }
        }
    }

    fn usable(&self) -> Result<(), SessionError> {
        match &self.state {
            State::Open => Ok(()),
            State::Poisoned(reason) => Err(SessionError::Poisoned {
                reason: reason.clone(),
            }),
            State::Sealed { sealed_time } => Err(SessionError::Sealed {
                position: self.position,
                sealed_time: sealed_time.clone(),
            }),
        }
    }

    fn poison(&mut self, reason: String) {
        if !matches!(self.state, State::Poisoned(_)) {
            log::error!(
                "append session on {}/{} stopped: {reason}",
                self.bucket,
                self.key
            );
            self.state = State::Poisoned(reason);
        }
    }

    /// Waits before the next try, or ends the operation: [`SessionError::GaveUp`] when no try
    /// may have been applied, [`SessionError::Unresolved`] (and a stopped session) otherwise — an
    /// earlier try could still be applied late, so "nothing was appended" would be a guess.
    async fn wait_or_give_up(
        &mut self,
        backoff: &mut Backoff,
        maybe_applied: bool,
        position: u64,
        length: u64,
        last: Error,
    ) -> Result<(), SessionError> {
        match backoff.next_delay() {
            Some(delay) => {
                self.stats.retries += 1;
                tokio::time::sleep(delay).await;
                Ok(())
            }
            None if maybe_applied => {
                self.poison(format!(
                    "the retry budget ran out while the outcome of the append at position \
                     {position} was unknown"
                ));
                Err(SessionError::Unresolved {
                    position,
                    length,
                    last,
                })
            }
            None => Err(SessionError::GaveUp {
                attempts: backoff.retries() + 1,
                elapsed: backoff.elapsed(),
                last,
            }),
        }
    }

    /// HEAD, with 404 meaning "no object".
    async fn head(&self) -> Result<Option<HeadObjectOutput>, Error> {
        match self
            .client
            .head_object_output(&self.bucket, &self.key)
            .await
        {
            Ok(head) => Ok(Some(head)),
            Err(Error::Service(s)) if s.status == 404 && s.code != "NoSuchBucket" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Finds out with HEAD whether an append whose answer was lost was applied. Transient HEAD
    /// failures are retried within the budget; at least one HEAD is always made.
    async fn verify(
        &mut self,
        position: u64,
        length: u64,
        candidates: &[u64],
        backoff: &mut Backoff,
    ) -> Verdict {
        loop {
            self.stats.heads += 1;
            match self.head().await {
                Ok(head) => return self.judge(position, length, candidates, head),
                Err(e) if retry::is_transient(&e) => match backoff.next_delay() {
                    Some(delay) => {
                        self.stats.retries += 1;
                        tokio::time::sleep(delay).await;
                    }
                    None => return Verdict::Unknown(e),
                },
                Err(e) => return Verdict::Unknown(e),
            }
        }
    }

    fn judge(
        &self,
        position: u64,
        length: u64,
        candidates: &[u64],
        head: Option<HeadObjectOutput>,
    ) -> Verdict {
        let expected_length = position + length;
        let conflict = |server_length: u64, server_crc64: Option<u64>, detail: Option<String>| {
            Verdict::Conflict(SessionError::Conflict {
                position,
                length,
                expected_length,
                server_length,
                expected_crc64: candidates.last().copied(),
                server_crc64,
                detail,
            })
        };
        let Some(head) = head else {
            return if position == 0 && !self.exists {
                Verdict::NotApplied
            } else {
                conflict(0, None, Some("the object no longer exists".into()))
            };
        };
        let server_length = head.next_append_position.unwrap_or(head.content_length);
        if !head.is_appendable() {
            let kind = head.object_type.as_deref().unwrap_or("unknown").to_owned();
            return conflict(
                server_length,
                head.hash_crc64ecma,
                Some(format!("the object is now of type {kind}")),
            );
        }
        let Some(server_crc) = head.hash_crc64ecma else {
            return Verdict::Unknown(Error::InvalidResponse {
                message: "HEAD of an appendable object lacks x-oss-hash-crc64ecma".into(),
                request_id: head.request_id,
            });
        };
        if head.is_sealed() {
            return conflict(
                server_length,
                Some(server_crc),
                Some("the object has been sealed".into()),
            );
        }
        let unchanged = server_length == position && server_crc == self.crc64;
        if length == 0 && unchanged {
            // Nothing to apply; the object exists now either way.
            return Verdict::Applied(head);
        }
        if server_length == expected_length && candidates.contains(&server_crc) {
            return Verdict::Applied(head);
        }
        if unchanged {
            return Verdict::NotApplied;
        }
        let detail = (server_length == expected_length)
            .then(|| format!("same length, but CRC-64 {server_crc} is not that of the data sent"));
        conflict(server_length, Some(server_crc), detail)
    }

    fn confirmed(
        &mut self,
        position: u64,
        length: u64,
        attempts: u32,
        output: AppendObjectOutput,
    ) -> Result<Appended, SessionError> {
        let expected = position + length;
        if output.next_append_position != expected {
            let e = Error::InvalidResponse {
                message: format!(
                    "OSS reports next position {} after appending {length} bytes at {position}",
                    output.next_append_position
                ),
                request_id: output.request_id.clone(),
            };
            self.poison(e.to_string());
            return Err(e.into());
        }
        let Some(crc) = output.hash_crc64ecma else {
            let e = Error::InvalidResponse {
                message: "the append answer lacks x-oss-hash-crc64ecma: the CRC-64 chain breaks"
                    .into(),
                request_id: output.request_id.clone(),
            };
            self.poison(e.to_string());
            return Err(e.into());
        };
        self.advance(expected, crc, length);
        Ok(Appended {
            position,
            length,
            next_append_position: expected,
            hash_crc64ecma: crc,
            attempts,
            recovered: false,
            request_id: output.request_id.clone(),
            output: Some(output),
        })
    }

    fn recovered(
        &mut self,
        position: u64,
        length: u64,
        attempts: u32,
        head: HeadObjectOutput,
    ) -> Appended {
        let crc = head.hash_crc64ecma.unwrap_or_default();
        let next = position + length;
        log::info!(
            "append to {}/{} at {position} ({length} bytes) was applied: confirmed by HEAD",
            self.bucket,
            self.key
        );
        self.advance(next, crc, length);
        Appended {
            position,
            length,
            next_append_position: next,
            hash_crc64ecma: crc,
            attempts,
            recovered: true,
            request_id: head.request_id,
            output: None,
        }
    }

    fn advance(&mut self, position: u64, crc64: u64, length: u64) {
        self.position = position;
        self.crc64 = crc64;
        self.exists = true;
        self.stats.appends += 1;
        self.stats.bytes += length;
    }
}

/// The error an append would get, for an object HEAD shows cannot take appends.
fn refusal(head: &HeadObjectOutput, status: u16, code: &str, message: &str, ec: &str) -> Error {
    let mut details = std::collections::BTreeMap::new();
    if let Some(kind) = &head.object_type {
        details.insert("ObjectType".to_owned(), kind.clone());
    }
    if let Some(sealed) = &head.sealed_time {
        details.insert("SealedTime".to_owned(), sealed.clone());
    }
    Error::Service(Box::new(ServiceError {
        status,
        code: code.to_owned(),
        message: format!("{message} (found by HEAD before appending; nothing was sent)"),
        request_id: head.request_id.clone(),
        ec: ec.to_owned(),
        host_id: String::new(),
        recommend_doc: if ec.is_empty() {
            String::new()
        } else {
            format!("https://api.aliyun.com/troubleshoot?q={ec}")
        },
        headers: head.headers.clone(),
        details,
    }))
}
