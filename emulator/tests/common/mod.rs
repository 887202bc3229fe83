//! Test helpers: a tiny OSS request signer on top of `oss_append::protocol::signing` and an HTTP sender.
#![allow(dead_code)]

use oss_append::protocol::signing::{v1, v4, SignableRequest};
use oss_emulator::{EmulatorConfig, RunningEmulator};
use std::time::{SystemTime, UNIX_EPOCH};

pub const AK: &str = "LTAI5tEmulatorTestKey";
pub const SK: &str = "EmulatorTestSecret0123456789abcdef";
pub const BUCKET: &str = "test-bucket";

/// The binary's arguments every start needs: one bucket and the test key.
pub const KEY_ARGS: [&str; 6] = [
    "--bucket",
    BUCKET,
    "--access-key-id",
    AK,
    "--access-key-secret",
    SK,
];

/// A plain-HTTP reqwest client. reqwest may be compiled with rustls but without a crypto
/// provider (feature unification with the root crate), so install ring's first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub fn config() -> EmulatorConfig {
    EmulatorConfig::new(AK, SK)
}

pub async fn start() -> RunningEmulator {
    oss_emulator::start(config())
        .await
        .expect("emulator starts")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V4,
}

/// How to sign; fields can be bent to provoke errors.
#[derive(Clone, Debug)]
pub struct Signer {
    pub version: Version,
    pub ak: String,
    pub sk: String,
    pub token: Option<String>,
    pub region: String,
    pub product: String,
    /// Added to the signing time (seconds).
    pub time_offset: i64,
    /// V4: names to list in AdditionalHeaders.
    pub additional: Vec<String>,
}

impl Signer {
    pub fn new(version: Version) -> Self {
        Signer {
            version,
            ak: AK.into(),
            sk: SK.into(),
            token: None,
            region: "cn-hangzhou".into(),
            product: "oss".into(),
            time_offset: 0,
            additional: Vec::new(),
        }
    }
}

/// A request to send.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: Vec<(String, Option<String>)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send no Date / x-oss-date / x-oss-content-sha256 added by the signer.
    pub skip_date: bool,
}

impl Req {
    pub fn new(method: &str, key: &str) -> Self {
        Req {
            method: method.into(),
            bucket: Some(BUCKET.into()),
            key: Some(key.into()),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            skip_date: false,
        }
    }

    pub fn append(key: &str, position: u64, body: &[u8]) -> Self {
        Req::new("POST", key)
            .query("append", None)
            .query("position", Some(&position.to_string()))
            .body(body)
    }

    pub fn query(mut self, name: &str, value: Option<&str>) -> Self {
        self.query.push((name.into(), value.map(Into::into)));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: &[u8]) -> Self {
        self.body = body.to_vec();
        self
    }

    pub fn bucket(mut self, bucket: &str) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// Path-style URL path, key percent-encoded with `/` kept.
    pub fn path(&self) -> String {
        let mut p = String::from("/");
        if let Some(b) = &self.bucket {
            p.push_str(b);
            p.push('/');
        }
        if let Some(k) = &self.key {
            p.push_str(&encode(k, true));
        }
        p
    }

    pub fn query_string(&self) -> String {
        self.query
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{}={}", encode(k, false), encode(v, false)),
                None => encode(k, false),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Adds the date headers and the Authorization header.
    pub fn signed(mut self, signer: &Signer) -> Self {
        let now = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + signer.time_offset) as u64;
        if let Some(token) = &signer.token {
            self.headers
                .push(("x-oss-security-token".into(), token.clone()));
        }
        match signer.version {
            Version::V1 => {
                let date =
                    httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(now));
                if !self.skip_date {
                    self.headers.push(("Date".into(), date.clone()));
                }
                let sts =
                    v1::string_to_sign(&self.signable(), if self.skip_date { "" } else { &date });
                let sig = v1::signature(&signer.sk, &sts);
                self.headers
                    .push(("Authorization".into(), v1::authorization(&signer.ak, &sig)));
            }
            Version::V4 => {
                let datetime = v4::format_datetime(now);
                if !self.skip_date {
                    self.headers.push(("x-oss-date".into(), datetime.clone()));
                    self.headers
                        .push(("x-oss-content-sha256".into(), v4::UNSIGNED_PAYLOAD.into()));
                }
                let scope = v4::Scope {
                    date: datetime[..8].to_string(),
                    region: signer.region.clone(),
                    product: signer.product.clone(),
                };
                let names: Vec<&str> = signer.additional.iter().map(String::as_str).collect();
                let additional = v4::additional_headers(&self.signable(), &names);
                let cr = v4::canonical_request(&self.signable(), &additional);
                let sts = v4::string_to_sign(&datetime, &scope, &cr);
                let sig = v4::signature(&v4::signing_key(&signer.sk, &scope), &sts);
                self.headers.push((
                    "Authorization".into(),
                    v4::authorization(&signer.ak, &scope, &additional, &sig),
                ));
            }
        }
        self
    }

    pub fn signable(&self) -> SignableRequest<'_> {
        SignableRequest {
            method: &self.method,
            bucket: self.bucket.as_deref(),
            key: self.key.as_deref(),
            query: &self.query,
            headers: &self.headers,
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` when asked).
pub fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A received response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of `<name>…</name>` in the body (or in x-oss-err for HEAD), unescaped minimally.
    pub fn element(&self, name: &str) -> Option<String> {
        let xml = if self.body.is_empty() {
            use base64::Engine as _;
            let b64 = self.header("x-oss-err")?;
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).ok()?).ok()?
        } else {
            self.text()
        };
        element(&xml, name)
    }

    pub fn code(&self) -> Option<String> {
        self.element("Code")
    }

    /// Asserts an OSS error: status, Code, EC in body and header, and the common headers.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, ec: &str) {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(
            self.code().as_deref(),
            Some(code),
            "Code; body: {}",
            self.text()
        );
        assert_eq!(
            self.header("x-oss-ec"),
            Some(ec),
            "x-oss-ec; body: {}",
            self.text()
        );
        assert_eq!(self.element("EC").as_deref(), Some(ec), "EC element");
        assert_eq!(self.header("content-type"), Some("application/xml"));
        let request_id = self.header("x-oss-request-id").expect("request id");
        assert_eq!(self.element("RequestId").as_deref(), Some(request_id));
        assert_eq!(
            self.element("RecommendDoc").as_deref(),
            Some(format!("https://api.aliyun.com/troubleshoot?q={ec}").as_str())
        );
        self.assert_common_headers();
    }

    #[track_caller]
    pub fn assert_common_headers(&self) {
        let id = self.header("x-oss-request-id").expect("x-oss-request-id");
        assert!(
            id.len() == 24
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{id}"
        );
        assert_eq!(self.header("server"), Some("AliyunOSS"));
        assert!(httpdate::parse_http_date(self.header("date").expect("Date")).is_ok());
    }
}

pub fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(
        xml[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#13;", "\r")
            .replace("&amp;", "&"),
    )
}

/// Sends a request to the emulator (path-style URL on its endpoint).
pub async fn send(client: &reqwest::Client, endpoint: &str, req: &Req) -> Resp {
    let mut url = format!("{endpoint}{}", req.path());
    let qs = req.query_string();
    if !qs.is_empty() {
        url.push('?');
        url.push_str(&qs);
    }
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
    let mut builder = client.request(method, url);
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    if req.method != "GET" && req.method != "HEAD" && req.method != "DELETE" {
        // Explicit, because hyper omits `Content-Length: 0` for an empty body, and OSS (like the
        // emulator) answers 411 to an upload without it.
        builder = builder
            .header("content-length", req.body.len().to_string())
            .body(req.body.clone());
    }
    let response = builder.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

impl Signer {
    /// Signs `req` and sends it.
    pub async fn call(&self, client: &reqwest::Client, endpoint: &str, req: Req) -> Resp {
        send(client, endpoint, &req.signed(self)).await
    }
}

/// Raw HTTP/1.1 exchange over TCP for what reqwest cannot express (no Content-Length, a body
/// shorter than declared, chunked encoding by hand). Returns the raw response text read until
/// the server closes or `read_timeout` passes.
pub async fn raw_exchange(
    addr: std::net::SocketAddr,
    head: &str,
    body: &[u8],
    close_early: bool,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    if close_early {
        drop(stream);
        return String::new();
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(3), stream.read(&mut chunk)).await
        {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                // Stop once a full response with a Content-Length body is in.
                if let Some(text) = complete_response(&buf) {
                    return text;
                }
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn complete_response(buf: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(buf).into_owned();
    let head_end = text.find("\r\n\r\n")?;
    let len: usize = text[..head_end]
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    (buf.len() >= head_end + 4 + len).then_some(text)
}

/// The headers a signed raw request needs, as `Name: value\r\n` lines (ends without blank line).
pub fn signed_raw_headers(req: Req, signer: &Signer) -> (String, String) {
    let signed = req.signed(signer);
    let mut lines = String::new();
    for (n, v) in &signed.headers {
        lines.push_str(&format!("{n}: {v}\r\n"));
    }
    let mut target = signed.path();
    let qs = signed.query_string();
    if !qs.is_empty() {
        target.push('?');
        target.push_str(&qs);
    }
    (target, lines)
}

/// The bucket's virtual-hosted name in cn-hangzhou, and the region's endpoint name: the HTTPS
/// tests reach the emulator by these names (SNI, Host) through a resolver override.
pub const BUCKET_HOST: &str = "test-bucket.oss-cn-hangzhou.aliyuncs.com";
pub const ENDPOINT_HOST: &str = "oss-cn-hangzhou.aliyuncs.com";

/// A reqwest client that trusts `ca_pem` only and resolves [`BUCKET_HOST`] and
/// [`ENDPOINT_HOST`] to `addr`.
pub fn https_client_trusting(ca_pem: &str, addr: std::net::SocketAddr) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM"))
        .resolve(BUCKET_HOST, addr)
        .resolve(ENDPOINT_HOST, addr)
        .build()
        .expect("client")
}

/// Signs `req` (V4) and sends it virtual-hosted:
/// `https://test-bucket.oss-cn-hangzhou.aliyuncs.com:PORT/key`.
pub async fn send_virtual(
    client: &reqwest::Client,
    port: u16,
    req: Req,
) -> Result<Resp, reqwest::Error> {
    let req = req.signed(&Signer::new(Version::V4));
    let mut url = format!(
        "https://{BUCKET_HOST}:{port}/{}",
        encode(req.key.as_deref().unwrap_or(""), true)
    );
    let qs = req.query_string();
    if !qs.is_empty() {
        url.push('?');
        url.push_str(&qs);
    }
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
    let mut builder = client.request(method, url);
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    if req.method != "GET" && req.method != "HEAD" {
        builder = builder
            .header("content-length", req.body.len().to_string())
            .body(req.body.clone());
    }
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    Ok(Resp {
        status,
        headers,
        body,
    })
}
