//! The spool's own thread: every spool write and fsync runs here, so no caller's async thread
//! ever waits on the disk. Callers send a [`Command`] and await its answer (a `oneshot`, or
//! for writes from a binding a callback, see [`WriteReply`]).
//!
//! Group commit: writes are appended as they arrive and answered after the fsync that covers
//! them. With [`Durability::EachWrite`] each write gets its own fsync; with
//! [`Durability::GroupCommit`] the thread first takes every command already queued (waiting
//! up to [`GATHER`] for the rest of a burst), then fsyncs once for all of them, and fsyncs
//! start at most once per `interval` (start to start). Writes that arrive during an fsync form
//! the next group. Checkpoints and barriers join the group like writes: a durable checkpoint
//! is answered once on disk, a progress one at once (the next fsync takes it along), a barrier
//! once everything before it is durable. So the uploader's bookkeeping never costs a write an
//! fsync of its own.
//!
//! Reading spooled bytes for an upload does not run here: the thread answers a
//! [`ReadPlan`] (which file ranges hold them, durable ones only) and the caller reads them on
//! a blocking task, so a 4 MiB read never delays a write's fsync.
//!
//! The full policy is applied here too, in arrival order: with [`FullPolicy::Wait`] a write
//! that does not fit (and everything after it) waits until a checkpoint frees room.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

use crate::stream::error::StreamError;
use crate::stream::options::{Durability, FullPolicy};
use crate::stream::spool::{Checkpoint, ReadPlan, Spool};
use crate::stream::state::{StreamState, WriteReceipt};

/// Answer channel of a command.
pub type Reply<T> = oneshot::Sender<Result<T, StreamError>>;

/// What the journal thread is asked to do.
#[derive(Debug)]
pub enum Command {
    /// Spool one write; answered once durable.
    Write {
        /// The bytes.
        data: Bytes,
        /// Answer.
        reply: WriteReply,
    },
    /// Answers the stream offset after every write sent before it, once those are durable.
    Barrier {
        /// Answer.
        reply: Reply<u64>,
    },
    /// Write a checkpoint; answered once it is durable, or at once when `durable` is false
    /// (then the next fsync, of the next write or at close, takes it along). Segments it makes
    /// unneeded are deleted once it is durable.
    Checkpoint {
        /// The checkpoint.
        checkpoint: Checkpoint,
        /// Whether the answer waits for an fsync.
        durable: bool,
        /// Answer.
        reply: Reply<()>,
    },
    /// Where the durable records from an offset are, up to a size (at least one record).
    Read {
        /// Stream offset.
        from: u64,
        /// Size bound.
        max: u64,
        /// Answer.
        reply: Reply<ReadPlan>,
    },
    /// CRC-64 of spooled bytes.
    Crc {
        /// Stream offset.
        from: u64,
        /// Length.
        len: u64,
        /// Answer.
        reply: Reply<u64>,
    },
}

/// How a write is answered: through a channel (the future [`AppendStream::write`] returns),
/// or by a callback run on the spool's thread right after the fsync
/// ([`AppendStream::write_then`]): no task has to wake up in between, which is one thread
/// switch less before a JS promise resolves. A callback must return quickly (it delays the
/// answers of the rest of its group).
///
/// [`AppendStream::write`]: crate::stream::AppendStream::write
/// [`AppendStream::write_then`]: crate::stream::AppendStream::write_then
pub enum WriteReply {
    /// The future's channel.
    Channel(Reply<WriteReceipt>),
    /// A callback.
    Callback(Box<dyn FnOnce(Result<WriteReceipt, StreamError>) + Send>),
}

impl WriteReply {
    /// Answers (a receiver that is gone is not an error: nobody waits any more).
    pub fn send(self, result: Result<WriteReceipt, StreamError>) {
        match self {
            WriteReply::Channel(tx) => drop(tx.send(result)),
            WriteReply::Callback(done) => done(result),
        }
    }
}

impl std::fmt::Debug for WriteReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WriteReply::Channel(_) => "WriteReply::Channel",
            WriteReply::Callback(_) => "WriteReply::Callback",
        })
    }
}

/// The most commands handled between two fsync decisions.
const BATCH: usize = 4096;

/// How long a group waits for more of a burst before its fsync (at most, from the moment the
/// queue first ran dry): a fraction of one fsync, which it can save.
const GATHER: Duration = Duration::from_micros(150);

/// A caller waiting for the next fsync.
enum Waiter {
    Write(WriteReply, WriteReceipt),
    Checkpoint(Reply<()>),
    /// A barrier and the stream offset it answers.
    Barrier(Reply<u64>, u64),
}

impl Waiter {
    fn succeed(self) {
        match self {
            Waiter::Write(reply, receipt) => reply.send(Ok(receipt)),
            Waiter::Checkpoint(reply) => drop(reply.send(Ok(()))),
            Waiter::Barrier(reply, end) => drop(reply.send(Ok(end))),
        }
    }

    fn fail(self, e: StreamError) {
        match self {
            Waiter::Write(reply, _) => reply.send(Err(e)),
            Waiter::Checkpoint(reply) => drop(reply.send(Err(e))),
            Waiter::Barrier(reply, _) => drop(reply.send(Err(e))),
        }
    }
}

struct Journal {
    spool: Spool,
    durability: Durability,
    max_spool_bytes: u64,
    full_policy: FullPolicy,
    state: Arc<watch::Sender<StreamState>>,
    /// Written (or asking), waiting for the fsync that covers them.
    unsynced: Vec<Waiter>,
    /// Writes (and barriers behind them) waiting for room, in order.
    waiting: VecDeque<Command>,
    /// When the last fsync started.
    last_fsync: Instant,
    failed: Option<StreamError>,
}

/// Runs the journal until every sender is gone; then makes the last writes durable.
pub fn run(
    spool: Spool,
    durability: Durability,
    max_spool_bytes: u64,
    full_policy: FullPolicy,
    state: Arc<watch::Sender<StreamState>>,
    commands: Receiver<Command>,
) {
    let (remover, removals) = std::sync::mpsc::channel::<std::path::PathBuf>();
    let mut spool = spool;
    let remover_thread = std::thread::Builder::new()
        .name("oss-append-spool-remove".into())
        .spawn(move || {
            for path in removals {
                if let Err(e) = std::fs::remove_file(&path) {
                    log::warn!(
                        "spool: deleting {} failed ({e}); retried after the next open",
                        path.display()
                    );
                }
            }
        });
    if remover_thread.is_ok() {
        spool.remove_segments_with(remover);
    }
    let mut j = Journal {
        spool,
        durability,
        max_spool_bytes,
        full_policy,
        state,
        unsynced: Vec::new(),
        waiting: VecDeque::new(),
        last_fsync: Instant::now() - Duration::from_secs(1),
        failed: None,
    };
    'outer: loop {
        let first = match j.fsync_due_in() {
            None => match commands.recv() {
                Ok(c) => Some(c),
                Err(_) => break,
            },
            Some(wait) if wait.is_zero() => None,
            Some(wait) => match commands.recv_timeout(wait) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            },
        };
        if let Some(c) = first {
            j.handle(c);
            let mut gather_until = None;
            for _ in 0..BATCH {
                match commands.try_recv() {
                    Ok(c) => j.handle(c),
                    Err(std::sync::mpsc::TryRecvError::Empty) => {
                        if !j.fsync_due_in().is_some_and(|d| d.is_zero()) {
                            break;
                        }
                        // A burst of writes (a logger's lines) reaches this thread one by one,
                        // and the thread can take them faster than they come: wait a moment
                        // for the rest, so the burst shares one fsync instead of two.
                        let until = *gather_until.get_or_insert_with(|| Instant::now() + GATHER);
                        match commands.recv_timeout(until.saturating_duration_since(Instant::now()))
                        {
                            Ok(c) => j.handle(c),
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => {
                                j.sync();
                                break 'outer;
                            }
                        }
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        j.sync();
                        break 'outer;
                    }
                }
            }
        }
        if j.fsync_due_in().is_some_and(|d| d.is_zero()) {
            j.sync();
        }
    }
    j.sync();
    for c in j.waiting.drain(..) {
        answer_closed(c);
    }
    // The spool (and with it the remover's sender) goes first; then the deletions it asked
    // for are done before the stream counts as closed.
    drop(j);
    if let Ok(thread) = remover_thread {
        let _ = thread.join();
    }
}

fn answer_closed(c: Command) {
    refuse(c, StreamError::Closed);
}

/// Answers a command with `e` without doing it.
fn refuse(c: Command, e: StreamError) {
    match c {
        Command::Write { reply, .. } => reply.send(Err(e)),
        Command::Barrier { reply } => drop(reply.send(Err(e))),
        Command::Checkpoint { reply, .. } => drop(reply.send(Err(e))),
        Command::Read { reply, .. } => drop(reply.send(Err(e))),
        Command::Crc { reply, .. } => drop(reply.send(Err(e))),
    }
}

impl Journal {
    /// `None`: nothing waits for an fsync; otherwise how long until the next one is due.
    fn fsync_due_in(&self) -> Option<Duration> {
        if self.unsynced.is_empty() {
            return None;
        }
        match self.durability {
            Durability::EachWrite => Some(Duration::ZERO),
            Durability::GroupCommit { interval } => {
                Some((self.last_fsync + interval).saturating_duration_since(Instant::now()))
            }
        }
    }

    fn handle(&mut self, c: Command) {
        if let Some(e) = &self.failed {
            return refuse(c, e.clone());
        }
        match c {
            Command::Write { .. } | Command::Barrier { .. } if !self.waiting.is_empty() => {
                self.waiting.push_back(c)
            }
            Command::Write { data, reply } => self.write(data, reply),
            Command::Barrier { reply } => self.barrier(reply),
            Command::Checkpoint {
                checkpoint,
                durable,
                reply,
            } => {
                match self.spool.checkpoint(checkpoint) {
                    Ok(()) if durable => self.unsynced.push(Waiter::Checkpoint(reply)),
                    Ok(()) => drop(reply.send(Ok(()))),
                    Err(e) => {
                        let _ = reply.send(Err(e.clone()));
                        self.fail(e);
                    }
                }
                // The room it frees counts at once: the spool's bound is on unconfirmed
                // bytes, and this checkpoint is durable before any write admitted now is.
                self.admit_waiting();
            }
            Command::Read { from, max, reply } => {
                let _ = reply.send(self.spool.read_plan(from, max));
            }
            Command::Crc { from, len, reply } => {
                let _ = reply.send(self.spool.crc(from, len));
            }
        }
    }

    fn fits(&self, len: u64) -> bool {
        let pending = self.spool.pending();
        pending == 0 || pending + len <= self.max_spool_bytes
    }

    fn write(&mut self, data: Bytes, reply: WriteReply) {
        let len = data.len() as u64;
        if !self.fits(len) {
            match self.full_policy {
                FullPolicy::Reject => reply.send(Err(StreamError::SpoolFull {
                    max_spool_bytes: self.max_spool_bytes,
                    pending: self.spool.pending(),
                    len,
                })),
                FullPolicy::Wait => self.waiting.push_back(Command::Write { data, reply }),
            }
            return;
        }
        match self.spool.append(&data) {
            Ok(offset) => {
                self.unsynced
                    .push(Waiter::Write(reply, WriteReceipt { offset, len }));
                if self.durability == Durability::EachWrite {
                    self.sync();
                }
            }
            Err(e @ StreamError::InvalidOption { .. }) => reply.send(Err(e)),
            Err(e) => {
                reply.send(Err(e.clone()));
                self.fail(e);
            }
        }
    }

    /// Lets waiting writes in while they fit.
    fn admit_waiting(&mut self) {
        while let Some(c) = self.waiting.front() {
            match c {
                Command::Write { data, .. } if !self.fits(data.len() as u64) => return,
                _ => {}
            }
            let Some(c) = self.waiting.pop_front() else {
                return;
            };
            match c {
                Command::Write { data, reply } => self.write(data, reply),
                Command::Barrier { reply } => self.barrier(reply),
                other => answer_closed(other),
            }
        }
    }

    /// Answers at once when everything written is durable, else after the next fsync.
    fn barrier(&mut self, reply: Reply<u64>) {
        if self.unsynced.is_empty() {
            let _ = reply.send(Ok(self.spool.end()));
        } else {
            self.unsynced.push(Waiter::Barrier(reply, self.spool.end()));
        }
    }

    fn sync_now(&mut self) -> Result<(), StreamError> {
        self.last_fsync = Instant::now();
        self.spool.sync()?;
        let (end, fsyncs) = (self.spool.end(), self.spool.fsyncs());
        self.state.send_modify(|s| {
            s.written = end;
            s.spooled = end.saturating_sub(s.uploaded);
            s.fsyncs = fsyncs;
        });
        for waiter in self.unsynced.drain(..) {
            waiter.succeed();
        }
        Ok(())
    }

    fn sync(&mut self) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.sync_now() {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: StreamError) {
        log::error!("spool failed: {e}");
        for waiter in self.unsynced.drain(..) {
            waiter.fail(e.clone());
        }
        self.state.send_modify(|s| {
            s.last_error = Some(e.clone());
            if s.stopped.is_none() {
                s.stopped = Some(e.clone());
            }
        });
        self.failed = Some(e);
    }
}

/// A handle on the journal thread.
#[derive(Debug, Clone)]
pub struct JournalHandle {
    tx: Sender<Command>,
}

impl JournalHandle {
    /// Wraps the sending side.
    pub fn new(tx: Sender<Command>) -> Self {
        Self { tx }
    }

    /// Sends a command; a gone thread answers `Closed`.
    pub fn send(&self, c: Command) {
        if let Err(std::sync::mpsc::SendError(c)) = self.tx.send(c) {
            answer_closed(c);
        }
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, StreamError> {
        let (reply, rx) = oneshot::channel();
        self.send(make(reply));
        rx.await.unwrap_or(Err(StreamError::Closed))
    }

    /// [`Command::Barrier`].
    pub async fn barrier(&self) -> Result<u64, StreamError> {
        self.ask(|reply| Command::Barrier { reply }).await
    }

    /// [`Command::Checkpoint`]: answered once on disk when `durable`, else at once (for
    /// progress a crash may lose: HEAD and CRC-64 then find what the object already has).
    pub async fn checkpoint(
        &self,
        checkpoint: Checkpoint,
        durable: bool,
    ) -> Result<(), StreamError> {
        self.ask(|reply| Command::Checkpoint {
            checkpoint,
            durable,
            reply,
        })
        .await
    }

    /// Durable whole records from `from`, up to `max` bytes (at least one record): the plan
    /// from the journal thread, read on a blocking task.
    pub async fn read(&self, from: u64, max: u64) -> Result<Bytes, StreamError> {
        let plan = self.ask(|reply| Command::Read { from, max, reply }).await?;
        if plan.is_empty() {
            return Ok(Bytes::new());
        }
        tokio::task::spawn_blocking(move || plan.read())
            .await
            .unwrap_or(Err(StreamError::Closed))
            .map(Bytes::from)
    }

    /// [`Command::Crc`].
    pub async fn crc(&self, from: u64, len: u64) -> Result<u64, StreamError> {
        self.ask(|reply| Command::Crc { from, len, reply }).await
    }
}
