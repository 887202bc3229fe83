//! The queue of pending faults and the record of the ones that fired.

use super::spec::{Fault, FaultAction, FaultOp};

/// A fault that hit a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiredFault {
    /// What was done.
    pub action: FaultAction,
    /// The request's operation.
    pub op: FaultOp,
    /// The request's key.
    pub key: String,
}

/// The queue of pending faults and the record of fired ones.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    pending: Vec<Fault>,
    fired: Vec<FiredFault>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, fault: Fault) {
        self.pending.push(fault);
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }

    pub(crate) fn pending(&self) -> Vec<Fault> {
        self.pending.clone()
    }

    pub(crate) fn fired(&self) -> Vec<FiredFault> {
        self.fired.clone()
    }

    /// The action hitting a request for `op` on `key`, if any (see the module docs).
    pub(crate) fn take(&mut self, op: FaultOp, key: &str) -> Option<FaultAction> {
        let index = self
            .pending
            .iter()
            .position(|f| f.op.matches(op) && f.key.as_deref().is_none_or(|k| k == key))?;
        let fault = &mut self.pending[index];
        if fault.skip > 0 {
            fault.skip -= 1;
            return None;
        }
        let action = fault.action.clone();
        fault.count -= 1;
        if fault.count == 0 {
            self.pending.remove(index);
        }
        self.fired.push(FiredFault {
            action: action.clone(),
            op,
            key: key.to_owned(),
        });
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_order_skip_count_and_key() {
        let mut q = FaultQueue::default();
        q.push(Fault::drop_after_commit().for_key("a").times(2).after(1));
        q.push(Fault::status(503).on(FaultOp::Head));
        assert_eq!(q.take(FaultOp::Append, "b"), None);
        assert_eq!(q.take(FaultOp::Append, "a"), None); // skipped
        assert_eq!(
            q.take(FaultOp::Append, "a"),
            Some(FaultAction::DropAfterCommit)
        );
        assert_eq!(
            q.take(FaultOp::Head, "a"),
            Some(FaultAction::Status {
                status: 503,
                after_commit: false
            })
        );
        assert_eq!(q.take(FaultOp::Head, "a"), None);
        assert_eq!(
            q.take(FaultOp::Append, "a"),
            Some(FaultAction::DropAfterCommit)
        );
        assert_eq!(q.take(FaultOp::Append, "a"), None);
        assert!(q.pending().is_empty());
        assert_eq!(q.fired().len(), 3);
    }
}
