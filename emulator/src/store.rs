//! Object storage, in memory or durable in a data directory.
//!
//! Concurrency: every key has a `Slot`. Mutations (append, put, delete) hold the slot's async
//! write lock for their whole duration, body streaming included, so two racing appends at the
//! same position are serialised and the second one sees the first one's new length. Readers
//! never take that lock: they read the last *committed* state, which a mutation replaces only
//! after its data is durable.
//!
//! Disk layout, per configured bucket `<data_dir>/<bucket>/`:
//! * `<md5(key)>.meta`: a small text sidecar (format below), replaced atomically (write to a
//!   temp file, fsync, rename, fsync the directory). It records the committed length and CRC.
//! * `<md5(key)>.<nonce>.<check>.data`: the bytes. Appends write in place past the committed
//!   length; a PutObject writes a new generation file and switches to it with the sidecar
//!   rename, so an overwrite is atomic too.
//!
//! Crash consistency: data is fsynced before the sidecar that commits it. After a crash the
//! data file may be longer than the sidecar says (an append that was never acknowledged); on
//! load it is truncated back to the committed length. Data files no sidecar refers to (a
//! first append or a PutObject that never committed) and temp sidecars are deleted, but only
//! when the emulator made them: a data file's name carries a check derived from its stem and
//! nonce, a temp sidecar is `<md5(key)>.meta.tmp` starting with the sidecar magic. Every other
//! file in the folder is left alone.

use crate::routing::percent_decode_str;
use crate::staging::StagingBuffer;
use bytes::Bytes;
use md5::{Digest, Md5};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// What the emulator knows about a committed object, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectMeta {
    pub key: String,
    pub appendable: bool,
    pub length: u64,
    /// CRC-64/XZ of the whole object, kept up to date on every append so nothing is re-read.
    pub crc64: u64,
    /// Upper-case hex, without quotes.
    pub etag: String,
    pub content_type: String,
    /// Unix seconds.
    pub last_modified: i64,
    /// User metadata: lower-case names without the `x-oss-meta-` prefix.
    pub metadata: BTreeMap<String, String>,
    /// Other creation headers, lower-case names (cache-control, x-oss-storage-class, …).
    pub headers: BTreeMap<String, String>,
    /// Unix seconds of the first SealAppendObject; `None` while the object is not sealed.
    pub sealed_time: Option<i64>,
}

/// A snapshot of an object, for tests and helpers (`RunningEmulator::object`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub data: Vec<u8>,
    pub appendable: bool,
    pub content_type: String,
    pub metadata: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub crc64: u64,
    /// Upper-case hex, without quotes.
    pub etag: String,
    /// Unix seconds of the first SealAppendObject, if sealed.
    pub sealed_time: Option<i64>,
}

enum Data {
    Memory(StagingBuffer),
    /// The data file; only its first `meta.length` bytes are committed.
    Disk(PathBuf),
}

struct Committed {
    meta: ObjectMeta,
    data: Data,
}

/// One key's lock and committed state.
pub(crate) struct Slot {
    write_lock: Arc<tokio::sync::Mutex<()>>,
    state: RwLock<Option<Committed>>,
    /// `<bucket dir>/<md5(key)>` in disk mode.
    base: Option<PathBuf>,
}

/// Bytes to send for a read: already in memory, or an open file positioned nowhere yet.
pub(crate) enum ReadSource {
    Memory(Bytes),
    File {
        file: std::fs::File,
        offset: u64,
        len: u64,
    },
}

struct Bucket {
    dir: Option<PathBuf>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

pub(crate) struct Store {
    buckets: HashMap<String, Bucket>,
}

impl Store {
    /// Opens the store: in memory when `data_dir` is `None`, else loads (and repairs) what the
    /// directory holds for the configured buckets.
    pub(crate) fn open(buckets: &[String], data_dir: Option<&Path>) -> io::Result<Store> {
        let mut map = HashMap::new();
        for name in buckets {
            let dir = match data_dir {
                Some(root) => {
                    let dir = root.join(name);
                    std::fs::create_dir_all(&dir)?;
                    Some(dir)
                }
                None => None,
            };
            let slots = match &dir {
                Some(dir) => load_bucket(dir)?,
                None => HashMap::new(),
            };
            map.insert(
                name.clone(),
                Bucket {
                    dir,
                    slots: Mutex::new(slots),
                },
            );
        }
        Ok(Store { buckets: map })
    }

    pub(crate) fn has_bucket(&self, bucket: &str) -> bool {
        self.buckets.contains_key(bucket)
    }

    /// The slot for a key (created on first use; a slot may hold no object).
    pub(crate) fn slot(&self, bucket: &str, key: &str) -> Option<Arc<Slot>> {
        let b = self.buckets.get(bucket)?;
        let mut slots = b.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slot = slots.entry(key.to_string()).or_insert_with(|| {
            Arc::new(Slot::empty(
                b.dir.as_ref().map(|d| d.join(key_file_stem(key))),
            ))
        });
        Some(slot.clone())
    }

    /// The slot for a key if one exists (reads use this, so looking up absent keys does not
    /// grow the slot table).
    pub(crate) fn existing_slot(&self, bucket: &str, key: &str) -> Option<Arc<Slot>> {
        let b = self.buckets.get(bucket)?;
        let slots = b.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.get(key).cloned()
    }

    /// A full copy of an object (reads the file in disk mode).
    pub(crate) fn snapshot(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        let slot = self.existing_slot(bucket, key)?;
        let meta = slot.meta()?;
        let data = match slot.read(0, meta.length).ok()?? {
            ReadSource::Memory(b) => b.to_vec(),
            ReadSource::File {
                mut file,
                offset,
                len,
            } => {
                use std::io::{Read, Seek, SeekFrom};
                file.seek(SeekFrom::Start(offset)).ok()?;
                let mut buf = Vec::with_capacity(len as usize);
                file.take(len).read_to_end(&mut buf).ok()?;
                buf
            }
        };
        Some(StoredObject {
            data,
            appendable: meta.appendable,
            content_type: meta.content_type,
            metadata: meta.metadata,
            headers: meta.headers,
            crc64: meta.crc64,
            etag: meta.etag,
            sealed_time: meta.sealed_time,
        })
    }
}

impl Slot {
    fn empty(base: Option<PathBuf>) -> Slot {
        Slot {
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            state: RwLock::new(None),
            base,
        }
    }

    /// The committed metadata, if the object exists.
    pub(crate) fn meta(&self) -> Option<ObjectMeta> {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.meta.clone())
    }

    /// Bytes `[offset, offset+len)` of the committed object (`None` if it does not exist).
    /// In disk mode the file is opened under the state lock, so a concurrent overwrite that
    /// unlinks the old generation cannot pull it away mid-read.
    pub(crate) fn read(&self, offset: u64, len: u64) -> io::Result<Option<ReadSource>> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let Some(c) = state.as_ref() else {
            return Ok(None);
        };
        let end = offset.saturating_add(len).min(c.meta.length);
        let start = offset.min(end);
        Ok(Some(match &c.data {
            Data::Memory(v) => {
                ReadSource::Memory(Bytes::copy_from_slice(&v[start as usize..end as usize]))
            }
            Data::Disk(path) => ReadSource::File {
                file: std::fs::File::open(path)?,
                offset: start,
                len: end - start,
            },
        }))
    }

    /// Takes the key's write lock (waits for other mutations of the same key).
    pub(crate) async fn lock(self: &Arc<Self>) -> SlotGuard {
        let guard = self.write_lock.clone().lock_owned().await;
        SlotGuard {
            _guard: guard,
            slot: self.clone(),
        }
    }
}

/// Exclusive access to one key for a mutation.
pub(crate) struct SlotGuard {
    _guard: tokio::sync::OwnedMutexGuard<()>,
    slot: Arc<Slot>,
}

/// An upload in progress: bytes go to a staging buffer (memory) or straight to the data file
/// (disk), never committed until `commit`.
pub(crate) struct Upload {
    kind: UploadKind,
    target: UploadTarget,
    written: u64,
}

enum UploadTarget {
    Memory(StagingBuffer),
    Disk {
        file: tokio::fs::File,
        path: PathBuf,
        /// Length to roll back to (appends to an existing file).
        rollback_len: u64,
        /// The file was created for this upload (delete it on abort).
        fresh: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum UploadKind {
    /// Append after the committed bytes (or create an appendable object).
    Append,
    /// Replace the object with new bytes.
    Replace,
}

impl SlotGuard {
    pub(crate) fn meta(&self) -> Option<ObjectMeta> {
        self.slot.meta()
    }

    /// Starts writing. For an append to an existing object the bytes go after its committed
    /// length; otherwise into a new buffer or a new generation file. `expected_len` (the
    /// request's Content-Length) sizes an in-memory staging buffer up front.
    pub(crate) async fn begin(
        &self,
        kind: UploadKind,
        expected_len: Option<u64>,
    ) -> io::Result<Upload> {
        let Some(base) = &self.slot.base else {
            return Ok(Upload {
                kind,
                target: UploadTarget::Memory(StagingBuffer::for_body(expected_len)),
                written: 0,
            });
        };
        let existing = {
            let state = self.slot.state.read().unwrap_or_else(|e| e.into_inner());
            match state.as_ref() {
                Some(Committed {
                    meta,
                    data: Data::Disk(path),
                }) if kind == UploadKind::Append => Some((path.clone(), meta.length)),
                _ => None,
            }
        };
        let target = match existing {
            Some((path, len)) => {
                let mut file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await?;
                // Drop leftovers of an earlier attempt that failed without cleaning up.
                file.set_len(len).await?;
                file.seek(io::SeekFrom::Start(len)).await?;
                UploadTarget::Disk {
                    file,
                    path,
                    rollback_len: len,
                    fresh: false,
                }
            }
            None => {
                let path = new_generation_path(base);
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .await?;
                UploadTarget::Disk {
                    file,
                    path,
                    rollback_len: 0,
                    fresh: true,
                }
            }
        };
        Ok(Upload {
            kind,
            target,
            written: 0,
        })
    }

    /// Makes the upload the object's committed state. `meta` is the complete new metadata
    /// (its `length` must equal the old length plus the bytes written for an append).
    pub(crate) async fn commit(&self, upload: Upload, meta: ObjectMeta) -> io::Result<()> {
        match upload.target {
            UploadTarget::Memory(bytes) => {
                let mut state = self.slot.state.write().unwrap_or_else(|e| e.into_inner());
                let data = match state.take() {
                    Some(Committed {
                        data: Data::Memory(mut old),
                        ..
                    }) if upload.kind == UploadKind::Append => {
                        old.extend_from_slice(&bytes);
                        old
                    }
                    _ => bytes,
                };
                debug_assert_eq!(data.len() as u64, meta.length);
                *state = Some(Committed {
                    meta,
                    data: Data::Memory(data),
                });
                Ok(())
            }
            UploadTarget::Disk {
                mut file,
                path,
                rollback_len,
                fresh,
            } => {
                let result = async {
                    file.flush().await?;
                    file.sync_all().await?;
                    drop(file);
                    write_sidecar(self.slot.base.as_ref().expect("disk slot"), &meta, &path).await
                }
                .await;
                if let Err(e) = result {
                    rollback(&path, rollback_len, fresh).await;
                    return Err(e);
                }
                let old_path = {
                    let mut state = self.slot.state.write().unwrap_or_else(|e| e.into_inner());
                    let old = state.replace(Committed {
                        meta,
                        data: Data::Disk(path.clone()),
                    });
                    match old {
                        Some(Committed {
                            data: Data::Disk(p),
                            ..
                        }) if p != path => Some(p),
                        _ => None,
                    }
                };
                if let Some(old) = old_path {
                    // The sidecar no longer refers to it; a crash here leaves an orphan that the
                    // next load deletes.
                    let _ = tokio::fs::remove_file(old).await;
                }
                Ok(())
            }
        }
    }

    /// Replaces the committed metadata of an existing object, data unchanged (sealing). Durable
    /// before it returns in disk mode.
    pub(crate) async fn update_meta(&self, meta: ObjectMeta) -> io::Result<()> {
        let data_path = {
            let state = self.slot.state.read().unwrap_or_else(|e| e.into_inner());
            match state.as_ref() {
                None => return Err(io::Error::new(io::ErrorKind::NotFound, "no object")),
                Some(c) => match &c.data {
                    Data::Disk(path) => Some(path.clone()),
                    Data::Memory(_) => None,
                },
            }
        };
        if let (Some(path), Some(base)) = (data_path, &self.slot.base) {
            write_sidecar(base, &meta, &path).await?;
        }
        let mut state = self.slot.state.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = state.as_mut() {
            c.meta = meta;
        }
        Ok(())
    }

    /// Deletes the object (no-op when absent).
    pub(crate) async fn delete(&self) -> io::Result<()> {
        if let Some(base) = &self.slot.base {
            let meta_path = sidecar_path(base);
            match tokio::fs::remove_file(&meta_path).await {
                Ok(()) => sync_dir(base).await?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let old = self
            .slot
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(Committed {
            data: Data::Disk(path),
            ..
        }) = old
        {
            let _ = tokio::fs::remove_file(path).await;
        }
        Ok(())
    }
}

impl Upload {
    pub(crate) async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        match &mut self.target {
            UploadTarget::Memory(buf) => buf.extend_from_slice(chunk),
            UploadTarget::Disk { file, .. } => file.write_all(chunk).await?,
        }
        self.written += chunk.len() as u64;
        Ok(())
    }

    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Throws the upload away; the committed object is unchanged.
    pub(crate) async fn abort(self) {
        if let UploadTarget::Disk {
            mut file,
            path,
            rollback_len,
            fresh,
        } = self.target
        {
            // Let tokio finish any write it still has in flight, so it cannot land after the
            // truncation below.
            let _ = file.flush().await;
            drop(file);
            rollback(&path, rollback_len, fresh).await;
        }
    }
}

async fn rollback(path: &Path, rollback_len: u64, fresh: bool) {
    if fresh {
        let _ = tokio::fs::remove_file(path).await;
    } else if let Ok(f) = tokio::fs::OpenOptions::new().write(true).open(path).await {
        let _ = f.set_len(rollback_len).await;
    }
}

/// File name stem for a key: keys can be 1023 bytes of anything, file names cannot.
fn key_file_stem(key: &str) -> String {
    hex::encode(Md5::digest(key.as_bytes()))
}

fn sidecar_path(base: &Path) -> PathBuf {
    with_suffix(base, ".meta")
}

fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A new data file: `<stem>.<nonce>.<check>.data`. The check ties the name to the emulator
/// (see `generation_check`), so the load-time cleanup can tell its own uncommitted data files
/// (which no sidecar names) from files other programs put in the folder.
fn new_generation_path(base: &Path) -> PathBuf {
    let nonce = format!("{:016x}", rand::random::<u64>());
    let stem = base
        .file_name()
        .and_then(|n| n.to_str())
        .expect("slot base is <bucket dir>/<md5 hex>");
    let check = generation_check(stem, &nonce);
    with_suffix(base, &format!(".{nonce}.{check}.data"))
}

/// Eight hex digits derived from the stem and nonce of a data file name.
fn generation_check(stem: &str, nonce: &str) -> String {
    let digest = Md5::new()
        .chain_update(b"oss-emulator data file ")
        .chain_update(stem.as_bytes())
        .chain_update(b".")
        .chain_update(nonce.as_bytes())
        .finalize();
    hex::encode(&digest[..4])
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` is a data file this emulator created: `<md5 hex>.<nonce>.<check>.data` with
/// a matching check.
fn is_own_data_file_name(name: &str) -> bool {
    let Some(rest) = name.strip_suffix(".data") else {
        return false;
    };
    let mut parts = rest.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(stem), Some(nonce), Some(check), None) => {
            is_lower_hex(stem, 32)
                && is_lower_hex(nonce, 16)
                && is_lower_hex(check, 8)
                && generation_check(stem, nonce) == check
        }
        _ => false,
    }
}

/// Whether `path` (named `name`) is a temp sidecar this emulator wrote: `<md5 hex>.meta.tmp`
/// whose bytes start like a sidecar (a crash may have cut it anywhere, even at zero bytes).
fn is_own_temp_sidecar(path: &Path, name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".meta.tmp") else {
        return false;
    };
    if !is_lower_hex(stem, 32) {
        return false;
    }
    let mut head = Vec::with_capacity(SIDECAR_MAGIC.len());
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(SIDECAR_MAGIC.len() as u64).read_to_end(&mut head)
    });
    read.is_ok() && SIDECAR_MAGIC.as_bytes().starts_with(&head)
}

async fn sync_dir(dir_or_base: &Path) -> io::Result<()> {
    let dir = if dir_or_base.is_dir() {
        dir_or_base.to_path_buf()
    } else {
        parent(dir_or_base)
    };
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

fn parent(p: &Path) -> PathBuf {
    p.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Writes the sidecar atomically: temp file, fsync, rename over, fsync the directory.
async fn write_sidecar(base: &Path, meta: &ObjectMeta, data_path: &Path) -> io::Result<()> {
    let data_file = data_path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::other("bad data path"))?;
    let text = encode_sidecar(meta, data_file);
    let final_path = sidecar_path(base);
    let tmp_path = with_suffix(base, ".meta.tmp");
    let dir = parent(base);
    tokio::task::spawn_blocking(move || -> io::Result<()> {
        let mut f = std::fs::File::create(&tmp_path)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp_path, &final_path)?;
        std::fs::File::open(&dir)?.sync_all()
    })
    .await
    .map_err(io::Error::other)?
}

const SIDECAR_MAGIC: &str = "oss-emulator-object 1";

/// Sidecar format: a magic line, then `field value` lines; values and metadata names are
/// percent-escaped so a line never contains a space or newline of its own.
fn encode_sidecar(meta: &ObjectMeta, data_file: &str) -> String {
    let mut s = String::new();
    s.push_str(SIDECAR_MAGIC);
    s.push('\n');
    let mut line = |name: &str, value: &str| {
        s.push_str(name);
        s.push(' ');
        s.push_str(value);
        s.push('\n');
    };
    line("key", &escape(&meta.key));
    line("appendable", if meta.appendable { "true" } else { "false" });
    line("length", &meta.length.to_string());
    line("crc64", &meta.crc64.to_string());
    line("etag", &escape(&meta.etag));
    line("content-type", &escape(&meta.content_type));
    line("last-modified", &meta.last_modified.to_string());
    line("data-file", &escape(data_file));
    if let Some(sealed) = meta.sealed_time {
        line("sealed-time", &sealed.to_string());
    }
    for (k, v) in &meta.metadata {
        line("meta", &format!("{} {}", escape(k), escape(v)));
    }
    for (k, v) in &meta.headers {
        line("header", &format!("{} {}", escape(k), escape(v)));
    }
    s.push_str("end\n");
    s
}

/// Parses a sidecar; `None` for anything malformed or truncated (the `end` line proves the
/// file is whole, although the atomic rename already guarantees that).
fn decode_sidecar(text: &str) -> Option<(ObjectMeta, String)> {
    let mut lines = text.lines();
    if lines.next()? != SIDECAR_MAGIC {
        return None;
    }
    let mut fields: HashMap<&str, String> = HashMap::new();
    let mut metadata = BTreeMap::new();
    let mut headers = BTreeMap::new();
    let mut ended = false;
    for line in lines {
        if line == "end" {
            ended = true;
            break;
        }
        let (name, value) = line.split_once(' ')?;
        match name {
            "meta" | "header" => {
                let (k, v) = value.split_once(' ')?;
                let map = if name == "meta" {
                    &mut metadata
                } else {
                    &mut headers
                };
                map.insert(percent_decode_str(k)?, percent_decode_str(v)?);
            }
            _ => {
                fields.insert(name, percent_decode_str(value)?);
            }
        }
    }
    if !ended {
        return None;
    }
    let meta = ObjectMeta {
        key: fields.remove("key")?,
        appendable: match fields.get("appendable")?.as_str() {
            "true" => true,
            "false" => false,
            _ => return None,
        },
        length: fields.get("length")?.parse().ok()?,
        crc64: fields.get("crc64")?.parse().ok()?,
        etag: fields.remove("etag")?,
        content_type: fields.remove("content-type")?,
        last_modified: fields.get("last-modified")?.parse().ok()?,
        metadata,
        headers,
        sealed_time: match fields.get("sealed-time") {
            Some(v) => Some(v.parse().ok()?),
            None => None,
        },
    };
    Some((meta, fields.remove("data-file")?))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Loads one bucket directory, repairing what a crash may have left behind.
fn load_bucket(dir: &Path) -> io::Result<HashMap<String, Arc<Slot>>> {
    let mut slots = HashMap::new();
    let mut referenced = std::collections::HashSet::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    for name in names.iter().filter(|n| n.ends_with(".meta")) {
        let stem = &name[..name.len() - ".meta".len()];
        let path = dir.join(name);
        let Some((meta, data_file)) = std::fs::read_to_string(&path)
            .ok()
            .as_deref()
            .and_then(decode_sidecar)
        else {
            eprintln!(
                "oss-emulator: ignoring unreadable object sidecar {}",
                path.display()
            );
            continue;
        };
        if key_file_stem(&meta.key) != stem
            || data_file.contains('/')
            || !data_file.starts_with(stem)
        {
            eprintln!(
                "oss-emulator: ignoring inconsistent object sidecar {}",
                path.display()
            );
            continue;
        }
        let data_path = dir.join(&data_file);
        let actual = match std::fs::metadata(&data_path) {
            Ok(m) => m.len(),
            Err(_) => {
                eprintln!("oss-emulator: object data missing for {}", path.display());
                continue;
            }
        };
        if actual < meta.length {
            // Committed bytes missing: the data fsync was not honoured. Refuse to serve it.
            eprintln!(
                "oss-emulator: object data shorter than committed for {}",
                path.display()
            );
            continue;
        }
        if actual > meta.length {
            // An append that wrote data but never committed (crash before the sidecar).
            let f = std::fs::OpenOptions::new().write(true).open(&data_path)?;
            f.set_len(meta.length)?;
            f.sync_all()?;
        }
        referenced.insert(data_file);
        let slot = Slot {
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            state: RwLock::new(Some(Committed {
                meta: meta.clone(),
                data: Data::Disk(data_path),
            })),
            base: Some(dir.join(stem)),
        };
        slots.insert(meta.key, Arc::new(slot));
    }
    // Remove the emulator's own leftovers that no sidecar commits: unacknowledged first
    // appends / overwrites and temp sidecars. Anything else in the folder is someone else's.
    for name in &names {
        let path = dir.join(name);
        let orphan = (!referenced.contains(name) && is_own_data_file_name(name))
            || is_own_temp_sidecar(&path, name);
        if orphan {
            let _ = std::fs::remove_file(path);
        }
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str, length: u64) -> ObjectMeta {
        ObjectMeta {
            key: key.to_string(),
            appendable: true,
            length,
            crc64: 7,
            etag: "ABC".into(),
            content_type: "text/plain; charset=utf-8".into(),
            last_modified: 1_700_000_000,
            metadata: BTreeMap::from([("author".to_string(), "a b%c\n".to_string())]),
            headers: BTreeMap::from([("cache-control".to_string(), "no-cache".to_string())]),
            sealed_time: None,
        }
    }

    #[test]
    fn sidecar_round_trip() {
        let mut m = meta("dir/ключ with space%", 5);
        let text = encode_sidecar(&m, "x.0.data");
        assert_eq!(
            decode_sidecar(&text),
            Some((m.clone(), "x.0.data".to_string()))
        );
        m.sealed_time = Some(1_746_658_800);
        let sealed = encode_sidecar(&m, "x.0.data");
        assert_eq!(decode_sidecar(&sealed), Some((m, "x.0.data".to_string())));
        // Truncated sidecars are refused.
        assert_eq!(decode_sidecar(&text[..text.len() - 4]), None);
        assert_eq!(decode_sidecar("garbage"), None);
    }

    #[tokio::test]
    async fn memory_append_put_delete() {
        let store = Store::open(&["b1".to_string()], None).unwrap();
        assert!(store.slot("nope", "k").is_none());
        let slot = store.slot("b1", "k").unwrap();
        let g = slot.lock().await;
        let mut up = g.begin(UploadKind::Append, None).await.unwrap();
        up.write(b"hello").await.unwrap();
        g.commit(up, meta("k", 5)).await.unwrap();
        let mut up = g.begin(UploadKind::Append, None).await.unwrap();
        up.write(b" world").await.unwrap();
        g.commit(up, meta("k", 11)).await.unwrap();
        let mut up = g.begin(UploadKind::Append, None).await.unwrap();
        up.write(b"junk").await.unwrap();
        up.abort().await;
        drop(g);
        assert_eq!(store.snapshot("b1", "k").unwrap().data, b"hello world");
        let g = slot.lock().await;
        g.delete().await.unwrap();
        assert!(store.snapshot("b1", "k").is_none());
    }

    #[tokio::test]
    async fn recovers_after_torn_append() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = ["b1".to_string()];
        {
            let store = Store::open(&buckets, Some(dir.path())).unwrap();
            let slot = store.slot("b1", "a/key").unwrap();
            let g = slot.lock().await;
            let mut up = g.begin(UploadKind::Append, None).await.unwrap();
            up.write(b"12345").await.unwrap();
            g.commit(up, meta("a/key", 5)).await.unwrap();
            // A second append writes its data and "crashes" before the sidecar: simulate by
            // writing past the committed length and leaking the upload without commit/abort.
            let mut up = g.begin(UploadKind::Append, None).await.unwrap();
            up.write(b"torn").await.unwrap();
            if let UploadTarget::Disk { file, .. } = up.target {
                file.sync_all().await.unwrap();
            }
            // An uncommitted first append of another key and a stale temp file.
            let other = store.slot("b1", "other").unwrap();
            let g2 = other.lock().await;
            let mut up = g2.begin(UploadKind::Append, None).await.unwrap();
            up.write(b"never acknowledged").await.unwrap();
            std::mem::forget(up);
            let partial = &encode_sidecar(&meta("zzz", 1), "x")[..30];
            let temp = format!("{}.meta.tmp", key_file_stem("zzz"));
            std::fs::write(dir.path().join("b1").join(temp), partial).unwrap();
        }
        let files_before = std::fs::read_dir(dir.path().join("b1")).unwrap().count();
        assert_eq!(files_before, 4, "meta + data for a/key, orphan data, temp");
        let store = Store::open(&buckets, Some(dir.path())).unwrap();
        let obj = store.snapshot("b1", "a/key").unwrap();
        assert_eq!(obj.data, b"12345");
        assert_eq!(obj.crc64, 7);
        assert_eq!(obj.metadata["author"], "a b%c\n");
        assert!(store.snapshot("b1", "other").is_none());
        let names: Vec<String> = std::fs::read_dir(dir.path().join("b1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "orphans removed: {names:?}");
        // Appending after recovery continues at the committed length.
        let slot = store.slot("b1", "a/key").unwrap();
        let g = slot.lock().await;
        let mut up = g.begin(UploadKind::Append, None).await.unwrap();
        up.write(b"678").await.unwrap();
        g.commit(up, meta("a/key", 8)).await.unwrap();
        drop(g);
        assert_eq!(store.snapshot("b1", "a/key").unwrap().data, b"12345678");
    }

    #[tokio::test]
    async fn replace_switches_generation_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = ["b1".to_string()];
        let store = Store::open(&buckets, Some(dir.path())).unwrap();
        let slot = store.slot("b1", "k").unwrap();
        let g = slot.lock().await;
        let mut up = g.begin(UploadKind::Append, None).await.unwrap();
        up.write(b"old").await.unwrap();
        g.commit(up, meta("k", 3)).await.unwrap();
        // A reader that opened the old generation keeps its bytes after the overwrite.
        let Some(ReadSource::File { mut file, .. }) = slot.read(0, 3).unwrap() else {
            panic!()
        };
        let mut up = g.begin(UploadKind::Replace, None).await.unwrap();
        up.write(b"new!").await.unwrap();
        let mut m = meta("k", 4);
        m.appendable = false;
        g.commit(up, m).await.unwrap();
        let mut old = String::new();
        std::io::Read::read_to_string(&mut file, &mut old).unwrap();
        assert_eq!(old, "old");
        drop(g);
        let reopened = Store::open(&buckets, Some(dir.path())).unwrap();
        let obj = reopened.snapshot("b1", "k").unwrap();
        assert_eq!((obj.data.as_slice(), obj.appendable), (&b"new!"[..], false));
        assert_eq!(std::fs::read_dir(dir.path().join("b1")).unwrap().count(), 2);
    }

    /// The load-time cleanup deletes only the emulator's own leftovers: files of other programs
    /// in the bucket folder keep their bytes, whatever their extension.
    #[tokio::test]
    async fn load_leaves_foreign_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = ["b1".to_string()];
        let bucket_dir = dir.path().join("b1");
        {
            let store = Store::open(&buckets, Some(dir.path())).unwrap();
            let slot = store.slot("b1", "kept").unwrap();
            let g = slot.lock().await;
            let mut up = g.begin(UploadKind::Append, None).await.unwrap();
            up.write(b"abc").await.unwrap();
            g.commit(up, meta("kept", 3)).await.unwrap();
            // The emulator's own leftovers: a first append that never committed and a temp
            // sidecar cut short by a crash.
            let other = store.slot("b1", "other").unwrap();
            let g2 = other.lock().await;
            let mut up = g2.begin(UploadKind::Append, None).await.unwrap();
            up.write(b"never acknowledged").await.unwrap();
            std::mem::forget(up);
        }
        let own_temp = format!("{}.meta.tmp", key_file_stem("other"));
        std::fs::write(bucket_dir.join(&own_temp), &SIDECAR_MAGIC.as_bytes()[..7]).unwrap();
        let foreign = [
            ("notes.data", &b"my notes"[..]),
            ("x.tmp", b"scratch"),
            ("report.meta.tmp", b"not a sidecar"),
            // Emulator-shaped names the emulator did not make: no valid check, not a sidecar.
            (
                "0123456789abcdef0123456789abcdef.0123456789abcdef.data",
                b"looks like ours",
            ),
            ("0123456789abcdef0123456789abcdef.meta.tmp", b"plain text"),
        ];
        for (name, bytes) in foreign {
            std::fs::write(bucket_dir.join(name), bytes).unwrap();
        }
        let store = Store::open(&buckets, Some(dir.path())).unwrap();
        assert_eq!(store.snapshot("b1", "kept").unwrap().data, b"abc");
        for (name, bytes) in foreign {
            assert_eq!(
                std::fs::read(bucket_dir.join(name)).ok().as_deref(),
                Some(bytes),
                "{name} must be left alone"
            );
        }
        let mut names: Vec<String> = std::fs::read_dir(&bucket_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !foreign.iter().any(|(f, _)| f == n))
            .collect();
        names.sort();
        // Only the committed object's sidecar and data remain of the emulator's files.
        assert_eq!(names.len(), 2, "own leftovers removed: {names:?}");
        assert!(!names.contains(&own_temp), "{names:?}");
    }
}
