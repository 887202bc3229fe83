//! The spool: a write-ahead log of checksummed records in segment files, synchronous (the
//! stream runs it on its own thread, see `journal`).
//!
//! # Format
//!
//! The spool directory holds `spool.lock` (an advisory `flock`, held while a stream has the
//! spool open) and segment files `seg-<id>.wal`, `<id>` a zero-padded decimal number, higher
//! is newer. A segment is a sequence of records; each record is a 28-byte header followed by
//! its payload, all integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `OSSP` |
//! | 4 | format version, 1 |
//! | 5 | kind: 1 data, 2 checkpoint |
//! | 6..8 | reserved, 0 |
//! | 8..12 | payload length |
//! | 12..20 | stream offset: for data, where its first byte sits in the stream (the spool's bytes counted from its creation); for a checkpoint, the offset it describes |
//! | 20..28 | CRC-64/XZ ([`crate::protocol::crc64`]) of bytes 0..20 followed by the payload |
//!
//! A **data** record's payload is the bytes of one `write`. A **checkpoint** says which
//! object the stream's data goes to and what is known of it: the data from `offset` on goes
//! to `bucket`/`key` starting at object position `position`, where the object's CRC-64 is
//! `crc64`; everything before `offset` is confirmed in OSS. Its payload: object number `u32`
//! (0 for the first object, +1 per rollover), `position` `u64` (`u64::MAX`: not known yet, the
//! object is asked before the first upload), `crc64` `u64`, then three strings, each a `u16`
//! length and UTF-8 bytes: `bucket`, the stream's first key, the current key; then `started`
//! `u64`, when the stream began the current object (milliseconds since 1970: the clock of
//! rollover by age, kept across restarts).
//!
//! The latest checkpoint wins. It serves as the stream header (the first record of a spool),
//! the rollover record (a new key at position 0) and the "uploaded up to" marker (written after
//! each confirmed append). Every segment's first record is a copy of the latest checkpoint, and
//! the newest segment always holds one, so deleting old segments never loses it.
//!
//! # Replay
//!
//! [`Spool::open`] reads every segment in order and checks every record: magic, version, kind,
//! length, CRC-64, and that data offsets follow each other without gaps. A record that fails in
//! the newest segment with no valid record after it is a torn write (a crash mid-write, never
//! acknowledged): the segment is truncated before it. Any other failure is
//! [`StreamError::SpoolCorrupt`] and the spool is left as it is.
//!
//! # Reading
//!
//! Spooled data is found through a sparse index: per segment, the file position of its first
//! data record and then of one record per [`INDEX_SPACING`] of data. A read starts at the
//! last mark at or before the offset asked for and parses the records from there (one
//! `pread` per segment), so the index costs a few bytes per 64 KiB spooled, whatever the
//! number of writes.
//!
//! # Deletion
//!
//! A segment other than the newest is deleted once all its data lies before the offset of a
//! checkpoint that is on disk (fsynced). The stream deletes on a thread of its own (see
//! [`Spool::remove_segments_with`]); a deletion a crash interrupts is done after the next
//! open, since the segment is still wholly before the latest checkpoint.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::protocol::crc64::{self, Crc64};
use crate::stream::error::StreamError;
use crate::stream::options::MAX_WRITE_BYTES;

/// The record magic.
pub const MAGIC: [u8; 4] = *b"OSSP";
/// The format version written and read.
pub const VERSION: u8 = 1;
/// Bytes of a record header.
pub const HEADER_LEN: usize = 28;
/// Kind byte of a data record.
pub const KIND_DATA: u8 = 1;
/// Kind byte of a checkpoint record.
pub const KIND_CHECKPOINT: u8 = 2;
/// `Checkpoint::position` when the object's length is not known yet.
pub const POSITION_UNKNOWN: u64 = u64::MAX;
/// Longest time `open` waits for another stream (e.g. a just-dropped one in this process) to
/// let go of the spool.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Which object the data from `offset` on goes to, and what is known of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Stream offset: everything before it is confirmed in OSS.
    pub offset: u64,
    /// 0 for the stream's first object, +1 per rollover.
    pub object_number: u32,
    /// Object length at `offset` ([`POSITION_UNKNOWN`]: not asked yet, nothing uploaded).
    pub position: u64,
    /// Object CRC-64 at `offset`.
    pub crc64: u64,
    /// Bucket.
    pub bucket: String,
    /// The stream's first key (from the options).
    pub origin_key: String,
    /// The current object's key.
    pub key: String,
    /// When the stream began the current object, milliseconds since 1970 (rollover by age).
    pub started_ms: u64,
}

/// Now, in milliseconds since 1970 (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Checkpoint {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.bucket.len() + 2 * self.key.len());
        out.extend_from_slice(&self.object_number.to_le_bytes());
        out.extend_from_slice(&self.position.to_le_bytes());
        out.extend_from_slice(&self.crc64.to_le_bytes());
        for s in [&self.bucket, &self.origin_key, &self.key] {
            out.extend_from_slice(&(s.len() as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(&self.started_ms.to_le_bytes());
        out
    }

    fn decode(offset: u64, payload: &[u8]) -> Option<Self> {
        let mut p = payload;
        let mut take = |n: usize| -> Option<&[u8]> {
            if p.len() < n {
                return None;
            }
            let (a, b) = p.split_at(n);
            p = b;
            Some(a)
        };
        let object_number = u32::from_le_bytes(take(4)?.try_into().ok()?);
        let position = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let crc64 = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let mut strings = Vec::with_capacity(3);
        for _ in 0..3 {
            let len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
            strings.push(String::from_utf8(take(len)?.to_vec()).ok()?);
        }
        let started_ms = u64::from_le_bytes(take(8)?.try_into().ok()?);
        if !p.is_empty() {
            return None;
        }
        let key = strings.pop()?;
        let origin_key = strings.pop()?;
        let bucket = strings.pop()?;
        Some(Self {
            offset,
            object_number,
            position,
            crc64,
            bucket,
            origin_key,
            key,
            started_ms,
        })
    }
}

/// Encodes one record.
pub fn encode_record(kind: u8, offset: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    let mut crc = Crc64::new();
    crc.update(&out);
    crc.update(payload);
    out.extend_from_slice(&crc.value().to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A record read back: kind, offset, payload range in the buffer.
struct Parsed {
    kind: u8,
    offset: u64,
    payload: std::ops::Range<usize>,
}

/// Parses the record at `at`, or says why it is bad.
fn parse_record(buf: &[u8], at: usize) -> Result<Parsed, String> {
    let rest = &buf[at..];
    if rest.len() < HEADER_LEN {
        return Err(format!("a {}-byte header is cut short", rest.len()));
    }
    if rest[0..4] != MAGIC {
        return Err("bad magic".into());
    }
    if rest[4] != VERSION {
        return Err(format!("unknown format version {}", rest[4]));
    }
    let kind = rest[5];
    if kind != KIND_DATA && kind != KIND_CHECKPOINT {
        return Err(format!("unknown record kind {kind}"));
    }
    let len = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
    if len as u64 > MAX_WRITE_BYTES {
        return Err(format!("payload length {len} above the limit"));
    }
    let offset = u64::from_le_bytes(rest[12..20].try_into().unwrap());
    let stored = u64::from_le_bytes(rest[20..28].try_into().unwrap());
    if rest.len() < HEADER_LEN + len {
        return Err(format!(
            "the {len}-byte payload is cut short at {} bytes",
            rest.len() - HEADER_LEN
        ));
    }
    let payload = &rest[HEADER_LEN..HEADER_LEN + len];
    let mut crc = Crc64::new();
    crc.update(&rest[0..20]);
    crc.update(payload);
    if crc.value() != stored {
        return Err("checksum mismatch".into());
    }
    Ok(Parsed {
        kind,
        offset,
        payload: at + HEADER_LEN..at + HEADER_LEN + len,
    })
}

/// Whether any valid record starts after `at` (then a bad record at `at` is not a torn tail).
fn valid_record_after(buf: &[u8], at: usize) -> bool {
    (at + 1..buf.len().saturating_sub(HEADER_LEN - 1))
        .any(|i| buf[i..i + 4] == MAGIC && parse_record(buf, i).is_ok())
}

/// Stream bytes between two marks of a segment's index, at least: reading from any offset starts
/// at most this far before it in the file.
pub const INDEX_SPACING: u64 = 64 * 1024;

/// Where a data record starts in its segment file: the index of a segment holds one for its
/// first data record and then one per [`INDEX_SPACING`] of data, not one per record, so the
/// memory the index takes does not grow with the number of writes (a spool of 256 MiB of
/// 100-byte lines needs 4,096 marks, not 2.7 million entries).
#[derive(Debug, Clone, Copy)]
struct Mark {
    /// Stream offset of the record's first byte.
    offset: u64,
    /// File position of the record's header.
    file_pos: u64,
}

#[derive(Debug)]
struct Segment {
    id: u64,
    path: PathBuf,
    /// Stream offset of its first data byte (`data_end` when it holds no data).
    data_start: u64,
    /// Stream offset after its last data record (or where it started).
    data_end: u64,
    /// Bytes in the file (records written, durable or not).
    len: u64,
    /// The sparse index of its data records, by offset.
    marks: Vec<Mark>,
}

impl Segment {
    fn new(id: u64, path: PathBuf, at: u64) -> Self {
        Self {
            id,
            path,
            data_start: at,
            data_end: at,
            len: 0,
            marks: Vec::new(),
        }
    }

    /// Notes a data record of `len` bytes at `offset` whose header is at `file_pos`.
    fn add_data(&mut self, offset: u64, file_pos: u64, len: u64) {
        if self
            .marks
            .last()
            .is_none_or(|m| offset - m.offset >= INDEX_SPACING)
        {
            if self.marks.is_empty() {
                self.data_start = offset;
            }
            self.marks.push(Mark { offset, file_pos });
        }
        self.data_end = offset + len;
    }
}

/// What replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// Segment files read.
    pub segments: usize,
    /// Valid records read.
    pub records: u64,
    /// Bytes of a torn last record cut away.
    pub truncated_bytes: u64,
}

/// The spool, open. Not thread-safe by design: one owner (the journal thread) drives it.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    segments: Vec<Segment>,
    active: Option<File>,
    active_len: u64,
    /// Bytes of the newest segment that are durable.
    synced_len: u64,
    end: u64,
    checkpoint: Option<Checkpoint>,
    durable_checkpoint_offset: u64,
    dirty: bool,
    /// Stream offset up to which data is durable.
    synced_end: u64,
    fsyncs: u64,
    segment_bytes: u64,
    readers: HashMap<u64, Arc<File>>,
    /// Where segments to delete go instead of being deleted here ([`Spool::remove_segments_with`]).
    remover: Option<std::sync::mpsc::Sender<PathBuf>>,
    replay: Replay,
    _lock: File,
}

fn segment_name(id: u64) -> String {
    format!("seg-{id:010}.wal")
}

fn segment_id(name: &str) -> Option<u64> {
    name.strip_prefix("seg-")?
        .strip_suffix(".wal")?
        .parse()
        .ok()
}

fn sync_dir(dir: &Path) -> Result<(), StreamError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StreamError::io("fsync", dir, &e))
}

fn lock(dir: &Path) -> Result<File, StreamError> {
    let path = dir.join("spool.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StreamError::io("lock", &path, &e))?;
    let started = Instant::now();
    loop {
        // SAFETY: flock on a file descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(file);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(StreamError::io("lock", &path, &e));
        }
        if started.elapsed() >= LOCK_WAIT {
            return Err(StreamError::SpoolLocked {
                dir: dir.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Spool {
    /// Opens (creating the directory if needed) and replays the spool. A fresh spool has no
    /// checkpoint: call [`Spool::start`] before writing.
    pub fn open(dir: &Path, segment_bytes: u64) -> Result<Self, StreamError> {
        fs::create_dir_all(dir).map_err(|e| StreamError::io("open", dir, &e))?;
        let lock = lock(dir)?;
        let mut ids = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| StreamError::io("open", dir, &e))? {
            let entry = entry.map_err(|e| StreamError::io("open", dir, &e))?;
            if let Some(id) = entry.file_name().to_str().and_then(segment_id) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        let mut spool = Spool {
            dir: dir.to_path_buf(),
            segments: Vec::new(),
            active: None,
            active_len: 0,
            synced_len: 0,
            end: 0,
            checkpoint: None,
            durable_checkpoint_offset: 0,
            dirty: false,
            synced_end: 0,
            fsyncs: 0,
            segment_bytes,
            readers: HashMap::new(),
            remover: None,
            replay: Replay::default(),
            _lock: lock,
        };
        let mut end: Option<u64> = None;
        let mut first_data: Option<u64> = None;
        for (i, &id) in ids.iter().enumerate() {
            let last = i + 1 == ids.len();
            let path = dir.join(segment_name(id));
            let at_start = end.unwrap_or_else(|| spool.checkpoint.as_ref().map_or(0, |c| c.offset));
            let mut segment = Segment::new(id, path.clone(), at_start);
            let mut buf = Vec::new();
            File::open(&path)
                .and_then(|mut f| f.read_to_end(&mut buf))
                .map_err(|e| StreamError::io("read", &path, &e))?;
            let mut at = 0usize;
            while at < buf.len() {
                let corrupt = |reason: String| StreamError::SpoolCorrupt {
                    segment: path.clone(),
                    file_offset: at as u64,
                    reason,
                };
                let record = match parse_record(&buf, at) {
                    Ok(r) => r,
                    Err(reason) if last && !valid_record_after(&buf, at) => {
                        let cut = buf.len() - at;
                        log::warn!(
                            "spool: dropping a torn last record ({cut} bytes, {reason}) in {}",
                            path.display()
                        );
                        let f = OpenOptions::new()
                            .write(true)
                            .open(&path)
                            .map_err(|e| StreamError::io("open", &path, &e))?;
                        f.set_len(at as u64)
                            .and_then(|()| f.sync_all())
                            .map_err(|e| StreamError::io("write", &path, &e))?;
                        spool.replay.truncated_bytes = cut as u64;
                        buf.truncate(at);
                        break;
                    }
                    Err(reason) => return Err(corrupt(reason)),
                };
                let payload = &buf[record.payload.clone()];
                match record.kind {
                    KIND_DATA => {
                        if let Some(e) = end {
                            if record.offset != e {
                                return Err(corrupt(format!(
                                    "data record at stream offset {}, expected {e}",
                                    record.offset
                                )));
                            }
                        }
                        let len = payload.len() as u64;
                        segment.add_data(record.offset, at as u64, len);
                        first_data.get_or_insert(record.offset);
                        end = Some(record.offset + len);
                    }
                    _ => {
                        let Some(cp) = Checkpoint::decode(record.offset, payload) else {
                            return Err(corrupt("malformed checkpoint".into()));
                        };
                        if end.is_some_and(|e| cp.offset > e) {
                            return Err(corrupt(format!(
                                "checkpoint at stream offset {} past the data's end",
                                cp.offset
                            )));
                        }
                        spool.checkpoint = Some(cp);
                    }
                }
                spool.replay.records += 1;
                at = record.payload.end;
            }
            if segment.marks.is_empty() {
                let at = end.unwrap_or_else(|| spool.checkpoint.as_ref().map_or(0, |c| c.offset));
                (segment.data_start, segment.data_end) = (at, at);
            }
            segment.len = buf.len() as u64;
            spool.segments.push(segment);
            if last {
                spool.active_len = buf.len() as u64;
                spool.synced_len = spool.active_len;
            }
        }
        spool.replay.segments = ids.len();
        // Data sets the end; with none left (all uploaded), the latest checkpoint does.
        spool.end = end.unwrap_or_else(|| spool.checkpoint.as_ref().map_or(0, |c| c.offset));
        // What replay read is on disk; the sync below makes it durable in any case.
        spool.synced_end = spool.end;
        match spool.checkpoint.clone() {
            None if first_data.is_some() => {
                return Err(StreamError::SpoolCorrupt {
                    segment: dir.to_path_buf(),
                    file_offset: 0,
                    reason: "data records without any checkpoint".into(),
                })
            }
            None => {}
            Some(cp) => {
                let cp_offset = cp.offset;
                if first_data.is_some_and(|x| x > cp_offset) {
                    return Err(StreamError::SpoolCorrupt {
                        segment: dir.to_path_buf(),
                        file_offset: 0,
                        reason: format!(
                            "data from stream offset {cp_offset} is missing (the oldest \
                             segment starts later)"
                        ),
                    });
                }
                spool.durable_checkpoint_offset = cp_offset;
                // The newest segment must hold the latest checkpoint (it may have been torn).
                spool.open_active()?;
                spool.checkpoint(cp)?;
                spool.sync()?;
            }
        }
        Ok(spool)
    }

    /// What replay found.
    pub fn replay(&self) -> &Replay {
        &self.replay
    }

    /// The latest checkpoint (`None` on a fresh spool).
    pub fn latest_checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_ref()
    }

    /// Stream offset after the last data byte written.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// fsyncs done since open.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs
    }

    /// Segment files present.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Marks the index holds (see [`INDEX_SPACING`]): its memory, about 16 bytes each.
    pub fn index_marks(&self) -> usize {
        self.segments.iter().map(|s| s.marks.len()).sum()
    }

    /// Bytes not yet confirmed in OSS (end − latest checkpoint's offset).
    pub fn pending(&self) -> u64 {
        self.end
            - self
                .checkpoint
                .as_ref()
                .map_or(self.end, |c| c.offset.min(self.end))
    }

    /// Starts a fresh spool with its first checkpoint (durable when this returns).
    pub fn start(&mut self, checkpoint: Checkpoint) -> Result<(), StreamError> {
        self.end = checkpoint.offset;
        self.synced_end = checkpoint.offset;
        self.new_segment(Some(checkpoint))?;
        self.sync()
    }

    fn open_active(&mut self) -> Result<(), StreamError> {
        match self.segments.last() {
            Some(seg) => {
                let f = OpenOptions::new()
                    .append(true)
                    .open(&seg.path)
                    .map_err(|e| StreamError::io("open", &seg.path, &e))?;
                self.active = Some(f);
                Ok(())
            }
            None => self.new_segment(None),
        }
    }

    /// Creates the next segment, its first record a copy of `checkpoint` (or the latest).
    fn new_segment(&mut self, checkpoint: Option<Checkpoint>) -> Result<(), StreamError> {
        let id = self.segments.last().map_or(1, |s| s.id + 1);
        let path = self.dir.join(segment_name(id));
        let f = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| StreamError::io("open", &path, &e))?;
        sync_dir(&self.dir)?;
        self.segments.push(Segment::new(id, path, self.end));
        self.active = Some(f);
        self.active_len = 0;
        self.synced_len = 0;
        if let Some(cp) = checkpoint.or_else(|| self.checkpoint.clone()) {
            self.checkpoint(cp)?;
        }
        Ok(())
    }

    /// Appends a record to the newest segment; returns the file position of its header.
    fn write_record(&mut self, kind: u8, offset: u64, payload: &[u8]) -> Result<u64, StreamError> {
        let record = encode_record(kind, offset, payload);
        let seg = self.segments.last_mut().expect("an active segment");
        let f = self.active.as_mut().expect("an active segment");
        f.write_all(&record)
            .map_err(|e| StreamError::io("write", &seg.path, &e))?;
        let header_pos = self.active_len;
        self.active_len += record.len() as u64;
        seg.len = self.active_len;
        self.dirty = true;
        Ok(header_pos)
    }

    /// Appends one data record (not yet durable: see [`Spool::sync`]); returns its offset.
    pub fn append(&mut self, data: &[u8]) -> Result<u64, StreamError> {
        assert!(self.checkpoint.is_some(), "Spool::start first");
        if data.len() as u64 > MAX_WRITE_BYTES {
            return Err(StreamError::invalid(
                "data",
                format!("one write is at most {MAX_WRITE_BYTES} bytes"),
            ));
        }
        let offset = self.end;
        let header_pos = self.write_record(KIND_DATA, offset, data)?;
        self.end += data.len() as u64;
        self.segments
            .last_mut()
            .expect("an active segment")
            .add_data(offset, header_pos, data.len() as u64);
        Ok(offset)
    }

    /// Appends a checkpoint record (durable after the next [`Spool::sync`]).
    pub fn checkpoint(&mut self, checkpoint: Checkpoint) -> Result<(), StreamError> {
        assert!(checkpoint.offset <= self.end, "checkpoint past the end");
        self.write_record(KIND_CHECKPOINT, checkpoint.offset, &checkpoint.encode())?;
        self.checkpoint = Some(checkpoint);
        Ok(())
    }

    /// Makes everything written durable (one fdatasync if anything changed), then starts a new
    /// segment if the active one is full and deletes segments wholly confirmed in OSS.
    pub fn sync(&mut self) -> Result<(), StreamError> {
        if self.dirty {
            let seg = self.segments.last().expect("an active segment");
            self.active
                .as_ref()
                .expect("an active segment")
                .sync_data()
                .map_err(|e| StreamError::io("fsync", &seg.path, &e))?;
            self.fsyncs += 1;
            self.dirty = false;
            self.synced_end = self.end;
            self.synced_len = self.active_len;
            if let Some(cp) = &self.checkpoint {
                self.durable_checkpoint_offset = cp.offset;
            }
            if self.active_len >= self.segment_bytes {
                self.new_segment(None)?;
                return self.sync();
            }
        }
        self.release()
    }

    fn release(&mut self) -> Result<(), StreamError> {
        while self.segments.len() > 1 && self.segments[0].data_end <= self.durable_checkpoint_offset
        {
            let seg = self.segments.remove(0);
            self.readers.remove(&seg.id);
            match &self.remover {
                Some(remover) if remover.send(seg.path.clone()).is_ok() => {}
                _ => fs::remove_file(&seg.path)
                    .map_err(|e| StreamError::io("remove", &seg.path, &e))?,
            }
        }
        Ok(())
    }

    /// Hands segments no longer needed to `remover` instead of deleting them in
    /// [`Spool::sync`]: unlinking a full segment takes milliseconds (the file system frees,
    /// and with `discard` trims, its blocks), and the spool's thread has writes waiting for
    /// their fsync. A segment whose deletion is lost (a crash) is deleted after the next open.
    pub fn remove_segments_with(&mut self, remover: std::sync::mpsc::Sender<PathBuf>) {
        self.remover = Some(remover);
    }

    fn reader(&mut self, segment: u64) -> Result<Arc<File>, StreamError> {
        if let Some(f) = self.readers.get(&segment) {
            return Ok(f.clone());
        }
        let path = self.dir.join(segment_name(segment));
        let f = Arc::new(File::open(&path).map_err(|e| StreamError::io("read", &path, &e))?);
        self.readers.insert(segment, f.clone());
        Ok(f)
    }

    /// Where the whole data records from stream offset `from` (which must start a record or
    /// lie in the first one) are: at least one, more while the total stays within `max`; only
    /// durable ones (the uploader never sends bytes a crash could take back).
    pub fn read_plan(&mut self, from: u64, max: u64) -> Result<ReadPlan, StreamError> {
        self.plan(from, max, true)
    }

    fn plan(&mut self, from: u64, max: u64, durable_only: bool) -> Result<ReadPlan, StreamError> {
        let limit = if durable_only {
            self.synced_end
        } else {
            self.end
        };
        let mut plan = ReadPlan {
            spans: Vec::new(),
            from,
            max,
            limit,
        };
        if from >= limit {
            return Ok(plan);
        }
        // Records starting after this need not be read (the first one is read whole anyway).
        let enough = from.saturating_add(max);
        let newest = self.segments.len().saturating_sub(1);
        for i in 0..self.segments.len() {
            let seg = &self.segments[i];
            if seg.data_end <= from || seg.marks.is_empty() {
                continue;
            }
            if seg.data_start >= limit || seg.data_start > enough {
                break;
            }
            // From the last mark at or before `from` (the first record of a later segment).
            let at = seg.marks.partition_point(|m| m.offset <= from).max(1) - 1;
            let start = seg.marks[at].file_pos;
            let bound = if i == newest && durable_only {
                self.synced_len
            } else {
                seg.len
            };
            let end = seg
                .marks
                .iter()
                .find(|m| m.offset > enough)
                .map_or(bound, |m| m.file_pos.min(bound));
            let (id, path) = (seg.id, seg.path.clone());
            plan.spans.push(Span {
                path,
                file: self.reader(id)?,
                start,
                end,
            });
        }
        Ok(plan)
    }

    /// Whole data records from `from` (as [`Spool::read_plan`], written ones too), read here.
    pub fn read_records(&mut self, from: u64, max: u64) -> Result<Vec<u8>, StreamError> {
        self.plan(from, max, false)?.read()
    }

    /// CRC-64 of the `len` stream bytes from `from` (`len` at most what is spooled there).
    pub fn crc(&mut self, from: u64, len: u64) -> Result<u64, StreamError> {
        let mut crc = Crc64::new();
        let (mut at, stop) = (from, from + len);
        while at < stop {
            let chunk = self.read_records(at, (stop - at).min(1 << 20))?;
            if chunk.is_empty() {
                break;
            }
            let take = chunk.len().min((stop - at) as usize);
            crc.update(&chunk[..take]);
            at += take as u64;
        }
        if at != stop {
            return Err(StreamError::SpoolCorrupt {
                segment: self.dir.clone(),
                file_offset: 0,
                reason: format!("stream bytes {from}..{stop} are not all in the spool"),
            });
        }
        Ok(crc.value())
    }
}

/// A file range of one segment to read in one `pread`: whole records, from a record's header.
#[derive(Debug)]
struct Span {
    path: PathBuf,
    file: Arc<File>,
    start: u64,
    end: u64,
}

/// Where some spooled bytes are on disk ([`Spool::read_plan`]); [`ReadPlan::read`] reads them
/// without the spool, so it can run on any thread. Segment files stay readable while the plan
/// holds them, even if the spool deletes them meanwhile.
#[derive(Debug)]
pub struct ReadPlan {
    spans: Vec<Span>,
    from: u64,
    max: u64,
    /// Stream offset the data read must not pass (what is durable, for the uploader).
    limit: u64,
}

impl ReadPlan {
    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Reads the data: one read per segment, then the payloads of its data records from
    /// `from` on, whole records while the total stays within `max` (the first one always),
    /// none past `limit`. The records are parsed again (headers, lengths, offsets in sequence)
    /// and a mismatch is [`StreamError::SpoolCorrupt`].
    pub fn read(self) -> Result<Vec<u8>, StreamError> {
        // Each span is read straight into `out`, then its payloads are moved down over the
        // headers: one buffer, the data read once and moved once.
        let mut out = Vec::new();
        let mut next = self.from;
        for span in &self.spans {
            let base = out.len();
            out.resize(base + (span.end - span.start) as usize, 0);
            span.file
                .read_exact_at(&mut out[base..], span.start)
                .map_err(|e| StreamError::io("read", &span.path, &e))?;
            let span_end = out.len();
            let (mut at, mut kept) = (base, base);
            let mut full = false;
            while at < span_end {
                let here = span.start + (at - base) as u64;
                let corrupt = |reason: String| StreamError::SpoolCorrupt {
                    segment: span.path.clone(),
                    file_offset: here,
                    reason,
                };
                let (kind, offset, len) = record_header(&out[at..span_end]).map_err(corrupt)?;
                let payload = at + HEADER_LEN..at + HEADER_LEN + len as usize;
                if payload.end > span_end {
                    return Err(corrupt("a record runs past the part read".into()));
                }
                at = payload.end;
                if kind != KIND_DATA || offset + len <= next {
                    continue;
                }
                if offset > next {
                    return Err(corrupt(format!(
                        "data record at stream offset {offset}, expected {next}"
                    )));
                }
                if offset + len > self.limit
                    || (kept > 0 && (kept as u64 + offset + len - next) > self.max)
                {
                    full = true;
                    break;
                }
                let start = payload.start + (next - offset) as usize;
                out.copy_within(start..payload.end, kept);
                kept += payload.end - start;
                next = offset + len;
            }
            out.truncate(kept);
            if full {
                break;
            }
        }
        Ok(out)
    }
}

/// Kind, stream offset and payload length of the record whose header starts `rest` (checked:
/// magic, version, kind, length bound; the CRC-64 was checked when the spool was replayed or
/// the record written).
fn record_header(rest: &[u8]) -> Result<(u8, u64, u64), String> {
    if rest.len() < HEADER_LEN {
        return Err(format!("a {}-byte header is cut short", rest.len()));
    }
    if rest[0..4] != MAGIC || rest[4] != VERSION {
        return Err("bad magic or version".into());
    }
    let kind = rest[5];
    if kind != KIND_DATA && kind != KIND_CHECKPOINT {
        return Err(format!("unknown record kind {kind}"));
    }
    let len = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as u64;
    if len > MAX_WRITE_BYTES {
        return Err(format!("payload length {len} above the limit"));
    }
    let offset = u64::from_le_bytes(rest[12..20].try_into().unwrap());
    Ok((kind, offset, len))
}

/// CRC-64 of an object made of a part with CRC `a` followed by `b_len` bytes with CRC `b`.
pub fn combine(a: u64, b: u64, b_len: u64) -> u64 {
    crc64::combine(a, b, b_len)
}
