//! oss-emulator: a strict, local Alibaba Cloud OSS-compatible HTTP server for tests.
//!
//! It checks what OSS checks — V1/V4 header signatures, STS tokens, request time, append
//! positions, Content-MD5 — and answers with OSS's status codes, error XML, `x-oss-ec` codes
//! and CRC-64 headers. It is never a stub that agrees with whatever the client sends.
//!
//! Supported operations: AppendObject, SealAppendObject, PutObject, GetObject (with Range),
//! HeadObject, DeleteObject. Everything else answers 501 NotImplemented. Presigned URLs answer
//! AccessDenied.
//!
//! It serves plain HTTP, or HTTPS as real OSS does when [`EmulatorConfig::tls`] holds a
//! certificate: [`tls::generate`] makes a throwaway CA and a server certificate for the OSS
//! names (`*.oss-cn-hangzhou.aliyuncs.com`, …) and 127.0.0.1, so clients can reach it by name
//! with SNI and real certificate checks. [`RunningEmulator::connections`] and
//! [`RunningEmulator::tls_handshakes`] count what the clients did.
//!
//! For reliability tests it misbehaves on request: [`faults`] describes scripted faults (lost
//! answers, resets, 5xx, delays, slow reads, corruption, restarts), queued with
//! [`RunningEmulator::inject`], the CLI or the optional admin endpoint.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = oss_emulator::start(oss_emulator::EmulatorConfig::new("ak", "sk")).await?;
//! println!("{}", emulator.endpoint()); // http://127.0.0.1:PORT, bucket "test-bucket"
//! emulator.shutdown().await;
//!
//! let pki = oss_emulator::tls::generate(
//!     &["*.oss-cn-hangzhou.aliyuncs.com", "127.0.0.1"],
//!     oss_emulator::Validity::Current,
//! )
//! .expect("test PKI");
//! let mut config = oss_emulator::EmulatorConfig::new("ak", "sk");
//! config.tls = Some(pki.identity()); // clients trust pki.ca_pem
//! let emulator = oss_emulator::start(config).await?;
//! println!("{}", emulator.endpoint()); // https://127.0.0.1:PORT
//! # Ok(()) }
//! ```
//!
//! # Layers
//!
//! Lowest first. A module imports only modules of its own layer or lower ones, and no two files
//! import each other, directly or through others (`tests/layers.rs` of the workspace checks
//! both, from this order: `clock` → `errors` → `staging` → `routing` → `store` → `http` →
//! `faults` → `tls` → `config` → `auth` → `state` → `ops` → `admin` → `server`):
//!
//! 1. `clock`, `errors`, `staging`: time and HTTP dates, OSS error answers, reusable upload
//!    buffers (no imports from the crate).
//! 2. `routing`: bucket, key and operation of a request (style, percent-decoding).
//! 3. `store`: objects in memory or in a data directory, per-key locks, uploads, commits.
//! 4. `http/`: HTTP plumbing: body types, receiving and draining bodies, header reading,
//!    `Range`, the common headers and error rendering of every answer.
//! 5. `faults/`: fault specs, the queue, and carrying a fault out on one request.
//! 6. [`tls`]: throwaway test PKI ([`tls::generate`]) and the rustls server configuration
//!    (no imports from the crate).
//! 7. `config`: [`EmulatorConfig`].
//! 8. `auth/`: V1/V4 signatures, request time, STS tokens (also issued ones that expire,
//!    `auth/sts.rs`).
//! 9. `state`: what every connection shares (configuration, store, request log, fault queue,
//!    connection counters).
//! 10. `ops/`: routing, authentication and the object operations, one file each.
//! 11. `admin`: the optional `/__faults`, `/__restart`, `/__stats` and `/__sts` endpoint.
//! 12. `server`: accept loop, TLS handshakes, connections, restarts, shutdown.
//!
//! `lib.rs` ([`start`], [`RunningEmulator`]) and `main.rs` (the CLI) sit on top.

mod admin;
// Public for the fuzz harness (`fuzz/harness.rs` uses `auth::parse`).
pub mod auth;
mod clock;
mod config;
mod errors;
pub mod faults;
mod http;
mod ops;
mod routing;
mod server;
mod staging;
mod state;
mod store;
pub mod tls;

pub use admin::{ADMIN_HEADER, ADMIN_HEADER_VALUE};
pub use auth::sts::StsCredentials;
pub use config::{
    EmulatorConfig, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_LOG_LIMIT, MAX_CONNECTIONS_LIMIT, MAX_HEADER_READ_TIMEOUT,
};
pub use faults::{Fault, FaultAction, FaultOp, FiredFault};
pub use state::RequestRecord;
pub use store::StoredObject;
pub use tls::{TestPki, TlsError, TlsIdentity, Validity};

use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// A running emulator. Dropping it stops the server too (without waiting); `shutdown` waits
/// for in-flight requests.
pub struct RunningEmulator {
    addr: SocketAddr,
    https: bool,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts an emulator on the current Tokio runtime.
pub async fn start(config: EmulatorConfig) -> std::io::Result<RunningEmulator> {
    let https = config.tls.is_some();
    let (addr, shared, shutdown, task) = server::spawn(config).await?;
    Ok(RunningEmulator {
        addr,
        https,
        shared,
        shutdown,
        task,
    })
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT` (`http://[::1]:PORT` for IPv6); `https://…` when the emulator
    /// serves TLS ([`EmulatorConfig::tls`]).
    pub fn endpoint(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Whether the emulator serves HTTPS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// TCP connections accepted since start (restarts included; admin requests count too).
    pub fn connections(&self) -> u64 {
        self.shared.stats().connections
    }

    /// TLS handshakes completed since start (restarts included): one per connection that got
    /// through the handshake, however many requests it then carried. 0 over plain HTTP.
    pub fn tls_handshakes(&self) -> u64 {
        self.shared.stats().tls_handshakes
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The committed state of an object (a copy), or `None`.
    pub fn object(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        self.shared.store().snapshot(bucket, key)
    }

    /// The requests received so far, in order: the most recent
    /// [`EmulatorConfig::request_log_limit`] of them (default 10,000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .records()
    }

    /// Forgets the request log (handy between phases of a test).
    pub fn clear_requests(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Queues a scripted fault (see [`faults`]).
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Faults still waiting to fire.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending()
    }

    /// Every fault that fired so far, in order.
    pub fn fired_faults(&self) -> Vec<FiredFault> {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fired()
    }

    /// Empties the fault queue.
    pub fn clear_faults(&self) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Issues temporary (STS) credentials that work for `lifetime` from now; afterwards every
    /// request signed with them answers 403 `SecurityTokenExpired` (EC 0002-00000007), as OSS
    /// does (see [`auth::sts`]).
    pub fn issue_sts(&self, lifetime: std::time::Duration) -> StsCredentials {
        self.shared.sts.issue(lifetime)
    }

    /// Ends the lifetime of issued credentials now (a token that expires while the client
    /// still thinks it good). Whether `access_key_id` was issued.
    pub fn expire_sts(&self, access_key_id: &str) -> bool {
        self.shared.sts.expire(access_key_id)
    }

    /// Restarts the server as a crash would (see [`FaultAction::Restart`]): drops every
    /// connection, waits for in-flight requests, reloads the data directory, keeps the port
    /// closed for `down`, and returns once it listens again on the same address.
    pub async fn restart(&self, down: std::time::Duration) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.shared.request_restart(down, Some(tx));
        let _ = rx.await;
    }

    /// Stops accepting, lets in-flight requests finish (up to a few seconds), then returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// An emulator with its own runtime, for tests that are not async.
pub struct BlockingEmulator {
    emulator: Option<RunningEmulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Starts an emulator on a private multi-threaded runtime.
pub fn start_blocking(config: EmulatorConfig) -> std::io::Result<BlockingEmulator> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let emulator = runtime.block_on(start(config))?;
    Ok(BlockingEmulator {
        emulator: Some(emulator),
        runtime: Some(runtime),
    })
}

impl BlockingEmulator {
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let (Some(emulator), Some(runtime)) = (self.emulator.take(), self.runtime.take()) {
            runtime.block_on(emulator.shutdown());
            runtime.shutdown_background();
        }
    }
}

impl std::ops::Deref for BlockingEmulator {
    type Target = RunningEmulator;
    fn deref(&self) -> &RunningEmulator {
        self.emulator.as_ref().expect("emulator is running")
    }
}

impl Drop for BlockingEmulator {
    fn drop(&mut self) {
        self.stop();
    }
}
