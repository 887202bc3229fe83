//! [`CancellableAppender`]: an append session whose appends can be cancelled.

use std::sync::Arc;

use crate::client::Client;
use crate::io::body::{Body, SendRecord};
use crate::io::cancel::CancellationToken;
use crate::protocol::error::Error;
use crate::protocol::response::SealAppendObjectOutput;
use crate::session::{Appended, Appender, AppenderOptions, SessionError};

/// An append whose outcome a cancellation left open: it may have been applied.
#[derive(Debug, Clone)]
struct Unsettled {
    /// The object's length before it.
    position: u64,
    /// The object's CRC-64 before it.
    crc64: u64,
    /// `(body length, whole-object CRC-64 if applied)` of each try whose body went out
    /// completely (one entry unless a file changed between tries).
    candidates: Vec<(u64, u64)>,
}

/// An append session ([`Appender`]) whose appends can be cancelled.
///
/// Cancelling stops the append at once, whatever it is doing (sending, awaiting the answer,
/// waiting between retries, checking with HEAD). When every byte of some try had been handed to
/// the connection, that try may still be applied by OSS; the session then counts the append as
/// *unsettled* ([`CancellableAppender::is_unsettled`]) and, on its next call, re-reads the
/// object with HEAD: if the object is as before, the append was not applied; if it is longer by
/// exactly the body with the CRC-64 the body gives, it was (and the session continues after
/// it); anything else is another writer's doing ([`SessionError::Conflict`], and the session
/// stops). A cancel before any complete send leaves nothing to check.
///
/// Progress works the same as with a plain [`Appender`]: attach it to the body
/// ([`Body::with_progress`]).
///
/// ```no_run
/// use oss_append::{AppenderOptions, Body, CancellableAppender, CancellationToken, Client,
///                  ClientConfig, Credentials};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::new(ClientConfig::new(Credentials::new("ak", "sk", None)?, "cn-hangzhou")?)?;
/// let mut log = CancellableAppender::open(&client, AppenderOptions::new("my-bucket", "app.log")).await?;
/// let token = CancellationToken::new();
/// let body = Body::from("line\n").with_progress(|sent, total| println!("{sent}/{total}"));
/// match log.append(body, &token).await {
///     Ok(done) => println!("object is {} bytes", done.next_append_position),
///     Err(e) if e.as_error().is_some_and(|e| e.is_cancelled()) => println!("cancelled"),
///     Err(e) => return Err(e.into()),
/// }
/// log.seal().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CancellableAppender {
    client: Client,
    options: AppenderOptions,
    inner: Appender,
    unsettled: Option<Unsettled>,
    stopped: Option<String>,
}

impl CancellableAppender {
    /// Opens the session (one HEAD, see [`Appender::open`]).
    pub async fn open(
        client: &Client,
        options: AppenderOptions,
    ) -> std::result::Result<Self, SessionError> {
        let inner = Appender::open(client.clone(), options.clone()).await?;
        Ok(Self {
            client: client.clone(),
            options,
            inner,
            unsettled: None,
            stopped: None,
        })
    }

    /// The session underneath: position, CRC-64, statistics as far as it knows. After an
    /// unsettled cancel these are the values from before the cancelled append.
    pub fn appender(&self) -> &Appender {
        &self.inner
    }

    /// Where the next append goes, as far as the session knows.
    pub fn position(&self) -> u64 {
        self.inner.position()
    }

    /// CRC-64 of the whole object, as far as the session knows.
    pub fn crc64(&self) -> u64 {
        self.inner.crc64()
    }

    /// Why the session stopped, if it did (a conflict found after a cancel, or any reason of
    /// the session underneath).
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref().or_else(|| self.inner.poisoned())
    }

    /// Whether a cancelled append may have been applied; the next call finds out.
    pub fn is_unsettled(&self) -> bool {
        self.unsettled.is_some()
    }

    /// Appends `body` (see [`Appender::append`]) unless `cancel` fires first. A cancelled
    /// append fails with [`SessionError::Request`] holding a cancellation error
    /// ([`Error::is_cancelled`]); its `request_sent` is true when the append may have been
    /// applied (and the next call checks).
    pub async fn append(
        &mut self,
        body: impl Into<Body>,
        cancel: &CancellationToken,
    ) -> std::result::Result<Appended, SessionError> {
        self.check_stopped()?;
        if cancel.is_cancelled() {
            return Err(Error::cancelled(false, "before the request was sent").into());
        }
        self.settle_unless_cancelled(cancel).await?;
        let mut body: Body = body.into();
        let record: Arc<SendRecord> = body.record_sends();
        let (position, crc64) = (self.inner.position(), self.inner.crc64());
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            r = self.inner.append(body) => Some(r),
        };
        if let Some(result) = outcome {
            return result;
        }
        let candidates = record.complete_sends();
        if candidates.is_empty() {
            log::info!(
                "append to {}/{} at {position} cancelled before its body was sent: not applied",
                self.inner.bucket(),
                self.inner.key()
            );
            return Err(Error::cancelled(false, "before the whole body was sent").into());
        }
        log::info!(
            "append to {}/{} at {position} cancelled after its body was sent: it may have been \
             applied; the next call checks with HEAD",
            self.inner.bucket(),
            self.inner.key()
        );
        self.unsettled = Some(Unsettled {
            position,
            crc64,
            candidates,
        });
        Err(Error::cancelled(
            true,
            "after the whole body was sent: it may have been applied; the session checks on its \
             next call",
        )
        .into())
    }

    /// Seals the object (see [`Appender::seal`]), after settling an unsettled append.
    pub async fn seal(&mut self) -> std::result::Result<SealAppendObjectOutput, SessionError> {
        self.check_stopped()?;
        self.settle().await?;
        self.inner.seal().await
    }

    /// Settles an unsettled cancelled append now (one HEAD): `Some(true)` if it was applied,
    /// `Some(false)` if not, `None` if there was nothing to settle.
    pub async fn settle(&mut self) -> std::result::Result<Option<bool>, SessionError> {
        self.check_stopped()?;
        let Some(u) = self.unsettled.clone() else {
            return Ok(None);
        };
        let fresh = Appender::open(self.client.clone(), self.options.clone()).await?;
        let (server_length, server_crc64) = (fresh.position(), fresh.crc64());
        let (length, expected_crc64) = u.candidates.last().copied().unwrap_or_default();
        let applied = if server_length == u.position && server_crc64 == u.crc64 {
            false
        } else if u
            .candidates
            .iter()
            .any(|&(len, crc)| server_length == u.position + len && server_crc64 == crc)
        {
            true
        } else {
            let e = SessionError::Conflict {
                position: u.position,
                length,
                expected_length: u.position + length,
                server_length,
                expected_crc64: Some(expected_crc64),
                server_crc64: Some(server_crc64),
                detail: Some("checked after a cancelled append".into()),
            };
            self.stopped = Some(e.to_string());
            log::error!(
                "append session on {}/{} stopped: {e}",
                self.inner.bucket(),
                self.inner.key()
            );
            return Err(e);
        };
        log::info!(
            "the cancelled append to {}/{} at {} was {}applied (HEAD: {server_length} bytes)",
            self.inner.bucket(),
            self.inner.key(),
            u.position,
            if applied { "" } else { "not " }
        );
        self.inner = fresh;
        self.unsettled = None;
        Ok(Some(applied))
    }

    async fn settle_unless_cancelled(
        &mut self,
        cancel: &CancellationToken,
    ) -> std::result::Result<(), SessionError> {
        if self.unsettled.is_none() {
            return Ok(());
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::cancelled(false, "before the request was sent").into()),
            r = self.settle() => r.map(|_| ()),
        }
    }

    fn check_stopped(&self) -> std::result::Result<(), SessionError> {
        match &self.stopped {
            Some(reason) => Err(SessionError::Poisoned {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }
}
