//! What the client reads of an answer is bounded: a server (broken, or hostile) that answers an
//! append with a huge error body costs the client at most `MAX_ANSWER_BYTES` of it, and an error
//! message at most `MAX_ERROR_TEXT_CHARS` characters. A plain TCP server on 127.0.0.1 plays the
//! server here, since the emulator never misbehaves this way; each one answers one request and
//! stops writing after a bounded amount.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use oss_append::protocol::response::{MAX_ANSWER_BYTES, MAX_ERROR_TEXT_CHARS};
use oss_append::{AppendObjectRequest, Client, ClientConfig, Credentials, Error};

/// The most any server here writes before giving up (the client should stop far earlier).
const WRITE_BOUND: usize = 256 << 20;

/// Serves one request: reads it whole, then writes `head` and up to `body_len` bytes of `fill`
/// (after `prefix`). Returns how many body bytes it managed to write before the client closed.
fn serve_once(head: String, prefix: &'static [u8], body_len: usize) -> (u16, JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        read_request(&stream);
        let mut stream = stream;
        stream.write_all(head.as_bytes()).unwrap();
        let mut written = 0;
        if stream.write_all(prefix).is_err() {
            return written;
        }
        written += prefix.len();
        let fill = vec![b'A'; 64 * 1024];
        while written < body_len.min(WRITE_BOUND) {
            let n = fill.len().min(body_len - written);
            match stream.write(&fill[..n]) {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n,
            }
        }
        written
    });
    (port, handle)
}

/// Reads the request line, headers and `Content-Length` bytes of body.
fn read_request(stream: &TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
}

/// Waits for the server thread without blocking the runtime (the client's connection task must
/// run to close the socket).
async fn finished(server: JoinHandle<usize>) -> usize {
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap()
}

fn client(port: u16) -> Client {
    let config = ClientConfig::new(Credentials::new("ak", "sk", None).unwrap(), "cn-hangzhou")
        .unwrap()
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_timeouts(Duration::from_secs(5), Duration::from_secs(5));
    Client::new(config).unwrap()
}

async fn append(port: u16) -> Error {
    client(port)
        .append_object(AppendObjectRequest::new("bucket", "key", "data"))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_huge_declared_error_body_is_not_read() {
    let body_len = 256 << 20;
    let head = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nx-oss-request-id: R1\r\n\
         x-oss-ec: 0002-00000040\r\nContent-Length: {body_len}\r\n\r\n"
    );
    let (port, server) = serve_once(head, b"<Error><Code>AccessDenied</Code><Message>", body_len);
    let err = append(port).await;
    let written = finished(server).await;
    let service = err.as_service().expect("a service error");
    assert_eq!(service.status, 403);
    assert_eq!(
        (service.request_id.as_str(), service.ec.as_str()),
        ("R1", "0002-00000040")
    );
    // The client hung up long before the server could write it all (socket buffers hold a few
    // MiB at most).
    assert!(written < 64 << 20, "the server wrote {written} bytes");
}

#[tokio::test]
async fn an_endless_streamed_error_body_is_cut() {
    let body_len = 64 << 20;
    let head = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n\
                x-oss-request-id: R2\r\nConnection: close\r\n\r\n"
        .to_owned();
    let (port, server) = serve_once(
        head,
        b"<Error><Code>InternalError</Code><Message>",
        body_len,
    );
    let err = append(port).await;
    let written = finished(server).await;
    let service = err.as_service().expect("a service error");
    assert_eq!(service.status, 500);
    assert!(
        service.message.len() <= MAX_ANSWER_BYTES,
        "message of {} bytes",
        service.message.len()
    );
    assert!(written < 48 << 20, "the server wrote {written} bytes");
}

#[tokio::test]
async fn a_long_message_within_the_bound_is_capped() {
    let message = "M".repeat(MAX_ANSWER_BYTES / 2);
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>\
         <Message>{message}</Message><RequestId>R3</RequestId></Error>"
    );
    let head = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
        xml.len()
    );
    let xml: &'static [u8] = Box::leak(xml.into_bytes().into_boxed_slice());
    let (port, server) = serve_once(head, xml, xml.len());
    let err = append(port).await;
    finished(server).await;
    let service = err.as_service().expect("a service error");
    assert_eq!(
        (service.code.as_str(), service.request_id.as_str()),
        ("AccessDenied", "R3")
    );
    assert!(
        service.message.chars().count() < MAX_ERROR_TEXT_CHARS + 64,
        "message of {} characters",
        service.message.chars().count()
    );
    assert!(
        service.message.contains("more bytes left out"),
        "{}",
        service.message
    );
}

/// Serves one request with an answer whose body trickles in, a byte every 300 ms (each read
/// well within any read/write timeout): `total` bytes at most, then the server stops.
fn trickling_server(total: usize) -> (u16, JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&stream);
        let head = format!(
            "HTTP/1.1 200 OK\r\nx-oss-next-append-position: 4\r\nContent-Length: {total}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut written = 0;
        while written < total {
            std::thread::sleep(Duration::from_millis(300));
            if stream.write_all(b" ").is_err() {
                break;
            }
            written += 1;
        }
        written
    });
    (port, handle)
}

#[tokio::test]
async fn a_trickling_answer_ends_at_the_operation_timeout() {
    let assert_cut = |err: &Error, started: std::time::Instant| {
        assert!(
            matches!(
                err,
                Error::Transport {
                    kind: oss_append::TransportErrorKind::Timeout,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("operation timeout"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
    };
    // The client's default deadline.
    let (port, server) = trickling_server(40);
    let config = ClientConfig::new(Credentials::new("ak", "sk", None).unwrap(), "cn-hangzhou")
        .unwrap()
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_timeouts(Duration::from_secs(5), Duration::from_secs(1))
        .with_operation_timeout(Duration::from_millis(1500));
    let started = std::time::Instant::now();
    let err = Client::new(config)
        .unwrap()
        .append_object(AppendObjectRequest::new("bucket", "key", "data"))
        .await
        .unwrap_err();
    assert_cut(&err, started);
    assert!(finished(server).await < 40);
    // One call's own deadline, on a client without one.
    let (port, server) = trickling_server(40);
    let started = std::time::Instant::now();
    let err = client(port)
        .append_object(
            AppendObjectRequest::new("bucket", "key", "data")
                .with_operation_timeout(Duration::from_millis(1500)),
        )
        .await
        .unwrap_err();
    assert_cut(&err, started);
    assert!(finished(server).await < 40);
}
