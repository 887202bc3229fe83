//! Body sources: bytes in memory, or a file streamed in fixed-size chunks. Whatever the source,
//! the upload goes through [`TrackedBody`], which computes the CRC-64 of exactly the bytes it
//! hands to the connection and records progress (for the stall watchdog, and for an optional
//! [`crate::io::progress`] observer attached with [`Body::with_progress`]).

use std::fs::File;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::task::JoinHandle;

use crate::io::progress::{ProgressObserver, Reporter};
use crate::protocol::crc64::Crc64;
use crate::protocol::error::{Error, Result};

/// How much of a file is read per chunk. Large enough that per-chunk overhead vanishes, small
/// enough that memory stays flat: a few chunks are in flight (one reading, one or two with the
/// connection), and their buffers are recycled ([`ChunkBuffers`]).
pub const FILE_CHUNK_SIZE: usize = 1024 * 1024;
/// In-memory bodies are handed over in slices of this size (no copy) so progress and the
/// watchdog see them move (64 KiB: progress of a few MiB still moves in 1 % steps).
const BYTES_CHUNK_SIZE: usize = 64 * 1024;

/// The data of an append.
pub struct Body {
    source: Source,
    /// The progress observer, which follows the body through every try of it.
    reporter: Option<Arc<Reporter>>,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("source", &self.source)
            .field("progress", &self.reporter.is_some())
            .finish()
    }
}

#[derive(Debug)]
enum Source {
    Bytes(Bytes),
    File(File),
    Path(PathBuf),
}

impl Body {
    /// Bytes in memory (a string is its UTF-8 bytes).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self {
            source: Source::Bytes(bytes.into()),
            reporter: None,
        }
    }

    /// A file opened by the caller. The whole file is sent, from its first byte, whatever the
    /// file's current offset (reads are positional and leave the offset alone).
    pub fn from_file(file: File) -> Self {
        Self {
            source: Source::File(file),
            reporter: None,
        }
    }

    /// A file descriptor owned by the caller (e.g. from HarmonyOS `fileIo.open`). It is
    /// duplicated now, so the caller may close its descriptor as soon as this returns.
    pub fn from_fd(fd: RawFd) -> Result<Self> {
        if fd < 0 {
            return Err(Error::invalid("data", format!("fd must be >= 0, got {fd}")));
        }
        // SAFETY: fcntl(F_DUPFD_CLOEXEC) only reads the descriptor number; an fd that is not
        // open makes it fail with EBADF, which we report.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            let err = std::io::Error::last_os_error();
            return Err(Error::invalid(
                "data",
                format!("fd {fd} cannot be used: {err}"),
            ));
        }
        // SAFETY: `dup` is a fresh descriptor that nothing else owns.
        Ok(Self::from_file(unsafe { File::from_raw_fd(dup) }))
    }

    /// A file by path, opened when the append starts.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        Self {
            source: Source::Path(path.into()),
            reporter: None,
        }
    }

    /// Reports upload progress to `observer` as `(bytes sent, total)`, throttled: at most every
    /// 100 ms or 1 % of the body, and always `(total, total)` once the last byte is handed to
    /// the connection (see [`crate::io::progress`] for the exact rule). The same observer follows
    /// the body through every try of an append session, and never sees the count go down.
    ///
    /// ```
    /// use oss_append::Body;
    /// let body = Body::from("hello").with_progress(|sent, total| eprintln!("{sent}/{total}"));
    /// # drop(body);
    /// ```
    pub fn with_progress(mut self, observer: impl Into<ProgressObserver>) -> Self {
        self.reporter = Some(Arc::new(Reporter::new(observer.into())));
        self
    }

    /// Opens the source and fixes its length (a file's size now; it must not shrink while it is
    /// sent). Blocking work runs off the async threads.
    pub(crate) async fn open(self) -> Result<OpenedBody> {
        let reporter = self.reporter;
        let file = match self.source {
            Source::Bytes(bytes) => {
                return Ok(OpenedBody {
                    len: bytes.len() as u64,
                    content: Content::Bytes(bytes),
                    reporter,
                })
            }
            Source::File(file) => file,
            Source::Path(path) => tokio::task::spawn_blocking(move || {
                File::open(&path).map_err(|e| {
                    Error::invalid("data", format!("cannot open {}: {e}", path.display()))
                })
            })
            .await
            .map_err(join_error)??,
        };
        let (file, len) = tokio::task::spawn_blocking(move || {
            let meta = file
                .metadata()
                .map_err(|e| Error::invalid("data", format!("cannot stat the file: {e}")))?;
            if !meta.is_file() {
                return Err(Error::invalid(
                    "data",
                    "must be a regular file (got a directory or special file)",
                ));
            }
            // Files of /proc and /sys report size 0 whatever they hold: sent by their size they
            // would append nothing and report success. An empty file has no first byte.
            if meta.len() == 0 && file.read_at(&mut [0u8; 1], 0).is_ok_and(|n| n > 0) {
                return Err(Error::invalid(
                    "data",
                    "is a file whose size is not known (its size reads 0 but it has content, \
                     like the files of /proc): read it into bytes and append those",
                ));
            }
            Ok((file, meta.len()))
        })
        .await
        .map_err(join_error)??;
        Ok(OpenedBody {
            len,
            content: Content::File(Arc::new(file)),
            reporter,
        })
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Self::from_bytes(v)
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Self::from_bytes(s.into_bytes())
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Self {
        Self::from_bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Self::from_bytes(b)
    }
}

fn join_error(e: tokio::task::JoinError) -> Error {
    Error::Transport {
        kind: crate::protocol::error::TransportErrorKind::Body,
        message: format!("reading the body failed: {e}"),
        request_sent: false,
    }
}

/// A body whose length is known.
///
/// Cloning is cheap and makes the body sendable again: bytes are reference-counted, and a file
/// is shared and read with positional reads from offset 0 on every send, never through the
/// descriptor's own offset. The append session relies on this to resend the same data after an
/// ambiguous failure without buffering files in memory.
#[derive(Clone)]
pub(crate) struct OpenedBody {
    len: u64,
    content: Content,
    reporter: Option<Arc<Reporter>>,
}

#[derive(Clone)]
enum Content {
    Bytes(Bytes),
    File(Arc<File>),
}

impl OpenedBody {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// base64(MD5(body)). For a file this is one extra read of the whole file.
    pub(crate) async fn md5_base64(&self) -> Result<String> {
        use base64::Engine;
        use md5::{Digest, Md5};
        let digest = match &self.content {
            Content::Bytes(b) => Md5::digest(b),
            Content::File(file) => {
                let (file, len) = (file.clone(), self.len);
                tokio::task::spawn_blocking(move || -> std::io::Result<_> {
                    let mut md5 = Md5::new();
                    let mut buf = vec![0u8; FILE_CHUNK_SIZE];
                    let mut offset = 0;
                    while offset < len {
                        let want = (len - offset).min(buf.len() as u64) as usize;
                        let n = file.read_at(&mut buf[..want], offset)?;
                        if n == 0 {
                            return Err(shrank(len, offset));
                        }
                        md5.update(&buf[..n]);
                        offset += n as u64;
                    }
                    Ok(md5.finalize())
                })
                .await
                .map_err(join_error)?
                .map_err(|e| Error::Transport {
                    kind: crate::protocol::error::TransportErrorKind::Body,
                    message: format!("reading the file for Content-MD5 failed: {e}"),
                    request_sent: false,
                })?
            }
        };
        Ok(base64::engine::general_purpose::STANDARD.encode(digest))
    }

    /// The HTTP body, and the progress record it keeps. `previous_crc` is the CRC-64 of the
    /// object before this append (0 for a new object), so the record ends with the CRC the whole
    /// object should have.
    pub(crate) fn into_tracked(self, previous_crc: u64) -> (TrackedBody, Arc<Progress>) {
        let progress = Arc::new(Progress {
            started: Instant::now(),
            sent: AtomicU64::new(0),
            last_progress_ms: AtomicU64::new(0),
            crc: Mutex::new(Crc64::resume(previous_crc)),
            failure: Mutex::new(None),
            total: self.len,
            reporter: self.reporter,
        });
        if self.len == 0 {
            // Nothing to hand over: the body is complete as soon as the request goes out.
            progress.completed();
        }
        let body = TrackedBody {
            content: self.content,
            offset: 0,
            len: self.len,
            pending: None,
            buffers: ChunkBuffers::default(),
            progress: progress.clone(),
        };
        (body, progress)
    }
}

fn shrank(len: u64, offset: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        format!(
            "the file became shorter while it was sent: expected {len} bytes, it ended at {offset}"
        ),
    )
}

/// What an upload has done so far, shared between the body and the code waiting on the request.
pub(crate) struct Progress {
    started: Instant,
    sent: AtomicU64,
    last_progress_ms: AtomicU64,
    crc: Mutex<Crc64>,
    failure: Mutex<Option<String>>,
    total: u64,
    reporter: Option<Arc<Reporter>>,
}

impl Progress {
    /// Bytes handed to the connection.
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Acquire)
    }

    /// The body's length.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Whether the whole body has been handed over.
    pub(crate) fn finished(&self) -> bool {
        self.sent() >= self.total
    }

    /// Time since the body last moved (or since the start).
    pub(crate) fn idle_for(&self) -> std::time::Duration {
        let last = self.last_progress_ms.load(Ordering::Acquire);
        self.started
            .elapsed()
            .saturating_sub(std::time::Duration::from_millis(last))
    }

    /// CRC-64 of the previous object followed by everything sent.
    pub(crate) fn crc(&self) -> u64 {
        self.crc.lock().unwrap_or_else(|e| e.into_inner()).value()
    }

    /// Why reading the body failed, if it did.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn advance(&self, n: usize) {
        let sent = self.sent.fetch_add(n as u64, Ordering::AcqRel) + n as u64;
        let ms = self.started.elapsed().as_millis() as u64;
        self.last_progress_ms.store(ms, Ordering::Release);
        if sent >= self.total {
            self.completed();
        } else if let Some(reporter) = &self.reporter {
            reporter.update(sent, self.total);
        }
    }

    /// The last byte was handed over: make the final progress call.
    fn completed(&self) {
        if let Some(reporter) = &self.reporter {
            reporter.update(self.total, self.total);
        }
    }
}

type ChunkRead = JoinHandle<std::io::Result<Bytes>>;

/// An `http_body::Body` with an exact length (so `Content-Length` is always sent) that checksums
/// and counts what it yields.
pub(crate) struct TrackedBody {
    content: Content,
    offset: u64,
    len: u64,
    pending: Option<ChunkRead>,
    buffers: ChunkBuffers,
    progress: Arc<Progress>,
}

/// The read buffers of one file body, recycled: a chunk's buffer comes back when the connection
/// drops the chunk, and the next read fills it again. Reading a file thus costs one copy (page
/// cache to buffer) and no allocation, page faults or zero-filling per chunk; a fresh
/// `vec![0; 1 MiB]` per chunk made zero-filling the largest part of the client's own work on the
/// file path (the profile is in bench/RESULTS.md).
#[derive(Clone, Default)]
struct ChunkBuffers(Arc<Mutex<Vec<Vec<u8>>>>);

impl ChunkBuffers {
    /// A buffer of `len` bytes whose contents are stale (a recycled one) or zero (a new one).
    fn take(&self, len: usize) -> Vec<u8> {
        let recycled = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buf = recycled.unwrap_or_default();
        // Only the first chunks and the shorter last one change the length.
        buf.resize(len, 0);
        buf
    }

    /// `buf[..]` as `Bytes`; the buffer comes back here when the last clone is dropped.
    fn share(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(RecycledChunk {
            buf,
            home: self.clone(),
        })
    }
}

/// A chunk on its way to the connection; see [`ChunkBuffers`].
struct RecycledChunk {
    buf: Vec<u8>,
    home: ChunkBuffers,
}

impl AsRef<[u8]> for RecycledChunk {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for RecycledChunk {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.home
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buf);
    }
}

impl TrackedBody {
    fn start_file_read(&mut self, file: Arc<File>) {
        let (offset, len) = (self.offset, self.len);
        let want = (len - offset).min(FILE_CHUNK_SIZE as u64) as usize;
        let progress = self.progress.clone();
        let buffers = self.buffers.clone();
        // Reading and checksumming happen on the blocking pool: neither blocks the runtime.
        self.pending = Some(tokio::task::spawn_blocking(move || {
            let mut buf = buffers.take(want);
            let mut filled = 0;
            while filled < want {
                let n = file.read_at(&mut buf[filled..], offset + filled as u64)?;
                if n == 0 {
                    return Err(shrank(len, offset + filled as u64));
                }
                filled += n;
            }
            progress
                .crc
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .update(&buf);
            Ok(buffers.share(buf))
        }));
    }

    fn fail(&self, message: String) -> std::io::Error {
        *self
            .progress
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(message.clone());
        std::io::Error::other(message)
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        if this.offset >= this.len {
            return Poll::Ready(None);
        }
        match this.content.clone() {
            Content::Bytes(bytes) => {
                let start = this.offset as usize;
                let end = (start + BYTES_CHUNK_SIZE).min(bytes.len());
                let chunk = bytes.slice(start..end);
                this.progress
                    .crc
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .update(&chunk);
                this.offset = end as u64;
                this.progress.advance(chunk.len());
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Content::File(file) => {
                if this.pending.is_none() {
                    this.start_file_read(file.clone());
                }
                let handle = this.pending.as_mut().expect("a read is pending");
                let result = match Pin::new(handle).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(r) => r,
                };
                this.pending = None;
                match result {
                    Ok(Ok(chunk)) => {
                        this.offset += chunk.len() as u64;
                        this.progress.advance(chunk.len());
                        // Read ahead: the next chunk loads while this one is written.
                        if this.offset < this.len {
                            this.start_file_read(file);
                        }
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Ok(Err(e)) => Poll::Ready(Some(Err(
                        this.fail(format!("reading the file failed: {e}"))
                    ))),
                    Err(e) => Poll::Ready(Some(Err(
                        this.fail(format!("reading the file failed: {e}"))
                    ))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.offset >= self.len
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len - self.offset)
    }
}

use std::future::Future;

impl Drop for TrackedBody {
    fn drop(&mut self) {
        if let Some(read) = self.pending.take() {
            read.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(body: Body) -> Result<OpenedBody> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(body.open())
    }

    #[test]
    fn a_file_of_unknown_size_is_refused_and_an_empty_file_is_empty() {
        // /proc/self/status has content, but its size reads 0.
        let Err(err) = open(Body::from_path("/proc/self/status")) else {
            panic!("/proc/self/status was taken as a file of size 0");
        };
        match &err {
            Error::InvalidArgument { field, rule } => {
                assert_eq!(*field, "data");
                assert!(rule.contains("size is not known"), "{rule}");
                assert!(rule.contains("/proc"), "{rule}");
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
        let file = File::open("/proc/self/status").unwrap();
        assert!(matches!(
            open(Body::from_file(file)),
            Err(Error::InvalidArgument { field: "data", .. })
        ));
        let dir = std::env::temp_dir().join(format!("oss-append-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        let opened = open(Body::from_path(&empty)).unwrap();
        assert_eq!(opened.len(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_chunk_buffer_comes_back_when_the_connection_drops_the_chunk() {
        let buffers = ChunkBuffers::default();
        let mut buf = buffers.take(8);
        buf.copy_from_slice(b"abcdefgh");
        let ptr = buf.as_ptr();
        let chunk = buffers.share(buf);
        let clone = chunk.slice(2..4);
        drop(chunk);
        // A slice still refers to it: not back yet, so a read gets a different buffer.
        let other = buffers.take(8);
        assert_ne!(other.as_ptr(), ptr);
        assert_eq!(&clone[..], b"cd");
        drop(clone);
        let again = buffers.take(3);
        assert_eq!(again.as_ptr(), ptr, "the buffer was recycled");
        assert_eq!(again.len(), 3, "sized for the next read");
    }
}
