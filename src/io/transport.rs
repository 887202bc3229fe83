//! Transport: one pooled HTTP client per [`crate::Client`] (connections are reused across calls),
//! TLS with rustls + ring, the read/write timeout (a watchdog on progress: of the body while it
//! is sent, then of the answer), cancellation, and one log record at the start and at the end of
//! every request. Never retries: an append is not idempotent, so whether to try again is the
//! caller's decision (see the append session).
//!
//! Log records (target `oss_append::transport`) name the operation, method, bucket, key, body
//! length, status, request id and duration — never a header, the URL's signature, a credential
//! or a token.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::io::body::{Progress, TrackedBody};
use crate::io::cancel::CancellationToken;
use crate::io::logging::{LoggedKey, TRANSPORT_LOG_TARGET};
use crate::io::{dns, tls};
use crate::protocol::config::ClientConfig;
use crate::protocol::error::{Error, Result, TransportErrorKind};
use crate::protocol::request::PreparedRequest;
use crate::protocol::response::{RawResponse, MAX_ANSWER_BYTES};

/// The target of the transport's log records (see [`TRANSPORT_LOG_TARGET`]).
pub(crate) const LOG_TARGET: &str = TRANSPORT_LOG_TARGET;

/// Per-call settings of one request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// Read/write timeout instead of the client's.
    pub timeout: Option<Duration>,
    /// Overall deadline instead of the client's.
    pub operation_timeout: Option<Duration>,
    /// Stops the request when cancelled.
    pub cancel: Option<&'a CancellationToken>,
}

/// The HTTP side of a client.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    read_write_timeout: Duration,
    operation_timeout: Option<Duration>,
}

impl Transport {
    /// Builds the pooled client for a configuration.
    pub fn new(config: &ClientConfig) -> Result<Self> {
        let user_agent = config
            .user_agent
            .clone()
            .unwrap_or_else(|| concat!("oss-append/", env!("CARGO_PKG_VERSION")).to_owned());
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls::client_config(config)?)
            .connect_timeout(config.connect_timeout)
            // No reqwest read timeout: `send` watches the answer with the call's own timeout.
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .user_agent(user_agent)
            // OSS answers redirects only for misaddressed buckets; following one would resend
            // a signed request to another host.
            .redirect(reqwest::redirect::Policy::none());
        for (host, addresses) in &config.dns_overrides {
            builder = builder.resolve_to_addrs(host, addresses);
        }
        if let Some(resolver) = &config.resolver {
            builder = builder.dns_resolver(Arc::new(dns::AppResolver::new(
                resolver.0.clone(),
                config.connect_timeout,
            )));
        }
        let http = builder.build().map_err(|e| Error::Transport {
            kind: TransportErrorKind::Connect,
            message: format!("cannot set up the HTTP client: {e}"),
            request_sent: false,
        })?;
        Ok(Self {
            http,
            read_write_timeout: config.read_write_timeout,
            operation_timeout: config.operation_timeout,
        })
    }

    /// Sends a request with an optional tracked body and reads the whole answer, within the
    /// call's read/write timeout (the client's unless `call` sets one) and until `call.cancel`
    /// fires.
    pub(crate) async fn send(
        &self,
        request: PreparedRequest,
        body: Option<(TrackedBody, Arc<Progress>)>,
        call: Call<'_>,
    ) -> Result<RawResponse> {
        let timeout = call.timeout.unwrap_or(self.read_write_timeout);
        let deadline = call.operation_timeout.or(self.operation_timeout);
        let started = Instant::now();
        let reads_object = request.method == "GET";
        let (what, url, headers) = Described::split(request);
        let progress = body.as_ref().map(|(_, p)| p.clone());
        let length = progress.as_ref().map_or(0, |p| p.total());
        log::debug!(target: LOG_TARGET, "{what} with {length} bytes, timeout {timeout:?}");
        let builder = self.build(
            what.method,
            &url,
            &headers,
            body.map(|(tracked, _)| tracked),
        );
        // Set once the answer's head arrived: from then on, each read of its body has `timeout`.
        let answered = AtomicBool::new(false);
        let result = tokio::select! {
            biased;
            () = cancelled(call.cancel) => Err(Failure::Cancelled),
            r = exchange(builder, reads_object, timeout, &answered) => r,
            () = watchdog(progress.as_deref(), timeout, started, &answered) => Err(Failure::Stalled),
            () = past(deadline) => Err(Failure::TookTooLong(deadline.unwrap_or_default())),
        };
        let elapsed_ms = started.elapsed().as_millis();
        match result {
            Ok(raw) => {
                let request_id = raw
                    .headers
                    .get(crate::protocol::headers::REQUEST_ID)
                    .map_or("-", String::as_str);
                let status = raw.status;
                if status >= 500 {
                    log::warn!(
                        target: LOG_TARGET,
                        "{what} answered {status} in {elapsed_ms} ms (request id {request_id})"
                    );
                } else {
                    log::info!(
                        target: LOG_TARGET,
                        "{what} answered {status} in {elapsed_ms} ms (request id {request_id})"
                    );
                }
                Ok(raw)
            }
            Err(failure) => {
                let error = failure.into_error(progress.as_deref(), timeout);
                if error.is_cancelled() {
                    log::info!(target: LOG_TARGET, "{what} {error} after {elapsed_ms} ms");
                } else {
                    log::warn!(target: LOG_TARGET, "{what} failed after {elapsed_ms} ms: {error}");
                }
                Err(error)
            }
        }
    }

    /// The reqwest request: method, URL, headers as prepared, and the body.
    fn build(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<TrackedBody>,
    ) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .expect("operations use standard methods");
        let mut builder = self.http.request(method, url);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        match body {
            Some(tracked) => builder.body(reqwest::Body::wrap(tracked)),
            None => builder,
        }
    }
}

/// What a log record says a request is: operation, bucket, key and method — never a header, the
/// URL's signature, a credential or a token.
struct Described {
    operation: &'static str,
    bucket: String,
    key: String,
    method: &'static str,
}

impl Described {
    /// Splits `request` into what the log records say and what goes on the wire (method, URL,
    /// headers), moving the strings rather than copying them.
    fn split(request: PreparedRequest) -> (Self, String, Vec<(String, String)>) {
        let PreparedRequest {
            operation,
            bucket,
            key,
            method,
            url,
            headers,
        } = request;
        let what = Self {
            operation,
            bucket,
            key,
            method,
        };
        (what, url, headers)
    }
}

impl std::fmt::Display for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            operation,
            bucket,
            key,
            method,
        } = self;
        write!(f, "{operation} {bucket}/{}: {method}", LoggedKey(key))
    }
}

/// Sends the request and reads the answer (bounded unless `reads_object`, a GET whose body is the
/// object); each read of the answer's body must come within `timeout`. Sets `answered` once the
/// answer's head is in.
async fn exchange(
    builder: reqwest::RequestBuilder,
    reads_object: bool,
    timeout: Duration,
    answered: &AtomicBool,
) -> std::result::Result<RawResponse, Failure> {
    let mut response = builder.send().await.map_err(Failure::Http)?;
    answered.store(true, Ordering::Release);
    let status = response.status().as_u16();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    // Only a successful GET carries object data; every other body is small, so it is cut at
    // MAX_ANSWER_BYTES. Returning with the body unread drops the connection (it is not reused).
    let limit = if reads_object && (200..300).contains(&status) {
        usize::MAX
    } else {
        MAX_ANSWER_BYTES
    };
    let mut body = Vec::new();
    if response.content_length().is_some_and(|n| n > limit as u64) {
        log::debug!(target: LOG_TARGET, "answer body of {status} over {limit} bytes: not read");
        return Ok(RawResponse {
            status,
            headers,
            body: body.into(),
        });
    }
    loop {
        match tokio::time::timeout(timeout, response.chunk()).await {
            Err(_) => return Err(Failure::AnswerStalled),
            Ok(Err(e)) => return Err(Failure::Http(e)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) if body.len() + chunk.len() > limit => {
                body.extend_from_slice(&chunk[..limit - body.len()]);
                log::debug!(target: LOG_TARGET, "answer body of {status} cut at {limit} bytes");
                break;
            }
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body: body.into(),
    })
}

/// Why an exchange ended without an answer.
enum Failure {
    Http(reqwest::Error),
    /// The watchdog: no progress of the body, or no answer, for the timeout.
    Stalled,
    /// The answer's body stopped arriving for the timeout.
    AnswerStalled,
    /// The whole exchange took longer than the operation timeout.
    TookTooLong(Duration),
    Cancelled,
}

impl Failure {
    /// The error a caller sees: what failed, and whether the whole request went out (only then
    /// may OSS have acted on it).
    fn into_error(self, progress: Option<&Progress>, timeout: Duration) -> Error {
        let whole_body_sent = progress.is_none_or(Progress::finished);
        let sent_detail = || match progress {
            Some(p) => format!("({} of {} bytes sent)", p.sent(), p.total()),
            None => String::new(),
        };
        match self {
            Failure::Cancelled => {
                Error::cancelled(whole_body_sent, format!("by the caller {}", sent_detail()))
            }
            Failure::Stalled if whole_body_sent => Error::Transport {
                kind: TransportErrorKind::Timeout,
                message: format!("no answer within {timeout:?} after the request was sent"),
                request_sent: true,
            },
            Failure::Stalled => Error::Transport {
                kind: TransportErrorKind::Timeout,
                message: format!(
                    "the upload made no progress for {timeout:?} {}",
                    sent_detail()
                ),
                request_sent: false,
            },
            Failure::AnswerStalled => Error::Transport {
                kind: TransportErrorKind::Timeout,
                message: format!("the answer stopped arriving for {timeout:?}"),
                request_sent: true,
            },
            Failure::TookTooLong(limit) => Error::Transport {
                kind: TransportErrorKind::Timeout,
                message: format!(
                    "the request took longer than its operation timeout of {limit:?} {}",
                    sent_detail()
                ),
                request_sent: whole_body_sent,
            },
            Failure::Http(e) => classify(e, progress),
        }
    }
}

/// Resolves once `deadline` has passed; never without one.
async fn past(deadline: Option<Duration>) {
    match deadline {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Resolves when `token` is cancelled; never without one.
pub(crate) async fn cancelled(token: Option<&CancellationToken>) {
    match token {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the request has been idle for longer than `timeout` before its answer arrived:
/// an unfinished upload whose body stopped moving, or an answer that does not come (counted
/// from the last byte handed over, or from the start for requests without a body). Never
/// resolves once the answer's head has arrived (its body has per-read timeouts).
async fn watchdog(
    progress: Option<&Progress>,
    timeout: Duration,
    started: Instant,
    answered: &AtomicBool,
) {
    let tick = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if answered.load(Ordering::Acquire) {
            std::future::pending::<()>().await;
        }
        let idle = progress.map_or_else(|| started.elapsed(), Progress::idle_for);
        if idle > timeout {
            return;
        }
    }
}

fn classify(e: reqwest::Error, progress: Option<&Progress>) -> Error {
    // Whether the server may have acted on the request: only once the whole body is out (OSS
    // commits an append only after receiving all of Content-Length).
    let whole_body_sent = progress.is_none_or(|p| p.finished());
    if let Some(failure) = progress.and_then(|p| p.failure()) {
        return Error::Transport {
            kind: TransportErrorKind::Body,
            message: failure,
            request_sent: false,
        };
    }
    if let Some(failure) = tls::failure_of(&e) {
        return Error::Transport {
            kind: TransportErrorKind::Tls(failure),
            message: error_chain(&e),
            request_sent: false,
        };
    }
    let kind = if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Io
    };
    Error::Transport {
        kind,
        message: error_chain(&e),
        request_sent: kind != TransportErrorKind::Connect && whole_body_sent,
    }
}

/// The error and its causes on one line: reqwest's own message hides the root cause.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
