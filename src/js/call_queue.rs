//! The order of an append session's operations: JS may call `append` several times without
//! awaiting, and the appends must reach OSS in call order (each starts where the previous one
//! ended). Each call takes a [`Turn`] on the JS thread, in call order, before its work is
//! spawned; the work then waits for its turn, whichever task the runtime polls first.

use std::sync::Mutex;

use tokio::sync::oneshot;

/// The queue of one session's calls: the tail of a chain of "done" signals.
#[derive(Debug, Default)]
pub struct CallQueue {
    tail: Mutex<Option<oneshot::Receiver<()>>>,
}

/// A call's place in the [`CallQueue`]: [`wait`](Turn::wait) for the calls before it, and keep
/// the turn until the call is finished (dropping it lets the next call go).
#[derive(Debug)]
pub struct Turn {
    previous: Option<oneshot::Receiver<()>>,
    _done: oneshot::Sender<()>,
}

impl CallQueue {
    /// Takes the next place in the queue. Call it where the calls are ordered (the JS thread).
    pub fn enqueue(&self) -> Turn {
        let (done, next) = oneshot::channel();
        let previous = self
            .tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(next);
        Turn {
            previous,
            _done: done,
        }
    }
}

impl Turn {
    /// Resolves when every earlier call has finished (or given up its place).
    pub async fn wait(&mut self) {
        if let Some(previous) = self.previous.take() {
            // An error means the earlier turn was dropped: that call is over too.
            let _ = previous.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_run_in_the_order_they_took_their_turns() {
        let queue = CallQueue::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..5u64 {
            let mut turn = queue.enqueue();
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                // Earlier calls take longer: without the queue they would finish last.
                tokio::time::sleep(Duration::from_millis(5 * (5 - n))).await;
                turn.wait().await;
                log.lock().unwrap().push(format!("start {n}"));
                tokio::time::sleep(Duration::from_millis(2)).await;
                log.lock().unwrap().push(format!("end {n}"));
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let expected: Vec<String> = (0..5)
            .flat_map(|n| [format!("start {n}"), format!("end {n}")])
            .collect();
        assert_eq!(*log.lock().unwrap(), expected);
    }

    #[tokio::test]
    async fn a_dropped_turn_lets_the_next_call_go() {
        let queue = CallQueue::default();
        let first = queue.enqueue();
        let mut second = queue.enqueue();
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), second.wait())
            .await
            .expect("the second call does not wait for a dropped turn");
    }
}
