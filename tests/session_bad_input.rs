//! The bad-input table (Rust side): every case is refused with an error that names the
//! offending field, and nothing reaches the server — the emulator's request log stays empty.
//! The JS half (wrong JS types, NaN, …) belongs to the binding's tests.
//!
//! One case cannot be refused up front: a file that shrinks while it is being sent. It is
//! last: a named body error, `request_sent: false`, and nothing committed.

mod common;

use std::fmt::Debug;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::time::Duration;

use common::*;
use oss_append::{
    AppendObjectRequest, AppendOptions, AppenderOptions, Body, Client, ClientConfig, ContentMd5,
    Credentials, DataEncryption, Error, ObjectAcl, RetryPolicy, ServerSideEncryption, SessionError,
    SignatureVersion, StorageClass, TransportErrorKind,
};
use oss_emulator::{Fault, RunningEmulator};

/// The field an error names, if it is an argument error.
trait Named {
    fn field(&self) -> Option<&'static str>;
}

impl Named for Error {
    fn field(&self) -> Option<&'static str> {
        match self {
            Error::InvalidArgument { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Named for SessionError {
    fn field(&self) -> Option<&'static str> {
        match self {
            SessionError::Request(e) => e.field(),
            _ => None,
        }
    }
}

struct Table<'a> {
    emu: &'a RunningEmulator,
    rows: Vec<(String, &'static str)>,
}

impl<'a> Table<'a> {
    fn new(emu: &'a RunningEmulator) -> Self {
        emu.clear_requests();
        Table {
            emu,
            rows: Vec::new(),
        }
    }

    /// Checks one case: the error names `field`, and the emulator saw no request.
    fn case<T: Debug, E: Named + std::fmt::Display + Debug>(
        &mut self,
        name: &str,
        field: &'static str,
        result: Result<T, E>,
    ) {
        let err = match result {
            Ok(v) => panic!("{name}: accepted: {v:?}"),
            Err(e) => e,
        };
        assert_eq!(err.field(), Some(field), "{name}: {err:?}");
        let text = err.to_string();
        assert!(
            text.contains(field),
            "{name}: message must name {field}: {text}"
        );
        let sent = self.emu.requests();
        assert!(sent.is_empty(), "{name}: sent {sent:?}");
        self.rows.push((name.to_owned(), field));
    }
}

fn req(bucket: &str, key: &str, body: impl Into<Body>) -> AppendObjectRequest {
    AppendObjectRequest::new(bucket, key, body)
}

fn with(options: AppendOptions) -> AppendObjectRequest {
    req(BUCKET, "bad/input", "x").with_options(options)
}

fn meta(name: &str, value: &str) -> AppendOptions {
    let mut o = AppendOptions::default();
    o.metadata.insert(name.into(), value.into());
    o
}

fn config() -> Result<ClientConfig, Error> {
    ClientConfig::new(Credentials::new(AK, SK, None)?, "cn-hangzhou")
}

#[tokio::test]
async fn every_bad_input_is_named_and_sends_nothing() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut t = Table::new(&emu);
    let five_gib = oss_append::protocol::limits::MAX_APPENDABLE_SIZE;

    // Names: bucket and key.
    t.case(
        "empty bucket",
        "bucket",
        client.append_object(req("", "k", "x")).await,
    );
    t.case(
        "bucket too short",
        "bucket",
        client.append_object(req("ab", "k", "x")).await,
    );
    t.case(
        "bucket too long",
        "bucket",
        client.append_object(req(&"b".repeat(64), "k", "x")).await,
    );
    t.case(
        "bucket upper case",
        "bucket",
        client.append_object(req("Test-Bucket", "k", "x")).await,
    );
    t.case(
        "bucket underscore",
        "bucket",
        client.append_object(req("test_bucket", "k", "x")).await,
    );
    t.case(
        "bucket leading dash",
        "bucket",
        client.append_object(req("-bucket", "k", "x")).await,
    );
    t.case(
        "empty key",
        "key",
        client.append_object(req(BUCKET, "", "x")).await,
    );
    t.case(
        "key of 1024 bytes",
        "key",
        client
            .append_object(req(BUCKET, &"k".repeat(1024), "x"))
            .await,
    );
    t.case(
        "key of 342 three-byte chars",
        "key",
        client
            .append_object(req(BUCKET, &"日".repeat(342), "x"))
            .await,
    );
    t.case(
        "key with leading slash",
        "key",
        client.append_object(req(BUCKET, "/k", "x")).await,
    );
    t.case(
        "key with leading backslash",
        "key",
        client.append_object(req(BUCKET, "\\k", "x")).await,
    );
    t.case(
        "key with NUL",
        "key",
        client.append_object(req(BUCKET, "a\0b", "x")).await,
    );

    // Ranges: position, size, CRC.
    t.case(
        "position past 5 GiB",
        "position",
        client
            .append_object(req(BUCKET, "k", "x").with_position(five_gib + 1))
            .await,
    );
    t.case(
        "position u64::MAX",
        "position",
        client
            .append_object(req(BUCKET, "k", "x").with_position(u64::MAX))
            .await,
    );
    t.case(
        "object would pass 5 GiB",
        "data",
        client
            .append_object(req(BUCKET, "k", "xy").with_position(five_gib - 1))
            .await,
    );
    t.case(
        "previous CRC at position 0",
        "initCrc64",
        client
            .append_object(req(BUCKET, "k", "x").with_init_crc64(42))
            .await,
    );

    // Bodies: descriptors and paths.
    t.case("negative fd", "data", Body::from_fd(-1));
    let closed = std::fs::File::open("/dev/null").unwrap().into_raw_fd();
    // SAFETY: `closed` is ours; closing it leaves a number that is not open.
    unsafe { libc::close(closed) };
    t.case("closed fd", "data", Body::from_fd(closed));
    let dir = tempfile::tempdir().unwrap();
    let dir_file = std::fs::File::open(dir.path()).unwrap();
    let dir_body = Body::from_fd(dir_file.as_raw_fd()).unwrap();
    t.case(
        "directory fd",
        "data",
        client.append_object(req(BUCKET, "k", dir_body)).await,
    );
    t.case(
        "directory path",
        "data",
        client
            .append_object(req(BUCKET, "k", Body::from_path(dir.path())))
            .await,
    );
    t.case(
        "missing path",
        "data",
        client
            .append_object(req(BUCKET, "k", Body::from_path(dir.path().join("nope"))))
            .await,
    );
    t.case(
        "fd of /dev/null (not a regular file)",
        "data",
        client
            .append_object(req(
                BUCKET,
                "k",
                Body::from_file(std::fs::File::open("/dev/null").unwrap()),
            ))
            .await,
    );

    // Metadata and header values.
    t.case(
        "metadata over 8 KiB",
        "meta",
        client
            .append_object(with(meta("big", &"v".repeat(8 * 1024))))
            .await,
    );
    t.case(
        "metadata name with underscore",
        "meta",
        client.append_object(with(meta("a_b", "v"))).await,
    );
    t.case(
        "empty metadata name",
        "meta",
        client.append_object(with(meta("", "v"))).await,
    );
    t.case(
        "metadata value with newline",
        "meta",
        client
            .append_object(with(meta("a", "x\r\nx-oss-acl: public")))
            .await,
    );
    t.case(
        "metadata value not ASCII",
        "meta",
        client.append_object(with(meta("a", "é"))).await,
    );
    t.case(
        "content type with CRLF",
        "contentType",
        client
            .append_object(with(AppendOptions {
                content_type: Some("text/plain\r\nx: y".into()),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "cache control with control char",
        "cacheControl",
        client
            .append_object(with(AppendOptions {
                cache_control: Some("no-cache\u{7}".into()),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "expires not ASCII",
        "expires",
        client
            .append_object(with(AppendOptions {
                expires: Some("明天".into()),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "tagging with newline",
        "tagging",
        client
            .append_object(with(AppendOptions {
                tagging: Some("a=b\nc=d".into()),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "KMS key id with tab",
        "serverSideEncryptionKeyId",
        client
            .append_object(with(AppendOptions {
                server_side_encryption_key_id: Some("id\t1".into()),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "traffic limit too low",
        "trafficLimit",
        client
            .append_object(with(AppendOptions {
                traffic_limit: Some(245_759),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "traffic limit too high",
        "trafficLimit",
        client
            .append_object(with(AppendOptions {
                traffic_limit: Some(838_860_801),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "Content-MD5 not base64",
        "contentMd5",
        client
            .append_object(with(AppendOptions {
                content_md5: Some(ContentMd5::Given("not base64!".into())),
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "Content-MD5 of 15 bytes",
        "contentMd5",
        client
            .append_object(with(AppendOptions {
                content_md5: Some(ContentMd5::Given("AAAAAAAAAAAAAAAAAAAA".into())),
                ..Default::default()
            }))
            .await,
    );

    // Enumerations given as text (what the binding parses).
    t.case("object ACL", "objectAcl", "public".parse::<ObjectAcl>());
    t.case(
        "storage class",
        "storageClass",
        "standard".parse::<StorageClass>(),
    );
    t.case(
        "server-side encryption",
        "serverSideEncryption",
        "AES128".parse::<ServerSideEncryption>(),
    );
    t.case(
        "data encryption",
        "serverSideDataEncryption",
        "AES256".parse::<DataEncryption>(),
    );
    t.case(
        "request payer",
        "requestPayer",
        oss_append::protocol::options::request_payer("owner"),
    );
    t.case(
        "signature version",
        "signatureVersion",
        "v2".parse::<SignatureVersion>(),
    );

    // Numbers as the binding receives them (NaN, negative, fractional, above 2^53, hex text,
    // a zero timeout) are JS conversions: their cases are unit tests of `js::numbers`.

    // Credentials and configuration.
    t.case(
        "empty access key id",
        "accessKeyId",
        Credentials::new("", SK, None),
    );
    t.case(
        "access key id with ':'",
        "accessKeyId",
        Credentials::new("a:b", SK, None),
    );
    t.case(
        "secret with newline",
        "accessKeySecret",
        Credentials::new(AK, "secret\n", None),
    );
    t.case(
        "token with space",
        "securityToken",
        Credentials::new(AK, SK, Some("to ken".into())),
    );
    t.case(
        "empty region",
        "region",
        ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), ""),
    );
    t.case(
        "region with upper case",
        "region",
        ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "CN-Hangzhou"),
    );
    t.case(
        "endpoint with path",
        "endpoint",
        Client::new(config().unwrap().with_endpoint("http://127.0.0.1:1/bucket")),
    );
    t.case(
        "endpoint ftp",
        "endpoint",
        Client::new(config().unwrap().with_endpoint("ftp://127.0.0.1")),
    );
    t.case(
        "zero connect timeout",
        "connectTimeout",
        Client::new(
            config()
                .unwrap()
                .with_timeouts(Duration::ZERO, Duration::from_secs(1)),
        ),
    );
    t.case(
        "zero read/write timeout",
        "timeout",
        Client::new(
            config()
                .unwrap()
                .with_timeouts(Duration::from_secs(1), Duration::ZERO),
        ),
    );
    t.case(
        "user agent with newline",
        "userAgent",
        Client::new(config().unwrap().with_user_agent("ua\nx")),
    );

    // Seal.
    t.case(
        "seal: bad key",
        "key",
        client.seal_append_object(BUCKET, "", 0).await,
    );
    t.case(
        "seal: position past 5 GiB",
        "position",
        client.seal_append_object(BUCKET, "k", five_gib + 1).await,
    );

    // Sessions: refused before the opening HEAD.
    t.case(
        "session: bad bucket",
        "bucket",
        client.appender(AppenderOptions::new("B", "k")).await,
    );
    t.case(
        "session: key too long",
        "key",
        client
            .appender(AppenderOptions::new(BUCKET, "k".repeat(1024)))
            .await,
    );
    t.case(
        "session: huge metadata",
        "meta",
        client
            .appender(AppenderOptions::new(BUCKET, "k").with_options(meta("m", &"v".repeat(9000))))
            .await,
    );
    t.case(
        "session: fixed Content-MD5",
        "contentMd5",
        client
            .appender(
                AppenderOptions::new(BUCKET, "k").with_options(AppendOptions {
                    content_md5: Some(ContentMd5::Given("1B2M2Y8AsgTpgAmY7PhCfg==".into())),
                    ..Default::default()
                }),
            )
            .await,
    );
    t.case(
        "session: zero deadline",
        "retry.deadline",
        client
            .appender(AppenderOptions::new(BUCKET, "k").with_retry(RetryPolicy {
                deadline: Duration::ZERO,
                ..Default::default()
            }))
            .await,
    );
    t.case(
        "session: cap below first wait",
        "retry.maxBackoff",
        client
            .appender(AppenderOptions::new(BUCKET, "k").with_retry(RetryPolicy {
                max_backoff: Duration::from_millis(1),
                ..Default::default()
            }))
            .await,
    );

    // An open session refuses bad bodies without a request.
    let mut session = client
        .appender(AppenderOptions::new(BUCKET, "bad/session"))
        .await
        .unwrap();
    emu.clear_requests();
    t.case(
        "session: missing path",
        "data",
        session
            .append(Body::from_path(dir.path().join("nope")))
            .await,
    );
    t.case(
        "session: directory fd",
        "data",
        session
            .append(Body::from_fd(dir_file.as_raw_fd()).unwrap())
            .await,
    );
    assert!(
        session.poisoned().is_none(),
        "bad input does not stop a session"
    );

    eprintln!("BAD-INPUT| {} cases, all named, none sent", t.rows.len());
    for (name, field) in &t.rows {
        eprintln!("BAD-INPUT| {name} | {field}");
    }
    assert!(t.rows.len() >= 30, "{} cases", t.rows.len());
}

#[tokio::test]
async fn a_file_that_shrinks_while_sent_is_a_named_body_error_and_commits_nothing() {
    let emu = emulator().await;
    let client = client(&emu);
    let data = pattern(16 * 1024 * 1024, 9);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shrinking.bin");
    std::fs::write(&path, &data).unwrap();
    for via_session in [false, true] {
        std::fs::write(&path, &data).unwrap();
        let key = if via_session {
            "shrink/session"
        } else {
            "shrink/plain"
        };
        // The server reads at 4 MiB/s, so the upload is still going when the file shrinks.
        emu.inject(Fault::slow_read(4 * 1024 * 1024).for_key(key));
        let shrink = {
            let path = path.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.set_len(1024).unwrap();
            }
        };
        let body = Body::from_path(&path);
        let err: Error = if via_session {
            let mut s = client
                .appender(AppenderOptions::new(BUCKET, key))
                .await
                .unwrap();
            let (r, ()) = tokio::join!(s.append(body), shrink);
            let err = r.unwrap_err();
            // Nothing can have been applied: the session goes on.
            assert!(s.poisoned().is_none(), "{err}");
            match err {
                SessionError::Request(e) => e,
                other => panic!("{other}"),
            }
        } else {
            let (r, ()) = tokio::join!(client.append_object(req(BUCKET, key, body)), shrink);
            r.unwrap_err()
        };
        match &err {
            Error::Transport {
                kind: TransportErrorKind::Body,
                request_sent: false,
                message,
            } => assert!(message.contains("shorter"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(emu.object(BUCKET, key).is_none(), "nothing committed");
        emu.clear_faults();
    }
}
