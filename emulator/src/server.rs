//! The top of the server: accept loop, the TLS handshake of each connection when serving HTTPS,
//! per-connection HTTP/1.1 with keep-alive, the connection counters, the request log, graceful shutdown, and the connection side of scripted faults (dropping or resetting a
//! connection instead of answering, restarting the server on the same port, handing
//! `/__faults` to the admin endpoint).

use crate::clock;
use crate::config::EmulatorConfig;
use crate::faults::FaultState;
use crate::http::body::Body;
use crate::http::headers::header_str;
use crate::http::receive::drain;
use crate::http::response::{add_common_headers, error_response};
use crate::ops;
use crate::state::{RequestRecord, RestartRequest, Shared};
use crate::store::Store;
use crate::tls;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Counts a request as in flight while it lives.
struct InflightGuard<'a>(&'a watch::Sender<usize>);

impl<'a> InflightGuard<'a> {
    fn enter(counter: &'a watch::Sender<usize>) -> Self {
        counter.send_modify(|n| *n += 1);
        InflightGuard(counter)
    }
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// What a handler wants done with its connection.
enum Reply {
    Respond(Response<Body>),
    /// Close (`false`) or reset (`true`) the connection without answering.
    Disconnect(bool),
}

/// How long shutdown waits for in-flight requests before cutting connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Binds and starts serving in the background. Returns the bound address and the task.
pub(crate) async fn spawn(
    config: EmulatorConfig,
) -> std::io::Result<(
    SocketAddr,
    Arc<Shared>,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
)> {
    config
        .validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let tls = match &config.tls {
        Some(identity) => Some(TlsAcceptor::from(tls::server_config(identity).map_err(
            |e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("tls: {e}")),
        )?)),
        None => None,
    };
    let store = open_store(&config).await?;
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let (restarts, restart_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::new(config, store, restarts));
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(
        listener,
        addr,
        tls,
        shared.clone(),
        rx,
        restart_rx,
    ));
    Ok((addr, shared, tx, task))
}

async fn open_store(config: &EmulatorConfig) -> std::io::Result<Store> {
    let buckets = config.buckets.clone();
    let dir = config.data_dir.clone();
    tokio::task::spawn_blocking(move || Store::open(&buckets, dir.as_deref()))
        .await
        .map_err(std::io::Error::other)?
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    mut restarts: mpsc::UnboundedReceiver<RestartRequest>,
) {
    let mut connections = JoinSet::new();
    let mut listener = Some(listener);
    let slots = Arc::new(Semaphore::new(shared.config.max_connections));
    while let Some(bound) = listener.as_ref() {
        tokio::select! {
            accepted = accept_within_cap(bound, &slots) => match accepted {
                Ok((stream, slot)) => {
                    let _ = stream.set_nodelay(true);
                    shared.count_connection();
                    let serve =
                        serve_connection(stream, tls.clone(), shared.clone(), shutdown.clone());
                    connections.spawn(async move {
                        serve.await;
                        // The place is free again when the connection ends, however it ends
                        // (an aborted task drops the permit too).
                        drop(slot);
                    });
                }
                Err(e) => {
                    // E.g. too many open files: back off instead of spinning.
                    eprintln!("oss-emulator: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(request) = restarts.recv() => {
                // Close the port, drop every connection, let in-flight handlers finish (they
                // roll back what they did not commit), reload the store, reopen the port.
                drop(listener.take());
                shared.kill_all.send_modify(|epoch| *epoch += 1);
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
                    while connections.join_next().await.is_some() {}
                })
                .await;
                connections.abort_all();
                let mut inflight = shared.inflight.subscribe();
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, inflight.wait_for(|n| *n == 0)).await;
                if shared.config.data_dir.is_some() {
                    match open_store(&shared.config).await {
                        Ok(store) => {
                            shared.replace_store(store);
                        }
                        Err(e) => eprintln!("oss-emulator: reloading the store failed: {e}"),
                    }
                }
                tokio::time::sleep(request.down).await;
                listener = rebind(addr).await;
                if let Some(done) = request.done {
                    let _ = done.send(());
                }
            }
            // A send or the sender being dropped both mean: stop.
            _ = shutdown.changed() => break,
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}

/// Waits for a free connection place, then for a connection. While every place is taken the
/// emulator accepts nothing: new connections wait in the kernel's listen backlog and are served
/// as places free up, rather than being refused. The header-read timeout bounds how long a
/// connection that sends no request can keep its place. Cancel-safe: dropped before a
/// connection arrives, it gives its permit back and accepts nothing.
async fn accept_within_cap(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> std::io::Result<(TcpStream, OwnedSemaphorePermit)> {
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .expect("the connection semaphore is never closed");
    let (stream, _peer) = listener.accept().await?;
    Ok((stream, slot))
}

/// Serves one accepted connection: the TLS handshake first when serving HTTPS, then HTTP/1.1.
async fn serve_connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let control = Arc::new(ConnControl::default());
    let mut killed = shared.kill_all.subscribe();
    let io = FaultIo {
        stream,
        control: control.clone(),
    };
    let Some(acceptor) = tls else {
        return serve_http(io, control, killed, shared, shutdown).await;
    };
    // The handshake is bounded by the header timeout, so a client that connects and sends
    // nothing (or stalls half-way) frees its place as it would without TLS. A failed handshake
    // (the client refused the certificate, spoke plain HTTP, offered no common version) just
    // closes the connection.
    let handshake = tokio::time::timeout(shared.config.header_read_timeout, acceptor.accept(io));
    let stream = tokio::select! {
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(_)) | Err(_) => return,
        },
        _ = killed.changed() => return,
        _ = shutdown.changed() => return,
    };
    shared.count_tls_handshake();
    serve_http(stream, control, killed, shared, shutdown).await;
}

/// HTTP/1.1 with keep-alive on a connection (plain or TLS), until it ends, a fault drops it,
/// a restart or a shutdown.
async fn serve_http<I>(
    io: I,
    control: Arc<ConnControl>,
    mut killed: watch::Receiver<u64>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Each request runs in its own task: if the client goes away, hyper drops the service
    // future, but the handler keeps running, sees the body error, and rolls its upload back
    // properly instead of being cancelled half-way.
    let skew = shared.config.clock_skew_seconds;
    let header_read_timeout = shared.config.header_read_timeout;
    let service = {
        let control = control.clone();
        service_fn(move |req| {
            let shared = shared.clone();
            let control = control.clone();
            async move {
                match tokio::spawn(handle(shared, req)).await {
                    Ok(Reply::Respond(response)) => Ok(response),
                    Ok(Reply::Disconnect(reset)) => {
                        // Never answer: the connection task drops the connection.
                        control.kill(reset);
                        std::future::pending::<Result<Response<Body>, Infallible>>().await
                    }
                    Err(e) => {
                        eprintln!("oss-emulator: request handler failed: {e}");
                        let err = crate::errors::internal_error("handler failed");
                        let request_id = new_request_id();
                        let mut response = error_response(&err, &request_id, "", false);
                        add_common_headers(
                            &mut response,
                            &request_id,
                            clock::server_now(skew),
                            true,
                        );
                        Ok(response)
                    }
                }
            }
        })
    };
    // The header timer also runs while a keep-alive connection waits for its next request, so
    // idle connections are closed after it too and give their place up.
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // A fault: drop the connection (FaultIo resets it if asked).
        _ = control.killed.notified() => {}
        // A restart: every connection goes.
        _ = killed.changed() => {}
        _ = shutdown.changed() => {
            // Finish the request in flight, then close.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Lets a handler end its connection without answering.
#[derive(Default)]
struct ConnControl {
    killed: Notify,
    reset: AtomicBool,
}

impl ConnControl {
    fn kill(&self, reset: bool) {
        self.reset.store(reset, Ordering::SeqCst);
        self.killed.notify_one();
    }
}

/// The connection's socket. When a fault asked for a reset, dropping it sends a TCP RST
/// (SO_LINGER 0) instead of a FIN.
struct FaultIo {
    stream: TcpStream,
    control: Arc<ConnControl>,
}

impl Drop for FaultIo {
    fn drop(&mut self) {
        if self.control.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Reply {
    let _inflight = InflightGuard::enter(&shared.inflight);
    if shared.config.enable_fault_admin && crate::admin::is_admin_path(req.uri().path()) {
        return Reply::Respond(crate::admin::handle(&shared, req).await);
    }
    let request_id = new_request_id();
    let now = clock::server_now(shared.config.clock_skew_seconds);
    let (parts, incoming) = req.into_parts();
    let mut body = Some(incoming);
    let mut fault = FaultState::default();

    let result = ops::dispatch(&shared, &parts, &mut body, now, &mut fault).await;

    if let Some(down) = fault.restart {
        shared.request_restart(down, None);
    }
    let fault_name = fault.action.as_ref().map(|a| a.name().to_string());
    if let Some(reset) = fault.disconnect {
        log_request(
            &shared,
            RequestRecord {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().unwrap_or("").to_string(),
                status: 0,
                error_code: None,
                ec: None,
                request_id,
                fault: fault_name,
            },
        );
        return Reply::Disconnect(reset);
    }

    let mut close = false;
    if let Some(unread) = body.take() {
        close = !drain(unread, &parts).await;
    }
    let host = header_str(&parts.headers, "host").unwrap_or("").to_string();
    let (mut response, error) = match result {
        Ok(response) => (response, None),
        Err(err) => (
            error_response(&err, &request_id, &host, parts.method == Method::HEAD),
            Some(err),
        ),
    };
    add_common_headers(&mut response, &request_id, now, close);

    let record = RequestRecord {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        status: response.status().as_u16(),
        error_code: error.as_ref().map(|e| e.code.to_string()),
        ec: error.as_ref().map(|e| e.ec.to_string()),
        request_id,
        fault: fault_name,
    };
    log_request(&shared, record);
    Reply::Respond(response)
}

fn log_request(shared: &Shared, record: RequestRecord) {
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
}

/// Listens on the same address again after a restart (retrying briefly: the old socket may
/// take a moment to go).
async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..50 {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Some(listener),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    eprintln!("oss-emulator: cannot listen on {addr} again after a restart");
    None
}

/// 24 upper-case hex characters, like OSS request ids.
fn new_request_id() -> String {
    hex::encode_upper(rand::random::<[u8; 12]>())
}
