//! The client against the emulator: every body source, chains of appends, CRC checks, and the
//! errors OSS gives, over real HTTP on 127.0.0.1.

mod common;

use std::io::Write;
use std::os::fd::AsRawFd;

use common::*;
use oss_append::crc64;
use oss_append::{
    AppendObjectRequest, AppendOptions, Body, ContentMd5, Credentials, Error, ObjectAcl,
    SignatureVersion, StorageClass, TransportErrorKind,
};

#[tokio::test]
async fn string_append_creates_object() {
    let emu = emulator().await;
    let client = client(&emu);
    let out = client
        .append_object(AppendObjectRequest::new(BUCKET, "s.txt", "hello world"))
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    assert_eq!(out.next_append_position, 11);
    assert_eq!(out.hash_crc64ecma, Some(crc64::checksum(b"hello world")));
    assert_eq!(out.request_id.len(), 24);
    assert_eq!(out.headers["x-oss-next-append-position"], "11");
    let stored = emu.object(BUCKET, "s.txt").unwrap();
    assert_eq!(stored.data, b"hello world");
    assert!(stored.appendable);
    assert_eq!(stored.content_type, "text/plain");
}

#[tokio::test]
async fn bytes_fd_and_path_bodies_chain() {
    let emu = emulator().await;
    let client = client(&emu);
    let part1 = pattern(1000, 1);
    let part2 = pattern(3 * 1024 * 1024 + 17, 2); // several file chunks, odd tail
    let part3 = pattern(4096, 3);

    let out1 = client
        .append_object(AppendObjectRequest::new(BUCKET, "chain.bin", part1.clone()))
        .await
        .unwrap();

    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&part2).unwrap();
    let fd_body = Body::from_fd(file.as_file().as_raw_fd()).unwrap();
    let out2 = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "chain.bin", fd_body)
                .with_position(out1.next_append_position)
                .with_init_crc64(out1.hash_crc64ecma.unwrap()),
        )
        .await
        .unwrap();

    let mut file3 = tempfile::NamedTempFile::new().unwrap();
    file3.write_all(&part3).unwrap();
    let out3 = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "chain.bin", Body::from_path(file3.path()))
                .with_position(out2.next_append_position)
                .with_init_crc64(out2.hash_crc64ecma.unwrap()),
        )
        .await
        .unwrap();

    let whole: Vec<u8> = [part1, part2, part3].concat();
    assert_eq!(out3.next_append_position, whole.len() as u64);
    assert_eq!(out3.hash_crc64ecma, Some(crc64::checksum(&whole)));
    assert_eq!(emu.object(BUCKET, "chain.bin").unwrap().data, whole);

    // Read back through the client too.
    let got = client.get_object(BUCKET, "chain.bin", None).await.unwrap();
    assert_eq!(&got.body[..], &whole[..]);
    let head = client.head_object(BUCKET, "chain.bin").await.unwrap();
    assert_eq!(head.headers["x-oss-object-type"], "Appendable");
    assert_eq!(
        head.headers["x-oss-next-append-position"],
        whole.len().to_string()
    );
}

#[tokio::test]
async fn fd_may_be_closed_right_after_the_body_is_made() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"duplicated descriptor").unwrap();
    let std_file = std::fs::File::open(file.path()).unwrap();
    let body = Body::from_fd(std_file.as_raw_fd()).unwrap();
    drop(std_file); // the caller closes its File; ours is a duplicate
    let out = client
        .append_object(AppendObjectRequest::new(BUCKET, "dup.txt", body))
        .await
        .unwrap();
    assert_eq!(out.next_append_position, 21);
    assert_eq!(
        emu.object(BUCKET, "dup.txt").unwrap().data,
        b"duplicated descriptor"
    );
}

#[tokio::test]
async fn the_whole_file_is_sent_whatever_its_offset() {
    use std::io::{Seek, SeekFrom};
    let emu = emulator().await;
    let client = client(&emu);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"0123456789").unwrap();
    file.as_file_mut().seek(SeekFrom::Start(4)).unwrap();
    let body = Body::from_fd(file.as_file().as_raw_fd()).unwrap();
    client
        .append_object(AppendObjectRequest::new(BUCKET, "offset.txt", body))
        .await
        .unwrap();
    assert_eq!(
        emu.object(BUCKET, "offset.txt").unwrap().data,
        b"0123456789"
    );
}

#[tokio::test]
async fn position_mismatch_carries_all_fields() {
    let emu = emulator().await;
    let client = client(&emu);
    client
        .append_object(AppendObjectRequest::new(BUCKET, "p.log", "12345"))
        .await
        .unwrap();
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "p.log", "more").with_position(3))
        .await
        .unwrap_err();
    let e = err.as_service().expect("service error");
    assert_eq!(e.status, 409);
    assert_eq!(e.code, "PositionNotEqualToLength");
    assert_eq!(e.ec, "0026-00000016");
    assert_eq!(e.request_id.len(), 24);
    assert_eq!(e.request_id, e.headers["x-oss-request-id"]);
    assert!(!e.message.is_empty());
    assert!(e.recommend_doc.ends_with("0026-00000016"));
    assert_eq!(e.next_append_position(), Some(5));
    // Position 0 on a non-empty object is the same error.
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "p.log", "again"))
        .await
        .unwrap_err();
    assert_eq!(err.as_service().unwrap().code, "PositionNotEqualToLength");
    assert_eq!(emu.object(BUCKET, "p.log").unwrap().data, b"12345");
}

#[tokio::test]
async fn appending_to_a_normal_object_is_refused() {
    let emu = emulator().await;
    let client = client(&emu);
    client
        .put_object(BUCKET, "normal.txt", &b"plain"[..])
        .await
        .unwrap();
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "normal.txt", "x").with_position(5))
        .await
        .unwrap_err();
    let e = err.as_service().unwrap();
    assert_eq!(
        (e.status, e.code.as_str(), e.ec.as_str()),
        (409, "ObjectNotAppendable", "0026-00000017")
    );
    assert_eq!(emu.object(BUCKET, "normal.txt").unwrap().data, b"plain");
}

#[tokio::test]
async fn v1_signing_is_accepted() {
    let emu = emulator().await;
    let client = client_with(&emu, |c| c.with_signature_version(SignatureVersion::V1));
    let out = client
        .append_object(AppendObjectRequest::new(BUCKET, "v1/a b+c.txt", "v1"))
        .await
        .unwrap();
    let out = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "v1/a b+c.txt", "!")
                .with_position(out.next_append_position),
        )
        .await
        .unwrap();
    assert_eq!(out.next_append_position, 3);
    assert_eq!(emu.object(BUCKET, "v1/a b+c.txt").unwrap().data, b"v1!");
}

#[tokio::test]
async fn sts_token_is_sent_and_checked() {
    for version in [SignatureVersion::V4, SignatureVersion::V1] {
        let emu = emulator_with(|c| c.security_token = Some("the-sts-token".into())).await;
        let good = client_with(&emu, |mut c| {
            c.credentials = Credentials::new(AK, SK, Some("the-sts-token".into())).unwrap();
            c.with_signature_version(version)
        });
        good.append_object(AppendObjectRequest::new(BUCKET, "sts.txt", "ok"))
            .await
            .unwrap();
        let wrong = client_with(&emu, |mut c| {
            c.credentials = Credentials::new(AK, SK, Some("another-token".into())).unwrap();
            c.with_signature_version(version)
        });
        let err = wrong
            .append_object(AppendObjectRequest::new(BUCKET, "sts.txt", "no").with_position(2))
            .await
            .unwrap_err();
        assert_eq!(err.as_service().unwrap().status, 403, "{version:?}");
        let missing = client_with(&emu, |c| c.with_signature_version(version));
        let err = missing
            .append_object(AppendObjectRequest::new(BUCKET, "sts.txt", "no").with_position(2))
            .await
            .unwrap_err();
        assert_eq!(err.as_service().unwrap().status, 403, "{version:?}");
        assert_eq!(emu.object(BUCKET, "sts.txt").unwrap().data, b"ok");
    }
}

#[tokio::test]
async fn wrong_secret_is_signature_mismatch_without_leaking_it() {
    let emu = emulator().await;
    let client = client_with(&emu, |mut c| {
        c.credentials = Credentials::new(AK, "not-the-secret-xyz", None).unwrap();
        c
    });
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "sig.txt", "x"))
        .await
        .unwrap_err();
    let e = err.as_service().unwrap();
    assert_eq!((e.status, e.code.as_str()), (403, "SignatureDoesNotMatch"));
    assert_eq!(e.ec, "0002-00000201");
    assert!(e.details.contains_key("StringToSign"));
    let shown = format!("{err} {err:?} {:?}", client.config());
    assert!(!shown.contains("not-the-secret-xyz"), "{shown}");
    assert!(emu.object(BUCKET, "sig.txt").is_none());
}

#[tokio::test]
async fn missing_bucket_is_no_such_bucket() {
    let emu = emulator().await;
    let err = client(&emu)
        .append_object(AppendObjectRequest::new(MISSING_BUCKET, "k", "x"))
        .await
        .unwrap_err();
    let e = err.as_service().unwrap();
    assert_eq!(
        (e.status, e.code.as_str(), e.ec.as_str()),
        (404, "NoSuchBucket", "0015-00000101")
    );
}

#[tokio::test]
async fn wrong_init_crc_is_reported_with_both_values() {
    let emu = emulator().await;
    let client = client(&emu);
    let first = client
        .append_object(AppendObjectRequest::new(BUCKET, "crc.bin", "abc"))
        .await
        .unwrap();
    let wrong_previous = first.hash_crc64ecma.unwrap() ^ 1;
    let err = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "crc.bin", "def")
                .with_position(3)
                .with_init_crc64(wrong_previous),
        )
        .await
        .unwrap_err();
    match err {
        Error::CrcMismatch { client, server, .. } => {
            assert_eq!(server, crc64::checksum(b"abcdef"));
            assert_eq!(
                client,
                crc64::combine(wrong_previous, crc64::checksum(b"def"), 3)
            );
            assert_ne!(client, server);
        }
        other => panic!("expected CrcMismatch, got {other}"),
    }
}

#[tokio::test]
async fn content_md5_is_computed_for_bytes_and_files() {
    let emu = emulator().await;
    let client = client(&emu);
    let options = AppendOptions {
        content_md5: Some(ContentMd5::Compute),
        ..Default::default()
    };
    let out = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "md5.bin", "hello").with_options(options.clone()),
        )
        .await
        .unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&pattern(2_500_000, 9)).unwrap();
    client
        .append_object(
            AppendObjectRequest::new(BUCKET, "md5.bin", Body::from_path(file.path()))
                .with_position(out.next_append_position)
                .with_options(options),
        )
        .await
        .unwrap();
    // A wrong digest is refused by the server and nothing is stored.
    let bad = AppendOptions {
        content_md5: Some(ContentMd5::Given("XUFAKrxLKna5cZ2REBfFkg==".into())), // MD5("hello")
        ..Default::default()
    };
    let err = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "md5-bad.bin", "not hello").with_options(bad),
        )
        .await
        .unwrap_err();
    assert_eq!(err.as_service().unwrap().code, "InvalidDigest");
    assert!(emu
        .object(BUCKET, "md5-bad.bin")
        .is_none_or(|o| o.data.is_empty()));
}

#[tokio::test]
async fn creation_headers_apply_on_first_append_only() {
    let emu = emulator().await;
    let client = client(&emu);
    let mut first = AppendOptions {
        content_type: Some("text/x-log".into()),
        cache_control: Some("no-cache".into()),
        object_acl: Some(ObjectAcl::Private),
        storage_class: Some(StorageClass::Ia),
        ..Default::default()
    };
    first.metadata.insert("author".into(), "alice".into());
    let out = client
        .append_object(AppendObjectRequest::new(BUCKET, "meta.log", "1").with_options(first))
        .await
        .unwrap();
    let mut later = AppendOptions {
        content_type: Some("application/json".into()),
        ..Default::default()
    };
    later.metadata.insert("author".into(), "mallory".into());
    client
        .append_object(
            AppendObjectRequest::new(BUCKET, "meta.log", "2")
                .with_position(out.next_append_position)
                .with_options(later),
        )
        .await
        .unwrap();
    let stored = emu.object(BUCKET, "meta.log").unwrap();
    assert_eq!(stored.data, b"12");
    assert_eq!(stored.content_type, "text/x-log");
    assert_eq!(stored.metadata["author"], "alice");
    assert_eq!(stored.headers["cache-control"], "no-cache");
}

#[tokio::test]
async fn invalid_arguments_send_nothing() {
    let emu = emulator().await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(AppendObjectRequest, &str)> = vec![
        (AppendObjectRequest::new("Bad_Bucket", "k", "x"), "bucket"),
        (AppendObjectRequest::new(BUCKET, "/k", "x"), "key"),
        (AppendObjectRequest::new(BUCKET, "", "x"), "key"),
        (
            AppendObjectRequest::new(BUCKET, "k", "x").with_position(5 * 1024 * 1024 * 1024 + 1),
            "position",
        ),
        (
            AppendObjectRequest::new(BUCKET, "k", "x").with_init_crc64(7),
            "initCrc64",
        ),
        (
            AppendObjectRequest::new(BUCKET, "k", Body::from_path(dir.path())),
            "data",
        ),
        (
            AppendObjectRequest::new(BUCKET, "k", Body::from_path(dir.path().join("missing"))),
            "data",
        ),
        (
            AppendObjectRequest::new(BUCKET, "k", "x").with_options(AppendOptions {
                traffic_limit: Some(1),
                ..Default::default()
            }),
            "trafficLimit",
        ),
    ];
    for (request, field) in cases {
        match client.append_object(request).await {
            Err(Error::InvalidArgument { field: got, .. }) => assert_eq!(got, field),
            other => panic!("{field}: expected InvalidArgument, got {other:?}"),
        }
    }
    assert!(matches!(
        Body::from_fd(-1),
        Err(Error::InvalidArgument { field: "data", .. })
    ));
    assert!(matches!(
        Body::from_fd(987_654),
        Err(Error::InvalidArgument { field: "data", .. })
    ));
    assert!(
        emu.requests().is_empty(),
        "requests were sent: {:?}",
        emu.requests()
    );
}

#[tokio::test]
async fn connection_refused_is_a_connect_error_that_sent_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config =
        oss_append::ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "cn-hangzhou")
            .unwrap()
            .with_endpoint(format!("http://127.0.0.1:{port}"));
    let client = oss_append::Client::new(config).unwrap();
    let err = client
        .append_object(AppendObjectRequest::new(BUCKET, "k", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                request_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
}

/// A 1 GiB sparse file streams through in bounded chunks and arrives intact (memory use is the
/// benchmark's business; this proves correctness at size).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_sparse_file_append_completes() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator_with(|c| c.data_dir = Some(dir.path().join("data"))).await;
    let client = client(&emu);
    let path = dir.path().join("sparse.bin");
    let file = std::fs::File::create(&path).unwrap();
    let len: u64 = 1024 * 1024 * 1024;
    file.set_len(len).unwrap();
    let out = client
        .append_object(AppendObjectRequest::new(
            BUCKET,
            "big.bin",
            Body::from_path(&path),
        ))
        .await
        .unwrap();
    assert_eq!(out.next_append_position, len);
    // CRC-64 of 1 GiB of zeros, computed independently of the upload path.
    let zeros = vec![0u8; 1024 * 1024];
    let mut crc = crc64::Crc64::new();
    for _ in 0..1024 {
        crc.update(&zeros);
    }
    assert_eq!(out.hash_crc64ecma, Some(crc.value()));
}

/// A file body goes out with `Content-Length` (OSS needs it), never chunked.
#[tokio::test]
async fn file_bodies_are_sent_with_content_length() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before the headers ended");
            seen.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8_lossy(&seen).to_lowercase()
    });
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&pattern(2_000_001, 5)).unwrap();
    let config =
        oss_append::ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "cn-hangzhou")
            .unwrap()
            .with_endpoint(endpoint);
    let client = oss_append::Client::new(config).unwrap();
    let _ = client
        .append_object(AppendObjectRequest::new(
            BUCKET,
            "k.bin",
            Body::from_path(file.path()),
        ))
        .await;
    let head = server.await.unwrap();
    assert!(head.contains("\r\ncontent-length: 2000001\r\n"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
}

/// An empty append is legal (OSS leaves the object as it is) and must still carry
/// `Content-Length: 0`, or the server answers 411.
#[tokio::test]
async fn empty_append_is_sent_with_content_length_zero() {
    let emu = emulator().await;
    let client = client(&emu);
    let first = client
        .append_object(AppendObjectRequest::new(BUCKET, "empty.log", ""))
        .await
        .unwrap();
    assert_eq!(
        (first.next_append_position, first.hash_crc64ecma),
        (0, Some(0))
    );
    client
        .append_object(AppendObjectRequest::new(BUCKET, "empty.log", "abc"))
        .await
        .unwrap();
    let out = client
        .append_object(
            AppendObjectRequest::new(BUCKET, "empty.log", Vec::new())
                .with_position(3)
                .with_init_crc64(crc64::checksum(b"abc")),
        )
        .await
        .unwrap();
    assert_eq!(out.next_append_position, 3);
    assert_eq!(emu.object(BUCKET, "empty.log").unwrap().data, b"abc");
}

/// Keys with `.` and `..` segments reach the object they name, with a signature OSS accepts,
/// in both versions: URL normalisation must not drop the segments on the way out.
#[tokio::test]
async fn keys_with_dot_segments_reach_their_own_object() {
    let emu = emulator().await;
    for version in [SignatureVersion::V4, SignatureVersion::V1] {
        let client = client_with(&emu, |c| c.with_signature_version(version));
        for key in ["./a.txt", "p/./b.txt", "p/a/../b.txt", "q/.."] {
            let key = format!("{version:?}/{key}");
            let out = client
                .append_object(AppendObjectRequest::new(BUCKET, key.as_str(), "dots"))
                .await
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(out.next_append_position, 4, "{key}");
            assert_eq!(emu.object(BUCKET, &key).unwrap().data, b"dots", "{key}");
            let head = client.head_object_output(BUCKET, &key).await.unwrap();
            assert_eq!(head.content_length, 4, "{key}");
        }
        // Nothing landed under the normalised names.
        for normalised in ["a.txt", "p/b.txt", "b.txt"] {
            let key = format!("{version:?}/{normalised}");
            assert!(emu.object(BUCKET, &key).is_none(), "{key}");
        }
    }
}
