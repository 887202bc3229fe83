//! When the append session tries again, and how long it waits: a capped exponential backoff with
//! jitter inside a deadline, and the classification of failures into "certainly not applied,
//! retry", "may have been applied, check first" and "give up".
//!
//! Plain [`crate::Client`] calls never retry; only [`crate::session`] uses this.

use std::time::{Duration, Instant};

use crate::protocol::error::{Error, TransportErrorKind};

/// Default number of retries per session operation (append or seal), HEAD probes included.
pub const DEFAULT_MAX_RETRIES: u32 = 10;
/// Default first backoff step.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// Default longest wait between two tries.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Default time budget of one session operation, counted from its start: no new try starts
/// after it.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// The most retries a policy may allow per operation: more would keep a failing session busy
/// for what amounts to ever, and points to a unit mistake.
pub const MAX_RETRIES_LIMIT: u32 = 1000;
/// The longest backoff step or deadline a policy may set: one day. Longer waits are a unit
/// mistake (seconds or microseconds taken for milliseconds), not a plan.
pub const LONGEST_WAIT: Duration = Duration::from_millis(86_400_000);

/// How a session retries. The defaults ([`RetryPolicy::default`]) suit a mobile network: up to
/// 10 retries, waits growing from 200 ms to at most 10 s, all within 60 s.
///
/// The deadline bounds *starting* new tries. A request already under way is never cut short by
/// it (the client's connect and read/write timeouts bound each request), and after an
/// ambiguous failure the session always makes at least one HEAD to learn the outcome, even past
/// the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try (0 disables retrying). Every failed request that is tried
    /// again, append or HEAD, uses one.
    pub max_retries: u32,
    /// The first wait; each later one doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
    /// Budget of one session operation; no retry starts after it.
    pub deadline: Duration,
    /// Seed of the jitter, for reproducible tests. `None` seeds from the clock.
    pub jitter_seed: Option<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            deadline: DEFAULT_DEADLINE,
            jitter_seed: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all: every failure is returned (after the HEAD that an ambiguous failure
    /// always gets).
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Checks the policy: at most [`MAX_RETRIES_LIMIT`] retries, no wait or deadline beyond
    /// [`LONGEST_WAIT`]; a zero deadline or a cap below the first step make no sense.
    pub fn validate(&self) -> crate::protocol::error::Result<()> {
        if self.max_retries > MAX_RETRIES_LIMIT {
            return Err(Error::invalid(
                "retry.maxRetries",
                format!(
                    "must be at most {MAX_RETRIES_LIMIT}, got {}",
                    self.max_retries
                ),
            ));
        }
        for (field, wait) in [
            ("retry.initialBackoff", self.initial_backoff),
            ("retry.maxBackoff", self.max_backoff),
            ("retry.deadline", self.deadline),
        ] {
            if wait > LONGEST_WAIT {
                return Err(Error::invalid(
                    field,
                    format!(
                        "must be at most one day ({} ms), got {}",
                        LONGEST_WAIT.as_millis(),
                        wait.as_millis()
                    ),
                ));
            }
        }
        if self.deadline.is_zero() {
            return Err(Error::invalid("retry.deadline", "must be greater than 0"));
        }
        if self.max_backoff < self.initial_backoff {
            return Err(Error::invalid(
                "retry.maxBackoff",
                format!(
                    "must be at least retry.initialBackoff ({:?}), got {:?}",
                    self.initial_backoff, self.max_backoff
                ),
            ));
        }
        Ok(())
    }
}

/// The retry budget of one operation: counts retries, keeps the deadline, draws the jitter.
#[derive(Debug)]
pub struct Backoff {
    policy: RetryPolicy,
    started: Instant,
    retries: u32,
    rng: SplitMix64,
}

impl Backoff {
    /// Starts the clock for one operation.
    pub fn new(policy: &RetryPolicy) -> Self {
        let seed = policy.jitter_seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9E37_79B9_7F4A_7C15)
        });
        Self {
            policy: policy.clone(),
            started: Instant::now(),
            retries: 0,
            rng: SplitMix64(seed),
        }
    }

    /// The wait before the next retry, or `None` when the budget is spent: all retries used,
    /// or the wait would end past the deadline. Equal jitter: step `n` (from 0) waits a uniform
    /// time in `[d/2, d]` with `d = min(max_backoff, initial_backoff * 2^n)`, so waits keep
    /// growing while concurrent clients spread out.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if self.retries >= self.policy.max_retries {
            return None;
        }
        let step = self
            .policy
            .initial_backoff
            .saturating_mul(1u32 << self.retries.min(20))
            .min(self.policy.max_backoff);
        let half = step / 2;
        let nanos = half.as_nanos().min(u64::MAX as u128) as u64;
        let jitter = if nanos == 0 {
            0
        } else {
            self.rng.next() % (nanos + 1)
        };
        let delay = half + Duration::from_nanos(jitter);
        if self.started.elapsed() + delay > self.policy.deadline {
            return None;
        }
        self.retries += 1;
        Some(delay)
    }

    /// Retries granted so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Time since the operation started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// SplitMix64: a tiny, well-mixed generator; plenty for jitter.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// What a failed append means for the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// OSS certainly did not apply it (it never got the whole body, or refused it before
    /// acting), and trying again may work: connect errors, failures before the body was out,
    /// 5xx answers before the body was out, `RequestTimeout`.
    Retry,
    /// OSS may have applied it: the whole body went out and then the connection failed, the
    /// answer timed out, OSS answered 5xx, or a 2xx answer was unusable. Find out (HEAD)
    /// before anything else.
    Ambiguous,
    /// Retrying cannot help (4xx answers, bad arguments, a file that cannot be read, a CRC
    /// mismatch).
    Fatal,
}

/// Classifies a failed append. `whole_body_sent` says whether every byte of the body was
/// handed to the connection (a 5xx before that cannot have been applied).
pub fn classify_append(error: &Error, whole_body_sent: bool) -> Disposition {
    match error {
        Error::Transport { kind, .. } if *kind == TransportErrorKind::Connect => Disposition::Retry,
        // A timeout or a broken connection: applied only if the whole body went out.
        Error::Transport {
            kind: TransportErrorKind::Timeout | TransportErrorKind::Io,
            request_sent,
            ..
        } => {
            if *request_sent {
                Disposition::Ambiguous
            } else {
                Disposition::Retry
            }
        }
        // Any other transport failure (the body could not be read, the caller stopped the
        // call) is not the network's doing: trying again will not help.
        Error::Transport { .. } => Disposition::Fatal,
        Error::Service(s) if s.status >= 500 => {
            if whole_body_sent {
                Disposition::Ambiguous
            } else {
                Disposition::Retry
            }
        }
        Error::Service(s) if s.code == "RequestTimeout" => Disposition::Retry,
        Error::InvalidResponse { .. } => Disposition::Ambiguous,
        // Nothing was sent; the provider may answer next time (its server may be down).
        Error::Credentials { .. } => Disposition::Retry,
        Error::Service(_) | Error::InvalidArgument { .. } | Error::CrcMismatch { .. } => {
            Disposition::Fatal
        }
    }
}

/// Whether a failed idempotent request (HEAD, seal) is worth trying again: connect errors,
/// timeouts, broken connections and 5xx answers.
pub fn is_transient(error: &Error) -> bool {
    match error {
        Error::Transport { kind, .. } => matches!(
            kind,
            TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Io
        ),
        Error::Service(s) => s.status >= 500 || s.code == "RequestTimeout",
        // The provider may answer next time.
        Error::Credentials { .. } => true,
        Error::InvalidArgument { .. }
        | Error::CrcMismatch { .. }
        | Error::InvalidResponse { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::ServiceError;

    fn policy(max_retries: u32, deadline_ms: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            deadline: Duration::from_millis(deadline_ms),
            jitter_seed: Some(7),
        }
    }

    #[test]
    fn waits_grow_within_bounds_and_stop_at_the_retry_limit() {
        let mut b = Backoff::new(&policy(8, 60_000));
        let mut steps = Vec::new();
        while let Some(d) = b.next_delay() {
            steps.push(d);
        }
        assert_eq!(steps.len(), 8);
        for (n, d) in steps.iter().enumerate() {
            let cap = Duration::from_millis((100u64 << n).min(1000));
            assert!(
                *d >= cap / 2 && *d <= cap,
                "step {n}: {d:?} not in [{:?}, {cap:?}]",
                cap / 2
            );
        }
        assert_eq!(b.retries(), 8);
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let run = || {
            let mut b = Backoff::new(&policy(5, 60_000));
            std::iter::from_fn(|| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn the_deadline_stops_retries() {
        // The first wait is at least 50 ms, past a 10 ms deadline.
        let mut b = Backoff::new(&policy(8, 10));
        assert_eq!(b.next_delay(), None);
        assert!(RetryPolicy::none().max_retries == 0);
        let mut b = Backoff::new(&RetryPolicy::none());
        assert_eq!(b.next_delay(), None);
    }

    #[test]
    fn validation_names_the_field() {
        let mut p = policy(1, 1);
        p.deadline = Duration::ZERO;
        assert!(matches!(
            p.validate(),
            Err(Error::InvalidArgument {
                field: "retry.deadline",
                ..
            })
        ));
        let mut p = policy(1, 1);
        p.max_backoff = Duration::from_millis(1);
        assert!(matches!(
            p.validate(),
            Err(Error::InvalidArgument {
                field: "retry.maxBackoff",
                ..
            })
        ));
        assert!(RetryPolicy::default().validate().is_ok());
    }

    #[test]
    fn validation_caps_retries_and_waits() {
        let at_limits = RetryPolicy {
            max_retries: MAX_RETRIES_LIMIT,
            initial_backoff: LONGEST_WAIT,
            max_backoff: LONGEST_WAIT,
            deadline: LONGEST_WAIT,
            jitter_seed: None,
        };
        assert!(at_limits.validate().is_ok());
        let refused = |p: RetryPolicy| match p.validate() {
            Err(Error::InvalidArgument { field, rule }) => format!("{field} {rule}"),
            other => panic!("expected InvalidArgument, got {other:?}"),
        };
        assert_eq!(
            refused(RetryPolicy {
                max_retries: MAX_RETRIES_LIMIT + 1,
                ..at_limits.clone()
            }),
            "retry.maxRetries must be at most 1000, got 1001"
        );
        let one_day_and_a_bit = LONGEST_WAIT + Duration::from_millis(1);
        assert_eq!(
            refused(RetryPolicy {
                deadline: one_day_and_a_bit,
                ..at_limits.clone()
            }),
            "retry.deadline must be at most one day (86400000 ms), got 86400001"
        );
        assert_eq!(
            refused(RetryPolicy {
                initial_backoff: one_day_and_a_bit,
                ..at_limits.clone()
            }),
            "retry.initialBackoff must be at most one day (86400000 ms), got 86400001"
        );
        assert!(refused(RetryPolicy {
            max_backoff: one_day_and_a_bit,
            ..at_limits
        })
        .starts_with("retry.maxBackoff must be at most one day"));
    }

    fn transport(kind: TransportErrorKind, request_sent: bool) -> Error {
        Error::Transport {
            kind,
            message: String::new(),
            request_sent,
        }
    }

    fn service(status: u16, code: &str) -> Error {
        Error::Service(Box::new(ServiceError {
            status,
            code: code.into(),
            ..Default::default()
        }))
    }

    #[test]
    fn classification() {
        use Disposition::*;
        use TransportErrorKind::*;
        assert_eq!(classify_append(&transport(Connect, false), false), Retry);
        assert_eq!(classify_append(&transport(Timeout, false), false), Retry);
        assert_eq!(classify_append(&transport(Timeout, true), true), Ambiguous);
        assert_eq!(classify_append(&transport(Io, true), true), Ambiguous);
        assert_eq!(classify_append(&transport(Io, false), false), Retry);
        assert_eq!(classify_append(&transport(Body, false), false), Fatal);
        assert_eq!(classify_append(&service(503, "X"), true), Ambiguous);
        assert_eq!(classify_append(&service(500, "X"), false), Retry);
        assert_eq!(
            classify_append(&service(400, "RequestTimeout"), true),
            Retry
        );
        assert_eq!(
            classify_append(&service(409, "PositionNotEqualToLength"), true),
            Fatal
        );
        assert_eq!(classify_append(&service(403, "AccessDenied"), true), Fatal);
        let invalid = Error::InvalidResponse {
            message: String::new(),
            request_id: String::new(),
        };
        assert_eq!(classify_append(&invalid, true), Ambiguous);
        let credentials = Error::Credentials {
            message: "provider down".into(),
        };
        assert_eq!(classify_append(&credentials, false), Retry);
        assert!(is_transient(&credentials));
        assert!(is_transient(&service(503, "X")));
        assert!(is_transient(&transport(Connect, false)));
        assert!(!is_transient(&service(404, "NoSuchKey")));
        assert!(!is_transient(&transport(Body, false)));
    }
}
