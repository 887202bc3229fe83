//! Name resolution the app controls: the static `resolve` map and a resolver (HTTPDNS-style)
//! send requests for the public OSS host name to the emulator on 127.0.0.1, virtual-hosted as
//! in production. (Over plain HTTP here; `tests/https.rs` does the same over TLS, where the
//! certificate is checked against the host name.)

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use oss_append::protocol::resolver::{ResolveFuture, Resolver};
use oss_append::{
    AppendObjectRequest, Client, ClientConfig, Credentials, Error, SignatureVersion,
    TransportErrorKind,
};

const HOST: &str = "test-bucket.oss-cn-hangzhou.aliyuncs.com";

/// A V4 client for `http://oss-cn-hangzhou.aliyuncs.com:<emulator port>` (plain HTTP to a public
/// name needs `secure: false`), tweaked by the test.
fn public_name_client(
    emu: &oss_emulator::RunningEmulator,
    tweak: impl FnOnce(ClientConfig) -> ClientConfig,
) -> Client {
    let port = emu.local_addr().port();
    let config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "cn-hangzhou")
        .unwrap()
        .with_endpoint(format!("http://oss-cn-hangzhou.aliyuncs.com:{port}"))
        .with_secure(false)
        .with_signature_version(SignatureVersion::V4);
    Client::new(tweak(config)).expect("client builds")
}

/// Answers every host with `answer`, counting the calls and the hosts asked for.
struct ScriptedResolver {
    answer: Result<Vec<IpAddr>, String>,
    calls: AtomicUsize,
    hosts: std::sync::Mutex<Vec<String>>,
}

impl ScriptedResolver {
    fn new(answer: Result<Vec<IpAddr>, String>) -> Arc<Self> {
        Arc::new(Self {
            answer,
            calls: AtomicUsize::new(0),
            hosts: std::sync::Mutex::new(Vec::new()),
        })
    }
}

impl Resolver for ScriptedResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.hosts.lock().unwrap().push(host.to_owned());
        let answer = self.answer.clone();
        Box::pin(async move {
            // Like a real HTTPDNS lookup, the answer comes later.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            answer
        })
    }
}

#[tokio::test]
async fn the_static_map_sends_the_public_name_to_the_emulator_virtual_hosted() {
    let emu = emulator().await;
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let client = public_name_client(&emu, |c| c.with_dns_override(HOST, vec![loopback]));
    let out = client
        .append_object(AppendObjectRequest::new(BUCKET, "dns.txt", "via the map"))
        .await
        .unwrap();
    assert_eq!(out.next_append_position, 11);
    assert_eq!(emu.object(BUCKET, "dns.txt").unwrap().data, b"via the map");
    let record = emu.requests().pop().unwrap();
    assert_eq!(
        record.path, "/dns.txt",
        "virtual-hosted: the bucket is in the Host"
    );
}

#[tokio::test]
async fn a_resolver_is_asked_once_per_connection_and_its_address_is_used() {
    let emu = emulator().await;
    let resolver = ScriptedResolver::new(Ok(vec!["127.0.0.1".parse().unwrap()]));
    let client = public_name_client(&emu, |c| c.with_resolver(resolver.clone()));
    let mut position = 0;
    for i in 0..20u8 {
        let out = client
            .append_object(
                AppendObjectRequest::new(BUCKET, "resolver.bin", vec![i; 10])
                    .with_position(position),
            )
            .await
            .unwrap();
        position = out.next_append_position;
    }
    assert_eq!(position, 200);
    assert_eq!(
        resolver.calls.load(Ordering::SeqCst),
        1,
        "one connection, reused"
    );
    assert_eq!(*resolver.hosts.lock().unwrap(), [HOST]);
}

#[tokio::test]
async fn the_static_map_comes_before_the_resolver() {
    let emu = emulator().await;
    let resolver = ScriptedResolver::new(Err("must not be asked".into()));
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let client = public_name_client(&emu, |c| {
        c.with_dns_override(HOST, vec![loopback])
            .with_resolver(resolver.clone())
    });
    client
        .append_object(AppendObjectRequest::new(BUCKET, "both.txt", "x"))
        .await
        .unwrap();
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_failing_resolver_is_a_connect_error_naming_the_host_and_nothing_is_sent() {
    let emu = emulator().await;
    let resolver = ScriptedResolver::new(Err("HTTPDNS quota exceeded".into()));
    let client = public_name_client(&emu, |c| c.with_resolver(resolver.clone()));
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "never.txt", "x"))
        .await
        .unwrap_err();
    match &err {
        Error::Transport {
            kind: TransportErrorKind::Connect,
            message,
            request_sent: false,
        } => {
            assert!(message.contains("HTTPDNS quota exceeded"), "{message}");
            assert!(message.contains(HOST), "{message}");
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
    assert!(emu.requests().is_empty(), "nothing reached the server");
}

#[tokio::test]
async fn an_empty_answer_falls_back_to_the_system_dns() {
    let emu = emulator().await;
    let resolver = ScriptedResolver::new(Ok(vec![]));
    // `localhost` resolves through the system (to 127.0.0.1 among others); path-style there.
    let port = emu.local_addr().port();
    let config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "cn-hangzhou")
        .unwrap()
        .with_endpoint(format!("http://localhost:{port}"))
        .with_path_style(true)
        .with_resolver(resolver.clone());
    let client = Client::new(config).unwrap();
    client
        .append_object(AppendObjectRequest::new(BUCKET, "system.txt", "x"))
        .await
        .unwrap();
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 1);
    assert_eq!(emu.object(BUCKET, "system.txt").unwrap().data, b"x");
}
