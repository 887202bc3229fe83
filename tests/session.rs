//! The append session against the emulator: opening (create, resume, refuse), the CRC chain,
//! each recovery rule, poisoning, retry budgets, sealing and restarts. The fault matrix with
//! random data is in `faults_matrix.rs`.

mod common;

use std::time::Duration;

use common::*;
use oss_append::{
    crc64, AppendObjectRequest, AppendOptions, Appender, AppenderOptions, Client, Error,
    RetryPolicy, SessionError, StorageClass,
};
use oss_emulator::{Fault, FaultOp, RunningEmulator};

/// Short waits so failures cost milliseconds; a fixed jitter seed.
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 8,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        deadline: Duration::from_secs(20),
        jitter_seed: Some(7),
    }
}

/// A client whose read/write timeout is `timeout`.
fn client_timeout(emu: &RunningEmulator, timeout: Duration) -> Client {
    client_with(emu, |c| c.with_timeouts(Duration::from_secs(2), timeout))
}

fn session_options(key: &str) -> AppenderOptions {
    AppenderOptions::new(BUCKET, key).with_retry(fast_retry())
}

/// `(method, status, fault)` of every logged request, for compact assertions.
fn log(emu: &RunningEmulator) -> Vec<(String, u16, Option<String>)> {
    emu.requests()
        .into_iter()
        .map(|r| (r.method, r.status, r.fault))
        .collect()
}

fn entry(method: &str, status: u16, fault: Option<&str>) -> (String, u16, Option<String>) {
    (method.to_owned(), status, fault.map(str::to_owned))
}

#[tokio::test]
async fn creates_on_first_write_then_a_new_session_resumes() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut options = AppendOptions {
        storage_class: Some(StorageClass::Ia),
        cache_control: Some("no-cache".into()),
        ..Default::default()
    };
    options.metadata.insert("author".into(), "alice".into());
    let mut s = client
        .appender(session_options("s/new.log").with_options(options))
        .await
        .unwrap();
    assert!(!s.exists());
    assert_eq!((s.position(), s.crc64()), (0, 0));
    let first = s.append("hello").await.unwrap();
    assert_eq!((first.position, first.next_append_position), (0, 5));
    assert!(!first.recovered && first.attempts == 1 && first.output.is_some());
    let second = s.append(" world").await.unwrap();
    assert_eq!(second.next_append_position, 11);
    assert_eq!(second.hash_crc64ecma, crc64::checksum(b"hello world"));
    assert_eq!(s.crc64(), crc64::checksum(b"hello world"));
    let stored = emu.object(BUCKET, "s/new.log").unwrap();
    assert_eq!(stored.data, b"hello world");
    assert_eq!(stored.metadata["author"], "alice");
    assert_eq!(stored.headers["x-oss-storage-class"], "IA");
    assert_eq!(
        log(&emu),
        [
            entry("HEAD", 404, None),
            entry("POST", 200, None),
            entry("POST", 200, None)
        ]
    );

    // A second session picks up length and CRC from HEAD and continues the chain.
    let mut again = client.appender(session_options("s/new.log")).await.unwrap();
    assert!(again.exists());
    assert_eq!(again.position(), 11);
    assert_eq!(again.crc64(), crc64::checksum(b"hello world"));
    again.append("!").await.unwrap();
    assert_eq!(
        emu.object(BUCKET, "s/new.log").unwrap().data,
        b"hello world!"
    );
    let stats = again.stats();
    assert_eq!(
        (stats.appends, stats.bytes, stats.requests, stats.heads),
        (1, 1, 1, 1)
    );
}

#[tokio::test]
async fn empty_bodies_create_and_then_change_nothing() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/empty")).await.unwrap();
    s.append("").await.unwrap();
    assert!(s.exists());
    assert!(emu.object(BUCKET, "s/empty").unwrap().appendable);
    s.append("x").await.unwrap();
    s.append(Vec::new()).await.unwrap();
    assert_eq!(s.position(), 1);
    assert_eq!(emu.object(BUCKET, "s/empty").unwrap().data, b"x");
}

#[tokio::test]
async fn a_normal_object_is_refused_like_an_append_would_be() {
    let emu = emulator().await;
    let client = client(&emu);
    client.put_object(BUCKET, "s/normal", "abc").await.unwrap();
    emu.clear_requests();
    let err = client
        .appender(session_options("s/normal"))
        .await
        .unwrap_err();
    let e = err.as_service().expect("service-style error");
    assert_eq!((e.status, e.code.as_str()), (409, "ObjectNotAppendable"));
    assert_eq!(e.ec, "0026-00000017");
    assert_eq!(e.details["ObjectType"], "Normal");
    assert!(!e.request_id.is_empty());
    // Only the HEAD went out.
    assert_eq!(log(&emu), [entry("HEAD", 200, None)]);
}

#[tokio::test]
async fn lost_answer_after_commit_is_confirmed_by_head_not_resent() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/drop")).await.unwrap();
    s.append("one,").await.unwrap();
    emu.inject(Fault::drop_after_commit());
    let done = s.append("two").await.unwrap();
    assert!(done.recovered, "{done:?}");
    assert_eq!((done.attempts, done.next_append_position), (1, 7));
    assert!(done.output.is_none());
    assert_eq!(emu.object(BUCKET, "s/drop").unwrap().data, b"one,two");
    let st = s.stats();
    assert_eq!((st.ambiguous_failures, st.recovered, st.resent), (1, 1, 0));
    assert_eq!(
        log(&emu)[2..],
        [
            entry("POST", 0, Some("drop-after-commit")),
            entry("HEAD", 200, None)
        ]
    );
}

#[tokio::test]
async fn lost_request_before_commit_is_resent_once() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/before")).await.unwrap();
    emu.inject(Fault::drop_before_commit());
    let done = s.append("payload").await.unwrap();
    assert!(!done.recovered);
    assert_eq!(done.attempts, 2);
    assert_eq!(emu.object(BUCKET, "s/before").unwrap().data, b"payload");
    let st = s.stats();
    assert_eq!((st.ambiguous_failures, st.recovered, st.resent), (1, 0, 1));
    assert_eq!(
        log(&emu),
        [
            entry("HEAD", 404, None),
            entry("POST", 0, Some("drop-before-commit")),
            entry("HEAD", 404, None),
            entry("POST", 200, None),
        ]
    );
}

#[tokio::test]
async fn a_5xx_after_commit_is_recovered_and_a_5xx_before_is_resent() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/5xx")).await.unwrap();
    emu.inject(Fault::status_after_commit(500));
    assert!(s.append("a").await.unwrap().recovered);
    emu.inject(Fault::status(503).times(2));
    let done = s.append("b").await.unwrap();
    assert_eq!(done.attempts, 3);
    assert_eq!(emu.object(BUCKET, "s/5xx").unwrap().data, b"ab");
}

#[tokio::test]
async fn head_failures_during_recovery_are_retried() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/head")).await.unwrap();
    emu.inject(Fault::drop_after_commit());
    emu.inject(Fault::status(503).on(FaultOp::Head).times(3));
    let done = s.append("data").await.unwrap();
    assert!(done.recovered);
    assert_eq!(s.stats().heads, 1 + 4);
    assert_eq!(emu.object(BUCKET, "s/head").unwrap().data, b"data");
}

#[tokio::test]
async fn another_writer_is_reported_and_stops_the_session() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/race")).await.unwrap();
    s.append("mine,").await.unwrap();
    client
        .append_object(AppendObjectRequest::new(BUCKET, "s/race", "theirs,").with_position(5))
        .await
        .unwrap();
    let err = s.append("mine again").await.unwrap_err();
    let e = err.as_service().expect("the 409 itself");
    assert_eq!(e.code, "PositionNotEqualToLength");
    assert_eq!(e.next_append_position(), Some(12));
    let reason = s.poisoned().unwrap().to_owned();
    assert!(reason.contains("another writer"), "{reason}");
    emu.clear_requests();
    let err = s.append("more").await.unwrap_err();
    assert!(
        matches!(&err, SessionError::Poisoned { reason: r } if *r == reason),
        "{err}"
    );
    assert!(
        emu.requests().is_empty(),
        "a poisoned session sends nothing"
    );
    assert_eq!(emu.object(BUCKET, "s/race").unwrap().data, b"mine,theirs,");
}

#[tokio::test]
async fn crc_mismatch_stops_the_session() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/crc")).await.unwrap();
    s.append("good").await.unwrap();
    emu.inject(Fault::corrupt());
    let err = s.append("data").await.unwrap_err();
    assert!(
        matches!(err, SessionError::Request(Error::CrcMismatch { .. })),
        "{err}"
    );
    assert!(s.poisoned().unwrap().contains("CRC-64"));
    let err = s.append("x").await.unwrap_err();
    assert!(err.to_string().contains("CRC-64"), "{err}");
}

#[tokio::test]
async fn a_change_seen_during_recovery_is_a_conflict_naming_both_lengths() {
    let emu = emulator().await;
    let client = client(&emu);
    let policy = RetryPolicy {
        initial_backoff: Duration::from_millis(400),
        max_backoff: Duration::from_millis(400),
        ..fast_retry()
    };
    let mut s = client
        .appender(session_options("s/conflict").with_retry(policy))
        .await
        .unwrap();
    s.append("12345").await.unwrap();
    // The append is lost before commit and the first HEAD fails; while the session waits
    // (200–400 ms) to HEAD again, another writer appends.
    emu.inject(Fault::drop_before_commit());
    emu.inject(Fault::status(503).on(FaultOp::Head));
    let other = async {
        while !emu_heads_failed(&emu) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        client
            .append_object(AppendObjectRequest::new(BUCKET, "s/conflict", "abc").with_position(5))
            .await
            .unwrap();
    };
    let (result, ()) = tokio::join!(s.append("xyz!"), other);
    let err = result.unwrap_err();
    match &err {
        SessionError::Conflict {
            position,
            length,
            expected_length,
            server_length,
            ..
        } => assert_eq!(
            (*position, *length, *expected_length, *server_length),
            (5, 4, 9, 8)
        ),
        other => panic!("{other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("9 bytes") && text.contains("8 bytes"),
        "{text}"
    );
    assert!(s.poisoned().is_some());
}

fn emu_heads_failed(emu: &RunningEmulator) -> bool {
    emu.requests()
        .iter()
        .any(|r| r.method == "HEAD" && r.status == 503)
}

#[tokio::test]
async fn position_error_after_our_own_lost_request_is_decided_by_head() {
    // The first try is read slowly (1 s for 100 000 bytes) and the client stops waiting after
    // 600 ms; HEAD then still shows the old length, so the body goes again. The second try
    // waits for the first to commit and gets 409: HEAD shows our data, so it is confirmed.
    let emu = emulator().await;
    let client = client_timeout(&emu, Duration::from_millis(600));
    let mut s = client.appender(session_options("s/slow")).await.unwrap();
    let data = pattern(100_000, 3);
    emu.inject(Fault::slow_read(100_000));
    let done = s.append(data.clone()).await.unwrap();
    assert!(done.recovered, "{done:?}");
    assert_eq!(done.attempts, 2);
    let st = s.stats();
    assert_eq!((st.ambiguous_failures, st.resent, st.recovered), (2, 1, 1));
    assert_eq!(emu.object(BUCKET, "s/slow").unwrap().data, data);
    let codes: Vec<_> = emu
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.error_code.clone())
        .collect();
    assert_eq!(codes, [None, Some("PositionNotEqualToLength".into())]);
}

#[tokio::test]
async fn a_delayed_answer_past_the_timeout_is_recovered() {
    let emu = emulator().await;
    let client = client_timeout(&emu, Duration::from_millis(300));
    let mut s = client.appender(session_options("s/delay")).await.unwrap();
    emu.inject(Fault::delay_response(Duration::from_millis(900)));
    let done = s.append("late").await.unwrap();
    assert!(done.recovered);
    assert_eq!(emu.object(BUCKET, "s/delay").unwrap().data, b"late");
}

#[tokio::test]
async fn connection_refused_gives_up_without_stopping_the_session() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client
        .appender(session_options("s/down").with_retry(RetryPolicy {
            max_retries: 3,
            ..fast_retry()
        }))
        .await
        .unwrap();
    s.append("kept").await.unwrap();
    let endpoint = emu.endpoint();
    emu.shutdown().await;
    let err = s.append("lost").await.unwrap_err();
    match &err {
        SessionError::GaveUp { attempts, last, .. } => {
            assert_eq!(*attempts, 4);
            assert!(matches!(last, Error::Transport { .. }), "{last}");
        }
        other => panic!("{other}"),
    }
    assert!(s.poisoned().is_none());
    assert_eq!(s.position(), 4);
    // Opening against a dead endpoint gives up the same way.
    let dead = Client::new(
        oss_append::ClientConfig::new(
            oss_append::Credentials::new(AK, SK, None).unwrap(),
            "cn-hangzhou",
        )
        .unwrap()
        .with_endpoint(endpoint),
    )
    .unwrap();
    let err = dead
        .appender(session_options("s/down").with_retry(RetryPolicy::none()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::GaveUp { attempts: 1, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn ambiguity_that_outlasts_the_budget_is_unresolved() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client
        .appender(session_options("s/unresolved").with_retry(RetryPolicy {
            max_retries: 2,
            ..fast_retry()
        }))
        .await
        .unwrap();
    s.append("0123").await.unwrap();
    // 503 after the whole body: maybe applied; HEAD says no; again; budget gone.
    emu.inject(Fault::status(503).times(10));
    let err = s.append("4567").await.unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Unresolved {
                position: 4,
                length: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(s.poisoned().is_some());
    emu.clear_faults();
    // A new session learns the truth: nothing was appended.
    let mut again = client
        .appender(session_options("s/unresolved"))
        .await
        .unwrap();
    assert_eq!(again.position(), 4);
    again.append("4567").await.unwrap();
    assert_eq!(
        emu.object(BUCKET, "s/unresolved").unwrap().data,
        b"01234567"
    );
}

#[tokio::test]
async fn seal_stops_appends_everywhere() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client.appender(session_options("s/seal")).await.unwrap();
    s.append("final").await.unwrap();
    let sealed = s.seal().await.unwrap();
    assert!(
        sealed.sealed_time.ends_with(" GMT"),
        "{}",
        sealed.sealed_time
    );
    assert_eq!(sealed.headers["x-oss-object-type"], "Appendable");
    assert!(s.is_sealed());
    emu.clear_requests();
    let err = s.append("more").await.unwrap_err();
    assert!(
        matches!(&err, SessionError::Sealed { position: 5, .. }),
        "{err}"
    );
    assert!(emu.requests().is_empty());

    // HEAD shows it; a plain append is refused; sealing again keeps the first time.
    let head = client.head_object_output(BUCKET, "s/seal").await.unwrap();
    assert!(head.is_sealed() && head.is_appendable());
    assert_eq!(
        head.sealed_time.as_deref(),
        Some(sealed.sealed_time.as_str())
    );
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "s/seal", "x").with_position(5))
        .await
        .unwrap_err();
    let e = err.as_service().unwrap();
    assert_eq!(
        (e.status, e.code.as_str()),
        (400, "AppendSealedObjectNotAllowed")
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = client
        .seal_append_object(BUCKET, "s/seal", 5)
        .await
        .unwrap();
    assert_eq!(again.sealed_time, sealed.sealed_time);
    assert_eq!(emu.object(BUCKET, "s/seal").unwrap().data, b"final");

    // Opening a session on it is refused after the HEAD alone.
    emu.clear_requests();
    let err = client
        .appender(session_options("s/seal"))
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service().unwrap().code,
        "AppendSealedObjectNotAllowed"
    );
    assert_eq!(log(&emu), [entry("HEAD", 200, None)]);
}

#[tokio::test]
async fn seal_errors() {
    let emu = emulator().await;
    let client = client(&emu);
    client
        .append_object(AppendObjectRequest::new(BUCKET, "s/e", "abc"))
        .await
        .unwrap();
    let code = |r: Result<oss_append::SealAppendObjectOutput, Error>| {
        let e = r.unwrap_err();
        let s = e.as_service().unwrap();
        (s.status, s.code.clone())
    };
    assert_eq!(
        code(client.seal_append_object(BUCKET, "s/e", 2).await),
        (409, "PositionNotEqualToLength".into())
    );
    assert_eq!(
        code(client.seal_append_object(BUCKET, "s/missing", 0).await),
        (404, "NoSuchKey".into())
    );
    client.put_object(BUCKET, "s/n", "abc").await.unwrap();
    assert_eq!(
        code(client.seal_append_object(BUCKET, "s/n", 3).await),
        (409, "AppendSealedObjectNotAllowed".into())
    );
    // A transient failure of the seal itself is retried by the session.
    let mut s = client.appender(session_options("s/e")).await.unwrap();
    emu.inject(Fault::status(503).on(FaultOp::Seal));
    s.seal().await.unwrap();
    assert!(emu.object(BUCKET, "s/e").unwrap().sealed_time.is_some());
}

#[tokio::test]
async fn restart_with_the_same_data_dir_keeps_every_confirmed_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let emu = emulator_with(|c| c.data_dir = Some(path)).await;
    let client = client(&emu);
    // Enough budget to outlast the 200 ms the port stays closed.
    let patient = RetryPolicy {
        max_retries: 12,
        max_backoff: Duration::from_millis(100),
        ..fast_retry()
    };
    let mut s = client
        .appender(session_options("s/restart").with_retry(patient))
        .await
        .unwrap();
    s.append("before,").await.unwrap();
    emu.restart(Duration::from_millis(50)).await;
    s.append("after,").await.unwrap();
    // A restart in the middle of an append (before commit): the session retries through the
    // closed port and resends.
    emu.inject(Fault::restart());
    let done = s.append("during").await.unwrap();
    assert!(!done.recovered);
    assert_eq!(
        emu.object(BUCKET, "s/restart").unwrap().data,
        b"before,after,during"
    );
    emu.restart(Duration::from_millis(10)).await;
    let again = client.appender(session_options("s/restart")).await.unwrap();
    assert_eq!(again.position(), 19);
    assert_eq!(again.crc64(), crc64::checksum(b"before,after,during"));
}

/// The binding runs session calls on a multi-threaded runtime: their futures must be `Send`.
#[allow(dead_code)]
fn session_futures_are_send(client: Client, mut session: Appender) {
    fn send<T: Send>(_: T) {}
    send(client.appender(AppenderOptions::new(BUCKET, "k")));
    send(session.append("x"));
    send(session.seal());
    send(client.seal_append_object(BUCKET, "k", 0));
    send(client.head_object_output(BUCKET, "k"));
}
