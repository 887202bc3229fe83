//! What keeps one laptop emulator serving when clients misbehave: the header-read timeout, the
//! connection cap and the bounded request log.

mod common;

use common::*;
use oss_emulator::{EmulatorConfig, RunningEmulator};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

async fn start_with(tweak: impl FnOnce(&mut EmulatorConfig)) -> RunningEmulator {
    let mut c = config();
    tweak(&mut c);
    oss_emulator::start(c).await.expect("emulator starts")
}

/// Opens a connection that sends the start of a request header and then nothing more.
async fn stalled_connection(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /test-bucket/stalled.log?append&position=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        .await
        .unwrap();
    stream
}

/// Waits (until `deadline`) for the server to close the connection; whatever it sends first
/// (hyper may answer 408) is ignored. Returns when it closed, `None` if it was still open.
async fn closed_by_server(stream: &mut TcpStream, deadline: Instant) -> Option<Instant> {
    let mut sink = [0u8; 1024];
    // Bounded: every read waits at most until the deadline, and a server sends little here.
    for _ in 0..64 {
        match tokio::time::timeout_at(deadline, stream.read(&mut sink)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
    None
}

/// Twice as many half-sent requests as the connection cap: a normal request still gets its
/// answer within a few seconds (stalled connections give their places up after the header
/// timeout), and every stalled connection is closed by the server, not before the timeout.
#[tokio::test]
async fn half_sent_requests_time_out_and_do_not_stop_service() {
    const CAP: usize = 8;
    const STALLED: usize = 2 * CAP;
    let header_timeout = Duration::from_millis(1000);
    let emu = start_with(|c| {
        c.header_read_timeout = header_timeout;
        c.max_connections = CAP;
    })
    .await;
    let addr = emu.local_addr();
    let mut stalled = Vec::with_capacity(STALLED);
    for _ in 0..STALLED {
        stalled.push(stalled_connection(addr).await);
    }
    let sent_at = Instant::now();

    let client = http_client();
    let served = tokio::time::timeout(
        Duration::from_secs(6),
        Signer::new(Version::V4).call(&client, &emu.endpoint(), Req::append("served.log", 0, b"x")),
    )
    .await
    .expect("a normal request is answered while half-sent requests stall");
    assert_eq!(served.status, 200, "{}", served.text());

    // Rounds of CAP connections, one header timeout each, plus slack for a loaded machine.
    let deadline = sent_at + header_timeout * (STALLED / CAP) as u32 + Duration::from_secs(5);
    for (i, stream) in stalled.iter_mut().enumerate() {
        let closed_at = closed_by_server(stream, deadline)
            .await
            .unwrap_or_else(|| panic!("stalled connection {i} still open"));
        assert!(
            closed_at - sent_at >= header_timeout - Duration::from_millis(100),
            "stalled connection {i} closed after {:?}, before the header timeout",
            closed_at - sent_at
        );
    }
    // A request whose header never arrived is not a request: only the served one is logged.
    let paths: Vec<String> = emu.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/test-bucket/served.log"]);
    emu.shutdown().await;
}

/// With a limit of 5, the log keeps the 5 most recent requests, oldest first.
#[tokio::test]
async fn request_log_keeps_only_the_most_recent_records() {
    let emu = start_with(|c| c.request_log_limit = 5).await;
    let client = http_client();
    for i in 0..12 {
        // Unsigned: answered 403 AccessDenied, and logged like any request.
        let r = send(&client, &emu.endpoint(), &Req::new("GET", &format!("k{i}"))).await;
        assert_eq!(r.status, 403);
    }
    let paths: Vec<String> = emu.requests().into_iter().map(|r| r.path).collect();
    let expected: Vec<String> = (7..12).map(|i| format!("/test-bucket/k{i}")).collect();
    assert_eq!(paths, expected);
    emu.clear_requests();
    assert!(emu.requests().is_empty());
    send(&client, &emu.endpoint(), &Req::new("GET", "after")).await;
    assert_eq!(emu.requests().len(), 1);
    emu.shutdown().await;
}
