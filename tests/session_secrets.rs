//! The access key secret and the STS token never show: not in `Debug` of anything a caller
//! holds, not in error messages (`Display` and `Debug`, even when OSS echoes the string it
//! signed), not in the log records the crate and its dependencies emit — through sessions,
//! retries, recoveries, CRC mismatches and signature errors, with V1 and V4.

mod common;

use std::time::Duration;

use common::*;
use oss_append::{
    AppendObjectRequest, AppenderOptions, Client, ClientConfig, Credentials, Error, RetryPolicy,
    SessionError, SignatureVersion,
};
use oss_emulator::{Fault, FaultOp};

const TOKEN: &str = "sts-token-value-0123456789-secret";
const WRONG_SECRET: &str = "a-wrong-secret-value-9876543210";
const WRONG_TOKEN: &str = "another-sts-token-value-5555555";

fn assert_clean(what: &str, text: &str) {
    for secret in [SK, TOKEN, WRONG_SECRET, WRONG_TOKEN] {
        // As text, and as the hex bytes of OSS's StringToSignBytes.
        let hex: Vec<String> = secret.bytes().map(|b| format!("{b:02X}")).collect();
        for form in [secret.to_owned(), hex.join(" ")] {
            assert!(
                !text.contains(&form),
                "{what} shows a secret ({secret}):\n{text}"
            );
        }
    }
}

/// Both renderings of an error.
fn shown(e: &dyn std::fmt::Debug, d: &dyn std::fmt::Display) -> String {
    format!("{d}\n{e:?}\n{e:#?}")
}

fn sts_client(
    emu: &oss_emulator::RunningEmulator,
    secret: &str,
    token: &str,
    v: SignatureVersion,
) -> Client {
    let config = ClientConfig::new(
        Credentials::new(AK, secret, Some(token.to_owned())).unwrap(),
        "cn-hangzhou",
    )
    .unwrap()
    .with_endpoint(emu.endpoint())
    .with_signature_version(v)
    .with_timeouts(Duration::from_secs(2), Duration::from_millis(300));
    let shown = format!("{config:?} {config:#?}");
    assert_clean("ClientConfig Debug", &shown);
    let client = Client::new(config).unwrap();
    assert_clean("Client Debug", &format!("{client:?}"));
    client
}

#[tokio::test]
async fn secrets_never_show_in_debug_errors_or_logs() {
    capture_logs();
    let emu = emulator_with(|c| c.security_token = Some(TOKEN.to_owned())).await;
    let retry = RetryPolicy {
        max_retries: 4,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(10),
        deadline: Duration::from_secs(10),
        jitter_seed: Some(3),
    };
    let mut errors: Vec<String> = Vec::new();
    for v in [SignatureVersion::V1, SignatureVersion::V4] {
        let good = sts_client(&emu, SK, TOKEN, v);
        let key = format!("secrets/{v:?}.log");

        // A session through lost answers, 5xx, failing HEADs and a corruption.
        let options = AppenderOptions::new(BUCKET, &key).with_retry(retry.clone());
        assert_clean("AppenderOptions Debug", &format!("{options:?}"));
        let mut s = good.appender(options).await.unwrap();
        emu.inject(Fault::drop_after_commit());
        s.append("one").await.unwrap();
        emu.inject(Fault::status(503).times(2));
        s.append("two").await.unwrap();
        emu.inject(Fault::delay_response(Duration::from_millis(600)));
        emu.inject(Fault::status(500).on(FaultOp::Head));
        s.append("three").await.unwrap();
        assert_clean("Appender Debug", &format!("{s:?} {s:#?}"));
        emu.inject(Fault::corrupt());
        let e = s.append("four").await.unwrap_err();
        errors.push(shown(&e, &e));
        let e = s.append("five").await.unwrap_err();
        assert!(matches!(e, SessionError::Poisoned { .. }));
        errors.push(shown(&e, &e));

        // OSS answers that echo what was signed (SignatureDoesNotMatch carries the
        // StringToSign / CanonicalRequest, which contain the token header).
        let wrong_secret = sts_client(&emu, WRONG_SECRET, TOKEN, v);
        let e = wrong_secret
            .append_object(AppendObjectRequest::new(BUCKET, "secrets/x", "x"))
            .await
            .unwrap_err();
        assert_eq!(e.as_service().unwrap().code, "SignatureDoesNotMatch");
        errors.push(shown(&e, &e));
        let e = wrong_secret.head_object(BUCKET, &key).await.unwrap_err();
        errors.push(shown(&e, &e));
        let e = wrong_secret
            .appender(AppenderOptions::new(BUCKET, &key))
            .await
            .unwrap_err();
        errors.push(shown(&e, &e));
        let e = wrong_secret
            .seal_append_object(BUCKET, &key, 0)
            .await
            .unwrap_err();
        errors.push(shown(&e, &e));
        let wrong_token = sts_client(&emu, SK, WRONG_TOKEN, v);
        let e = wrong_token
            .append_object(AppendObjectRequest::new(BUCKET, "secrets/x", "x"))
            .await
            .unwrap_err();
        errors.push(shown(&e, &e));
        let e = wrong_token
            .get_object(BUCKET, &key, None)
            .await
            .unwrap_err();
        errors.push(shown(&e, &e));

        // A transport failure (nothing listens there).
        let dead = Client::new(
            ClientConfig::new(
                Credentials::new(AK, SK, Some(TOKEN.into())).unwrap(),
                "cn-hangzhou",
            )
            .unwrap()
            .with_endpoint("http://127.0.0.1:1"),
        )
        .unwrap();
        let e: Error = dead
            .append_object(AppendObjectRequest::new(BUCKET, "k", "x"))
            .await
            .unwrap_err();
        errors.push(shown(&e, &e));
    }
    // Credentials refused at construction do not echo the value either.
    let e = Credentials::new(AK, format!("{SK}\n"), None).unwrap_err();
    errors.push(shown(&e, &e));
    let e = Credentials::new(AK, SK, Some(format!("{TOKEN} "))).unwrap_err();
    errors.push(shown(&e, &e));

    for (i, text) in errors.iter().enumerate() {
        assert_clean(&format!("error #{i}"), text);
    }
    let logs = captured_logs();
    assert!(
        logs.contains("checking with HEAD"),
        "the session logged its recoveries:\n{logs}"
    );
    assert_clean("log records", &logs);
    // The emulator's own view: its configuration's Debug and the request log.
    assert_clean("emulator request log", &format!("{:?}", emu.requests()));
}
