//! The durable append stream: writes are spooled on local disk first (a write-ahead log of
//! checksummed records), then uploaded in order, coalesced, through an append session, exactly
//! once across crashes, offline periods and restarts.
//!
//! * [`AppendStream::write`] resolves once the bytes are durable in the spool
//!   ([`Durability`]: fsync each write, or group commit — the default).
//! * [`AppendStream::flush`] resolves when everything written before it is in OSS, its CRC-64
//!   verified.
//! * One background task per stream uploads; what accumulates while an append is in flight
//!   leaves as one append of up to `max_append_bytes`; an idle stream's first write waits at
//!   most `max_delay` for company.
//! * Opening a stream on a spool that holds data (after a kill, a reboot, a dropped stream)
//!   checks the object with HEAD and CRC-64 against the spool and uploads only what the object
//!   lacks (the rule is in `src/stream/uploader.rs`). Another writer's change
//!   stops the stream with [`StreamError::Conflict`] and keeps the spool.
//! * Network failures are retried forever by default ([`Reconnect`]); acknowledged data is only
//!   deleted from the spool once confirmed in OSS. The spool is bounded
//!   (`max_spool_bytes`, [`FullPolicy`]).
//! * Optional [`Rollover`] to a new key before an object passes a size (5 GiB at most).
//!
//! The spool format is described in `src/stream/spool.rs`. Spool I/O runs on a dedicated
//! thread; no method blocks the calling async thread on disk or network.
//!
//! ```no_run
//! use oss_append::{Client, ClientConfig, Credentials};
//! use oss_append::stream::StreamOptions;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(ClientConfig::new(Credentials::new("ak", "sk", None)?, "cn-hangzhou")?)?;
//! let stream = client
//!     .append_stream(StreamOptions::new("my-bucket", "logs/app.log", "/data/spool/app-log"))
//!     .await?;
//! stream.write("first line\n").await?; // durable on disk
//! stream.write(b"second line\n".to_vec()).await?;
//! let state = stream.flush().await?; // in OSS, CRC-64 checked
//! println!("{} bytes uploaded, object at {:?}", state.uploaded, state.position);
//! stream.close().await?;
//! # Ok(()) }
//! ```

mod error;
mod journal;
mod options;
pub mod spool;
mod state;
mod uploader;

pub use error::StreamError;
pub use options::{
    Durability, FullPolicy, NextKey, NextKeyFn, NextKeyFuture, Reconnect, Rollover, StreamOptions,
    DEFAULT_GROUP_COMMIT, DEFAULT_MAX_APPEND_BYTES, DEFAULT_MAX_DELAY, DEFAULT_MAX_SPOOL_BYTES,
    DEFAULT_SEGMENT_BYTES, MAX_WRITE_BYTES,
};
pub use spool::Replay;
pub use state::{StreamState, WriteReceipt};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

use crate::client::Client;
use crate::io::cancel::CancellationToken;
use journal::{Command, JournalHandle, WriteReply};
use spool::{Checkpoint, Spool, POSITION_UNKNOWN};
use uploader::Uploader;

impl Client {
    /// Opens a durable append stream ([`crate::stream`]): opens (or creates) and replays the
    /// spool, then starts its upload task. Needs no network: the object is asked by the upload
    /// task. Fails with a named [`StreamError`] on bad options, a damaged spool, a spool in use
    /// or one belonging to another bucket/key. Must be called within a Tokio runtime (the
    /// upload task is spawned on it).
    pub async fn append_stream(&self, options: StreamOptions) -> Result<AppendStream, StreamError> {
        AppendStream::open(self.clone(), options).await
    }
}

/// A durable append stream. `write` and `flush` take `&self` and may be called concurrently;
/// writes land in the order the `write` calls were made. Dropping the stream without `close`
/// stops the upload task and keeps the spool (a later stream on it continues).
#[derive(Debug)]
pub struct AppendStream {
    journal: Option<JournalHandle>,
    state: Arc<watch::Sender<StreamState>>,
    flush: Arc<watch::Sender<u64>>,
    stop: CancellationToken,
    uploader: Option<tokio::task::JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    replay: Replay,
}

/// A write on its way into the spool: resolves to its [`WriteReceipt`] once durable. The write
/// was queued (its place in the stream fixed) when [`AppendStream::write`] returned, whether or
/// not this is awaited. `Send + 'static`.
#[derive(Debug)]
pub struct PendingWrite {
    rx: oneshot::Receiver<Result<WriteReceipt, StreamError>>,
}

impl Future for PendingWrite {
    type Output = Result<WriteReceipt, StreamError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(StreamError::Closed)))
    }
}

impl AppendStream {
    async fn open(client: Client, options: StreamOptions) -> Result<Self, StreamError> {
        options.validate()?;
        let (dir, segment_bytes) = (options.spool_dir.clone(), options.segment_bytes);
        let (bucket, key) = (options.bucket.clone(), options.key.clone());
        let opened = tokio::task::spawn_blocking(move || {
            let mut spool = Spool::open(&dir, segment_bytes)?;
            match spool.latest_checkpoint() {
                Some(cp) if cp.bucket != bucket => Err(StreamError::SpoolMismatch {
                    field: "bucket",
                    spool: cp.bucket.clone(),
                    given: bucket,
                }),
                Some(cp) if cp.origin_key != key => Err(StreamError::SpoolMismatch {
                    field: "key",
                    spool: cp.origin_key.clone(),
                    given: key,
                }),
                Some(_) => Ok(spool),
                None => {
                    spool.start(Checkpoint {
                        offset: 0,
                        object_number: 0,
                        position: POSITION_UNKNOWN,
                        crc64: 0,
                        bucket,
                        origin_key: key.clone(),
                        key,
                        started_ms: crate::stream::spool::now_ms(),
                    })?;
                    Ok(spool)
                }
            }
        })
        .await
        .map_err(|e| StreamError::SpoolIo {
            op: "open",
            path: options.spool_dir.clone(),
            message: e.to_string(),
        })??;
        let checkpoint = opened
            .latest_checkpoint()
            .cloned()
            .expect("a started spool");
        let replay = opened.replay().clone();
        let written = opened.end();
        let state = Arc::new(watch::Sender::new(StreamState {
            bucket: checkpoint.bucket.clone(),
            key: checkpoint.key.clone(),
            object_number: checkpoint.object_number,
            written,
            uploaded: checkpoint.offset,
            spooled: written - checkpoint.offset,
            position: (checkpoint.position != POSITION_UNKNOWN).then_some(checkpoint.position),
            crc64: checkpoint.crc64,
            fsyncs: opened.fsyncs(),
            ..StreamState::default()
        }));
        let (tx, rx) = std::sync::mpsc::channel::<Command>();
        let thread_state = state.clone();
        let (durability, max_spool, policy) = (
            options.durability,
            options.max_spool_bytes,
            options.full_policy,
        );
        let thread = std::thread::Builder::new()
            .name("oss-append-spool".into())
            .spawn(move || journal::run(opened, durability, max_spool, policy, thread_state, rx))
            .map_err(|e| StreamError::io("open", &options.spool_dir, &e))?;
        let journal = JournalHandle::new(tx);
        let flush = Arc::new(watch::Sender::new(0u64));
        let stop = CancellationToken::new();
        let uploader = Uploader {
            client,
            options,
            journal: journal.clone(),
            state: state.clone(),
            flush: flush.subscribe(),
            stop: stop.clone(),
            checkpoint,
            appender: None,
        };
        let uploader = tokio::spawn(uploader.run());
        Ok(Self {
            journal: Some(journal),
            state,
            flush,
            stop,
            uploader: Some(uploader),
            thread: Some(thread),
            replay,
        })
    }

    /// Queues `data` (one spool record, at most [`MAX_WRITE_BYTES`]) at the end of the stream;
    /// the returned future resolves once it is durable. Its order among writes is fixed when
    /// this returns. Fails with [`StreamError::SpoolFull`] (policy `Reject`), or
    /// [`StreamError::Stopped`] once the stream stopped.
    pub fn write(&self, data: impl Into<Bytes>) -> PendingWrite {
        let (reply, rx) = oneshot::channel();
        self.queue(data.into(), WriteReply::Channel(reply));
        PendingWrite { rx }
    }

    /// [`AppendStream::write`] answered by a callback instead of a future: `done` runs once,
    /// on the spool's thread right after the fsync that makes the write durable (or at once,
    /// here, when the write is refused). For bindings that hand the answer to another thread
    /// anyway (the JS one); `done` must return quickly.
    pub fn write_then(
        &self,
        data: impl Into<Bytes>,
        done: impl FnOnce(Result<WriteReceipt, StreamError>) + Send + 'static,
    ) {
        self.queue(data.into(), WriteReply::Callback(Box::new(done)));
    }

    fn queue(&self, data: Bytes, reply: WriteReply) {
        if let Some(e) = &self.state.borrow().stopped {
            return reply.send(Err(StreamError::Stopped(Box::new(e.clone()))));
        }
        if data.len() as u64 > MAX_WRITE_BYTES {
            return reply.send(Err(StreamError::invalid(
                "data",
                format!(
                    "one write is at most {MAX_WRITE_BYTES} bytes, got {}",
                    data.len()
                ),
            )));
        }
        match &self.journal {
            Some(journal) => journal.send(Command::Write { data, reply }),
            None => reply.send(Err(StreamError::Closed)),
        }
    }

    /// Resolves when everything written before this call is in OSS and CRC-64 verified (the
    /// returned state's `uploaded` covers it), or fails when the stream stops. It waits through
    /// outages for as long as the stream retries; wrap it in a timeout to bound that.
    pub async fn flush(&self) -> Result<StreamState, StreamError> {
        let journal = self.journal.as_ref().ok_or(StreamError::Closed)?;
        let target = journal.barrier().await?;
        self.flush.send_modify(|t| *t = (*t).max(target));
        let mut rx = self.state.subscribe();
        loop {
            {
                let s = rx.borrow_and_update();
                if s.uploaded >= target {
                    return Ok(s.clone());
                }
                if let Some(e) = &s.stopped {
                    return Err(StreamError::Stopped(Box::new(e.clone())));
                }
            }
            if rx.changed().await.is_err() {
                return Err(StreamError::Closed);
            }
        }
    }

    /// Flushes, then stops the upload task and the spool thread. The spool stays on disk
    /// (holding only checkpoints once everything is uploaded). The flush's error, if any, is
    /// returned after shutting down; the spool then still holds what was not uploaded.
    pub async fn close(mut self) -> Result<StreamState, StreamError> {
        let flushed = self.flush().await;
        self.shutdown().await;
        self.state.send_modify(|s| s.closed = true);
        flushed.map(|_| self.state())
    }

    async fn shutdown(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.uploader.take() {
            let _ = task.await;
        }
        self.journal = None;
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// The current state.
    pub fn state(&self) -> StreamState {
        self.state.borrow().clone()
    }

    /// Progress and error events: a receiver that sees every change of the state (written,
    /// uploaded, online, last error, stopped). Intermediate states may be skipped by a slow
    /// receiver; the latest is always there. Works after the stream is dropped (it then stops
    /// changing).
    pub fn subscribe(&self) -> watch::Receiver<StreamState> {
        self.state.subscribe()
    }

    /// What replaying the spool at open found.
    pub fn replay(&self) -> &Replay {
        &self.replay
    }
}

impl Drop for AppendStream {
    fn drop(&mut self) {
        // The upload task sees this at its next step; the spool thread ends when the last
        // handle is gone, after making the last writes durable.
        self.stop.cancel();
    }
}
