//! State shared by every connection and handler: configuration, the store, the request log,
//! the fault queue, the connection and TLS handshake counters, and the channels through which a restart is asked for. The server (which
//! creates it) and the handlers (which use it) both import this module, never each other.

use crate::auth::sts::StsRegistry;
use crate::config::EmulatorConfig;
use crate::faults::{Fault, FaultQueue};
use crate::store::Store;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// One request as the emulator saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// The request path as sent (still percent-encoded).
    pub path: String,
    /// The raw query string (empty when there is none).
    pub query: String,
    pub status: u16,
    /// The OSS error Code, for error answers.
    pub error_code: Option<String>,
    /// The OSS EC, for error answers.
    pub ec: Option<String>,
    pub request_id: String,
    /// The scripted fault that hit the request (its spec action name), if any. `status` is 0
    /// when the fault dropped or reset the connection instead of answering.
    pub fault: Option<String>,
}

/// The most recent requests, oldest first, at most `limit` of them: a long-running emulator
/// must not grow by a record per request forever.
pub(crate) struct RequestLog {
    records: VecDeque<RequestRecord>,
    limit: usize,
}

impl RequestLog {
    pub(crate) fn new(limit: usize) -> RequestLog {
        RequestLog {
            records: VecDeque::new(),
            limit,
        }
    }

    /// Adds a record, forgetting the oldest one when the log is full.
    pub(crate) fn push(&mut self, record: RequestRecord) {
        self.records.push_back(record);
        // The log held at most `limit` before this push, so one pop restores the bound.
        if self.records.len() > self.limit {
            self.records.pop_front();
        }
    }

    /// A copy of the records, oldest first.
    pub(crate) fn records(&self) -> Vec<RequestRecord> {
        self.records.iter().cloned().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.records.clear();
    }
}

/// State shared by all connections.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    store: RwLock<Arc<Store>>,
    pub log: Mutex<RequestLog>,
    pub(crate) faults: Mutex<FaultQueue>,
    /// Bumped by a restart: every connection closes.
    pub(crate) kill_all: watch::Sender<u64>,
    /// Requests being handled (a restart waits for them).
    pub(crate) inflight: watch::Sender<usize>,
    restarts: mpsc::UnboundedSender<RestartRequest>,
    /// Temporary credentials issued so far (`RunningEmulator::issue_sts`, `POST /__sts`).
    pub(crate) sts: StsRegistry,
    /// TCP connections accepted, since start (restarts included).
    connections: AtomicU64,
    /// TLS handshakes completed, since start (restarts included).
    tls_handshakes: AtomicU64,
}

/// The connection counters of [`Shared`], read together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stats {
    pub connections: u64,
    pub tls_handshakes: u64,
}

impl Shared {
    /// The state of a server about to start: the configured faults queued, nothing logged.
    pub(crate) fn new(
        config: EmulatorConfig,
        store: Store,
        restarts: mpsc::UnboundedSender<RestartRequest>,
    ) -> Shared {
        let mut queue = FaultQueue::default();
        for fault in &config.faults {
            queue.push(fault.clone());
        }
        let log = RequestLog::new(config.request_log_limit);
        Shared {
            config,
            store: RwLock::new(Arc::new(store)),
            log: Mutex::new(log),
            faults: Mutex::new(queue),
            kill_all: watch::channel(0).0,
            inflight: watch::channel(0).0,
            restarts,
            sts: StsRegistry::default(),
            connections: AtomicU64::new(0),
            tls_handshakes: AtomicU64::new(0),
        }
    }

    /// Counts an accepted TCP connection.
    pub(crate) fn count_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a completed TLS handshake.
    pub(crate) fn count_tls_handshake(&self) {
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            connections: self.connections.load(Ordering::Relaxed),
            tls_handshakes: self.tls_handshakes.load(Ordering::Relaxed),
        }
    }

    /// The store (replaced by a restart in data-dir mode).
    pub(crate) fn store(&self) -> Arc<Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Puts a reloaded store in place (a restart in data-dir mode).
    pub(crate) fn replace_store(&self, store: Store) {
        *self.store.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(store);
    }

    /// Queues a fault.
    pub(crate) fn inject(&self, fault: Fault) {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fault);
    }

    /// A function that asks for a restart, usable from another task.
    pub(crate) fn restart_handle(&self) -> impl Fn(Duration) + Send + 'static {
        let restarts = self.restarts.clone();
        move |down| {
            let _ = restarts.send(RestartRequest { down, done: None });
        }
    }

    /// Asks the accept loop to restart the server; `done` hears when it listens again.
    pub(crate) fn request_restart(&self, down: Duration, done: Option<oneshot::Sender<()>>) {
        let _ = self.restarts.send(RestartRequest { down, done });
    }
}

/// A restart the accept loop is asked to carry out.
pub(crate) struct RestartRequest {
    /// How long the port stays closed.
    pub(crate) down: Duration,
    /// Hears when the server listens again.
    pub(crate) done: Option<oneshot::Sender<()>>,
}
