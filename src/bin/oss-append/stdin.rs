//! Streaming stdin: read as it arrives, appended in blocks by size, idle time and age.

use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use oss_append::{crc64, Appender, SessionError};
use tokio::sync::mpsc;

use crate::args::Batching;
use crate::progress::StreamCounter;
use crate::report::Tally;

/// Why streaming stopped early.
#[derive(Debug)]
pub enum StreamError {
    Append(SessionError),
    Read(std::io::Error),
}

impl From<SessionError> for StreamError {
    fn from(e: SessionError) -> Self {
        Self::Append(e)
    }
}

/// Appends stdin to the session until end of input or SIGINT/SIGTERM, then what is buffered.
/// When reading fails, what was read before is appended first, then the read error returned.
/// With `show_progress` (and stdin not a terminal), a counter on stderr shows what was read and
/// appended until it returns. `tally` gets the bytes read and appended, and an append whose
/// outcome is open.
pub async fn append_stdin(
    session: &mut Appender,
    batching: Batching,
    show_progress: bool,
    tally: &mut Tally,
) -> Result<(), StreamError> {
    let read = Arc::new(AtomicU64::new(0));
    let outcome = stream(session, batching, show_progress, tally, &read).await;
    // Counted by the reader thread, so that what it read but the loop had not taken yet (still
    // in the channel when an append failed) counts as read too.
    tally.read = Some(read.load(Ordering::SeqCst));
    outcome
}

async fn stream(
    session: &mut Appender,
    batching: Batching,
    show_progress: bool,
    tally: &mut Tally,
    read: &Arc<AtomicU64>,
) -> Result<(), StreamError> {
    // Not while stdin is the terminal too: each redraw would wipe the line being typed.
    let show_progress = show_progress && !std::io::stdin().is_terminal();
    let counter = &mut StreamCounter::new(show_progress, session.position());
    let blocks = &mut Blocks { counter, tally };
    let (tx, mut rx) = mpsc::channel::<Input>(16);
    spawn_reader(tx, Arc::clone(read));
    let mut buffer: Vec<u8> = Vec::new();
    // When the oldest byte in `buffer` arrived (meaningful only while it is not empty).
    let mut first_at = Instant::now();
    let interrupt = interrupted();
    tokio::pin!(interrupt);
    loop {
        let wait = (!buffer.is_empty()).then(|| {
            batching
                .flush_after
                .min(batching.max_delay.saturating_sub(first_at.elapsed()))
        });
        let next = tokio::select! {
            biased;
            () = &mut interrupt => Input::End,
            m = rx.recv() => m.unwrap_or(Input::End),
            () = sleep_or_never(wait) => {
                // Idle (or the oldest byte waited long enough): append what is buffered.
                blocks.append(session, std::mem::take(&mut buffer)).await?;
                continue;
            }
        };
        match next {
            Input::Data(data) => {
                blocks.counter.read(data.len());
                if buffer.is_empty() {
                    first_at = Instant::now();
                }
                buffer.extend_from_slice(&data);
                while buffer.len() >= batching.block_size {
                    let rest = buffer.split_off(batching.block_size);
                    blocks
                        .append(session, std::mem::replace(&mut buffer, rest))
                        .await?;
                    first_at = Instant::now();
                }
            }
            Input::Failed(e) => {
                if !buffer.is_empty() {
                    blocks.append(session, buffer).await?;
                }
                return Err(StreamError::Read(e));
            }
            Input::End => break,
        }
    }
    if !buffer.is_empty() {
        blocks.append(session, buffer).await?;
    }
    Ok(())
}

/// Appends blocks and counts them, on the display and in the tally.
struct Blocks<'a> {
    counter: &'a mut StreamCounter,
    tally: &'a mut Tally,
}

impl Blocks<'_> {
    async fn append(&mut self, session: &mut Appender, block: Vec<u8>) -> Result<(), SessionError> {
        // Shared with the request, not copied: its CRC-64 is needed if the outcome stays open.
        let block = Bytes::from(block);
        let len = block.len();
        match session.append(block.clone()).await {
            Ok(_) => {
                self.tally.appended += len as u64;
                self.counter.appended(len, session.position());
                Ok(())
            }
            Err(e) => {
                self.tally
                    .failed(&e, len as u64, || Some(crc64::checksum(&block)));
                Err(e)
            }
        }
    }
}

/// What the stdin reader thread sends.
enum Input {
    Data(Vec<u8>),
    End,
    Failed(std::io::Error),
}

/// Reads stdin on its own thread (reads block) and forwards what arrives, counting it in
/// `read`. The thread is not joined: at exit it may still be blocked in read().
fn spawn_reader(tx: mpsc::Sender<Input>, read: Arc<AtomicU64>) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let message = match stdin.read(&mut buf) {
                Ok(0) => Input::End,
                Ok(n) => {
                    read.fetch_add(n as u64, Ordering::SeqCst);
                    Input::Data(buf[..n].to_vec())
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Input::Failed(e),
            };
            let last = !matches!(message, Input::Data(_));
            if tx.blocking_send(message).is_err() || last {
                return;
            }
        }
    });
}

/// Resolves on SIGINT or SIGTERM.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
