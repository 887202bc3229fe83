//! Carrying a scripted fault out on one request: which fault hits it, what it does before and
//! after the operation runs, and (for AppendObject, which hits each phase itself) what it does
//! inside the operation. The server then acts on the resulting [`FaultState`].

use super::queue::FaultQueue;
use super::spec::{FaultAction, FaultOp};
use crate::errors::{self, OssError};
use crate::http::body::{empty_body, Body};
use crate::http::receive::{discard_body, Tweaks};
use crate::routing::Operation;
use hyper::body::Incoming;
use hyper::Response;
use std::sync::Mutex;
use std::time::Duration;

/// A handler's answer, or a fault's replacement for it.
type Answer = Result<Response<Body>, OssError>;

/// What a scripted fault does to one request, for the server to carry out.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    /// The fault hitting this request, if any.
    pub(crate) action: Option<FaultAction>,
    /// The handler carried the fault out itself (phases inside the operation).
    pub(crate) applied: bool,
    /// Instead of answering, close the connection (`Some(false)`) or reset it (`Some(true)`).
    pub(crate) disconnect: Option<bool>,
    /// Restart the server afterwards, the port closed for this long.
    pub(crate) restart: Option<Duration>,
}

impl FaultState {
    /// Takes the fault hitting a request for `operation` on `key` (if any) off the queue.
    pub(crate) fn take(
        &mut self,
        queue: &Mutex<FaultQueue>,
        operation: &Operation,
        key: Option<&str>,
    ) {
        if let (Some(op), Some(key)) = (fault_op(operation), key) {
            self.action = queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(op, key);
        }
    }

    fn disconnect(&mut self, reset: bool) -> Answer {
        self.applied = true;
        self.disconnect = Some(reset);
        Ok(Response::new(empty_body()))
    }

    fn restart(&mut self, down_ms: u64, reset: bool) -> Answer {
        self.restart = Some(Duration::from_millis(down_ms));
        self.disconnect(reset)
    }

    fn injected_status(&mut self, status: u16) -> Answer {
        self.applied = true;
        Err(errors::injected_fault(status))
    }

    /// Faults that act before an operation runs (outside AppendObject): the replacement answer,
    /// or `None` to run the operation.
    pub(crate) fn before_operation(&mut self) -> Option<Answer> {
        match self.action.clone()? {
            FaultAction::Status {
                status,
                after_commit: false,
            } => Some(self.injected_status(status)),
            FaultAction::DropBeforeCommit => Some(self.disconnect(false)),
            FaultAction::ResetMidBody { .. } => Some(self.disconnect(true)),
            FaultAction::Restart {
                after_commit: false,
                down_ms,
            } => Some(self.restart(down_ms, true)),
            _ => None,
        }
    }

    /// The answer once the operation ran. Whatever the outcome (an append refused with 409
    /// included), a faulted request never gets its normal answer.
    pub(crate) async fn after_operation(&mut self, result: Answer) -> Answer {
        if self.applied {
            return result;
        }
        match self.action.clone() {
            None | Some(FaultAction::SlowRead { .. }) | Some(FaultAction::CorruptBody) => result,
            Some(FaultAction::DropAfterCommit) | Some(FaultAction::DropBeforeCommit) => {
                self.disconnect(false)
            }
            Some(FaultAction::ResetMidBody { .. }) => self.disconnect(true),
            Some(FaultAction::Status { status, .. }) => self.injected_status(status),
            Some(FaultAction::DelayResponse { ms }) => {
                self.applied = true;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                result
            }
            Some(FaultAction::Restart { down_ms, .. }) => self.restart(down_ms, false),
        }
    }

    /// AppendObject, once the request is checked and before anything is stored: a reset part
    /// way through the body, or a restart. `declared_length` sizes the default "part".
    pub(crate) async fn before_storing(
        &mut self,
        body: &mut Option<Incoming>,
        declared_length: Option<u64>,
    ) -> Option<Answer> {
        match self.action.clone()? {
            FaultAction::ResetMidBody { after_bytes } => {
                let limit = after_bytes.unwrap_or(declared_length.unwrap_or(0) / 2);
                discard_body(body.take(), limit).await;
                Some(self.disconnect(true))
            }
            FaultAction::Restart {
                after_commit: false,
                down_ms,
            } => Some(self.restart(down_ms, true)),
            _ => None,
        }
    }

    /// AppendObject: how the body is to be received (slowly, corrupted).
    pub(crate) fn receive_tweaks(&self) -> Tweaks {
        Tweaks {
            bytes_per_sec: match self.action {
                Some(FaultAction::SlowRead { bytes_per_sec }) => Some(bytes_per_sec),
                _ => None,
            },
            corrupt: self.action == Some(FaultAction::CorruptBody),
        }
    }

    /// AppendObject, with the whole body received: faults that throw it away (the caller
    /// aborts the upload) and answer instead.
    pub(crate) fn after_receiving(&mut self) -> Option<Answer> {
        match self.action.clone()? {
            FaultAction::DropBeforeCommit => Some(self.disconnect(false)),
            FaultAction::Status {
                status,
                after_commit: false,
            } => Some(self.injected_status(status)),
            _ => None,
        }
    }
}

/// The fault operation a request's operation counts as; unsupported requests take no faults.
fn fault_op(operation: &Operation) -> Option<FaultOp> {
    match operation {
        Operation::AppendObject => Some(FaultOp::Append),
        Operation::SealAppendObject => Some(FaultOp::Seal),
        Operation::PutObject => Some(FaultOp::Put),
        Operation::GetObject => Some(FaultOp::Get),
        Operation::HeadObject => Some(FaultOp::Head),
        Operation::DeleteObject => Some(FaultOp::Delete),
        Operation::Unsupported(_) => None,
    }
}
