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
//! Appends can be cancelled ([`Appender::append_cancellable`]): sending stops at once. When a
//! try's whole body had gone out, OSS may still apply it; the session then holds the append as
//! *unsettled* ([`Appender::is_unsettled`]) and settles it with the same HEAD judgement on its
//! next call (or [`Appender::settle`]).
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

mod appended;
mod error;
mod judge;
mod options;
pub mod retry;

pub use appended::{Appended, SessionStats};
pub use error::SessionError;
pub use options::AppenderOptions;

use crate::client::Client;
use crate::io::body::{Body, OpenedBody};
use crate::io::cancel::{unless_cancelled, CancellationToken};
use crate::io::logging::LoggedKey;
use crate::io::transport::Call;
use crate::protocol::error::{Error, ServiceError};
use crate::protocol::options::{AppendOptions, ContentMd5};
use crate::protocol::response::{AppendObjectOutput, HeadObjectOutput, SealAppendObjectOutput};
use crate::protocol::validate;
use judge::{judge, refuse_to_resume, Before, Verdict};
use retry::{Backoff, Disposition, RetryPolicy};

impl Client {
    /// Opens an append session on `bucket`/`key`: HEADs the object and resumes an appendable
    /// one at its length and CRC-64, or prepares to create it. See [`crate::session`]; for
    /// cancellable appends, [`Appender::append_cancellable`]. (Defined here, with the session it
    /// opens: the client layer below knows nothing of sessions.)
    ///
    /// ```no_run
    /// use oss_append::{AppenderOptions, Body, Client, ClientConfig, Credentials, RetryPolicy};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::new(ClientConfig::new(Credentials::new("ak", "sk", None)?, "cn-hangzhou")?)?;
    /// let mut log = client
    ///     .appender(AppenderOptions::new("my-bucket", "logs/app.log").with_retry(RetryPolicy::default()))
    ///     .await?;
    /// println!("resuming at {}", log.position());
    /// let done = log
    ///     .append(Body::from("one more line\n").with_progress(|sent, total| eprintln!("{sent}/{total}")))
    ///     .await?;
    /// assert_eq!(done.next_append_position, log.position());
    /// log.seal().await?; // optional: no more appends, from anyone
    /// # Ok(()) }
    /// ```
    pub async fn appender(&self, options: AppenderOptions) -> Result<Appender, SessionError> {
        Appender::open(self.clone(), options).await
    }
}

#[derive(Debug, Clone)]
enum State {
    Open,
    Poisoned(String),
    Sealed { sealed_time: String },
}

/// A cancelled append that may have been applied: some try's whole body went out.
#[derive(Debug, Clone)]
struct Unsettled {
    /// The object before it.
    before: Before,
    /// The body's length.
    length: u64,
    /// Whole-object CRC-64 if a try landed, one per distinct content sent.
    candidates: Vec<u64>,
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
    unsettled: Option<Unsettled>,
}

/// One append under way: what it sends and what its tries have done so far.
struct Attempt<'c> {
    before: Before,
    length: u64,
    body: OpenedBody,
    options: AppendOptions,
    backoff: Backoff,
    /// Whole-object CRC-64s the object has if one of the tries landed.
    candidates: Vec<u64>,
    /// A try failed in a way that may have applied it: from then on, "nothing was appended"
    /// would be a guess.
    own_ambiguity: bool,
    /// The latest try's whole body went out.
    last_whole_body_sent: bool,
    tries: u32,
    cancel: Option<&'c CancellationToken>,
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
            unsettled: None,
        };
        if let Some(head) = session.head_for_open().await? {
            if let Some(refused) = refuse_to_resume(&head) {
                return Err(refused.into());
            }
            session.position = head.next_append_position.unwrap_or(head.content_length);
            session.crc64 = head.hash_crc64ecma.unwrap_or_default();
            session.exists = true;
        }
        Ok(session)
    }

    /// The opening HEAD, transient failures retried (`None`: no object yet; the first append
    /// creates it).
    async fn head_for_open(&mut self) -> Result<Option<HeadObjectOutput>, SessionError> {
        let mut backoff = Backoff::new(&self.retry);
        loop {
            self.stats.heads += 1;
            match self.head().await {
                Ok(head) => return Ok(head),
                Err(e) if retry::is_transient(&e) => {
                    log::debug!("opening append session: HEAD failed ({e})");
                    // A HEAD changes nothing: giving up is always "nothing was appended".
                    self.wait_or_give_up(&mut backoff, false, 0, 0, e, None)
                        .await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
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

    /// Whether a cancelled append may have been applied; the next call finds out (position and
    /// CRC-64 are those from before it until then).
    pub fn is_unsettled(&self) -> bool {
        self.unsettled.is_some()
    }

    /// Appends `body` at the current position. Returns once the append is confirmed — by its
    /// answer with a matching CRC-64, or by a HEAD after an ambiguous failure — or with an
    /// error; see [`SessionError`] for what each leaves behind.
    ///
    /// A file body is opened once (its length is fixed then) and re-read from its first byte
    /// for every resend; bytes are shared, not copied.
    pub async fn append(&mut self, body: impl Into<Body>) -> Result<Appended, SessionError> {
        self.append_until(body.into(), None).await
    }

    /// [`Appender::append`], unless `cancel` fires first: sending, awaiting the answer, waiting
    /// between retries or checking with HEAD stops at once. A cancelled append fails with
    /// [`SessionError::Request`] holding a cancellation error ([`Error::is_cancelled`]); its
    /// `request_sent` is true when a try's whole body had gone out, so OSS may have applied it:
    /// the session is then [unsettled](Appender::is_unsettled) and its next call checks.
    ///
    /// ```no_run
    /// use oss_append::{AppenderOptions, Body, CancellationToken, Client, ClientConfig,
    ///                  Credentials};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::new(ClientConfig::new(Credentials::new("ak", "sk", None)?, "cn-hangzhou")?)?;
    /// let mut log = client.appender(AppenderOptions::new("my-bucket", "app.log")).await?;
    /// let token = CancellationToken::new();
    /// let body = Body::from("line\n").with_progress(|sent, total| println!("{sent}/{total}"));
    /// match log.append_cancellable(body, &token).await {
    ///     Ok(done) => println!("object is {} bytes", done.next_append_position),
    ///     Err(e) if e.as_error().is_some_and(|e| e.is_cancelled()) => println!("cancelled"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// log.seal().await?; // settles a cancelled append first
    /// # Ok(()) }
    /// ```
    pub async fn append_cancellable(
        &mut self,
        body: impl Into<Body>,
        cancel: &CancellationToken,
    ) -> Result<Appended, SessionError> {
        self.append_until(body.into(), Some(cancel)).await
    }

    async fn append_until(
        &mut self,
        body: Body,
        cancel: Option<&CancellationToken>,
    ) -> Result<Appended, SessionError> {
        self.usable()?;
        if cancel.is_some_and(CancellationToken::is_cancelled) {
            return Err(Error::cancelled(false, "before the request was sent").into());
        }
        self.settle_until(cancel).await?;
        let mut attempt = self.prepare(body, cancel).await?;
        match self.run(&mut attempt).await {
            Err(SessionError::Request(e)) if e.is_cancelled() => Err(self.cancelled(attempt)),
            outcome => outcome,
        }
    }

    /// Opens the body and fixes what every try sends (options, one Content-MD5).
    async fn prepare<'c>(
        &self,
        body: Body,
        cancel: Option<&'c CancellationToken>,
    ) -> Result<Attempt<'c>, SessionError> {
        let body = unless_cancelled(cancel, body.open()).await?;
        let length = body.len();
        validate::position_and_length(self.position, length)?;
        let mut options = if self.exists {
            self.append_options.clone()
        } else {
            self.create_options.clone()
        };
        if let Some(ContentMd5::Compute) = options.content_md5 {
            // One digest for every try.
            let md5 = unless_cancelled(cancel, body.md5_base64()).await?;
            options.content_md5 = Some(ContentMd5::Given(md5));
        }
        Ok(Attempt {
            before: self.before(),
            length,
            body,
            options,
            backoff: Backoff::new(&self.retry),
            candidates: Vec::new(),
            own_ambiguity: false,
            last_whole_body_sent: false,
            tries: 0,
            cancel,
        })
    }

    /// Sends tries until one is confirmed, or the append fails for good.
    async fn run(&mut self, attempt: &mut Attempt<'_>) -> Result<Appended, SessionError> {
        loop {
            let error = match self.send(attempt).await {
                Ok(output) => return self.confirmed(attempt, output),
                Err(e) => e,
            };
            let position_error = error
                .as_service()
                .is_some_and(|s| s.code == "PositionNotEqualToLength");
            let disposition = if position_error && attempt.own_ambiguity {
                // Maybe our own earlier try landed after all: HEAD decides.
                Disposition::Ambiguous
            } else if error.is_cancelled() {
                return Err(error.into());
            } else {
                retry::classify_append(&error, attempt.last_whole_body_sent)
            };
            match disposition {
                Disposition::Fatal => return Err(self.fail(attempt, error, position_error)),
                Disposition::Retry => {
                    self.stats.transient_failures += 1;
                    log::debug!(
                        "append to {}/{} at {} failed before OSS could apply it ({error}); \
                         retrying",
                        self.bucket,
                        LoggedKey(&self.key),
                        attempt.before.position
                    );
                    self.pause(attempt, error).await?;
                }
                Disposition::Ambiguous => {
                    if let Some(done) = self.recover(attempt, error).await? {
                        return Ok(done);
                    }
                }
            }
        }
    }

    /// One try. Records the CRC-64 the object has if it lands, once its whole body went out.
    async fn send(&mut self, attempt: &mut Attempt<'_>) -> Result<AppendObjectOutput, Error> {
        attempt.tries += 1;
        self.stats.requests += 1;
        let call = Call {
            cancel: attempt.cancel,
            ..Call::default()
        };
        let (result, sent) = self
            .client
            .send_append(
                &self.bucket,
                &self.key,
                attempt.before.position,
                Some(attempt.before.crc64),
                &attempt.options,
                OpenedBody::clone(&attempt.body),
                call,
            )
            .await;
        attempt.last_whole_body_sent = sent.whole_body_sent;
        if sent.whole_body_sent && !attempt.candidates.contains(&sent.crc64) {
            attempt.candidates.push(sent.crc64);
        }
        result
    }

    /// An error no retry can mend. Some also stop the session: a CRC-64 mismatch (OSS holds
    /// other data than was sent), another writer's append, or a failure after an own try whose
    /// outcome is open.
    fn fail(&mut self, attempt: &Attempt<'_>, error: Error, position_error: bool) -> SessionError {
        let (position, length) = (attempt.before.position, attempt.length);
        if let Error::CrcMismatch { client, server, .. } = &error {
            self.poison(format!(
                "OSS reports CRC-64 {server} after the append at position {position} \
                 ({length} bytes), the client computed {client}: the object holds \
                 other data than was sent"
            ));
            return error.into();
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
            return error.into();
        }
        if attempt.own_ambiguity {
            // An earlier try may still be applied late: "nothing was appended" would be a guess.
            self.poison(format!(
                "the outcome of the append at position {position} is unknown"
            ));
            return SessionError::Unresolved {
                position,
                length,
                last: error,
            };
        }
        error.into()
    }

    /// After a failure that may have applied the append: HEAD decides. `Some`: it was applied
    /// (confirmed without resending); `None`: it was not, and the next try may go.
    async fn recover(
        &mut self,
        attempt: &mut Attempt<'_>,
        error: Error,
    ) -> Result<Option<Appended>, SessionError> {
        let (position, length) = (attempt.before.position, attempt.length);
        attempt.own_ambiguity = true;
        self.stats.ambiguous_failures += 1;
        log::warn!(
            "append to {}/{} at {position} ({length} bytes) may or may not have been \
             applied ({error}); checking with HEAD",
            self.bucket,
            LoggedKey(&self.key)
        );
        let verdict = self
            .verify(
                attempt.before,
                length,
                &attempt.candidates,
                &mut attempt.backoff,
                attempt.cancel,
            )
            .await;
        match verdict {
            Verdict::Applied(head) => {
                self.stats.recovered += 1;
                Ok(Some(self.recovered(
                    attempt.before,
                    length,
                    attempt.tries,
                    head,
                )))
            }
            Verdict::NotApplied => {
                self.stats.resent += 1;
                log::info!(
                    "append to {}/{} at {position} was not applied; sending it again",
                    self.bucket,
                    LoggedKey(&self.key)
                );
                self.pause(attempt, error).await?;
                Ok(None)
            }
            Verdict::Conflict(e) => {
                self.poison(e.to_string());
                Err(e)
            }
            Verdict::Unknown(last) if last.is_cancelled() => Err(last.into()),
            Verdict::Unknown(last) => {
                self.poison(format!(
                    "the outcome of the append at position {position} is unknown"
                ));
                Err(SessionError::Unresolved {
                    position,
                    length,
                    last,
                })
            }
        }
    }

    /// The backoff wait before the next try of `attempt`, or the end of it.
    async fn pause(&mut self, attempt: &mut Attempt<'_>, last: Error) -> Result<(), SessionError> {
        let (maybe_applied, cancel) = (attempt.own_ambiguity, attempt.cancel);
        let (position, length) = (attempt.before.position, attempt.length);
        self.wait_or_give_up(
            &mut attempt.backoff,
            maybe_applied,
            position,
            length,
            last,
            cancel,
        )
        .await
    }

    /// A cancelled append: not applied when no try's whole body went out; otherwise held as
    /// unsettled for the next call to check.
    fn cancelled(&mut self, attempt: Attempt<'_>) -> SessionError {
        let position = attempt.before.position;
        if attempt.candidates.is_empty() {
            log::info!(
                "append to {}/{} at {position} cancelled before its body was sent: not applied",
                self.bucket,
                LoggedKey(&self.key)
            );
            return Error::cancelled(false, "before the whole body was sent").into();
        }
        log::info!(
            "append to {}/{} at {position} cancelled after its body was sent: it may have been \
             applied; the next call checks with HEAD",
            self.bucket,
            LoggedKey(&self.key)
        );
        self.unsettled = Some(Unsettled {
            before: attempt.before,
            length: attempt.length,
            candidates: attempt.candidates,
        });
        Error::cancelled(
            true,
            "after the whole body was sent: it may have been applied; the session checks on its \
             next call",
        )
        .into()
    }

    /// Settles an unsettled cancelled append now (one HEAD, transient failures retried):
    /// `Some(true)` if it was applied (the session continues after it), `Some(false)` if not,
    /// `None` if there was nothing to settle. Another writer's change stops the session
    /// ([`SessionError::Conflict`]).
    pub async fn settle(&mut self) -> Result<Option<bool>, SessionError> {
        self.settle_until(None).await
    }

    async fn settle_until(
        &mut self,
        cancel: Option<&CancellationToken>,
    ) -> Result<Option<bool>, SessionError> {
        if let State::Poisoned(reason) = &self.state {
            return Err(SessionError::Poisoned {
                reason: reason.clone(),
            });
        }
        let Some(u) = self.unsettled.take() else {
            return Ok(None);
        };
        let mut backoff = Backoff::new(&self.retry);
        let verdict = self
            .verify(u.before, u.length, &u.candidates, &mut backoff, cancel)
            .await;
        let applied = match verdict {
            Verdict::Applied(head) => {
                self.recovered(u.before, u.length, 1, head);
                true
            }
            Verdict::NotApplied => false,
            Verdict::Conflict(e) => {
                self.poison(e.to_string());
                return Err(e);
            }
            Verdict::Unknown(e) => {
                // Still open: a later call tries again.
                self.unsettled = Some(u);
                return Err(e.into());
            }
        };
        log::info!(
            "the cancelled append to {}/{} at {} was {}applied",
            self.bucket,
            LoggedKey(&self.key),
            u.before.position,
            if applied { "" } else { "not " }
        );
        Ok(Some(applied))
    }

    /// Seals the object at the current position (`SealAppendObject`): it takes no more appends,
    /// from this session or anyone. An unsettled append is settled first. Transient failures are
    /// retried (sealing again at the same position is harmless). Afterwards, appends answer
    /// [`SessionError::Sealed`].
    pub async fn seal(&mut self) -> Result<SealAppendObjectOutput, SessionError> {
        self.settle().await?;
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
                    self.wait_or_give_up(&mut backoff, false, self.position, 0, e, None)
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

    fn before(&self) -> Before {
        Before {
            position: self.position,
            crc64: self.crc64,
            exists: self.exists,
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
                LoggedKey(&self.key)
            );
            self.state = State::Poisoned(reason);
        }
    }

    /// Waits before the next try, or ends the operation: [`SessionError::GaveUp`] when no try
    /// may have been applied, [`SessionError::Unresolved`] (and a stopped session) otherwise — an
    /// earlier try could still be applied late, so "nothing was appended" would be a guess. A
    /// cancel during the wait ends it with the cancellation error.
    async fn wait_or_give_up(
        &mut self,
        backoff: &mut Backoff,
        maybe_applied: bool,
        position: u64,
        length: u64,
        last: Error,
        cancel: Option<&CancellationToken>,
    ) -> Result<(), SessionError> {
        match backoff.next_delay() {
            Some(delay) => {
                self.stats.retries += 1;
                unless_cancelled(cancel, async {
                    tokio::time::sleep(delay).await;
                    Ok(())
                })
                .await
                .map_err(|_| Error::cancelled(false, "while waiting to try again").into())
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

    /// Finds out with HEAD whether an append whose outcome is open was applied. Transient HEAD
    /// failures are retried within the budget; at least one HEAD is always made. A cancel gives
    /// `Unknown` with the cancellation error.
    async fn verify(
        &mut self,
        before: Before,
        length: u64,
        candidates: &[u64],
        backoff: &mut Backoff,
        cancel: Option<&CancellationToken>,
    ) -> Verdict {
        loop {
            self.stats.heads += 1;
            let head = unless_cancelled(cancel, self.head()).await;
            match head {
                Ok(head) => return judge(before, length, candidates, head),
                Err(e) if e.is_cancelled() => return Verdict::Unknown(e),
                Err(e) if retry::is_transient(&e) => match backoff.next_delay() {
                    Some(delay) => {
                        self.stats.retries += 1;
                        let waited = unless_cancelled(cancel, async {
                            tokio::time::sleep(delay).await;
                            Ok(())
                        })
                        .await;
                        if let Err(cancelled) = waited {
                            return Verdict::Unknown(cancelled);
                        }
                    }
                    None => return Verdict::Unknown(e),
                },
                Err(e) => return Verdict::Unknown(e),
            }
        }
    }

    fn confirmed(
        &mut self,
        attempt: &Attempt<'_>,
        output: AppendObjectOutput,
    ) -> Result<Appended, SessionError> {
        let (position, length) = (attempt.before.position, attempt.length);
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
            attempts: attempt.tries,
            recovered: false,
            request_id: output.request_id.clone(),
            output: Some(output),
        })
    }

    fn recovered(
        &mut self,
        before: Before,
        length: u64,
        attempts: u32,
        head: HeadObjectOutput,
    ) -> Appended {
        let position = before.position;
        let crc = head.hash_crc64ecma.unwrap_or_default();
        let next = position + length;
        log::info!(
            "append to {}/{} at {position} ({length} bytes) was applied: confirmed by HEAD",
            self.bucket,
            LoggedKey(&self.key)
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
