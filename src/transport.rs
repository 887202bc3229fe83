//! Transport: one pooled HTTP client per [`crate::Client`] (connections are reused across calls),
//! TLS with rustls + ring, and a stall watchdog for uploads. Never retries: an append is not
//! idempotent, so whether to try again is the caller's decision (see the append session).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::body::{Progress, TrackedBody};
use crate::config::ClientConfig;
use crate::error::{Error, Result, TransportErrorKind};
use crate::request::PreparedRequest;
use crate::response::RawResponse;

/// The HTTP side of a client.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    read_write_timeout: Duration,
}

impl Transport {
    /// Builds the pooled client for a configuration.
    pub fn new(config: &ClientConfig) -> Result<Self> {
        let user_agent = config
            .user_agent
            .clone()
            .unwrap_or_else(|| concat!("oss-append/", env!("CARGO_PKG_VERSION")).to_owned());
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_write_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .user_agent(user_agent)
            // OSS answers redirects only for misaddressed buckets; following one would resend
            // a signed request to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Transport {
                kind: TransportErrorKind::Connect,
                message: format!("cannot set up the HTTP client: {e}"),
                request_sent: false,
            })?;
        Ok(Self {
            http,
            read_write_timeout: config.read_write_timeout,
        })
    }

    /// Sends a request with an optional tracked body and reads the whole answer.
    pub(crate) async fn send(
        &self,
        request: PreparedRequest,
        body: Option<(TrackedBody, Arc<Progress>)>,
    ) -> Result<RawResponse> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .expect("operations use standard methods");
        let mut builder = self.http.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let progress = body.as_ref().map(|(_, p)| p.clone());
        if let Some((tracked, _)) = body {
            builder = builder.body(reqwest::Body::wrap(tracked));
        }
        let exchange = async {
            let response = builder.send().await?;
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
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(RawResponse {
                status,
                headers,
                body,
            })
        };
        let result = match &progress {
            // reqwest times out reads but not writes: a watchdog ends an upload whose body
            // stops moving for longer than the read/write timeout.
            Some(p) => tokio::select! {
                r = exchange => r,
                () = stall_watchdog(p, self.read_write_timeout) => {
                    return Err(Error::Transport {
                        kind: TransportErrorKind::Timeout,
                        message: format!(
                            "the upload made no progress for {:?} ({} of {} bytes sent)",
                            self.read_write_timeout, p.sent(), p.total()
                        ),
                        request_sent: false,
                    });
                }
            },
            None => exchange.await,
        };
        result.map_err(|e| classify(e, progress.as_deref()))
    }
}

/// Resolves when an unfinished upload has been idle for longer than `timeout`; never resolves
/// once the whole body has been handed over (then the read timeout takes over).
async fn stall_watchdog(progress: &Progress, timeout: Duration) {
    let tick = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if progress.finished() {
            std::future::pending::<()>().await;
        }
        if progress.idle_for() > timeout {
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

/// rustls with the ring provider (it builds with clang for OHOS) and the Mozilla root store
/// from `webpki-roots`, so certificate checks do not depend on the device's trust store layout.
fn tls_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}
