//! Shared set-up for the integration tests: a real emulator on 127.0.0.1 and a client for it.

#![allow(dead_code)]

use oss_append::{Client, ClientConfig, Credentials, SignatureVersion};
use oss_emulator::{EmulatorConfig, RunningEmulator};

pub const AK: &str = "test-access-key-id";
pub const SK: &str = "test-access-key-secret-value";
pub const BUCKET: &str = "test-bucket";

/// An in-memory emulator with one bucket.
pub async fn emulator() -> RunningEmulator {
    emulator_with(|_| {}).await
}

/// An emulator with a tweaked configuration.
pub async fn emulator_with(tweak: impl FnOnce(&mut EmulatorConfig)) -> RunningEmulator {
    let mut config = EmulatorConfig::new(AK, SK);
    config.buckets = vec![BUCKET.to_owned()];
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
    let config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "oss-cn-hangzhou")
        .unwrap()
        .with_endpoint(emu.endpoint())
        .with_signature_version(SignatureVersion::V4);
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
