//! Streaming stdin: read as it arrives, appended in blocks by size, idle time and age.

use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

use oss_append::{Appender, SessionError};
use tokio::sync::mpsc;

use crate::progress::StreamCounter;

/// When buffered stdin goes out.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// A block goes out as soon as this many bytes are buffered.
    pub block_size: usize,
    /// ... or after input was idle this long with something buffered ...
    pub flush_after: Duration,
    /// ... or once the oldest buffered byte waited this long.
    pub max_delay: Duration,
}

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
/// appended until it returns.
pub async fn append_stdin(
    session: &mut Appender,
    batching: Batching,
    show_progress: bool,
) -> Result<(), StreamError> {
    // Not while stdin is the terminal too: each redraw would wipe the line being typed.
    let show_progress = show_progress && !std::io::stdin().is_terminal();
    let counter = &mut StreamCounter::new(show_progress, session.position());
    let (tx, mut rx) = mpsc::channel::<Input>(16);
    spawn_reader(tx);
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
                append_block(session, std::mem::take(&mut buffer), counter).await?;
                continue;
            }
        };
        match next {
            Input::Data(data) => {
                counter.read(data.len());
                if buffer.is_empty() {
                    first_at = Instant::now();
                }
                buffer.extend_from_slice(&data);
                while buffer.len() >= batching.block_size {
                    let rest = buffer.split_off(batching.block_size);
                    append_block(session, std::mem::replace(&mut buffer, rest), counter).await?;
                    first_at = Instant::now();
                }
            }
            Input::Failed(e) => {
                if !buffer.is_empty() {
                    append_block(session, buffer, counter).await?;
                }
                return Err(StreamError::Read(e));
            }
            Input::End => break,
        }
    }
    if !buffer.is_empty() {
        append_block(session, buffer, counter).await?;
    }
    Ok(())
}

/// Appends one block and counts it.
async fn append_block(
    session: &mut Appender,
    block: Vec<u8>,
    counter: &mut StreamCounter,
) -> Result<(), SessionError> {
    let len = block.len();
    session.append(block).await?;
    counter.appended(len, session.position());
    Ok(())
}

/// What the stdin reader thread sends.
enum Input {
    Data(Vec<u8>),
    End,
    Failed(std::io::Error),
}

/// Reads stdin on its own thread (reads block) and forwards what arrives. The thread is not
/// joined: at exit it may still be blocked in read().
fn spawn_reader(tx: mpsc::Sender<Input>) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let message = match stdin.read(&mut buf) {
                Ok(0) => Input::End,
                Ok(n) => Input::Data(buf[..n].to_vec()),
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
async fn interrupted() {
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
