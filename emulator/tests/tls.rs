//! HTTPS: the emulator with a generated test CA, reached by name (SNI, virtual-hosted
//! addressing) through a resolver override; TLS 1.2 and 1.3; what a verifying client refuses
//! (unknown issuer, name mismatch, expired leaf); the connection and handshake counters (also
//! through `/__stats`); the handshake bounded by the header timeout; restarts over TLS.

mod common;

use common::*;
use oss_emulator::tls::{self, TestPki, Validity};
use oss_emulator::{EmulatorConfig, RunningEmulator, ADMIN_HEADER, ADMIN_HEADER_VALUE};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The names real OSS serves in cn-hangzhou, and the loopback address.
const NAMES: [&str; 3] = [
    "*.oss-cn-hangzhou.aliyuncs.com",
    "oss-cn-hangzhou.aliyuncs.com",
    "127.0.0.1",
];
fn pki() -> TestPki {
    tls::generate(&NAMES, Validity::Current).expect("test PKI")
}

fn https_config(pki: &TestPki) -> EmulatorConfig {
    let mut config = config();
    config.tls = Some(pki.identity());
    config
}

async fn start_https(pki: &TestPki) -> RunningEmulator {
    oss_emulator::start(https_config(pki))
        .await
        .expect("HTTPS emulator starts")
}

/// The whole chain of an error's causes, for matching the TLS reason.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{e}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(" / {s:?}"));
        source = s.source();
    }
    text
}

#[tokio::test]
async fn virtual_hosted_appends_over_https_by_name() {
    let pki = pki();
    let emu = start_https(&pki).await;
    let addr = emu.local_addr();
    assert_eq!(emu.endpoint(), format!("https://{addr}"));
    assert!(emu.is_https());
    let client = https_client_trusting(&pki.ca_pem, addr);

    let first = send_virtual(&client, addr.port(), Req::append("dir/a.log", 0, b"hello "))
        .await
        .expect("append over HTTPS");
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("x-oss-next-append-position"), Some("6"));
    let second = send_virtual(&client, addr.port(), Req::append("dir/a.log", 6, b"world"))
        .await
        .unwrap();
    assert_eq!(second.status, 200, "{}", second.text());
    let get = send_virtual(&client, addr.port(), Req::new("GET", "dir/a.log"))
        .await
        .unwrap();
    assert_eq!(get.status, 200);
    assert_eq!(get.body, b"hello world");

    // Virtual-hosted: the bucket came from the Host name, the path is the key alone.
    let stored = emu.object(BUCKET, "dir/a.log").expect("in test-bucket");
    assert_eq!(stored.data, b"hello world");
    let paths: Vec<String> = emu.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/dir/a.log", "/dir/a.log", "/dir/a.log"]);

    // Three requests on one kept-alive connection: one TCP connection, one handshake.
    assert_eq!(emu.connections(), 1);
    assert_eq!(emu.tls_handshakes(), 1);

    // Path-style by the bare endpoint name works too (the certificate names it).
    let url = format!(
        "https://{ENDPOINT_HOST}:{}/test-bucket/dir/a.log",
        addr.port()
    );
    let r = client
        .get(url)
        .send()
        .await
        .expect("request by the endpoint name");
    // Unsigned: refused by OSS rules, but over TLS and routed to the bucket.
    assert_eq!(r.status(), 403);
    emu.shutdown().await;
}

#[tokio::test]
async fn many_requests_on_a_kept_alive_connection_need_one_handshake() {
    let pki = pki();
    let emu = start_https(&pki).await;
    let addr = emu.local_addr();
    let client = https_client_trusting(&pki.ca_pem, addr);
    let mut position = 0u64;
    for i in 0..20u32 {
        let body = format!("block {i}\n");
        let r = send_virtual(
            &client,
            addr.port(),
            Req::append("chain.log", position, body.as_bytes()),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        position += body.len() as u64;
    }
    assert_eq!(
        emu.object(BUCKET, "chain.log").unwrap().data.len() as u64,
        position
    );
    assert_eq!(emu.connections(), 1);
    assert_eq!(emu.tls_handshakes(), 1);

    // A second client opens its own connection: one more of each.
    let other = https_client_trusting(&pki.ca_pem, addr);
    let r = send_virtual(&other, addr.port(), Req::new("HEAD", "chain.log"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(emu.connections(), 2);
    assert_eq!(emu.tls_handshakes(), 2);
    emu.shutdown().await;
}

/// A rustls client configuration: ring, the given versions and ALPN offers, trusting `ca_pem`.
fn rustls_client(
    ca_pem: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Handshakes with `connector` under the name `name`, then sends one signed HEAD (path-style,
/// `Connection: close`) and returns the negotiated version, ALPN and the answer's status line.
async fn head_over(
    connector: &tokio_rustls::TlsConnector,
    addr: SocketAddr,
    name: &str,
) -> std::io::Result<(rustls::ProtocolVersion, Option<Vec<u8>>, String)> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let mut stream = connector.connect(server_name, tcp).await?;
    let (_, conn) = stream.get_ref();
    let version = conn.protocol_version().expect("negotiated version");
    let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
    let (path_style, headers) =
        signed_raw_headers(Req::new("HEAD", "none"), &Signer::new(Version::V1));
    // Virtual-hosted by the bucket's name: the path is the key alone.
    let target = if name == BUCKET_HOST {
        "/none".to_string()
    } else {
        path_style
    };
    let head =
        format!("HEAD {target} HTTP/1.1\r\nHost: {name}\r\n{headers}Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the answer within 10 s")?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.lines().next().unwrap_or("").to_string();
    Ok((version, alpn, status))
}

#[tokio::test]
async fn tls_1_2_only_and_1_3_only_clients_are_both_served() {
    let pki = pki();
    let emu = start_https(&pki).await;
    for (versions, expected) in [
        (
            &[&rustls::version::TLS12][..],
            rustls::ProtocolVersion::TLSv1_2,
        ),
        (
            &[&rustls::version::TLS13][..],
            rustls::ProtocolVersion::TLSv1_3,
        ),
    ] {
        let connector = rustls_client(&pki.ca_pem, versions, &[b"http/1.1"]);
        let (version, alpn, status) = head_over(&connector, emu.local_addr(), BUCKET_HOST)
            .await
            .expect("handshake and answer");
        assert_eq!(version, expected);
        assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
        // An OSS answer (the object does not exist), so HTTP runs over this TLS version.
        assert_eq!(status, "HTTP/1.1 404 Not Found");
    }
    // By IP address too (the certificate names 127.0.0.1), and without ALPN.
    let connector = rustls_client(&pki.ca_pem, &[&rustls::version::TLS13], &[]);
    let (_, alpn, status) = head_over(&connector, emu.local_addr(), "127.0.0.1")
        .await
        .expect("by IP address");
    assert_eq!(alpn, None);
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    assert_eq!(emu.tls_handshakes(), 3);

    // A client that speaks only h2 finds no common protocol.
    let h2_only = rustls_client(&pki.ca_pem, &[&rustls::version::TLS13], &[b"h2"]);
    let e = head_over(&h2_only, emu.local_addr(), BUCKET_HOST)
        .await
        .expect_err("no ALPN in common");
    assert!(format!("{e:?}").contains("NoApplicationProtocol"), "{e:?}");
    assert_eq!(emu.tls_handshakes(), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn verifying_clients_refuse_unknown_issuer_wrong_name_and_expired_leaf() {
    let pki = pki();
    let emu = start_https(&pki).await;
    let addr = emu.local_addr();

    // Another CA: unknown issuer.
    let stranger = tls::generate(&NAMES, Validity::Current).unwrap();
    let e = send_virtual(
        &https_client_trusting(&stranger.ca_pem, addr),
        addr.port(),
        Req::new("HEAD", "k"),
    )
    .await
    .expect_err("a client trusting another CA refuses the server");
    assert!(causes(&e).contains("UnknownIssuer"), "{}", causes(&e));

    // A name the certificate does not hold.
    let connector = rustls_client(&pki.ca_pem, &[&rustls::version::TLS13], &[b"http/1.1"]);
    let e = head_over(&connector, addr, "test-bucket.oss-cn-beijing.aliyuncs.com")
        .await
        .expect_err("a name the certificate does not hold");
    assert!(format!("{e:?}").contains("NotValidForName"), "{e:?}");
    assert_eq!(emu.tls_handshakes(), 0);
    assert_eq!(emu.connections(), 2);
    emu.shutdown().await;

    // An expired leaf under a CA the client trusts.
    let expired = tls::generate(&NAMES, Validity::Expired).unwrap();
    let emu = start_https(&expired).await;
    let addr = emu.local_addr();
    let e = send_virtual(
        &https_client_trusting(&expired.ca_pem, addr),
        addr.port(),
        Req::new("HEAD", "k"),
    )
    .await
    .expect_err("the expired certificate is refused");
    assert!(causes(&e).contains("Expired"), "{}", causes(&e));
    assert_eq!(emu.tls_handshakes(), 0);
    assert_eq!(emu.connections(), 1);
    // The refusal is the client's: the server never saw a request.
    assert!(emu.requests().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn plain_http_to_the_https_port_gets_no_answer() {
    let pki = pki();
    let emu = start_https(&pki).await;
    let text = raw_exchange(
        emu.local_addr(),
        "GET /test-bucket/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"",
        false,
    )
    .await;
    assert!(!text.contains("HTTP/1.1"), "{text:?}");
    assert!(emu.requests().is_empty());
    assert_eq!(emu.tls_handshakes(), 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_silent_client_loses_its_place_after_the_header_timeout() {
    let pki = pki();
    let mut config = https_config(&pki);
    config.header_read_timeout = Duration::from_millis(300);
    config.max_connections = 1;
    let emu = oss_emulator::start(config).await.unwrap();
    // Takes the only place and never starts the handshake.
    let mut silent = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(20), silent.read(&mut byte))
        .await
        .expect("closed by the emulator within 20 s");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    // The place is free again: a real client gets through.
    let client = https_client_trusting(&pki.ca_pem, emu.local_addr());
    let r = send_virtual(&client, emu.local_addr().port(), Req::new("HEAD", "k"))
        .await
        .expect("served after the silent client was dropped");
    assert_eq!(r.status, 404);
    assert_eq!(emu.connections(), 2);
    assert_eq!(emu.tls_handshakes(), 1);
    emu.shutdown().await;
}

/// `GET /__stats` over HTTPS with the admin header.
async fn stats(client: &reqwest::Client, port: u16) -> String {
    let r = client
        .get(format!("https://{ENDPOINT_HOST}:{port}/__stats"))
        .header(ADMIN_HEADER, ADMIN_HEADER_VALUE)
        .send()
        .await
        .expect("stats");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json");
    r.text().await.unwrap()
}

#[tokio::test]
async fn restarts_over_tls_and_the_stats_endpoint() {
    let pki = pki();
    let mut config = https_config(&pki);
    config.enable_fault_admin = true;
    let emu = oss_emulator::start(config).await.unwrap();
    let addr = emu.local_addr();
    let client = https_client_trusting(&pki.ca_pem, addr);
    let r = send_virtual(&client, addr.port(), Req::append("r.log", 0, b"one"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);

    // Admin answers close their connection: each stats request is a connection of its own.
    assert_eq!(
        stats(&client, addr.port()).await,
        r#"{"connections":2,"tlsHandshakes":2}"#
    );
    let refused = client
        .get(format!("https://{ENDPOINT_HOST}:{}/__stats", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "no admin header");

    emu.restart(Duration::from_millis(50)).await;
    let before = emu.tls_handshakes();
    let r = send_virtual(&client, addr.port(), Req::append("r.log", 3, b"two"))
        .await
        .expect("served over TLS after the restart");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        emu.tls_handshakes(),
        before + 1,
        "a new handshake after the restart"
    );

    // The admin restart, over HTTPS. An idle TLS connection opened before it is closed by it
    // (a restart drops every connection): then the restart is under way, and requests either
    // cannot connect (the port is closed for a while) or are served after it.
    let connector = rustls_client(&pki.ca_pem, &[&rustls::version::TLS13], &[b"http/1.1"]);
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut idle = connector
        .connect(ServerName::try_from(BUCKET_HOST).unwrap(), tcp)
        .await
        .expect("an idle TLS connection");
    let r = client
        .post(format!("https://{ENDPOINT_HOST}:{}/__restart", addr.port()))
        .header(ADMIN_HEADER, ADMIN_HEADER_VALUE)
        .body("down-ms=100")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(20), idle.read(&mut byte))
        .await
        .expect("the restart closes idle connections");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    let mut served = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(r) = send_virtual(&client, addr.port(), Req::append("r.log", 6, b"three")).await {
            served = Some(r);
            break;
        }
    }
    let r = served.expect("served over TLS after the admin restart (within 5 s)");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(emu.object(BUCKET, "r.log").unwrap().data, b"onetwothree");
    let (connections, handshakes) = (emu.connections(), emu.tls_handshakes());
    assert_eq!(
        stats(&client, addr.port()).await,
        format!(
            r#"{{"connections":{},"tlsHandshakes":{}}}"#,
            connections + 1,
            handshakes + 1
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn plain_http_counts_connections_and_no_handshakes() {
    let mut config = config();
    config.enable_fault_admin = true;
    let emu = oss_emulator::start(config).await.unwrap();
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
    assert!(!emu.is_https());
    let client = http_client();
    let r = client
        .get(format!("{}/__stats", emu.endpoint()))
        .header(ADMIN_HEADER, ADMIN_HEADER_VALUE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"connections":1,"tlsHandshakes":0}"#
    );
    assert_eq!(emu.tls_handshakes(), 0);
    emu.shutdown().await;
}
