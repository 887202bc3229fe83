//! `--spool DIR`: the input goes through a durable append stream (`oss_append::stream`).
//! Each block read is written to the spool (durable) before anything else happens to it; the
//! stream uploads in order and rides out outages; at end of input the tool waits until all is
//! in OSS. On SIGINT/SIGTERM it stops reading, waits until what it read is on disk, gives the
//! upload a few seconds, and leaves the rest in the spool for the next run.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use oss_append::stream::{AppendStream, StreamOptions, StreamState};
use oss_append::{AppendOptions, Client};

use crate::args::{Args, Object};
use crate::failure::Failure;

/// How much one read from the input may take.
const READ_CHUNK: usize = 256 * 1024;
/// Writes in flight (queued for the spool) before the reader waits for the oldest.
const IN_FLIGHT: usize = 64;
/// How long an interrupted run still waits for the upload before leaving the rest spooled.
const INTERRUPTED_FLUSH: Duration = Duration::from_secs(5);

/// Runs the spooled transfer of stdin (or `file`) to `object`.
pub async fn run(
    client: &Client,
    args: &Args,
    object: &Object,
    dir: &Path,
    file: Option<&Path>,
) -> Result<(), Failure> {
    let batching = args.batching();
    let mut options = StreamOptions::new(&object.bucket, &object.key, dir)
        .with_retry(args.retry_policy())
        .with_coalescing(
            batching.block_size.max(1) as u64,
            batching.flush_after.min(batching.max_delay),
        );
    options.append_options = AppendOptions {
        content_type: args.content_type.clone(),
        ..AppendOptions::default()
    };
    let stream = client.append_stream(options).await.map_err(|e| Failure {
        status: 1,
        message: format!("cannot open the spool for {object}: {e}"),
        notes: Vec::new(),
    })?;
    let resumed = stream.state().spooled;
    if resumed > 0 {
        eprintln!("oss-append: {resumed} bytes left in the spool by an earlier run go first");
    }
    let mut input: Box<dyn Read + Send> = match file {
        Some(path) => Box::new(std::fs::File::open(path).map_err(|e| Failure {
            status: 2,
            message: format!("cannot open {}: {e}", path.display()),
            notes: Vec::new(),
        })?),
        None => Box::new(std::io::stdin()),
    };
    // A thread reads (blocking); the chunks come over a bounded channel.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    std::thread::spawn(move || loop {
        let mut buf = vec![0u8; READ_CHUNK];
        let chunk = match input.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if tx.blocking_send(chunk).is_err() || failed {
            return;
        }
    });
    let mut read = 0u64;
    let mut pending = VecDeque::new();
    let mut interrupted = false;
    let mut read_error = None;
    let signal = crate::stdin::interrupted();
    tokio::pin!(signal);
    loop {
        let chunk = tokio::select! {
            _ = &mut signal => { interrupted = true; break }
            chunk = rx.recv() => chunk,
        };
        match chunk {
            None => break,
            Some(Err(e)) => {
                read_error = Some(e);
                break;
            }
            Some(Ok(chunk)) => {
                read += chunk.len() as u64;
                pending.push_back(stream.write(chunk));
                if pending.len() >= IN_FLIGHT {
                    let oldest = pending.pop_front().expect("one in flight");
                    oldest.await.map_err(|e| stopped(object, &stream, &e))?;
                }
            }
        }
    }
    for write in pending {
        write.await.map_err(|e| stopped(object, &stream, &e))?;
    }
    if interrupted {
        let flushed = tokio::time::timeout(INTERRUPTED_FLUSH, stream.flush()).await;
        let state = stream.state();
        report(&state);
        if let Ok(Ok(_)) = flushed {
            drop(stream.close().await);
            return Ok(());
        }
        return Err(Failure {
            status: 1,
            message: format!(
                "interrupted: {} bytes read are in the spool {} and not yet in {object}; the \
                 next run with --spool uploads them",
                state.spooled,
                dir.display()
            ),
            notes: Vec::new(),
        });
    }
    let closed = stream.close().await;
    match closed {
        Ok(state) => {
            report(&state);
            match read_error {
                Some(e) => Err(Failure {
                    status: 1,
                    message: format!("reading the input failed after {read} bytes: {e}"),
                    notes: Vec::new(),
                }),
                None => Ok(()),
            }
        }
        Err(e) => Err(Failure {
            status: 1,
            message: format!("the stream to {object} stopped: {e}"),
            notes: vec![format!(
                "what was read and not uploaded stays in the spool {}",
                dir.display()
            )],
        }),
    }
}

fn stopped(object: &Object, stream: &AppendStream, e: &oss_append::stream::StreamError) -> Failure {
    report(&stream.state());
    Failure {
        status: 1,
        message: format!("the stream to {object} stopped: {e}"),
        notes: vec!["what was read and not uploaded stays in the spool".into()],
    }
}

/// `position=… crc64=…` on stdout (as without --spool), the spool's figures on stderr.
fn report(state: &StreamState) {
    match state.position {
        Some(p) => println!("position={p} crc64={}", state.crc64),
        None => println!("position=unknown"),
    }
    eprintln!(
        "oss-append: {} bytes spooled in all, {} uploaded, {} waiting in the spool, {} appends",
        state.written, state.uploaded, state.spooled, state.appends
    );
}
