//! The production path over TLS: `https://<bucket>.oss-cn-hangzhou.aliyuncs.com`, resolved to the
//! HTTPS emulator by the client's own `resolve` map or resolver, so SNI and the certificate's
//! name check are real. Trust comes only from `caCerts`; each kind of certificate problem gives
//! its named error and sends nothing. (With `OSS_TEST_HTTPS=1` the other integration suites run
//! over this path too; see `tests/common/mod.rs`.)

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use common::*;
use oss_append::protocol::resolver::{ResolveFuture, Resolver};
use oss_append::{
    AppendObjectRequest, Client, ClientConfig, Credentials, Error, SignatureVersion, TlsFailure,
    TransportErrorKind,
};
use oss_emulator::{EmulatorConfig, RunningEmulator, TestPki, Validity};

/// An HTTPS emulator serving `pki`'s certificate.
async fn https_emulator(pki: &TestPki) -> RunningEmulator {
    let mut config = EmulatorConfig::new(AK, SK);
    config.buckets = vec![BUCKET.to_owned()];
    config.tls = Some(pki.identity());
    oss_emulator::start(config).await.unwrap()
}

fn pki(names: &[&str], validity: Validity) -> TestPki {
    oss_emulator::tls::generate(names, validity).unwrap()
}

/// The TLS failure of a call that must fail in the handshake, after checking nothing was sent.
async fn handshake_failure(client: &Client, emu: &RunningEmulator) -> (TlsFailure, String) {
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "never.txt", "secret data"))
        .await
        .unwrap_err();
    assert!(emu.requests().is_empty(), "no request reached the server");
    assert!(emu.object(BUCKET, "never.txt").is_none());
    match err {
        Error::Transport {
            kind: TransportErrorKind::Tls(failure),
            message,
            request_sent,
        } => {
            assert!(!request_sent, "{message}");
            (failure, message)
        }
        other => panic!("expected a TLS failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_chain_of_1000_appends_from_one_client_costs_one_handshake() {
    let pki = pki(CERTIFICATE_NAMES, Validity::Current);
    let emu = https_emulator(&pki).await;
    assert!(emu.endpoint().starts_with("https://"));
    let client = Client::new(https_config(&emu, &pki.ca_pem)).unwrap();
    let mut position = 0;
    let mut expected = Vec::new();
    for i in 0..1000u32 {
        let chunk = format!("line {i}\n");
        let out = client
            .append_object(
                AppendObjectRequest::new(BUCKET, "logs/tls.log", chunk.clone())
                    .with_position(position),
            )
            .await
            .unwrap();
        position = out.next_append_position;
        expected.extend_from_slice(chunk.as_bytes());
    }
    assert_eq!(emu.object(BUCKET, "logs/tls.log").unwrap().data, expected);
    assert_eq!(
        emu.tls_handshakes(),
        1,
        "one TLS handshake for the whole chain"
    );
    assert_eq!(emu.connections(), 1);
    // Virtual-hosted, as in production: the bucket is in the Host, the path is the key.
    assert!(emu.requests().iter().all(|r| r.path == "/logs/tls.log"));
}

#[tokio::test]
async fn without_the_ca_in_ca_certs_the_certificate_is_not_trusted() {
    let pki = pki(CERTIFICATE_NAMES, Validity::Current);
    let emu = https_emulator(&pki).await;
    let mut config = https_config(&emu, &pki.ca_pem);
    config.ca_certs = None;
    let (failure, message) = handshake_failure(&Client::new(config).unwrap(), &emu).await;
    assert_eq!(failure, TlsFailure::UnknownIssuer, "{message}");
}

#[tokio::test]
async fn another_ca_is_an_unknown_issuer() {
    let served = pki(CERTIFICATE_NAMES, Validity::Current);
    let other = pki(CERTIFICATE_NAMES, Validity::Current);
    let emu = https_emulator(&served).await;
    let client = Client::new(https_config(&emu, &other.ca_pem)).unwrap();
    let (failure, message) = handshake_failure(&client, &emu).await;
    assert_eq!(failure, TlsFailure::UnknownIssuer, "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
}

#[tokio::test]
async fn a_certificate_for_other_names_is_a_name_mismatch() {
    let pki = pki(
        &["*.oss-cn-shanghai.aliyuncs.com", "127.0.0.1"],
        Validity::Current,
    );
    let emu = https_emulator(&pki).await;
    let client = Client::new(https_config(&emu, &pki.ca_pem)).unwrap();
    let (failure, message) = handshake_failure(&client, &emu).await;
    assert_eq!(failure, TlsFailure::NameMismatch, "{message}");
}

#[tokio::test]
async fn an_expired_certificate_is_refused_as_expired() {
    let pki = pki(CERTIFICATE_NAMES, Validity::Expired);
    let emu = https_emulator(&pki).await;
    let client = Client::new(https_config(&emu, &pki.ca_pem)).unwrap();
    let (failure, message) = handshake_failure(&client, &emu).await;
    assert_eq!(failure, TlsFailure::Expired, "{message}");
}

#[tokio::test]
async fn a_plain_http_server_behind_an_https_url_is_a_protocol_failure() {
    let pki = pki(CERTIFICATE_NAMES, Validity::Current);
    let mut config = EmulatorConfig::new(AK, SK);
    config.buckets = vec![BUCKET.to_owned()];
    let plain = oss_emulator::start(config).await.unwrap();
    let client = Client::new(https_config(&plain, &pki.ca_pem)).unwrap();
    let (failure, message) = handshake_failure(&client, &plain).await;
    assert_eq!(failure, TlsFailure::Protocol, "{message}");
}

#[tokio::test]
async fn the_session_gives_up_at_once_on_a_certificate_problem() {
    let served = pki(CERTIFICATE_NAMES, Validity::Current);
    let other = pki(CERTIFICATE_NAMES, Validity::Current);
    let emu = https_emulator(&served).await;
    let client = Client::new(https_config(&emu, &other.ca_pem)).unwrap();
    let started = std::time::Instant::now();
    let err = client
        .appender(oss_append::AppenderOptions::new(BUCKET, "s.log"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            oss_append::SessionError::Request(Error::Transport {
                kind: TransportErrorKind::Tls(TlsFailure::UnknownIssuer),
                ..
            })
        ),
        "{err:?}"
    );
    // Not retried as a network failure: one connection attempt.
    assert_eq!(emu.connections(), 1, "after {:?}", started.elapsed());
}

/// Resolves every name to 127.0.0.1, as an HTTPDNS lookup would (the URL gives the port).
struct Loopback;

impl Resolver for Loopback {
    fn resolve(&self, _host: &str) -> ResolveFuture {
        Box::pin(async { Ok(vec![IpAddr::from([127, 0, 0, 1])]) })
    }
}

/// A client for `https://oss-cn-hangzhou.aliyuncs.com:<port>` that finds hosts through the
/// [`Loopback`] resolver.
fn resolver_client(emu: &RunningEmulator, ca_pem: &str) -> Client {
    let port = emu.local_addr().port();
    let config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "cn-hangzhou")
        .unwrap()
        .with_endpoint(format!("https://{REGION_HOST}:{port}"))
        .with_signature_version(SignatureVersion::V4)
        .with_ca_certs(ca_pem)
        .with_resolver(Arc::new(Loopback));
    Client::new(config).unwrap()
}

#[tokio::test]
async fn a_resolver_gives_the_address_and_the_certificate_is_still_checked_against_the_name() {
    let good = pki(CERTIFICATE_NAMES, Validity::Current);
    let emu = https_emulator(&good).await;
    resolver_client(&emu, &good.ca_pem)
        .append_object(AppendObjectRequest::new(BUCKET, "dns.txt", "over HTTPDNS"))
        .await
        .unwrap();
    assert_eq!(emu.object(BUCKET, "dns.txt").unwrap().data, b"over HTTPDNS");

    // The address is right, but the certificate is only for 127.0.0.1: refused by name.
    let ip_only = pki(&["127.0.0.1"], Validity::Current);
    let emu = https_emulator(&ip_only).await;
    let client = resolver_client(&emu, &ip_only.ca_pem);
    let (failure, message) = handshake_failure(&client, &emu).await;
    assert_eq!(failure, TlsFailure::NameMismatch, "{message}");
}

#[tokio::test]
async fn bad_ca_certs_are_refused_before_anything_is_sent() {
    let pki = pki(CERTIFICATE_NAMES, Validity::Current);
    let emu = https_emulator(&pki).await;
    for bad in [
        "",
        "hello",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        let mut config = https_config(&emu, &pki.ca_pem);
        config.ca_certs = Some(bad.to_owned());
        match Client::new(config) {
            Err(Error::InvalidArgument { field, .. }) => assert_eq!(field, "caCerts"),
            Err(other) => panic!("{bad:?}: {other:?}"),
            Ok(_) => panic!("{bad:?} accepted"),
        }
    }
    assert_eq!(emu.connections(), 0);
}

#[test]
fn the_static_map_needs_an_address_per_host() {
    let config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "cn-hangzhou")
        .unwrap()
        .with_dns_override(REGION_HOST, Vec::<SocketAddr>::new());
    match Client::new(config) {
        Err(Error::InvalidArgument { field, .. }) => assert_eq!(field, "resolve"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}
