//! [`StreamOptions`]: what a stream is opened with, the defaults, and the rules they are checked
//! against ([`StreamOptions::validate`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::protocol::limits::MAX_APPENDABLE_SIZE;
use crate::protocol::options::AppendOptions;
use crate::protocol::validate;
use crate::session::retry::{RetryPolicy, LONGEST_WAIT};
use crate::stream::error::StreamError;

/// Default group-commit interval: at most one fsync per 2 ms under load (an idle stream
/// fsyncs a write at once).
pub const DEFAULT_GROUP_COMMIT: Duration = Duration::from_millis(2);
/// Default bound of the spool: bytes written but not yet confirmed in OSS.
pub const DEFAULT_MAX_SPOOL_BYTES: u64 = 256 * 1024 * 1024;
/// Default largest append the uploader sends.
pub const DEFAULT_MAX_APPEND_BYTES: u64 = 4 * 1024 * 1024;
/// Default wait of an idle stream's first write before it goes out, to gather more.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_millis(50);
/// Default size at which the spool starts a new segment file.
pub const DEFAULT_SEGMENT_BYTES: u64 = 8 * 1024 * 1024;
/// The largest single write (one spool record).
pub const MAX_WRITE_BYTES: u64 = 64 * 1024 * 1024;

/// When `write` resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync after each write, before it resolves.
    EachWrite,
    /// Writes resolve at the next group fsync: the spool's thread takes every write already
    /// queued, then fsyncs once for all of them; writes arriving during an fsync form the next
    /// group. An idle spool fsyncs at once; under load fsyncs start at most once per `interval`.
    GroupCommit {
        /// The shortest time between the starts of two fsyncs.
        interval: Duration,
    },
}

impl Default for Durability {
    fn default() -> Self {
        Durability::GroupCommit {
            interval: DEFAULT_GROUP_COMMIT,
        }
    }
}

/// What `write` does when the spool holds `max_spool_bytes` not yet uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FullPolicy {
    /// The write waits (in order, behind earlier ones) until uploads free room.
    #[default]
    Wait,
    /// The write fails at once with [`StreamError::SpoolFull`]; nothing of it is written.
    Reject,
}

/// How the stream waits between failed upload rounds (each round being one append through the
/// session with its own [`RetryPolicy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnect {
    /// The first wait after a round failed; doubling up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
    /// Stop with [`StreamError::GaveUp`] after failing this long without a success. `None`
    /// (the default): retry forever.
    pub give_up_after: Option<Duration>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            give_up_after: None,
        }
    }
}

/// What a next-key callback answers: the key of the next object, or why there is none yet
/// (the stream retries the rollover with backoff).
pub type NextKeyFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send>>;

/// An app's choice of the next object's key (instead of [`Rollover::key_template`]), asked once
/// per rollover with the stream's first key and the next object's number (1, 2, …). The key it
/// gives is checked as every key is, and recorded in the spool before anything goes there, so
/// a restart continues at it without asking again.
pub trait NextKey: Send + Sync + 'static {
    /// The key of object number `n`.
    fn next_key(&self, key: &str, n: u32) -> NextKeyFuture;
}

/// A shared [`NextKey`] in a [`Rollover`]; `Debug` shows only that there is one, and two are
/// equal when they are the same callback.
#[derive(Clone)]
pub struct NextKeyFn(pub std::sync::Arc<dyn NextKey>);

impl std::fmt::Debug for NextKeyFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NextKeyFn(<callback>)")
    }
}

impl PartialEq for NextKeyFn {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for NextKeyFn {}

/// Continuing at a new object when the current one is full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollover {
    /// Start the next object before the current one would pass this many bytes (at most, and by
    /// default, 5 GiB, OSS's limit for appendable objects). A single write larger than this
    /// still goes into one object (as long as it fits 5 GiB).
    pub max_object_bytes: u64,
    /// Also start the next object once the current one is this old, counted from when the
    /// stream began it (across restarts: the time is in the spool). Checked before each
    /// upload, so an idle stream moves on with its next data. `None`: by size only.
    pub max_age: Option<Duration>,
    /// Seal each full object (`SealAppendObject`) after moving on.
    pub seal: bool,
    /// The next key: `{key}` is the stream's key (from the options), `{n}` the object's number
    /// (1 for the first rollover). Must contain `{n}`.
    pub key_template: String,
    /// Asked for the next key instead of `key_template`, when set.
    pub next_key: Option<NextKeyFn>,
}

impl Default for Rollover {
    fn default() -> Self {
        Self {
            max_object_bytes: MAX_APPENDABLE_SIZE,
            max_age: None,
            seal: false,
            key_template: "{key}.{n}".into(),
            next_key: None,
        }
    }
}

impl Rollover {
    /// The key of object number `n` (0 is the stream's key itself).
    pub fn key_for(&self, key: &str, n: u32) -> String {
        if n == 0 {
            key.to_owned()
        } else {
            self.key_template
                .replace("{key}", key)
                .replace("{n}", &n.to_string())
        }
    }
}

/// How to open an append stream ([`crate::Client::append_stream`]).
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Bucket.
    pub bucket: String,
    /// Object key (the first object's; see `rollover`).
    pub key: String,
    /// The spool directory (created if missing). One stream at a time per directory.
    pub spool_dir: PathBuf,
    /// When `write` resolves. Default: group commit every 2 ms.
    pub durability: Durability,
    /// The most bytes written and not yet confirmed in OSS. Default 256 MiB.
    pub max_spool_bytes: u64,
    /// What a write does when the spool is full. Default: wait.
    pub full_policy: FullPolicy,
    /// The largest append (data gathered while the previous append was in flight leaves as one
    /// append up to this size). Default 4 MiB.
    pub max_append_bytes: u64,
    /// How long the first write into an idle stream waits for more before it is uploaded.
    /// Default 50 ms. `flush` and `close` do not wait for it.
    pub max_delay: Duration,
    /// Segment file size at which the spool starts a new segment. Default 8 MiB.
    pub segment_bytes: u64,
    /// Headers for the append that creates the object (see `AppenderOptions::options`).
    pub append_options: AppendOptions,
    /// Retries of one append (the session's budget; the stream starts a new round after it).
    pub retry: RetryPolicy,
    /// Waits between rounds, and whether to ever give up.
    pub reconnect: Reconnect,
    /// Moving on to a new object when the current one is full. `None` (the default): a write
    /// that would pass 5 GiB stops the stream with an upload error instead.
    pub rollover: Option<Rollover>,
}

impl StreamOptions {
    /// A stream on `bucket`/`key` spooling in `spool_dir`, with the defaults.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        spool_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            spool_dir: spool_dir.into(),
            durability: Durability::default(),
            max_spool_bytes: DEFAULT_MAX_SPOOL_BYTES,
            full_policy: FullPolicy::default(),
            max_append_bytes: DEFAULT_MAX_APPEND_BYTES,
            max_delay: DEFAULT_MAX_DELAY,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            append_options: AppendOptions::default(),
            retry: RetryPolicy::default(),
            reconnect: Reconnect::default(),
            rollover: None,
        }
    }

    /// Sets `durability`.
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets `max_spool_bytes` and `full_policy`.
    pub fn with_max_spool_bytes(mut self, max: u64, policy: FullPolicy) -> Self {
        self.max_spool_bytes = max;
        self.full_policy = policy;
        self
    }

    /// Sets `max_append_bytes` and `max_delay`.
    pub fn with_coalescing(mut self, max_append_bytes: u64, max_delay: Duration) -> Self {
        self.max_append_bytes = max_append_bytes;
        self.max_delay = max_delay;
        self
    }

    /// Sets `retry`.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets `reconnect`.
    pub fn with_reconnect(mut self, reconnect: Reconnect) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Sets `rollover`.
    pub fn with_rollover(mut self, rollover: Rollover) -> Self {
        self.rollover = Some(rollover);
        self
    }

    /// Checks every rule; the first one broken is named in [`StreamError::InvalidOption`].
    /// (Bucket, key and headers are checked by the append session as well.)
    pub fn validate(&self) -> Result<(), StreamError> {
        // The object's own rules, as a single append checks them: caught here, at open, not
        // after the first writes were acknowledged and the upload found them.
        let as_stream_error = |e: crate::protocol::error::Error| match e {
            crate::protocol::error::Error::InvalidArgument { field, rule } => {
                StreamError::invalid(field, rule)
            }
            other => StreamError::invalid("append_options", other.to_string()),
        };
        validate::bucket(&self.bucket).map_err(as_stream_error)?;
        validate::key(&self.key).map_err(as_stream_error)?;
        validate::options(&self.append_options).map_err(as_stream_error)?;
        if self.spool_dir.as_os_str().is_empty() {
            return Err(StreamError::invalid("spool_dir", "must not be empty"));
        }
        if let Durability::GroupCommit { interval } = self.durability {
            if interval > Duration::from_secs(1) {
                return Err(StreamError::invalid(
                    "durability.interval",
                    format!("must be at most 1 s, got {interval:?}"),
                ));
            }
        }
        if self.max_append_bytes == 0 || self.max_append_bytes > MAX_APPENDABLE_SIZE {
            return Err(StreamError::invalid(
                "max_append_bytes",
                format!(
                    "must be between 1 and {MAX_APPENDABLE_SIZE}, got {}",
                    self.max_append_bytes
                ),
            ));
        }
        if self.max_spool_bytes < MAX_WRITE_BYTES.min(1024 * 1024) {
            return Err(StreamError::invalid(
                "max_spool_bytes",
                format!("must be at least 1 MiB, got {}", self.max_spool_bytes),
            ));
        }
        if self.max_delay > Duration::from_secs(3600) {
            return Err(StreamError::invalid(
                "max_delay",
                format!("must be at most one hour, got {:?}", self.max_delay),
            ));
        }
        if !(4096..=1 << 30).contains(&self.segment_bytes) {
            return Err(StreamError::invalid(
                "segment_bytes",
                format!(
                    "must be between 4 KiB and 1 GiB, got {}",
                    self.segment_bytes
                ),
            ));
        }
        self.retry
            .validate()
            .map_err(|e| StreamError::invalid("retry", e.to_string()))?;
        let r = &self.reconnect;
        if r.initial_backoff.is_zero() || r.max_backoff < r.initial_backoff {
            return Err(StreamError::invalid(
                "reconnect.max_backoff",
                "initial_backoff must be above 0 and max_backoff at least initial_backoff",
            ));
        }
        if r.max_backoff > LONGEST_WAIT || r.give_up_after.is_some_and(|g| g.is_zero()) {
            return Err(StreamError::invalid(
                "reconnect",
                "max_backoff must be at most one day and give_up_after above 0",
            ));
        }
        if let Some(roll) = &self.rollover {
            if roll.max_object_bytes == 0 || roll.max_object_bytes > MAX_APPENDABLE_SIZE {
                return Err(StreamError::invalid(
                    "rollover.max_object_bytes",
                    format!(
                        "must be between 1 and {MAX_APPENDABLE_SIZE}, got {}",
                        roll.max_object_bytes
                    ),
                ));
            }
            if !roll.key_template.contains("{n}") {
                return Err(StreamError::invalid(
                    "rollover.key_template",
                    "must contain `{n}` (the object's number)",
                ));
            }
            if roll.next_key.is_none() {
                validate::key(&roll.key_for(&self.key, 1)).map_err(|e| {
                    StreamError::invalid("rollover.key_template", format!("makes keys that {e}"))
                })?;
            }
        }
        Ok(())
    }
}
