//! The HTTP side: accept loop, per-connection HTTP/1.1 with keep-alive, common response
//! headers, error rendering, the request log, and graceful shutdown.

use crate::clock;
use crate::config::EmulatorConfig;
use crate::errors::OssError;
use crate::ops::{self, Body};
use crate::store::Store;
use base64::Engine as _;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};

use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

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
}

/// State shared by all connections.
pub struct Shared {
    pub config: EmulatorConfig,
    pub store: Store,
    pub log: Mutex<Vec<RequestRecord>>,
}

/// A body left unread by a handler (an early error) is drained up to this much so the client,
/// which may still be sending, gets the answer instead of a reset. Beyond it, the connection is
/// closed after the answer.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;
const DRAIN_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
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
    let store = {
        let buckets = config.buckets.clone();
        let dir = config.data_dir.clone();
        tokio::task::spawn_blocking(move || Store::open(&buckets, dir.as_deref()))
            .await
            .map_err(std::io::Error::other)??
    };
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        config,
        store,
        log: Mutex::new(Vec::new()),
    });
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared.clone(), rx));
    Ok((addr, shared, tx, task))
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, shared.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // E.g. too many open files: back off instead of spinning.
                    eprintln!("oss-emulator: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
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

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Each request runs in its own task: if the client goes away, hyper drops the service
    // future, but the handler keeps running, sees the body error, and rolls its upload back
    // properly instead of being cancelled half-way.
    let skew = shared.config.clock_skew_seconds;
    let service = service_fn(move |req| {
        let shared = shared.clone();
        async move {
            match tokio::spawn(handle(shared, req)).await {
                Ok(response) => response,
                Err(e) => {
                    eprintln!("oss-emulator: request handler failed: {e}");
                    let err = crate::errors::internal_error("handler failed");
                    let request_id = new_request_id();
                    let mut response = error_response(&err, &request_id, "", false);
                    add_common_headers(&mut response, &request_id, clock::server_now(skew), true);
                    Ok(response)
                }
            }
        }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            // Finish the request in flight, then close.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let request_id = new_request_id();
    let now = clock::server_now(shared.config.clock_skew_seconds);
    let (parts, incoming) = req.into_parts();
    let mut body = Some(incoming);

    let result = ops::dispatch(&shared, &parts, &mut body, now).await;

    let mut close = false;
    if let Some(unread) = body.take() {
        close = !drain(unread, &parts).await;
    }
    let host = ops::header_str(&parts.headers, "host")
        .unwrap_or("")
        .to_string();
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
    };
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
    Ok(response)
}

/// Headers every OSS response carries.
fn add_common_headers(
    response: &mut Response<Body>,
    request_id: &str,
    now: std::time::SystemTime,
    close: bool,
) {
    let headers = response.headers_mut();
    headers.insert(
        "x-oss-request-id",
        request_id.parse().expect("hex is a valid header"),
    );
    headers.insert(
        "date",
        clock::http_date(now)
            .parse()
            .expect("date is a valid header"),
    );
    headers.insert("server", "AliyunOSS".parse().expect("valid header"));
    if close {
        headers.insert("connection", "close".parse().expect("valid header"));
    }
}

/// The error as an HTTP response: XML body, or for HEAD (which has no body) the XML
/// base64-encoded in `x-oss-err`, as OSS does.
fn error_response(err: &OssError, request_id: &str, host: &str, head: bool) -> Response<Body> {
    let xml = err.to_xml(request_id, host);
    let mut builder = Response::builder()
        .status(err.status)
        .header("content-type", "application/xml")
        .header("x-oss-ec", err.ec);
    for (name, value) in &err.headers {
        builder = builder.header(*name, value.as_str());
    }
    let body = if head {
        builder = builder
            .header(
                "x-oss-err",
                base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
            )
            .header("content-length", "0");
        ops::empty_body()
    } else {
        builder = builder.header("content-length", xml.len().to_string());
        ops::full_body(xml)
    };
    builder.body(body).expect("valid error response")
}

/// Reads and discards an unread request body. Returns whether the connection can be kept
/// (the body was fully consumed).
async fn drain(mut body: Incoming, parts: &Parts) -> bool {
    if body.is_end_stream() {
        return true;
    }
    // A client waiting for `100 Continue` has not sent the body: answering now without reading
    // it is exactly right, but the connection cannot be reused.
    let expects_continue = parts
        .headers
        .get("expect")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    // Too much declared to be worth reading (e.g. an append refused for exceeding 5 GiB):
    // answer at once and close.
    if expects_continue || body.size_hint().lower() > DRAIN_LIMIT {
        return false;
    }
    let mut total = 0u64;
    loop {
        match tokio::time::timeout(DRAIN_IDLE_TIMEOUT, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    total += data.len() as u64;
                    if total > DRAIN_LIMIT {
                        return false;
                    }
                }
            }
            Ok(None) => return true,
            Ok(Some(Err(_))) | Err(_) => return false,
        }
    }
}

/// 24 upper-case hex characters, like OSS request ids.
fn new_request_id() -> String {
    hex::encode_upper(rand::random::<[u8; 12]>())
}
