//! The rules of a call's `control` object (`{ progress?, timeout? }`), as plain Rust: which
//! calls may set their own timeout ([`call_timeout`]), and when progress callbacks may still be
//! queued to the JS thread ([`ProgressGate`]). The N-API layer keeps the threadsafe function
//! that actually calls JS.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::js::numbers;
use crate::protocol::error::{Error, Result};

/// Which call a `control` object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// A client call (`appendObject`): one request, which may have its own timeout.
    ClientCall,
    /// An append of a session: its retries and HEAD checks run under the client's timeouts
    /// and the session's deadline, so a per-call timeout would have no single meaning.
    SessionAppend,
}

/// `control.timeout` (milliseconds) of a call of `kind`: a positive integer for a client call,
/// refused for a session append.
pub fn call_timeout(kind: CallKind, timeout_ms: Option<f64>) -> Result<Option<Duration>> {
    per_call("timeout", kind, timeout_ms)
}

/// `control.operationTimeout` (milliseconds), by the same rule as [`call_timeout`].
pub fn call_operation_timeout(kind: CallKind, timeout_ms: Option<f64>) -> Result<Option<Duration>> {
    per_call("operationTimeout", kind, timeout_ms)
}

fn per_call(field: &'static str, kind: CallKind, ms: Option<f64>) -> Result<Option<Duration>> {
    match (ms, kind) {
        (None, _) => Ok(None),
        (Some(ms), CallKind::ClientCall) => numbers::timeout_ms(field, ms).map(Some),
        (Some(_), CallKind::SessionAppend) => Err(Error::invalid(
            field,
            "is not supported here: append sessions use the client's timeout",
        )),
    }
}

/// Decides which progress callbacks of one call still go to JS, so that all of them run
/// before the call's promise settles and none after: callbacks are queued until the gate is
/// [closed](ProgressGate::close), and closing waits until the last queued one has run. The JS
/// thread runs queued callbacks in order, so when the last one has run, all have.
#[derive(Debug, Default)]
pub struct ProgressGate(Mutex<GateState>);

#[derive(Debug, Default)]
struct GateState {
    closed: bool,
    /// Resolves when the latest queued callback has run (or was dropped unrun).
    last_queued: Option<oneshot::Receiver<()>>,
}

/// Given to a queued callback: the gate counts it as run when this is dropped (after the
/// callback ran, or with it when the engine drops the callback unrun).
#[derive(Debug)]
pub struct CallbackRan {
    _ran: oneshot::Sender<()>,
}

impl ProgressGate {
    /// Queues one callback through `queue` unless the gate is closed. `queue` returns whether
    /// the callback was queued; it runs under the gate's lock, so no callback is queued once
    /// [`close`](Self::close) has begun.
    pub fn pass(&self, queue: impl FnOnce(CallbackRan) -> bool) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if state.closed {
            return;
        }
        let (ran, last) = oneshot::channel();
        if queue(CallbackRan { _ran: ran }) {
            state.last_queued = Some(last);
        }
    }

    /// Lets no more callbacks through and waits until the queued ones have run.
    pub async fn close(&self) {
        let last = {
            let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            state.closed = true;
            state.last_queued.take()
        };
        if let Some(last) = last {
            // An error means the callback was dropped unrun: nothing more to wait for.
            let _ = last.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::js::test_support::refusal;

    #[test]
    fn only_client_calls_take_an_operation_timeout() {
        assert_eq!(
            call_operation_timeout(CallKind::ClientCall, Some(5000.0)).unwrap(),
            Some(Duration::from_secs(5))
        );
        let (field, _) = refusal(call_operation_timeout(
            CallKind::SessionAppend,
            Some(5000.0),
        ));
        assert_eq!(field, "operationTimeout");
        let (field, _) = refusal(call_operation_timeout(CallKind::ClientCall, Some(0.0)));
        assert_eq!(field, "operationTimeout");
    }

    #[test]
    fn only_client_calls_take_a_timeout() {
        assert_eq!(call_timeout(CallKind::ClientCall, None).unwrap(), None);
        assert_eq!(call_timeout(CallKind::SessionAppend, None).unwrap(), None);
        assert_eq!(
            call_timeout(CallKind::ClientCall, Some(250.0)).unwrap(),
            Some(Duration::from_millis(250))
        );
        for (kind, ms, rule) in [
            (CallKind::ClientCall, 0.0, "greater than 0"),
            (
                CallKind::SessionAppend,
                250.0,
                "append sessions use the client's timeout",
            ),
        ] {
            let (field, text) = refusal(call_timeout(kind, Some(ms)));
            assert_eq!(field, "timeout");
            assert!(text.contains(rule), "{text}");
        }
    }

    #[tokio::test]
    async fn closing_waits_for_the_last_queued_callback_and_stops_later_ones() {
        let gate = Arc::new(ProgressGate::default());
        let (to_js, mut js_queue) = tokio::sync::mpsc::unbounded_channel::<(u32, CallbackRan)>();
        for n in 0..3 {
            gate.pass(|ran| to_js.send((n, ran)).is_ok());
        }
        let closing = tokio::spawn({
            let gate = gate.clone();
            async move { gate.close().await }
        });
        // Stands in for the JS thread: runs the queued callbacks in order, a little later.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!closing.is_finished(), "close waits for queued callbacks");
        let mut ran = Vec::new();
        for _ in 0..3 {
            let (n, done) = js_queue.recv().await.unwrap();
            ran.push(n);
            drop(done);
        }
        closing.await.unwrap();
        assert_eq!(ran, [0, 1, 2]);
        let mut queued_after_close = false;
        gate.pass(|_| {
            queued_after_close = true;
            true
        });
        assert!(!queued_after_close, "nothing passes a closed gate");
    }

    #[tokio::test]
    async fn a_callback_that_was_not_queued_is_not_waited_for() {
        let gate = ProgressGate::default();
        let mut kept = None;
        gate.pass(|ran| {
            kept = Some(ran);
            false // the engine refused it (e.g. its queue is closing)
        });
        // Completes although `kept` is still held: the gate never counted that callback.
        gate.close().await;
        drop(kept);
    }
}
