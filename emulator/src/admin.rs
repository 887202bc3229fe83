//! The fault admin endpoint: `/__faults`, `/__restart`, `/__stats` and `/__sts` on the emulator's own
//! port, without a signature. Served only when `EmulatorConfig::enable_fault_admin` is set (CLI
//! `--enable-fault-admin`); otherwise these paths are ordinary OSS requests (and fail as such).
//!
//! * `POST /__faults`: one fault spec per line (see [`crate::faults`]); answers `queued N`.
//! * `GET /__faults`: `pending <spec>` lines, then `fired <action> <op> <key>` lines.
//! * `DELETE /__faults`: empties the queue.
//! * `POST /__restart`: restarts the server shortly after answering; optional body
//!   `down-ms=N` (port closed that long, default 200).
//! * `GET /__stats`: `{"connections":N,"tlsHandshakes":M}` (`application/json`): TCP
//!   connections accepted and TLS handshakes completed since start, restarts included.
//!
//! * `POST /__sts`: issues temporary credentials; body `lifetime-ms=N` (default 900 000, at
//!   most a day). Answers their JSON (`application/json`):
//!   `{"accessKeyId","accessKeySecret","securityToken","expiration"}` (RFC 3339), the shape a
//!   `credentialsProvider` returns. After the expiration OSS's `SecurityTokenExpired` answers.
//! * `POST /__sts/expire`: body `access-key-id=STS.…`: those credentials expire now.
//!
//! Answers are `text/plain` unless said; a bad spec answers 400 with the reason and queues
//! nothing.
//!
//! Every admin request must carry `x-oss-emulator-admin: 1` and no `Origin` header, else it
//! answers 403. A web page in any browser on the machine can reach 127.0.0.1: it can send a
//! "simple" cross-origin POST (no custom headers) without asking, and a browser names the page
//! in `Origin` on every cross-origin POST. A custom header needs a CORS preflight, which this
//! endpoint refuses like any other request without the header, so a page can never queue
//! faults or restart the server; test scripts and SDK clients send no `Origin`.

use crate::faults::Fault;
use crate::http::body::{empty_body, full_body, Body};
use crate::state::Shared;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::time::Duration;

/// Largest admin request body.
const MAX_ADMIN_BODY: usize = 64 * 1024;

/// The header every admin request must carry, with the value [`ADMIN_HEADER_VALUE`].
pub const ADMIN_HEADER: &str = "x-oss-emulator-admin";
pub const ADMIN_HEADER_VALUE: &str = "1";

/// Why an admin request is refused before it is read (see the module docs), if it is.
fn refusal(headers: &hyper::HeaderMap) -> Option<String> {
    if headers.contains_key(hyper::header::ORIGIN) {
        return Some(
            "admin requests with an Origin header are refused: a web page must not reach the \
             fault admin endpoint\n"
                .to_string(),
        );
    }
    if headers.get(ADMIN_HEADER).map(|v| v.as_bytes()) != Some(ADMIN_HEADER_VALUE.as_bytes()) {
        return Some(format!(
            "admin requests need the header {ADMIN_HEADER}: {ADMIN_HEADER_VALUE}\n"
        ));
    }
    None
}

/// Whether a path belongs to the admin endpoint.
pub(crate) fn is_admin_path(path: &str) -> bool {
    path == "/__faults"
        || path == "/__restart"
        || path == "/__stats"
        || path == "/__sts"
        || path == "/__sts/expire"
}

/// Longest lifetime `POST /__sts` issues.
const MAX_STS_LIFETIME_MS: u64 = 24 * 3600 * 1000;

/// The `name=value` pairs of an admin body (separated by `,`, `&` or new lines).
fn params(text: &str) -> Vec<(&str, &str)> {
    text.split([',', '&', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (name.trim(), value.trim())
        })
        .collect()
}

/// `POST /__sts`.
fn issue_sts(shared: &Shared, text: &str) -> Response<Body> {
    let mut lifetime_ms = 900_000u64;
    for (name, value) in params(text) {
        match name {
            "lifetime-ms" => match value.parse() {
                Ok(ms) if (1..=MAX_STS_LIFETIME_MS).contains(&ms) => lifetime_ms = ms,
                _ => {
                    return answer(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "lifetime-ms must be a number from 1 to {MAX_STS_LIFETIME_MS}, got {value:?}\n"
                        ),
                    )
                }
            },
            _ => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    format!("unknown sts parameter {name:?} (use lifetime-ms=N)\n"),
                )
            }
        }
    }
    let issued = shared.sts.issue(Duration::from_millis(lifetime_ms));
    let mut response = answer(StatusCode::OK, issued.to_json());
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// `POST /__sts/expire`.
fn expire_sts(shared: &Shared, text: &str) -> Response<Body> {
    match params(text).as_slice() {
        [("access-key-id", id)] if shared.sts.expire(id) => {
            answer(StatusCode::OK, "expired\n".into())
        }
        [("access-key-id", id)] => answer(
            StatusCode::NOT_FOUND,
            format!("no issued credentials with access key id {id:?}\n"),
        ),
        _ => answer(
            StatusCode::BAD_REQUEST,
            "the body must be access-key-id=STS.…\n".into(),
        ),
    }
}

/// Serves one admin request.
pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    if let Some(message) = refusal(req.headers()) {
        return answer(StatusCode::FORBIDDEN, message);
    }
    let (parts, body) = req.into_parts();
    let text = match read_text(body).await {
        Ok(text) => text,
        Err(message) => return answer(StatusCode::BAD_REQUEST, message),
    };
    match (parts.uri.path(), &parts.method) {
        ("/__faults", &Method::POST) => {
            let mut faults = Vec::new();
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                match Fault::parse(line) {
                    Ok(fault) => faults.push(fault),
                    Err(e) => {
                        return answer(
                            StatusCode::BAD_REQUEST,
                            format!("bad fault {line:?}: {e}\n"),
                        )
                    }
                }
            }
            let n = faults.len();
            for fault in faults {
                shared.inject(fault);
            }
            answer(StatusCode::OK, format!("queued {n}\n"))
        }
        ("/__faults", &Method::GET) => {
            let queue = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
            let mut out = String::new();
            for fault in queue.pending() {
                out.push_str(&format!("pending {fault}\n"));
            }
            for fired in queue.fired() {
                out.push_str(&format!(
                    "fired {} {:?} {}\n",
                    fired.action.name(),
                    fired.op,
                    fired.key
                ));
            }
            answer(StatusCode::OK, out)
        }
        ("/__faults", &Method::DELETE) => {
            shared
                .faults
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
            answer(StatusCode::OK, "cleared\n".into())
        }
        ("/__restart", &Method::POST) => {
            let mut down_ms = 200u64;
            for part in text
                .split([',', '&', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                match part.split_once('=') {
                    Some(("down-ms", v)) => match v.trim().parse() {
                        Ok(ms) => down_ms = ms,
                        Err(_) => {
                            return answer(
                                StatusCode::BAD_REQUEST,
                                format!("down-ms must be a number, got {v:?}\n"),
                            )
                        }
                    },
                    _ => {
                        return answer(
                            StatusCode::BAD_REQUEST,
                            format!("unknown restart parameter {part:?}\n"),
                        )
                    }
                }
            }
            // Answer first: the restart drops every connection, this one included.
            let restarts = shared.restart_handle();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                restarts(Duration::from_millis(down_ms));
            });
            answer(StatusCode::OK, format!("restarting, down {down_ms} ms\n"))
        }
        ("/__stats", &Method::GET) => {
            let stats = shared.stats();
            let json = format!(
                "{{\"connections\":{},\"tlsHandshakes\":{}}}",
                stats.connections, stats.tls_handshakes
            );
            answer_typed(StatusCode::OK, "application/json", json)
        }
        ("/__sts", &Method::POST) => issue_sts(shared, &text),
        ("/__sts/expire", &Method::POST) => expire_sts(shared, &text),
        _ => answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "use POST/GET/DELETE /__faults, POST /__restart, GET /__stats, POST /__sts or POST /__sts/expire\n"
                .into(),
        ),
    }
}

async fn read_text(body: Incoming) -> Result<String, String> {
    let limited = http_body_util::Limited::new(body, MAX_ADMIN_BODY);
    let bytes = limited
        .collect()
        .await
        .map_err(|e| format!("cannot read the body: {e}\n"))?
        .to_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| "the body is not UTF-8\n".to_string())
}

fn answer(status: StatusCode, text: String) -> Response<Body> {
    answer_typed(status, "text/plain; charset=utf-8", text)
}

fn answer_typed(status: StatusCode, content_type: &str, text: String) -> Response<Body> {
    let body = if text.is_empty() {
        empty_body()
    } else {
        full_body(text.clone())
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("content-length", text.len().to_string())
        .header("connection", "close")
        .body(body)
        .expect("valid admin response")
}
