//! Credentials that outlive an STS token: a provider that hands out the emulator's expiring
//! tokens, refreshed before they expire and after OSS refuses them, single-flight, with
//! failures named and sessions that keep going; secrets never shown.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use common::*;
use oss_append::{
    AppendObjectRequest, AppenderOptions, Client, ClientConfig, Credentials, CredentialsProvider,
    CredentialsRefresh, Error, ProvidedCredentials, ProviderError, RetryPolicy, SignatureVersion,
};
use oss_emulator::{RunningEmulator, StsCredentials};

/// What the provider of a test does on each call.
#[derive(Clone, Copy)]
struct Plan {
    /// Lifetime of each token on the emulator.
    lifetime: Duration,
    /// Report the true expiration (else none: only OSS's 403 tells).
    report_expiration: bool,
    /// Calls that fail before the provider works (more can be added later: `fail_next`).
    fail_first: u32,
    /// How long each call takes.
    latency: Duration,
}

/// A provider issuing the emulator's STS credentials; records every issued set.
struct EmulatorProvider {
    emu: Arc<RunningEmulator>,
    plan: Plan,
    calls: AtomicU32,
    failures_left: AtomicU32,
    issued: Mutex<Vec<StsCredentials>>,
}

impl EmulatorProvider {
    fn new(emu: &Arc<RunningEmulator>, plan: Plan) -> Arc<Self> {
        Arc::new(Self {
            emu: emu.clone(),
            plan,
            calls: AtomicU32::new(0),
            failures_left: AtomicU32::new(plan.fail_first),
            issued: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    /// The next `n` calls fail.
    fn fail_next(&self, n: u32) {
        self.failures_left.store(n, Ordering::SeqCst);
    }
}

/// The provider as the client holds it.
struct Shared(Arc<EmulatorProvider>);

impl CredentialsProvider for Shared {
    fn fetch(&self) -> oss_append::client::credentials::CredentialsFuture {
        let p = self.0.clone();
        Box::pin(async move {
            let n = p.calls.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(p.plan.latency).await;
            let failing = p
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok();
            if failing {
                return Err::<ProvidedCredentials, ProviderError>(
                    format!("token server unavailable (call {n})").into(),
                );
            }
            let c = p.emu.issue_sts(p.plan.lifetime);
            p.issued.lock().unwrap().push(c.clone());
            let credentials = Credentials::new(
                c.access_key_id.clone(),
                c.access_key_secret.clone(),
                Some(c.security_token.clone()),
            )?;
            let expiration = p.plan.report_expiration.then_some(c.expiration);
            Ok(ProvidedCredentials::new(credentials, expiration))
        })
    }
}

fn provided_client(
    emu: &RunningEmulator,
    provider: &Arc<EmulatorProvider>,
    version: SignatureVersion,
) -> Client {
    let config = ClientConfig::without_credentials("cn-hangzhou")
        .unwrap()
        .with_endpoint(emu.endpoint())
        .with_signature_version(version);
    Client::with_credentials_refresh(
        config,
        Arc::new(Shared(provider.clone())),
        CredentialsRefresh::default(),
    )
    .unwrap()
}

fn plan(lifetime_ms: u64, report_expiration: bool) -> Plan {
    Plan {
        lifetime: Duration::from_millis(lifetime_ms),
        report_expiration,
        fail_first: 0,
        latency: Duration::ZERO,
    }
}

fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        deadline: Duration::from_secs(30),
        jitter_seed: Some(7),
    }
}

fn count(emu: &RunningEmulator, code: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.error_code.as_deref() == Some(code))
        .count()
}

/// Appends until at least `min_appends` are done and the provider has been asked
/// `min_calls` times, bounded in count and time. Returns the bytes appended.
async fn rotate(
    emu: &RunningEmulator,
    provider: &Arc<EmulatorProvider>,
    key: &str,
    min_appends: usize,
    min_calls: u32,
) -> (Vec<u8>, usize) {
    let client = provided_client(emu, provider, SignatureVersion::V4);
    let mut session = client
        .appender(AppenderOptions::new(BUCKET, key).with_retry(fast_retries(3)))
        .await
        .unwrap();
    let mut expected = Vec::new();
    let started = Instant::now();
    let mut appends = 0;
    while appends < min_appends || provider.calls() < min_calls {
        assert!(appends < 200_000, "bounded in count");
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "bounded in time: {appends} appends, {} provider calls",
            provider.calls()
        );
        let chunk = format!("line {appends:06} {}\n", "x".repeat(appends % 17));
        let done = session
            .append(chunk.clone())
            .await
            .unwrap_or_else(|e| panic!("append {appends} failed: {e}"));
        expected.extend_from_slice(chunk.as_bytes());
        assert_eq!(done.next_append_position, expected.len() as u64);
        appends += 1;
        if appends % 50 == 0 {
            // Let time pass so that tokens run out (the test is about rotations, not speed).
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let stored = emu.object(BUCKET, key).expect("object");
    assert_eq!(stored.data, expected, "every byte once, in order");
    assert_eq!(session.crc64(), oss_append::crc64::checksum(&expected));
    (expected, appends)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_of_1000_appends_rides_five_rotations_of_2s_tokens() {
    let emu = Arc::new(emulator().await);
    let provider = EmulatorProvider::new(&emu, plan(2000, true));
    let (_, appends) = rotate(&emu, &provider, "rotations.log", 1000, 6).await;
    assert!(appends >= 1000);
    let issued = provider.issued.lock().unwrap().len();
    assert!(issued >= 6, "{issued} tokens: at least 5 rotations");
    // (Refreshed after half their life; whether OSS ever refused one depends on timing, so it
    // is not asserted here: the next test covers the 403 path.)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_whose_expiry_only_oss_knows_are_refreshed_on_its_403_and_nothing_is_lost() {
    let emu = Arc::new(emulator().await);
    // The provider does not say when the tokens expire: each rotation is a 403 from OSS, a
    // refresh, and the same append again.
    let provider = EmulatorProvider::new(&emu, plan(400, false));
    rotate(&emu, &provider, "reactive.log", 1000, 6).await;
    let refused = count(&emu, "SecurityTokenExpired");
    assert!(refused >= 5, "{refused} appends refused as expired");
    // Each refusal made exactly one refresh (plus the first fetch).
    assert_eq!(provider.calls() as usize, refused + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_appends_during_a_refresh_make_one_provider_call() {
    let emu = Arc::new(emulator().await);
    let provider = EmulatorProvider::new(
        &emu,
        Plan {
            latency: Duration::from_millis(200),
            ..plan(3_600_000, true)
        },
    );
    let client = provided_client(&emu, &provider, SignatureVersion::V4);
    let run = |round: usize| {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let key = format!("c/{i}.log");
                    let data = format!("round {round} of {i}\n");
                    let position = if round == 0 {
                        0
                    } else {
                        12 + i.to_string().len() as u64
                    };
                    client
                        .append_object(
                            AppendObjectRequest::new(BUCKET, &key, data).with_position(position),
                        )
                        .await
                })
            })
            .collect::<Vec<_>>();
        async move {
            for t in tasks {
                t.await.unwrap().expect("append");
            }
        }
    };
    // First use: all 50 wait for the one fetch.
    run(0).await;
    assert_eq!(provider.calls(), 1);
    // OSS declares the token expired while the client thinks it good: 50 refusals, one
    // refresh, each append sent again once.
    let first = provider.issued.lock().unwrap()[0].clone();
    assert!(emu.expire_sts(&first.access_key_id));
    emu.clear_requests();
    run(1).await;
    assert_eq!(provider.calls(), 2);
    let refused = count(&emu, "SecurityTokenExpired");
    assert!((1..=50).contains(&refused), "{refused}");
    let ok = emu.requests().iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 50, "each append applied once");
    for i in 0..50 {
        let data = emu.object(BUCKET, &format!("c/{i}.log")).unwrap().data;
        assert_eq!(data, format!("round 0 of {i}\nround 1 of {i}\n").as_bytes());
    }
}

#[tokio::test]
async fn a_token_that_expires_while_the_client_trusts_it_is_refreshed_and_the_append_lands_once() {
    for version in [SignatureVersion::V1, SignatureVersion::V4] {
        let emu = Arc::new(emulator().await);
        // The provider claims an hour; the emulator ends the token before the next append.
        let provider = EmulatorProvider::new(&emu, plan(3_600_000, true));
        let client = provided_client(&emu, &provider, version);
        let mut session = client
            .appender(AppenderOptions::new(BUCKET, "flight.log").with_retry(RetryPolicy::none()))
            .await
            .unwrap();
        session.append("first\n").await.unwrap();
        let (position, crc) = (session.position(), session.crc64());
        let token = provider.issued.lock().unwrap()[0].access_key_id.clone();
        assert!(emu.expire_sts(&token));
        emu.clear_requests();
        let done = session.append("second\n").await.unwrap();
        assert_eq!(done.next_append_position, position + 7);
        assert_eq!(done.hash_crc64ecma, session.crc64());
        assert_ne!(crc, session.crc64());
        let log = emu.requests();
        let codes: Vec<_> = log
            .iter()
            .map(|r| (r.status, r.error_code.clone()))
            .collect();
        assert_eq!(
            codes,
            vec![(403, Some("SecurityTokenExpired".to_owned())), (200, None)],
            "{version:?}: refused once, then applied once"
        );
        assert_eq!(provider.calls(), 2);
        assert_eq!(
            emu.object(BUCKET, "flight.log").unwrap().data,
            b"first\nsecond\n"
        );
    }
}

#[tokio::test]
async fn without_a_provider_an_expired_token_is_returned_as_oss_said() {
    let emu = Arc::new(emulator().await);
    let issued = emu.issue_sts(Duration::from_secs(600));
    let credentials = Credentials::new(
        issued.access_key_id.clone(),
        issued.access_key_secret.clone(),
        Some(issued.security_token.clone()),
    )
    .unwrap();
    let config = ClientConfig::new(credentials, "cn-hangzhou")
        .unwrap()
        .with_endpoint(emu.endpoint());
    let client = Client::new(config).unwrap();
    client
        .append_object(AppendObjectRequest::new(BUCKET, "s.log", "a"))
        .await
        .unwrap();
    emu.expire_sts(&issued.access_key_id);
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "s.log", "b").with_position(1))
        .await
        .unwrap_err();
    let s = err.as_service().expect("OSS's answer");
    assert_eq!(
        (s.status, s.code.as_str(), s.ec.as_str()),
        (403, "SecurityTokenExpired", "0002-00000007")
    );
    assert_eq!(s.message, "The security token you provided has expired.");
    assert_eq!(emu.requests().len(), 2, "sent once, not retried");

    // The app pushes new credentials itself.
    let fresh = emu.issue_sts(Duration::from_secs(600));
    client
        .update_credentials(
            Credentials::new(
                fresh.access_key_id.clone(),
                fresh.access_key_secret.clone(),
                Some(fresh.security_token.clone()),
            )
            .unwrap(),
            Some(fresh.expiration),
        )
        .unwrap();
    client
        .append_object(AppendObjectRequest::new(BUCKET, "s.log", "b").with_position(1))
        .await
        .unwrap();
    // Credentials the app said expire now are never used: nothing is sent.
    client
        .update_credentials(
            Credentials::new("STS.x", "y", Some("z".into())).unwrap(),
            Some(SystemTime::now() + Duration::from_millis(50)),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    emu.clear_requests();
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "s.log", "c").with_position(2))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Credentials { .. }), "{err:?}");
    assert!(emu.requests().is_empty());
    // A configuration without credentials needs a provider.
    let err = Client::new(ClientConfig::without_credentials("cn-hangzhou").unwrap()).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument {
            field: "accessKeyId",
            ..
        }
    ));
}

#[tokio::test]
async fn a_failing_provider_is_a_credentials_error_and_the_session_goes_on_once_it_recovers() {
    let emu = Arc::new(emulator().await);
    let provider = EmulatorProvider::new(
        &emu,
        Plan {
            fail_first: 1,
            ..plan(3_600_000, true)
        },
    );
    let client = provided_client(&emu, &provider, SignatureVersion::V4);
    // A single append: the provider's message, nothing sent.
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "p.log", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Credentials { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("token server unavailable (call 1)"),
        "{err}"
    );
    assert!(emu.requests().is_empty(), "nothing sent");

    let mut session = client
        .appender(AppenderOptions::new(BUCKET, "p.log").with_retry(RetryPolicy::none()))
        .await
        .unwrap();
    session.append("one\n").await.unwrap();
    // The token ends and the provider is down: the append fails, naming the provider.
    let first = provider.issued.lock().unwrap()[0].access_key_id.clone();
    emu.expire_sts(&first);
    provider.fail_next(2);
    let err = session.append("two\n").await.unwrap_err();
    let last = err.as_error().expect("an error behind it");
    assert!(matches!(last, Error::Credentials { .. }), "{err:?}");
    assert!(
        last.to_string().contains("token server unavailable"),
        "{last}"
    );
    assert_eq!(session.poisoned(), None, "the session goes on");
    assert_eq!(session.position(), 4);
    // Still down for one call: within one append, the session's retries ride it out.
    let mut session = client
        .appender(AppenderOptions::new(BUCKET, "p.log").with_retry(fast_retries(5)))
        .await
        .unwrap();
    session.append("two\n").await.unwrap();
    session.append("three\n").await.unwrap();
    assert_eq!(
        emu.object(BUCKET, "p.log").unwrap().data,
        b"one\ntwo\nthree\n"
    );
    assert_eq!(
        count(&emu, "SecurityTokenExpired"),
        1,
        "one refused try, then none"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_from_the_provider_never_show_in_debug_errors_or_logs() {
    capture_logs();
    let emu = Arc::new(emulator().await);
    let provider = EmulatorProvider::new(&emu, plan(300, false));
    let client = provided_client(&emu, &provider, SignatureVersion::V1);
    let mut session = client
        .appender(AppenderOptions::new(BUCKET, "secret.log").with_retry(fast_retries(3)))
        .await
        .unwrap();
    for i in 0..20 {
        session.append(format!("{i}\n")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    // An error answer that echoes what was signed (SignatureDoesNotMatch holds the token).
    // (A token of its own: the provider's last one may expire before this request.)
    let issued = emu.issue_sts(Duration::from_secs(600));
    provider.issued.lock().unwrap().push(issued.clone());
    let bad = Credentials::new(
        issued.access_key_id.clone(),
        "wrong-secret-for-this-key",
        Some(issued.security_token.clone()),
    )
    .unwrap();
    client.update_credentials(bad, None).unwrap();
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "other.log", "x"))
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service().map(|s| s.code.as_str()),
        Some("SignatureDoesNotMatch")
    );
    let mut shown = format!("{err}\n{err:?}\n{client:?}\n{session:?}\n");
    shown.push_str(&captured_logs());
    let issued = provider.issued.lock().unwrap().clone();
    assert!(issued.len() >= 3, "tokens rotated");
    for c in &issued {
        for secret in [&c.access_key_secret, &c.security_token] {
            let hex: Vec<String> = secret.bytes().map(|b| format!("{b:02X}")).collect();
            assert!(!shown.contains(secret.as_str()), "a secret shows:\n{shown}");
            assert!(!shown.contains(&hex.join(" ")), "a secret shows as hex");
        }
    }
    assert!(
        shown.contains("credentials refreshed"),
        "the refreshes are logged"
    );
}
