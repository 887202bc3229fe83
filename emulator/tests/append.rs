//! AppendObject, PutObject, GetObject, HeadObject, DeleteObject against an in-process emulator,
//! with real HTTP and real V1/V4 signatures.

mod common;

use common::*;
use oss_append::crc64;

fn is_upper_hex_etag(etag: &str) -> bool {
    etag.len() == 34
        && etag.starts_with('"')
        && etag.ends_with('"')
        && etag[1..33]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

async fn append_chain(version: Version) {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(version);
    let key = format!("logs/{version:?}/chain +ü.log");
    let parts: [&[u8]; 4] = [b"hello", b" ", b"", b"world, appended"];
    let mut whole = Vec::new();
    let mut etags = Vec::new();
    for part in parts {
        let r = signer
            .call(
                &client,
                &emu.endpoint(),
                Req::append(&key, whole.len() as u64, part),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.assert_common_headers();
        whole.extend_from_slice(part);
        assert_eq!(
            r.header("x-oss-next-append-position"),
            Some(whole.len().to_string().as_str())
        );
        assert_eq!(
            r.header("x-oss-hash-crc64ecma"),
            Some(crc64::checksum(&whole).to_string().as_str())
        );
        assert_eq!(r.header("content-length"), Some("0"));
        assert!(r.body.is_empty());
        let etag = r.header("etag").unwrap().to_string();
        assert!(is_upper_hex_etag(&etag), "{etag}");
        etags.push(etag);
    }
    // A new ETag per append, except that appending nothing changes nothing.
    assert_ne!(etags[0], etags[1]);
    assert_eq!(etags[1], etags[2]);
    assert_ne!(etags[2], etags[3]);

    let stored = emu.object(BUCKET, &key).expect("stored");
    assert_eq!(stored.data, whole);
    assert!(stored.appendable);
    assert_eq!(stored.crc64, crc64::checksum(&whole));
    assert_eq!(stored.content_type, "application/octet-stream");

    let got = signer
        .call(&client, &emu.endpoint(), Req::new("GET", &key))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, whole);
    assert_eq!(got.header("x-oss-object-type"), Some("Appendable"));
    assert_eq!(got.header("etag"), Some(etags[3].as_str()));

    let head = signer
        .call(&client, &emu.endpoint(), Req::new("HEAD", &key))
        .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(whole.len().to_string().as_str())
    );
    assert_eq!(head.header("x-oss-object-type"), Some("Appendable"));
    assert_eq!(
        head.header("x-oss-next-append-position"),
        Some(whole.len().to_string().as_str())
    );
    assert_eq!(
        head.header("x-oss-hash-crc64ecma"),
        Some(crc64::checksum(&whole).to_string().as_str())
    );
    assert_eq!(head.header("x-oss-storage-class"), Some("Standard"));
    assert_eq!(
        head.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(httpdate::parse_http_date(head.header("last-modified").unwrap()).is_ok());

    let log = emu.requests();
    assert_eq!(log.len(), 6);
    assert!(log
        .iter()
        .all(|r| r.status == 200 && r.error_code.is_none()));
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].query, "append&position=0");
    emu.shutdown().await;
}

#[tokio::test]
async fn append_chain_v1() {
    append_chain(Version::V1).await;
}

#[tokio::test]
async fn append_chain_v4() {
    append_chain(Version::V4).await;
}

#[tokio::test]
async fn creation_headers_are_stored_on_the_first_append_only() {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(Version::V4);
    let first = Req::append("meta.log", 0, b"abc")
        .header("Content-Type", "text/plain")
        .header("Cache-Control", "no-cache")
        .header("Content-Disposition", "attachment; filename=meta.log")
        .header("Content-Encoding", "identity")
        .header("Expires", "Wed, 21 Oct 2037 07:28:00 GMT")
        .header("x-oss-meta-Author", "alice")
        .header("x-oss-object-acl", "private")
        .header("x-oss-storage-class", "IA")
        .header("x-oss-tagging", "a=1&b=2")
        .header("x-oss-server-side-encryption", "KMS")
        .header("x-oss-server-side-data-encryption", "SM4");
    let r = signer.call(&client, &emu.endpoint(), first).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-oss-server-side-encryption"), Some("KMS"));
    assert_eq!(r.header("x-oss-server-side-data-encryption"), Some("SM4"));
    let key_id = r
        .header("x-oss-server-side-encryption-key-id")
        .expect("KMS key id")
        .to_string();

    let second = Req::append("meta.log", 3, b"def")
        .header("Content-Type", "application/json")
        .header("Cache-Control", "max-age=1")
        .header("x-oss-meta-author", "bob")
        .header("x-oss-meta-extra", "x")
        .header("x-oss-storage-class", "Archive")
        .header("x-oss-server-side-encryption", "AES256");
    let r = signer.call(&client, &emu.endpoint(), second).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Still the creation-time encryption on every later append response.
    assert_eq!(r.header("x-oss-server-side-encryption"), Some("KMS"));
    assert_eq!(
        r.header("x-oss-server-side-encryption-key-id"),
        Some(key_id.as_str())
    );

    let stored = emu.object(BUCKET, "meta.log").unwrap();
    assert_eq!(stored.data, b"abcdef");
    assert_eq!(stored.content_type, "text/plain");
    assert_eq!(stored.metadata.len(), 1);
    assert_eq!(stored.metadata["author"], "alice");
    assert_eq!(stored.headers["cache-control"], "no-cache");
    assert_eq!(
        stored.headers["content-disposition"],
        "attachment; filename=meta.log"
    );
    assert_eq!(stored.headers["content-encoding"], "identity");
    assert_eq!(stored.headers["expires"], "Wed, 21 Oct 2037 07:28:00 GMT");
    assert_eq!(stored.headers["x-oss-object-acl"], "private");
    assert_eq!(stored.headers["x-oss-storage-class"], "IA");
    assert_eq!(stored.headers["x-oss-tagging"], "a=1&b=2");
    assert_eq!(stored.headers["x-oss-server-side-encryption"], "KMS");

    let head = signer
        .call(&client, &emu.endpoint(), Req::new("HEAD", "meta.log"))
        .await;
    assert_eq!(head.header("content-type"), Some("text/plain"));
    assert_eq!(head.header("cache-control"), Some("no-cache"));
    assert_eq!(head.header("x-oss-meta-author"), Some("alice"));
    assert_eq!(head.header("x-oss-meta-extra"), None);
    assert_eq!(head.header("x-oss-storage-class"), Some("IA"));
    assert_eq!(head.header("x-oss-tagging-count"), Some("2"));
    assert_eq!(head.header("x-oss-server-side-encryption"), Some("KMS"));
    emu.shutdown().await;
}

#[tokio::test]
async fn append_errors() {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(Version::V4);
    let ep = emu.endpoint();
    let r = signer
        .call(&client, &ep, Req::append("e.log", 0, b"0123456789"))
        .await;
    assert_eq!(r.status, 200);

    // position missing / not a decimal u64 / versionId.
    let r = signer
        .call(
            &client,
            &ep,
            Req::new("POST", "e.log").query("append", None).body(b"x"),
        )
        .await;
    r.assert_error(400, "MissingArgument", "0016-00000501");
    for bad in ["abc", "-1", "+10", "1e3", "18446744073709551616", " 10"] {
        let req = Req::new("POST", "e.log")
            .query("append", None)
            .query("position", Some(bad))
            .body(b"x");
        let r = signer.call(&client, &ep, req).await;
        r.assert_error(400, "InvalidArgument", "0016-00000502");
        assert_eq!(r.element("ArgumentValue").as_deref(), Some(bad));
    }
    let r = signer
        .call(
            &client,
            &ep,
            Req::append("e.log", 10, b"x").query("versionId", Some("v1")),
        )
        .await;
    r.assert_error(400, "InvalidArgument", "0016-00000504");

    // Position mismatch: too small, too large, 0 on a non-empty object; the header tells the length.
    for position in [0u64, 5, 11, 100] {
        let r = signer
            .call(&client, &ep, Req::append("e.log", position, b"x"))
            .await;
        r.assert_error(409, "PositionNotEqualToLength", "0026-00000016");
        assert_eq!(
            r.header("x-oss-next-append-position"),
            Some("10"),
            "position {position}"
        );
    }
    // Absent object with a non-zero position: the length is 0.
    let r = signer
        .call(&client, &ep, Req::append("absent.log", 3, b"x"))
        .await;
    r.assert_error(409, "PositionNotEqualToLength", "0026-00000016");
    assert_eq!(r.header("x-oss-next-append-position"), Some("0"));
    assert!(emu.object(BUCKET, "absent.log").is_none());

    // Content-MD5: wrong digest → InvalidDigest, nothing stored; malformed → InvalidDigest too.
    let wrong_md5 = "XUFAKrxLKna5cZ2REBfFkg=="; // MD5("hello")
    let r = signer
        .call(
            &client,
            &ep,
            Req::append("e.log", 10, b"HELLO").header("Content-MD5", wrong_md5),
        )
        .await;
    r.assert_error(400, "InvalidDigest", "0017-00000503");
    let r = signer
        .call(
            &client,
            &ep,
            Req::append("e.log", 10, b"HELLO").header("Content-MD5", "not base64!"),
        )
        .await;
    r.assert_error(400, "InvalidDigest", "0017-00000502");
    assert_eq!(emu.object(BUCKET, "e.log").unwrap().data, b"0123456789");
    let r = signer
        .call(
            &client,
            &ep,
            Req::append("e.log", 10, b"hello").header("Content-MD5", wrong_md5),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-oss-next-append-position"), Some("15"));

    // Invalid ACL, storage class, SSE, metadata.
    let cases: [(&str, &str, &str); 5] = [
        ("x-oss-object-acl", "public", "0017-00000104"),
        ("x-oss-storage-class", "standard", "0017-00000132"),
        ("x-oss-storage-class", "Hot", "0017-00000132"),
        ("x-oss-meta-bad_name", "v", "0011-00000004"),
        ("x-oss-meta-big", &"v".repeat(8 * 1024), "0011-00000002"),
    ];
    for (name, value, ec) in cases {
        let r = signer
            .call(
                &client,
                &ep,
                Req::append("new.log", 0, b"x").header(name, value),
            )
            .await;
        r.assert_error(400, "InvalidArgument", ec);
    }
    let r = signer
        .call(
            &client,
            &ep,
            Req::append("new.log", 0, b"x").header("x-oss-server-side-encryption", "AES128"),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("InvalidEncryptionAlgorithmError"))
    );
    assert!(emu.object(BUCKET, "new.log").is_none());
    // Every valid ACL and storage class is accepted.
    for (i, acl) in ["default", "private", "public-read", "public-read-write"]
        .iter()
        .enumerate()
    {
        let r = signer
            .call(
                &client,
                &ep,
                Req::append(&format!("acl{i}"), 0, b"x").header("x-oss-object-acl", acl),
            )
            .await;
        assert_eq!(r.status, 200, "{acl}");
    }
    for (i, class) in [
        "Standard",
        "IA",
        "Archive",
        "ColdArchive",
        "DeepColdArchive",
    ]
    .iter()
    .enumerate()
    {
        let r = signer
            .call(
                &client,
                &ep,
                Req::append(&format!("sc{i}"), 0, b"x").header("x-oss-storage-class", class),
            )
            .await;
        assert_eq!(r.status, 200, "{class}");
    }

    // Not appendable: a Normal object from PutObject.
    let r = signer
        .call(&client, &ep, Req::new("PUT", "normal.txt").body(b"abc"))
        .await;
    assert_eq!(r.status, 200);
    for position in [0, 3] {
        let r = signer
            .call(&client, &ep, Req::append("normal.txt", position, b"x"))
            .await;
        r.assert_error(409, "ObjectNotAppendable", "0026-00000017");
    }

    // The log records error codes.
    let log = emu.requests();
    let last = log.last().unwrap();
    assert_eq!(
        (last.status, last.error_code.as_deref(), last.ec.as_deref()),
        (409, Some("ObjectNotAppendable"), Some("0026-00000017"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn length_and_size_limits_over_raw_http() {
    let emu = start().await;
    let signer = Signer::new(Version::V1);

    // No Content-Length and not chunked → 411.
    let (target, headers) = signed_raw_headers(Req::append("raw.log", 0, b""), &signer);
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {}\r\n{headers}\r\n",
        emu.local_addr()
    );
    let text = raw_exchange(emu.local_addr(), &head, b"", false).await;
    assert!(text.starts_with("HTTP/1.1 411"), "{text}");
    assert!(
        text.contains("<Code>MissingContentLength</Code>")
            && text.contains("x-oss-ec: 0017-00000101"),
        "{text}"
    );

    // Content-Length that would make the object exceed 5 GiB → 400 before any byte is read.
    let too_big = 5u64 * 1024 * 1024 * 1024 + 1;
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {too_big}\r\n{headers}\r\n",
        emu.local_addr()
    );
    let text = raw_exchange(emu.local_addr(), &head, b"", false).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("<Code>InlineDataTooLarge</Code>"), "{text}");

    // Exactly 5 GiB in total is allowed (checked against an existing 3-byte object).
    let client = http_client();
    let r = signer
        .call(&client, &emu.endpoint(), Req::append("raw.log", 0, b"abc"))
        .await;
    assert_eq!(r.status, 200);
    let (target, headers) = signed_raw_headers(Req::append("raw.log", 3, b""), &signer);
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n{headers}\r\n",
        emu.local_addr(),
        5u64 * 1024 * 1024 * 1024 - 2
    );
    let text = raw_exchange(emu.local_addr(), &head, b"", false).await;
    assert!(
        text.starts_with("HTTP/1.1 400") && text.contains("InlineDataTooLarge"),
        "{text}"
    );

    // Chunked transfer encoding is accepted without Content-Length.
    let (target, headers) = signed_raw_headers(Req::append("raw.log", 3, b""), &signer);
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n{headers}\r\n",
        emu.local_addr()
    );
    let text = raw_exchange(
        emu.local_addr(),
        &head,
        b"4\r\ndefg\r\n3\r\nhij\r\n0\r\n\r\n",
        false,
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("x-oss-next-append-position: 10"), "{text}");
    assert_eq!(emu.object(BUCKET, "raw.log").unwrap().data, b"abcdefghij");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_short_or_aborted_body_commits_nothing() {
    for data_dir in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config();
        if data_dir {
            cfg.data_dir = Some(dir.path().to_path_buf());
        }
        let emu = oss_emulator::start(cfg).await.unwrap();
        let client = http_client();
        let signer = Signer::new(Version::V4);
        let r = signer
            .call(
                &client,
                &emu.endpoint(),
                Req::append("cut.log", 0, b"start"),
            )
            .await;
        assert_eq!(r.status, 200);

        // Declares 1000 bytes, sends 100, disconnects.
        let (target, headers) = signed_raw_headers(Req::append("cut.log", 5, b""), &signer);
        let head = format!(
            "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: 1000\r\n{headers}\r\n",
            emu.local_addr()
        );
        raw_exchange(emu.local_addr(), &head, &[b'x'; 100], true).await;
        // The server notices the disconnect; give it a moment, then check nothing changed.
        for _ in 0..50 {
            if emu.requests().len() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let stored = emu.object(BUCKET, "cut.log").unwrap();
        assert_eq!(stored.data, b"start", "data_dir={data_dir}");
        assert_eq!(stored.crc64, crc64::checksum(b"start"));
        // And the next append still goes at 5.
        let r = signer
            .call(&client, &emu.endpoint(), Req::append("cut.log", 5, b"!"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("x-oss-next-append-position"), Some("6"));
        assert_eq!(emu.object(BUCKET, "cut.log").unwrap().data, b"start!");
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn early_errors_still_reach_a_client_that_is_sending_a_large_body() {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(Version::V4);
    let big = vec![7u8; 8 * 1024 * 1024];
    let r = signer
        .call(&client, &emu.endpoint(), Req::append("big.log", 0, b"x"))
        .await;
    assert_eq!(r.status, 200);
    // 409 is decided before the body is read; the client still gets it, and the connection
    // stays usable for the next request.
    let r = signer
        .call(&client, &emu.endpoint(), Req::append("big.log", 0, &big))
        .await;
    r.assert_error(409, "PositionNotEqualToLength", "0026-00000016");
    let r = signer
        .call(&client, &emu.endpoint(), Req::append("big.log", 1, &big))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-oss-next-append-position"),
        Some((big.len() + 1).to_string().as_str())
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn put_get_range_head_delete() {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(Version::V1);
    let ep = emu.endpoint();
    let body = b"abcdefghijklmnopqrst"; // 20 bytes
    let r = signer
        .call(
            &client,
            &ep,
            Req::new("PUT", "dir/file.txt")
                .header("Content-Type", "text/plain")
                .body(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let md5 = {
        use md5::Digest;
        md5::Md5::digest(body)
    };
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", hex::encode_upper(md5)).as_str())
    );
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some(crc64::checksum(body).to_string().as_str())
    );

    let head = signer
        .call(&client, &ep, Req::new("HEAD", "dir/file.txt"))
        .await;
    assert_eq!(head.header("x-oss-object-type"), Some("Normal"));
    assert_eq!(head.header("x-oss-next-append-position"), None);
    assert_eq!(head.header("content-length"), Some("20"));

    let get = |range: &'static str, standard: bool| {
        let mut req = Req::new("GET", "dir/file.txt").header("Range", range);
        if standard {
            req = req.header("x-oss-range-behavior", "standard");
        }
        signer.call(&client, &ep, req)
    };
    for (range, start, end) in [
        ("bytes=0-4", 0, 4),
        ("bytes=5-", 5, 19),
        ("bytes=-3", 17, 19),
        ("bytes=19-19", 19, 19),
    ] {
        let r = get(range, false).await;
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/20").as_str())
        );
        assert_eq!(r.body, &body[start..=end]);
        assert_eq!(
            r.header("content-length"),
            Some((end - start + 1).to_string().as_str())
        );
    }
    for range in [
        "bytes=5-40",
        "bytes=20-30",
        "bytes=-40",
        "bytes=3-1",
        "bytes=0-1,4-5",
        "pages=1-2",
    ] {
        let r = get(range, false).await;
        assert_eq!((r.status, r.body.as_slice()), (200, &body[..]), "{range}");
    }
    let r = get("bytes=15-40", true).await;
    assert_eq!(
        (r.status, r.header("content-range"), r.body.as_slice()),
        (206, Some("bytes 15-19/20"), &b"pqrst"[..])
    );
    let r = get("bytes=20-30", true).await;
    r.assert_error(416, "InvalidRange", "0016-00000003");

    // response-* overrides.
    let r = signer
        .call(
            &client,
            &ep,
            Req::new("GET", "dir/file.txt")
                .query("response-content-type", Some("application/x-test")),
        )
        .await;
    assert_eq!(r.header("content-type"), Some("application/x-test"));

    // PutObject overwrites an appendable object with a Normal one.
    let r = signer
        .call(&client, &ep, Req::append("was-appendable", 0, b"aaa"))
        .await;
    assert_eq!(r.status, 200);
    let r = signer
        .call(&client, &ep, Req::new("PUT", "was-appendable").body(b"b"))
        .await;
    assert_eq!(r.status, 200);
    let stored = emu.object(BUCKET, "was-appendable").unwrap();
    assert_eq!(
        (stored.data.as_slice(), stored.appendable),
        (&b"b"[..], false)
    );

    // x-oss-forbid-overwrite.
    let r = signer
        .call(
            &client,
            &ep,
            Req::new("PUT", "was-appendable")
                .header("x-oss-forbid-overwrite", "true")
                .body(b"c"),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (409, Some("FileAlreadyExists"))
    );

    // PUT with a wrong Content-MD5 stores nothing.
    let r = signer
        .call(
            &client,
            &ep,
            Req::new("PUT", "md5.txt")
                .header("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")
                .body(b"nope"),
        )
        .await;
    r.assert_error(400, "InvalidDigest", "0017-00000503");
    assert!(emu.object(BUCKET, "md5.txt").is_none());

    // DELETE: 204, idempotent; then GET/HEAD answer NoSuchKey.
    for _ in 0..2 {
        let r = signer
            .call(&client, &ep, Req::new("DELETE", "dir/file.txt"))
            .await;
        assert_eq!(r.status, 204);
        r.assert_common_headers();
    }
    let r = signer
        .call(&client, &ep, Req::new("GET", "dir/file.txt"))
        .await;
    r.assert_error(404, "NoSuchKey", "0026-00000001");
    let r = signer
        .call(&client, &ep, Req::new("HEAD", "dir/file.txt"))
        .await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-oss-ec"), Some("0026-00000001"));
    assert_eq!(
        r.code().as_deref(),
        Some("NoSuchKey"),
        "x-oss-err carries the XML"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn no_such_bucket_and_unsupported_operations() {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(Version::V4);
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::append("k", 0, b"x").bucket("missing-bucket"),
        )
        .await;
    r.assert_error(404, "NoSuchBucket", "0015-00000101");
    assert_eq!(r.element("BucketName").as_deref(), Some("missing-bucket"));
    assert_eq!(
        r.element("HostId").as_deref(),
        Some(emu.local_addr().to_string().as_str())
    );
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::new("HEAD", "k").bucket("missing-bucket"),
        )
        .await;
    assert_eq!((r.status, r.code().as_deref()), (404, Some("NoSuchBucket")));

    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::new("PUT", "k").query("acl", None),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (501, Some("NotImplemented"))
    );
    let mut list = Req::new("GET", "");
    list.key = None;
    let r = signer.call(&client, &emu.endpoint(), list).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (501, Some("NotImplemented"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn virtual_hosted_requests() {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(Version::V1);
    // The SDKs sign /bucket/key either way; only the URL and Host differ.
    let req = Req::append("vh/key.log", 0, b"virtual").signed(&signer);
    let host = format!("{BUCKET}.oss-cn-hangzhou.aliyuncs.com");
    let mut builder = client
        .post(format!("{}/vh/key.log?append&position=0", emu.endpoint()))
        .header("Host", &host)
        .body(req.body.clone());
    for (n, v) in &req.headers {
        builder = builder.header(n, v);
    }
    let r = builder.send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(emu.object(BUCKET, "vh/key.log").unwrap().data, b"virtual");

    // An unknown bucket in the Host is NoSuchBucket, with the Host as HostId.
    let req = Req::new("GET", "vh/key.log")
        .bucket("nope-bucket")
        .signed(&signer);
    let mut builder = client
        .get(format!("{}/vh/key.log", emu.endpoint()))
        .header("Host", "nope-bucket.oss-cn-hangzhou.aliyuncs.com");
    for (n, v) in &req.headers {
        builder = builder.header(n, v);
    }
    let r = builder.send().await.unwrap();
    assert_eq!(r.status(), 404);
    let text = r.text().await.unwrap();
    assert_eq!(element(&text, "BucketName").as_deref(), Some("nope-bucket"));
    assert_eq!(
        element(&text, "HostId").as_deref(),
        Some("nope-bucket.oss-cn-hangzhou.aliyuncs.com")
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_at_the_same_position_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    for data_dir in [None, Some(dir.path().to_path_buf())] {
        let mut cfg = config();
        cfg.data_dir = data_dir.clone();
        let emu = oss_emulator::start(cfg).await.unwrap();
        let ep = emu.endpoint();
        let signer = Signer::new(Version::V4);
        let mut length = 0u64;
        let mut expected = Vec::new();
        for round in 0..10u8 {
            let bodies: Vec<Vec<u8>> = (0..4u8)
                .map(|i| vec![round * 4 + i; 64 * 1024 + i as usize])
                .collect();
            let mut tasks = Vec::new();
            for body in bodies.clone() {
                let ep = ep.clone();
                let signer = signer.clone();
                tasks.push(tokio::spawn(async move {
                    let client = http_client();
                    signer
                        .call(&client, &ep, Req::append("race.log", length, &body))
                        .await
                }));
            }
            let mut winners = Vec::new();
            for (i, t) in tasks.into_iter().enumerate() {
                let r = t.await.unwrap();
                match r.status {
                    200 => winners.push(i),
                    409 => {
                        r.assert_error(409, "PositionNotEqualToLength", "0026-00000016");
                        assert_ne!(
                            r.header("x-oss-next-append-position"),
                            Some(length.to_string().as_str())
                        );
                    }
                    s => panic!("unexpected status {s}: {}", r.text()),
                }
            }
            assert_eq!(winners.len(), 1, "round {round}, data_dir {data_dir:?}");
            expected.extend_from_slice(&bodies[winners[0]]);
            length = expected.len() as u64;
        }
        let stored = emu.object(BUCKET, "race.log").unwrap();
        assert_eq!(stored.data.len(), expected.len());
        assert!(stored.data == expected);
        assert_eq!(stored.crc64, crc64::checksum(&expected));
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn data_dir_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.data_dir = Some(dir.path().to_path_buf());
    cfg.buckets = vec![BUCKET.to_string(), "second-bucket".to_string()];
    let client = http_client();
    let signer = Signer::new(Version::V1);

    let emu = oss_emulator::start(cfg.clone()).await.unwrap();
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::append("durable/a.log", 0, b"first ").header("x-oss-meta-k", "v"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::append("durable/a.log", 6, b"second"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::new("PUT", "p.txt")
                .bucket("second-bucket")
                .body(b"put"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::new("PUT", "gone.txt").body(b"bye"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = signer
        .call(&client, &emu.endpoint(), Req::new("DELETE", "gone.txt"))
        .await;
    assert_eq!(r.status, 204);
    emu.shutdown().await;

    let emu = oss_emulator::start(cfg).await.unwrap();
    let stored = emu.object(BUCKET, "durable/a.log").unwrap();
    assert_eq!(stored.data, b"first second");
    assert_eq!(stored.crc64, crc64::checksum(b"first second"));
    assert_eq!(stored.metadata["k"], "v");
    assert!(stored.appendable);
    assert_eq!(emu.object("second-bucket", "p.txt").unwrap().data, b"put");
    assert!(emu.object(BUCKET, "gone.txt").is_none());
    let head = signer
        .call(&client, &emu.endpoint(), Req::new("HEAD", "durable/a.log"))
        .await;
    assert_eq!(head.header("x-oss-next-append-position"), Some("12"));
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::append("durable/a.log", 12, b"!"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some(crc64::checksum(b"first second!").to_string().as_str())
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_append_streams_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.data_dir = Some(dir.path().to_path_buf());
    let emu = oss_emulator::start(cfg).await.unwrap();
    let client = http_client();
    let signer = Signer::new(Version::V4);
    let chunk: Vec<u8> = (0..48 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut crc = crc64::Crc64::new();
    for i in 0..2u64 {
        let r = signer
            .call(
                &client,
                &emu.endpoint(),
                Req::append("big.bin", i * chunk.len() as u64, &chunk),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        crc.update(&chunk);
        assert_eq!(
            r.header("x-oss-hash-crc64ecma"),
            Some(crc.value().to_string().as_str())
        );
    }
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::new("GET", "big.bin").header("Range", "bytes=50331640-50331655"),
        )
        .await;
    assert_eq!(r.status, 206);
    let mut expected = chunk[chunk.len() - 8..].to_vec();
    expected.extend_from_slice(&chunk[..8]);
    assert_eq!(r.body, expected);
    let r = signer
        .call(&client, &emu.endpoint(), Req::new("GET", "big.bin"))
        .await;
    assert_eq!(r.body.len(), 2 * chunk.len());
    assert_eq!(crc64::checksum(&r.body), crc.value());
    emu.shutdown().await;
}

#[test]
fn blocking_start_for_non_async_tests() {
    let emu = oss_emulator::start_blocking(config()).unwrap();
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
    assert!(emu.requests().is_empty());
    emu.shutdown();
}
