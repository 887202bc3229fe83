//! The stream's background task: uploads the spool in order through an append session,
//! coalescing, recovering and retrying.
//!
//! One round: wait for durable data (an idle stream waits `max_delay` more, unless a flush
//! asks or `max_append_bytes` gathered), read whole records up to `max_append_bytes` from the
//! spool, append them with [`Appender`], write a checkpoint. Data that arrives while an append
//! is in flight leaves with the next one.
//!
//! Before its first append on an object, and after any failure that leaves the object's state
//! in doubt, the task opens a new session (a HEAD) and checks the object against the spool's
//! latest checkpoint: its length must lie between the checkpoint's position and that plus the
//! spooled bytes, and its CRC-64 must equal `combine(checkpoint CRC, CRC of that prefix of the
//! spooled bytes)`. Then that prefix is known to be in OSS (it is checkpointed, never sent
//! again) and the rest is uploaded. Anything else is [`StreamError::Conflict`]; the stream stops
//! and the spool stays as it is.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::client::Client;
use crate::io::body::Body;
use crate::io::cancel::CancellationToken;
use crate::protocol::error::Error;
use crate::session::retry;
use crate::session::{Appender, AppenderOptions, SessionError};
use crate::stream::error::StreamError;
use crate::stream::journal::JournalHandle;
use crate::stream::options::StreamOptions;
use crate::stream::spool::{combine, now_ms, Checkpoint, POSITION_UNKNOWN};
use crate::stream::state::StreamState;

/// What a failed step means for the task.
enum Step {
    /// Wait (backoff) and try again; the message goes to `last_error`.
    Retry(String),
    /// Open a new session and check the object now.
    Recover,
    /// Stop the stream with this error.
    Stop(StreamError),
    /// The stream is being closed or dropped.
    Cancelled,
}

/// The upload task's state.
pub struct Uploader {
    pub(crate) client: Client,
    pub(crate) options: StreamOptions,
    pub(crate) journal: JournalHandle,
    pub(crate) state: Arc<watch::Sender<StreamState>>,
    pub(crate) flush: watch::Receiver<u64>,
    pub(crate) stop: CancellationToken,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) appender: Option<Appender>,
}

impl Uploader {
    /// Runs until stopped (close, drop) or a stopping error.
    pub async fn run(mut self) {
        let mut written_rx = self.state.subscribe();
        let mut failing_since: Option<Instant> = None;
        let mut backoff = self.options.reconnect.initial_backoff;
        let mut idle = true;
        loop {
            if self.stop.is_cancelled() {
                return;
            }
            let step = if self.appender.is_none() {
                self.recover().await
            } else {
                let written = written_rx.borrow_and_update().written;
                if written <= self.checkpoint.offset {
                    idle = true;
                    tokio::select! {
                        _ = self.stop.cancelled() => return,
                        changed = written_rx.changed() => if changed.is_err() { return },
                    }
                    continue;
                }
                if idle && !self.options.max_delay.is_zero() && !self.gather(&mut written_rx).await
                {
                    return;
                }
                idle = false;
                self.upload_round().await
            };
            match step {
                Ok(()) => {
                    failing_since = None;
                    backoff = self.options.reconnect.initial_backoff;
                }
                Err(Step::Cancelled) => return,
                Err(Step::Stop(e)) => {
                    self.stop_with(e);
                    return;
                }
                Err(Step::Recover) => {
                    self.appender = None;
                }
                Err(Step::Retry(message)) => {
                    log::warn!("append stream: {message}; retrying");
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    self.state.send_modify(|s| {
                        s.online = false;
                        s.last_error = Some(StreamError::Retrying {
                            message: message.clone(),
                        });
                    });
                    if let Some(limit) = self.options.reconnect.give_up_after {
                        if since.elapsed() >= limit {
                            self.stop_with(StreamError::GaveUp {
                                elapsed: since.elapsed(),
                                last: message,
                            });
                            return;
                        }
                    }
                    tokio::select! {
                        _ = self.stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.options.reconnect.max_backoff);
                }
            }
        }
    }

    /// An idle stream's first data waits up to `max_delay` for more. False: stopping.
    async fn gather(&mut self, written_rx: &mut watch::Receiver<StreamState>) -> bool {
        let deadline = tokio::time::Instant::now() + self.options.max_delay;
        loop {
            let written = written_rx.borrow_and_update().written;
            let flush = *self.flush.borrow_and_update();
            if written - self.checkpoint.offset >= self.options.max_append_bytes
                || flush > self.checkpoint.offset
            {
                return true;
            }
            tokio::select! {
                _ = self.stop.cancelled() => return false,
                _ = tokio::time::sleep_until(deadline) => return true,
                changed = written_rx.changed() => if changed.is_err() { return false },
                changed = self.flush.changed() => if changed.is_err() { return true },
            }
        }
    }

    /// One append of what is spooled after the checkpoint.
    async fn upload_round(&mut self) -> Result<(), Step> {
        let position = self.checkpoint.position;
        let mut max = self.options.max_append_bytes;
        if let Some(roll) = &self.options.rollover {
            let room = roll.max_object_bytes.saturating_sub(position);
            if room == 0 {
                return self.rollover().await;
            }
            let age = Duration::from_millis(now_ms().saturating_sub(self.checkpoint.started_ms));
            if position > 0 && roll.max_age.is_some_and(|limit| age >= limit) {
                return self.rollover().await;
            }
            max = max.min(room);
        }
        let data = self
            .journal
            .read(self.checkpoint.offset, max)
            .await
            .map_err(Step::Stop)?;
        if data.is_empty() {
            return Ok(());
        }
        let len = data.len() as u64;
        if let Some(roll) = &self.options.rollover {
            if position > 0 && position + len > roll.max_object_bytes {
                return self.rollover().await;
            }
        }
        let appender = self.appender.as_mut().expect("an open session");
        let done = match appender
            .append_cancellable(Body::from(data), &self.stop)
            .await
        {
            Ok(done) => done,
            Err(e) => return Err(self.judge_append_failure(e)),
        };
        let checkpoint = Checkpoint {
            offset: self.checkpoint.offset + len,
            position: done.next_append_position,
            crc64: done.hash_crc64ecma,
            ..self.checkpoint.clone()
        };
        // Progress only: a crash that loses it costs a HEAD, never a duplicate.
        self.commit(checkpoint, Durable::Lazily).await?;
        self.state.send_modify(|s| {
            s.appends += 1;
            s.online = true;
        });
        Ok(())
    }

    /// Writes a checkpoint and shows it in the state.
    async fn commit(&mut self, checkpoint: Checkpoint, durable: Durable) -> Result<(), Step> {
        self.journal
            .checkpoint(checkpoint.clone(), matches!(durable, Durable::Now))
            .await
            .map_err(Step::Stop)?;
        self.state.send_modify(|s| {
            s.uploaded = checkpoint.offset;
            s.spooled = s.written.saturating_sub(checkpoint.offset);
            s.key = checkpoint.key.clone();
            s.object_number = checkpoint.object_number;
            s.position = (checkpoint.position != POSITION_UNKNOWN).then_some(checkpoint.position);
            s.crc64 = checkpoint.crc64;
        });
        self.checkpoint = checkpoint;
        Ok(())
    }

    fn judge_append_failure(&mut self, e: SessionError) -> Step {
        match e {
            SessionError::Request(e) if e.is_cancelled() => Step::Cancelled,
            SessionError::GaveUp { .. } => Step::Retry(e.to_string()),
            SessionError::Request(ref inner) if retry::is_transient(inner) => {
                Step::Retry(e.to_string())
            }
            SessionError::Unresolved { .. }
            | SessionError::Poisoned { .. }
            | SessionError::Request(Error::InvalidResponse { .. }) => {
                self.appender = None;
                Step::Retry(e.to_string())
            }
            SessionError::Conflict { .. } | SessionError::Request(Error::CrcMismatch { .. }) => {
                log::warn!("append stream: {e}; checking the object");
                Step::Recover
            }
            SessionError::Request(Error::Service(ref s))
                if s.code == "PositionNotEqualToLength" =>
            {
                log::warn!("append stream: {e}; checking the object");
                Step::Recover
            }
            other => Step::Stop(upload_error(&other)),
        }
    }

    /// Opens a session on the checkpoint's object and decides which spooled bytes it holds.
    async fn recover(&mut self) -> Result<(), Step> {
        let options = AppenderOptions {
            bucket: self.checkpoint.bucket.clone(),
            key: self.checkpoint.key.clone(),
            options: self.options.append_options.clone(),
            retry: self.options.retry.clone(),
        };
        let opened = tokio::select! {
            _ = self.stop.cancelled() => return Err(Step::Cancelled),
            opened = self.client.appender(options) => opened,
        };
        let appender = match opened {
            Ok(a) => a,
            Err(SessionError::GaveUp { last, .. }) => return Err(Step::Retry(last.to_string())),
            Err(SessionError::Request(e)) if retry::is_transient(&e) => {
                return Err(Step::Retry(e.to_string()))
            }
            Err(SessionError::Request(Error::Service(s)))
                if s.code == "ObjectNotAppendable" || s.code == "AppendSealedObjectNotAllowed" =>
            {
                return Err(Step::Stop(self.conflict(0, None, s.to_string())));
            }
            Err(e) => return Err(Step::Stop(upload_error(&e))),
        };
        self.state.send_modify(|s| s.online = true);
        let (length, crc) = (appender.position(), appender.crc64());
        let cp = self.checkpoint.clone();
        if cp.position == POSITION_UNKNOWN {
            // Nothing of this spool went to the object yet: it starts where the object ends.
            log::info!("append stream: starting at {length} bytes");
            // Durable before anything is sent: without it a restart would take the object's
            // end, data of this spool included, for where the spool starts.
            self.commit(
                Checkpoint {
                    position: length,
                    crc64: crc,
                    ..cp
                },
                Durable::Now,
            )
            .await?;
        } else {
            let written = self.state.borrow().written;
            let spooled = written - cp.offset;
            if length < cp.position || length > cp.position + spooled {
                let detail = if length < cp.position {
                    "the object is shorter than where this spool's data starts".to_owned()
                } else {
                    "the object is longer than everything spooled".to_owned()
                };
                return Err(Step::Stop(self.conflict(length, Some(crc), detail)));
            }
            let have = length - cp.position;
            let expected = if have == 0 {
                cp.crc64
            } else {
                let part = self
                    .journal
                    .crc(cp.offset, have)
                    .await
                    .map_err(Step::Stop)?;
                combine(cp.crc64, part, have)
            };
            if crc != expected {
                let detail = format!(
                    "its CRC-64 is not that of the spooled data (expected {expected} for the \
                     first {have} spooled bytes)"
                );
                return Err(Step::Stop(self.conflict(length, Some(crc), detail)));
            }
            if have > 0 {
                log::info!("append stream: {have} spooled bytes were already in the object");
                self.commit(
                    Checkpoint {
                        offset: cp.offset + have,
                        position: length,
                        crc64: crc,
                        ..cp
                    },
                    Durable::Lazily,
                )
                .await?;
            } else {
                let cp = self.checkpoint.clone();
                self.state.send_modify(|s| {
                    s.uploaded = cp.offset;
                    s.position = Some(cp.position);
                    s.crc64 = cp.crc64;
                    s.key = cp.key.clone();
                    s.object_number = cp.object_number;
                });
            }
        }
        self.appender = Some(appender);
        Ok(())
    }

    /// Moves on to the next object: checkpoint first (so a restart goes there), then seal.
    async fn rollover(&mut self) -> Result<(), Step> {
        let roll = self.options.rollover.clone().expect("rollover configured");
        let n = self.checkpoint.object_number + 1;
        let key = match &roll.next_key {
            None => roll.key_for(&self.checkpoint.origin_key, n),
            Some(callback) => {
                let asked = callback.0.next_key(&self.checkpoint.origin_key, n);
                let key = asked.await.map_err(|e| {
                    Step::Retry(format!("the next-key callback failed for object {n}: {e}"))
                })?;
                crate::protocol::validate::key(&key).map_err(|e| {
                    Step::Retry(format!(
                        "the next-key callback gave a bad key for object {n}: {e}"
                    ))
                })?;
                if key == self.checkpoint.key {
                    return Err(Step::Retry(format!(
                        "the next-key callback gave the current key {key:?} for object {n}"
                    )));
                }
                key
            }
        };
        log::info!(
            "append stream: object done at {} bytes, continuing at object {n}",
            self.checkpoint.position
        );
        let next = Checkpoint {
            object_number: n,
            key,
            position: 0,
            crc64: 0,
            started_ms: now_ms(),
            ..self.checkpoint.clone()
        };
        // Durable before the new key is used: a restart must not append its data to the old.
        self.commit(next, Durable::Now).await?;
        if let Some(mut old) = self.appender.take() {
            if roll.seal {
                if let Err(e) = old.seal().await {
                    log::warn!("append stream: sealing the full object failed: {e}");
                    self.state.send_modify(|s| {
                        s.last_error = Some(StreamError::Retrying {
                            message: format!("sealing the full object failed: {e}"),
                        })
                    });
                }
            }
        }
        Ok(())
    }

    fn conflict(
        &self,
        server_length: u64,
        server_crc64: Option<u64>,
        detail: String,
    ) -> StreamError {
        let cp = &self.checkpoint;
        let written = self.state.borrow().written;
        let base = if cp.position == POSITION_UNKNOWN {
            0
        } else {
            cp.position
        };
        StreamError::Conflict {
            bucket: cp.bucket.clone(),
            key: cp.key.clone(),
            base,
            spooled_end: base + (written - cp.offset),
            server_length,
            server_crc64,
            detail,
        }
    }

    fn stop_with(&self, e: StreamError) {
        log::error!("append stream stopped: {e}");
        self.state.send_modify(|s| {
            s.last_error = Some(e.clone());
            if s.stopped.is_none() {
                s.stopped = Some(e);
            }
        });
    }
}

fn upload_error(e: &SessionError) -> StreamError {
    let service = e.as_service();
    StreamError::Upload {
        code: service.map(|s| s.code.clone()),
        status: service.map(|s| s.status),
        message: e.to_string(),
    }
}

/// Whether a checkpoint must be on disk before the uploader goes on.
#[derive(Debug, Clone, Copy)]
enum Durable {
    /// Before anything else is sent: what a restart needs to not send data twice.
    Now,
    /// With the next fsync: progress a restart can find again by HEAD and CRC-64.
    Lazily,
}
