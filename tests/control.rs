//! Progress, cancellation and per-call timeouts against the emulator: the observer's sequence
//! (monotonic, throttled, one final call, across session resends), cancels before the body is
//! out (the object is unchanged) and after (the append may be applied: a plain caller sees
//! `request_sent`, an append session settles it by HEAD on its next call), and a per-call
//! timeout shorter or longer than the client's.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use oss_append::{
    crc64, AppendObjectRequest, AppenderOptions, Body, CancellationToken, Error, RetryPolicy,
    SessionError, TransportErrorKind,
};
use oss_emulator::{Fault, RunningEmulator};

type Calls = Arc<Mutex<Vec<(u64, u64, Instant)>>>;

fn recorder() -> (Calls, impl Fn(u64, u64) + Send + Sync + 'static) {
    let calls: Calls = Arc::default();
    let c = calls.clone();
    (calls, move |sent, total| {
        c.lock().unwrap().push((sent, total, Instant::now()))
    })
}

/// The rules every observed sequence obeys.
fn check_sequence(calls: &[(u64, u64, Instant)], total: u64, elapsed: Duration) {
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c.1 == total), "total is constant");
    assert!(
        calls.windows(2).all(|w| w[1].0 > w[0].0),
        "strictly increasing: {:?}",
        calls.iter().map(|c| c.0).collect::<Vec<_>>()
    );
    assert_eq!(
        calls.last().unwrap().0,
        total,
        "the last call is the final 100 %"
    );
    let bound = elapsed.as_millis() as usize / 100 + 100 + 1;
    assert!(calls.len() <= bound, "{} calls in {elapsed:?}", calls.len());
    let step = oss_append::progress::min_step(total);
    for w in calls.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert!(
            b.0 == total || b.0 - a.0 >= step || b.2 - a.2 >= Duration::from_millis(100),
            "a call neither 1 % nor 100 ms after the previous one: {} -> {}",
            a.0,
            b.0
        );
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 5,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        deadline: Duration::from_secs(10),
        jitter_seed: Some(3),
    }
}

fn is_cancelled(e: &Error, sent: bool) -> bool {
    matches!(e, Error::Transport { kind: TransportErrorKind::Cancelled, request_sent, .. } if *request_sent == sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_monotonic_throttled_and_ends_with_the_total() {
    let emu = emulator().await;
    let client = client(&emu);
    let data = pattern(8 << 20, 1);
    let (calls, observer) = recorder();
    let start = Instant::now();
    client
        .append_object(
            AppendObjectRequest::new(BUCKET, "p/bytes.bin", data.clone()).with_progress(observer),
        )
        .await
        .unwrap();
    let calls = calls.lock().unwrap().clone();
    check_sequence(&calls, data.len() as u64, start.elapsed());
    // 128 slices of 64 KiB, each under 1 %: the throttle lets fewer through.
    assert!(calls.len() < 128, "{} calls", calls.len());

    // A file body, and an empty one (a single (0, 0) call).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    std::fs::write(&path, pattern(3 << 20, 2)).unwrap();
    let (calls, observer) = recorder();
    let start = Instant::now();
    client
        .append_object(
            AppendObjectRequest::new(BUCKET, "p/file.bin", Body::from_path(&path))
                .with_progress(observer),
        )
        .await
        .unwrap();
    check_sequence(&calls.lock().unwrap(), 3 << 20, start.elapsed());
    let (calls, observer) = recorder();
    client
        .append_object(AppendObjectRequest::new(BUCKET, "p/empty", "").with_progress(observer))
        .await
        .unwrap();
    let calls = calls.lock().unwrap();
    assert_eq!(
        calls.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>(),
        [(0, 0)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_resend_keeps_the_sequence_monotonic() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut s = client
        .appender(AppenderOptions::new(BUCKET, "p/session.log").with_retry(fast_retry()))
        .await
        .unwrap();
    s.append("head").await.unwrap();
    // The first try is reset half-way (not applied), the second goes through.
    emu.inject(Fault::reset_mid_body());
    let data = pattern(4 << 20, 3);
    let (calls, observer) = recorder();
    let start = Instant::now();
    let done = s
        .append(Body::from(data.clone()).with_progress(observer))
        .await
        .unwrap();
    assert_eq!(done.attempts, 2);
    check_sequence(&calls.lock().unwrap(), data.len() as u64, start.elapsed());
    let mut all = b"head".to_vec();
    all.extend_from_slice(&data);
    assert_eq!(emu.object(BUCKET, "p/session.log").unwrap().data, all);
}

/// Waits until the emulator has logged `n` appends (it logs a request when done with it).
/// Bounded generously: on a loaded 2-core machine the slow reader can lag far behind (it
/// takes about a second when quiet), and only a server that never finishes should fail.
async fn wait_for_appends(emu: &RunningEmulator, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while emu.requests().iter().filter(|r| r.method == "POST").count() < n {
        assert!(
            Instant::now() < deadline,
            "the emulator never finished the request"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An object with `content`, and a client for it.
async fn with_object(emu: &RunningEmulator, key: &str, content: &[u8]) -> oss_append::Client {
    let client = client(emu);
    client
        .append_object(AppendObjectRequest::new(BUCKET, key, content.to_vec()))
        .await
        .unwrap();
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_body_stops_sending_and_leaves_the_object_unchanged() {
    let emu = emulator().await;
    let key = "c/mid-body.log";
    let client = with_object(&emu, key, b"before").await;
    // The server reads 8 MiB/s: a 48 MiB body is far from sent when the cancel comes, once
    // 16 MiB are out (more than loopback's socket buffers hold, so the server has the request
    // and part of its body; a cancel on a timer could come before the request reached it, and
    // then the server would never log it).
    emu.inject(Fault::slow_read(8 << 20));
    let token = CancellationToken::new();
    let cancel = token.clone();
    let (calls, record) = recorder();
    let cancelled_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let at = cancelled_at.clone();
    let observer = move |sent: u64, total: u64| {
        record(sent, total);
        if sent >= 16 << 20 && !cancel.is_cancelled() {
            *at.lock().unwrap() = Some(Instant::now());
            cancel.cancel();
        }
    };
    let err = client
        .append_object(
            AppendObjectRequest::new(BUCKET, key, vec![7u8; 48 << 20])
                .with_position(6)
                .with_progress(observer)
                .with_cancellation(token),
        )
        .await
        .unwrap_err();
    let cancelled_at = cancelled_at
        .lock()
        .unwrap()
        .expect("cancelled after 16 MiB");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(2),
        "stopped at once"
    );
    assert!(is_cancelled(&err, false), "{err:?}");
    assert!(err.to_string().contains("cancelled"), "{err}");
    let sent_at_cancel = calls.lock().unwrap().last().map_or(0, |c| c.0);
    assert!(sent_at_cancel < 48 << 20);
    // Once the server has finished with the request (it reads what reached it, then the
    // connection ends), nothing was committed.
    wait_for_appends(&emu, 2).await;
    let object = emu.object(BUCKET, key).unwrap();
    assert_eq!(object.data, b"before");
    let head = client.head_object_output(BUCKET, key).await.unwrap();
    assert_eq!(head.next_append_position, Some(6));
    assert_eq!(head.hash_crc64ecma, Some(crc64::checksum(b"before")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_token_sends_nothing() {
    let emu = emulator().await;
    let client = client(&emu);
    let token = CancellationToken::new();
    token.cancel();
    let err = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "c/never", "x").with_cancellation(token.clone()),
        )
        .await
        .unwrap_err();
    assert!(is_cancelled(&err, false), "{err:?}");
    let mut s = client
        .appender(AppenderOptions::new(BUCKET, "c/never"))
        .await
        .unwrap();
    let err = s.append_cancellable("x", &token).await.unwrap_err();
    assert!(is_cancelled(err.as_error().unwrap(), false), "{err:?}");
    // Only the session's opening HEAD reached the server.
    let methods: Vec<String> = emu.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["HEAD"]);
    // Bad arguments still come first.
    let err = client
        .append_object(AppendObjectRequest::new("B!", "k", "x").with_cancellation(token))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                field: "bucket",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_after_the_body_was_sent_says_it_may_be_applied() {
    let emu = emulator().await;
    let key = "c/after-body.log";
    let client = with_object(&emu, key, b"one,").await;
    // The server commits, then holds the answer for 1 s.
    emu.inject(Fault::delay_response(Duration::from_secs(1)));
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let err = client
        .append_object(
            AppendObjectRequest::new(BUCKET, key, "two,")
                .with_position(4)
                .with_cancellation(token),
        )
        .await
        .unwrap_err();
    assert!(is_cancelled(&err, true), "{err:?}");
    // It was applied: HEAD tells.
    let head = client.head_object_output(BUCKET, key).await.unwrap();
    assert_eq!(head.next_append_position, Some(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellable_session_settles_a_cancel_by_head_on_its_next_call() {
    let emu = emulator().await;
    let key = "c/session.log";
    let client = client(&emu);
    let options = AppenderOptions::new(BUCKET, key).with_retry(fast_retry());
    let mut s = client.appender(options).await.unwrap();
    let never = CancellationToken::new();
    s.append_cancellable("a,", &never).await.unwrap();

    // 1. Cancelled while the answer is held back: applied, though the session cannot know.
    emu.inject(Fault::delay_response(Duration::from_secs(1)));
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let err = s.append_cancellable("b,", &token).await.unwrap_err();
    assert!(is_cancelled(err.as_error().unwrap(), true), "{err:?}");
    assert!(s.is_unsettled());
    assert_eq!(s.position(), 2, "the session does not guess");
    // The next append first HEADs: the object has "a,b," so it continues after it.
    let next = s.append_cancellable("c,", &never).await.unwrap();
    assert_eq!((next.position, next.next_append_position), (4, 6));
    assert!(!s.is_unsettled());
    assert_eq!(emu.object(BUCKET, key).unwrap().data, b"a,b,c,");

    // 2. Cancelled mid-body: not applied, nothing to settle; the next append goes at the same
    //    position.
    emu.inject(Fault::slow_read(8 << 20));
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let err = s
        .append_cancellable(vec![7u8; 48 << 20], &token)
        .await
        .unwrap_err();
    assert!(is_cancelled(err.as_error().unwrap(), false), "{err:?}");
    assert!(!s.is_unsettled());
    let next = s.append_cancellable("d", &never).await.unwrap();
    assert_eq!(next.next_append_position, 7);
    assert_eq!(emu.object(BUCKET, key).unwrap().data, b"a,b,c,d");
    assert_eq!(s.crc64(), crc64::checksum(b"a,b,c,d"));

    // 3. Cancelled after the body, not applied (the server drops it before committing ... and
    //    answers nothing): the check finds the object unchanged and the append is sent again.
    emu.inject(Fault::drop_before_commit());
    let token = CancellationToken::new();
    let cancel = token.clone();
    // The drop is instant; cancel while the session is checking/retrying.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2)).await;
        cancel.cancel();
    });
    let _ = s.append_cancellable("e", &token).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let next = s.append_cancellable("f", &never).await.unwrap();
    let data = emu.object(BUCKET, key).unwrap().data;
    assert!(
        data == b"a,b,c,def" || data == b"a,b,c,df",
        "{:?}",
        String::from_utf8_lossy(&data)
    );
    assert_eq!(next.next_append_position, data.len() as u64);
    assert_eq!(s.crc64(), crc64::checksum(&data));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_after_a_cancel_stops_the_session() {
    let emu = emulator().await;
    let key = "c/conflict.log";
    let client = client(&emu);
    let mut s = client
        .appender(AppenderOptions::new(BUCKET, key).with_retry(fast_retry()))
        .await
        .unwrap();
    let never = CancellationToken::new();
    s.append_cancellable("a", &never).await.unwrap();
    emu.inject(Fault::delay_response(Duration::from_secs(1)));
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    s.append_cancellable("b", &token).await.unwrap_err();
    // "b" was committed before the answer was held back; now another writer appends.
    client
        .append_object(AppendObjectRequest::new(BUCKET, key, "X").with_position(2))
        .await
        .unwrap();
    let err = s.append_cancellable("c", &never).await.unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Conflict {
                position: 1,
                length: 1,
                expected_length: 2,
                server_length: 3,
                ..
            }
        ),
        "{err}"
    );
    let err = s.append_cancellable("c", &never).await.unwrap_err();
    assert!(matches!(err, SessionError::Poisoned { .. }), "{err}");
    assert_eq!(emu.object(BUCKET, key).unwrap().data, b"abX");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_call_timeout_overrides_the_clients() {
    let emu = emulator().await;
    // The client waits 20 s (the default); this call only 300 ms.
    let client = client(&emu);
    emu.inject(Fault::delay_response(Duration::from_millis(1500)));
    let start = Instant::now();
    let err = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "t/short", "x")
                .with_timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                request_sent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1200),
        "{took:?}"
    );

    // The client waits 200 ms; this call 3 s, so a 600 ms answer is fine.
    let client = client_with(&emu, |c| {
        c.with_timeouts(Duration::from_secs(2), Duration::from_millis(200))
    });
    emu.inject(Fault::delay_response(Duration::from_millis(600)));
    let out = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "t/long", "y").with_timeout(Duration::from_secs(3)),
        )
        .await
        .unwrap();
    assert_eq!(out.next_append_position, 1);
    // ... and without the override the client's 200 ms applies.
    emu.inject(Fault::delay_response(Duration::from_millis(600)));
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "t/long", "z").with_position(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "t/long", "z").with_timeout(Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                field: "timeout",
                ..
            }
        ),
        "{err}"
    );
}
