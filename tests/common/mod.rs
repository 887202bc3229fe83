//! Shared set-up for the integration tests: a real emulator on 127.0.0.1 and a client for it.
//!
//! With `OSS_TEST_HTTPS=1` the same tests run the production path: the emulator serves HTTPS
//! with a certificate for `*.oss-cn-hangzhou.aliyuncs.com` from a throwaway CA, and the client
//! uses the default endpoint `https://oss-cn-hangzhou.aliyuncs.com` (virtual-hosted), trusts
//! the CA through `caCerts`, and reaches the emulator through its static `resolve` map, so SNI
//! and the certificate's name check are real.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use oss_append::{Client, ClientConfig, Credentials, SignatureVersion};
use oss_emulator::{EmulatorConfig, RunningEmulator, TestPki, Validity};

pub const AK: &str = "test-access-key-id";
pub const SK: &str = "test-access-key-secret-value";
pub const BUCKET: &str = "test-bucket";

/// The regional endpoint host of the HTTPS runs.
pub const REGION_HOST: &str = "oss-cn-hangzhou.aliyuncs.com";

/// Whether this run goes over HTTPS (`OSS_TEST_HTTPS=1`).
pub fn https() -> bool {
    std::env::var("OSS_TEST_HTTPS").is_ok_and(|v| v == "1")
}

/// The names the HTTPS emulator's certificate is for.
pub const CERTIFICATE_NAMES: &[&str] =
    &["*.oss-cn-hangzhou.aliyuncs.com", REGION_HOST, "127.0.0.1"];

/// One throwaway CA and server certificate per test process.
pub fn test_pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| oss_emulator::tls::generate(CERTIFICATE_NAMES, Validity::Current).unwrap())
}

/// A client configuration for the production path to `emu`: the default endpoint, the test
/// CA in `caCerts`, and the region host and the bucket's host resolved to the emulator.
pub fn https_config(emu: &RunningEmulator, ca_pem: &str) -> ClientConfig {
    let to_emulator: Vec<SocketAddr> = vec![emu.local_addr()];
    let mut config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "cn-hangzhou")
        .unwrap()
        .with_signature_version(SignatureVersion::V4)
        .with_ca_certs(ca_pem)
        .with_dns_override(REGION_HOST, to_emulator.clone());
    for bucket in [BUCKET, MISSING_BUCKET] {
        config = config.with_dns_override(&format!("{bucket}.{REGION_HOST}"), to_emulator.clone());
    }
    config
}

/// A bucket the emulator does not have (reachable over HTTPS too, to get its NoSuchBucket).
pub const MISSING_BUCKET: &str = "no-such-bucket";

/// An in-memory emulator with one bucket.
pub async fn emulator() -> RunningEmulator {
    emulator_with(|_| {}).await
}

/// An emulator with a tweaked configuration.
pub async fn emulator_with(tweak: impl FnOnce(&mut EmulatorConfig)) -> RunningEmulator {
    let mut config = EmulatorConfig::new(AK, SK);
    config.buckets = vec![BUCKET.to_owned()];
    if https() {
        config.tls = Some(test_pki().identity());
    }
    tweak(&mut config);
    oss_emulator::start(config).await.expect("emulator starts")
}

/// A V4 client for the emulator.
pub fn client(emu: &RunningEmulator) -> Client {
    client_with(emu, |c| c)
}

/// A client for the emulator with a tweaked configuration.
pub fn client_with(
    emu: &RunningEmulator,
    tweak: impl FnOnce(ClientConfig) -> ClientConfig,
) -> Client {
    let config = if https() {
        https_config(emu, &test_pki().ca_pem)
    } else {
        ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "oss-cn-hangzhou")
            .unwrap()
            .with_endpoint(emu.endpoint())
            .with_signature_version(SignatureVersion::V4)
    };
    Client::new(tweak(config)).expect("client builds")
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Every log record of the test binary, formatted one a line ([`capture_logs`] installs it).
pub struct LogCapture(Mutex<String>);

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}\n", record.level(), record.target(), record.args());
        self.0.lock().unwrap().push_str(&line);
    }
    fn flush(&self) {}
}

static LOGS: LogCapture = LogCapture(Mutex::new(String::new()));

/// Sends every log record of this test binary, at every level, to [`captured_logs`]. A
/// process has one logger, set once: later calls change nothing.
pub fn capture_logs() {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let ours = *INSTALLED.get_or_init(|| log::set_logger(&LOGS).is_ok());
    assert!(
        ours,
        "another logger was set first: the log cannot be captured"
    );
    log::set_max_level(log::LevelFilter::Trace);
}

/// The records captured so far.
pub fn captured_logs() -> String {
    LOGS.0.lock().unwrap().clone()
}
