//! Upload progress: an observer called with `(bytes sent, total)` as the body is handed to the
//! connection, throttled so that it costs nothing noticeable even for the JS thread.
//!
//! # The throttling rule
//!
//! "Sent" counts the bytes handed to the connection (the number the stall watchdog watches too).
//! An update is reported only when it moves past the last reported value **and**
//!
//! * at least [`MIN_INTERVAL`] (100 ms) passed since the last report (or since the observer
//!   was attached), **or**
//! * at least 1 % of the total ([`min_step`]) was sent since the last report;
//!
//! and the moment the last byte is handed over, `(total, total)` is always reported, once: the
//! final call. Nothing is reported after it. So an upload of `d` milliseconds gets at most
//! `d / 100 + 100 + 1` calls, the values never go down, and the last one is `(total, total)`.
//! An empty body gets the single call `(0, 0)`.
//!
//! When an append session sends a body again (after a failure that did not apply it), the
//! count starts from 0 for the new try; nothing is reported until it passes the value reported
//! before, so callers still see a monotonic sequence.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use oss_append::{AppendObjectRequest, Body};
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = seen.clone();
//! // On a body (works with `Client::append_object` and with append sessions) ...
//! let body = Body::from(vec![0u8; 1 << 20])
//!     .with_progress(move |sent, total| log.lock().unwrap().push((sent, total)));
//! // ... or on the request, which forwards it to its body.
//! let request = AppendObjectRequest::new("my-bucket", "big.bin", vec![0u8; 1 << 20])
//!     .with_progress(|sent, total| println!("{sent} / {total}"));
//! # let _ = (body, request);
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Reports are at least this far apart, unless 1 % more of the body was sent.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// A progress callback: `(bytes sent, total bytes)`. Called on the thread that hands the body to
/// the connection, so it must be quick (copy the numbers, signal another thread).
pub type ProgressFn = dyn Fn(u64, u64) + Send + Sync;

/// A shareable progress callback.
#[derive(Clone)]
pub struct ProgressObserver(Arc<ProgressFn>);

impl ProgressObserver {
    /// Wraps a callback.
    pub fn new(f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Calls it.
    pub fn call(&self, sent: u64, total: u64) {
        (self.0)(sent, total)
    }
}

impl fmt::Debug for ProgressObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressObserver")
    }
}

impl<F: Fn(u64, u64) + Send + Sync + 'static> From<F> for ProgressObserver {
    fn from(f: F) -> Self {
        Self::new(f)
    }
}

/// 1 % of `total`, rounded up, at least 1 byte: the step that is reported without waiting.
pub fn min_step(total: u64) -> u64 {
    total.div_ceil(100).max(1)
}

/// The throttling rule (see the module docs), as a pure state machine over `(sent, total, now)`.
#[derive(Debug, Clone)]
pub struct Throttle {
    last_at: Instant,
    last_sent: u64,
    done: bool,
}

impl Throttle {
    /// A throttle whose first interval starts at `start`.
    pub fn new(start: Instant) -> Self {
        Self {
            last_at: start,
            last_sent: 0,
            done: false,
        }
    }

    /// Whether `(sent, total)` seen at `now` is to be reported; if so, it becomes the last
    /// reported value. `sent` above `total` counts as `total`.
    pub fn should_report(&mut self, sent: u64, total: u64, now: Instant) -> bool {
        if self.done {
            return false;
        }
        let sent = sent.min(total);
        if sent == total {
            self.done = true;
            return self.mark(sent, now);
        }
        if sent <= self.last_sent {
            return false; // nothing new (or a resend that has not caught up yet)
        }
        let stepped = sent - self.last_sent >= min_step(total);
        let waited = now.saturating_duration_since(self.last_at) >= MIN_INTERVAL;
        if stepped || waited {
            return self.mark(sent, now);
        }
        false
    }

    /// Whether the final `(total, total)` has been reported.
    pub fn finished(&self) -> bool {
        self.done
    }

    fn mark(&mut self, sent: u64, now: Instant) -> bool {
        self.last_at = now;
        self.last_sent = sent;
        true
    }
}

/// An observer with its throttle, shared by every try of one body.
pub(crate) struct Reporter {
    observer: ProgressObserver,
    throttle: Mutex<Throttle>,
}

impl Reporter {
    pub(crate) fn new(observer: ProgressObserver) -> Self {
        Self {
            observer,
            throttle: Mutex::new(Throttle::new(Instant::now())),
        }
    }

    /// Feeds one update through the throttle; calls the observer (outside the lock) if it
    /// passes.
    pub(crate) fn update(&self, sent: u64, total: u64) {
        let report = self
            .throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .should_report(sent, total, Instant::now());
        if report {
            self.observer.call(sent.min(total), total);
        }
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reporter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Runs updates `(sent, at_ms)` through a throttle; returns the reported `(sent, at_ms)`.
    fn run(total: u64, updates: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let t0 = Instant::now();
        let mut t = Throttle::new(t0);
        updates
            .iter()
            .copied()
            .filter(|&(sent, at)| t.should_report(sent, total, t0 + MS * at as u32))
            .collect()
    }

    #[test]
    fn small_steps_within_100ms_are_dropped_until_one_percent() {
        // 1000 bytes: 1 % is 10. Steps of 3 bytes, 1 ms apart.
        let updates: Vec<(u64, u64)> = (1..=333).map(|i| (i * 3, i)).collect();
        let got = run(1000, &updates);
        assert_eq!(
            got.first(),
            Some(&(12, 4)),
            "first report at the first 1 % step"
        );
        for pair in got.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(b.0 > a.0, "monotonic: {got:?}");
            assert!(
                b.0 - a.0 >= 10 || b.1 - a.1 >= 100,
                "throttled: {a:?} -> {b:?}"
            );
        }
        // 999 never reaches 1000: no final call yet.
        assert!(got.iter().all(|&(s, _)| s < 1000));
        assert!(got.len() <= 100);
    }

    #[test]
    fn the_time_rule_reports_slow_uploads_every_100ms() {
        // 1 byte every 10 ms of a 1 MB body: far below 1 %, so only the clock lets reports out.
        let updates: Vec<(u64, u64)> = (1..=100).map(|i| (i, i * 10)).collect();
        let got = run(1_000_000, &updates);
        assert_eq!(
            got,
            [
                (10, 100),
                (20, 200),
                (30, 300),
                (40, 400),
                (50, 500),
                (60, 600),
                (70, 700),
                (80, 800),
                (90, 900),
                (100, 1000)
            ]
        );
    }

    #[test]
    fn the_final_call_is_always_made_once_and_nothing_after_it() {
        // 10 000 bytes: 1 % is 100; 5050 is neither 1 % nor 100 ms after 5000, 10 000 is final.
        let got = run(
            10_000,
            &[
                (5000, 1),
                (5050, 2),
                (10_000, 3),
                (10_000, 4),
                (10_000, 500),
            ],
        );
        assert_eq!(got, [(5000, 1), (10_000, 3)]);
        // Even right after another report, and when the count overshoots.
        let got = run(1000, &[(500, 1), (1200, 2)]);
        assert_eq!(got, [(500, 1), (1200, 2)]);
        let mut t = Throttle::new(Instant::now());
        assert!(t.should_report(7, 5, Instant::now()));
        assert!(t.finished());
        assert!(!t.should_report(5, 5, Instant::now()));
    }

    #[test]
    fn an_empty_body_gets_exactly_one_call() {
        assert_eq!(run(0, &[(0, 0), (0, 1)]), [(0, 0)]);
    }

    #[test]
    fn a_resend_reports_nothing_until_it_passes_the_last_value() {
        // A first try reaches 600 of 1000, then a second try starts from 0.
        let got = run(
            1000,
            &[
                (300, 1),
                (600, 2),
                (100, 400),
                (500, 800),
                (700, 900),
                (1000, 901),
            ],
        );
        assert_eq!(got, [(300, 1), (600, 2), (700, 900), (1000, 901)]);
    }

    #[test]
    fn the_number_of_calls_is_bounded() {
        // 10 MB in 64 KiB steps over 2 s: at most 2000/100 + 100 + 1 calls.
        let total = 10_000_000u64;
        let step = 65_536u64;
        let n = total.div_ceil(step);
        let updates: Vec<(u64, u64)> = (1..=n)
            .map(|i| ((i * step).min(total), i * 2000 / n))
            .collect();
        let got = run(total, &updates);
        assert!(
            got.len() as u64 <= 2000 / 100 + 100 + 1,
            "{} calls",
            got.len()
        );
        assert_eq!(got.last().unwrap().0, total);
        assert!(got.windows(2).all(|w| w[1].0 > w[0].0));
    }

    #[test]
    fn reporter_calls_the_observer_outside_the_lock() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let r = Arc::new(Reporter::new(ProgressObserver::new(move |a, b| {
            s.lock().unwrap().push((a, b))
        })));
        r.update(100, 100);
        r.update(100, 100);
        assert_eq!(*seen.lock().unwrap(), [(100, 100)]);
        assert_eq!(min_step(0), 1);
        assert_eq!(min_step(101), 2);
        assert_eq!(
            format!("{:?}", ProgressObserver::new(|_, _| {})),
            "ProgressObserver"
        );
    }
}
