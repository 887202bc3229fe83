//! SealAppendObject and the scripted faults, seen on the wire: what each fault does to the
//! connection and to the stored object, the request log, the opt-in admin endpoint, restarts
//! with a data directory, and the CLI flags.

mod common;

use common::*;
use oss_append::crc64;
use oss_emulator::{EmulatorConfig, Fault, FaultAction, FaultOp, RunningEmulator};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An admin request as the emulator accepts it: with `x-oss-emulator-admin: 1`.
fn admin_request(client: &reqwest::Client, method: &str, url: &str) -> reqwest::RequestBuilder {
    client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
        .header("x-oss-emulator-admin", "1")
}

async fn start_with(tweak: impl FnOnce(&mut EmulatorConfig)) -> RunningEmulator {
    let mut c = config();
    tweak(&mut c);
    oss_emulator::start(c).await.expect("emulator starts")
}

/// Sends a signed request; `Err` when the connection failed instead of answering.
async fn try_call(
    client: &reqwest::Client,
    endpoint: &str,
    req: Req,
    signer: &Signer,
) -> Result<Resp, reqwest::Error> {
    let req = req.signed(signer);
    let mut url = format!("{endpoint}{}", req.path());
    let qs = req.query_string();
    if !qs.is_empty() {
        url.push('?');
        url.push_str(&qs);
    }
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
    let mut builder = client.request(method, url);
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    if req.method == "POST" || req.method == "PUT" {
        builder = builder
            .header("content-length", req.body.len().to_string())
            .body(req.body.clone());
    }
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn seal(key: &str, position: &str) -> Req {
    Req::new("POST", key)
        .query("seal", None)
        .query("position", Some(position))
}

fn data(emu: &RunningEmulator, key: &str) -> Option<Vec<u8>> {
    emu.object(BUCKET, key).map(|o| o.data)
}

#[tokio::test]
async fn seal_append_object_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let emu = start_with(|c| c.data_dir = Some(path)).await;
    let client = http_client();
    for version in [Version::V1, Version::V4] {
        let signer = Signer::new(version);
        let key = format!("seal/{version:?}.log");
        let r = signer
            .call(&client, &emu.endpoint(), Req::append(&key, 0, b"hello"))
            .await;
        assert_eq!(r.status, 200);

        // Argument errors, as for AppendObject.
        let r = signer
            .call(
                &client,
                &emu.endpoint(),
                Req::new("POST", &key).query("seal", None),
            )
            .await;
        r.assert_error(400, "MissingArgument", "0016-00000501");
        let r = signer
            .call(&client, &emu.endpoint(), seal(&key, "five"))
            .await;
        r.assert_error(400, "InvalidArgument", "0016-00000502");
        let r = signer.call(&client, &emu.endpoint(), seal(&key, "4")).await;
        r.assert_error(409, "PositionNotEqualToLength", "0026-00000016");
        assert_eq!(r.header("x-oss-next-append-position"), Some("5"));

        // The seal itself: the documented headers.
        let r = signer.call(&client, &emu.endpoint(), seal(&key, "5")).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.assert_common_headers();
        let sealed = r.header("x-oss-sealed-time").unwrap().to_owned();
        assert!(httpdate::parse_http_date(&sealed).is_ok(), "{sealed}");
        assert_eq!(r.header("x-oss-object-type"), Some("Appendable"));
        assert_eq!(r.header("x-oss-storage-class"), Some("Standard"));
        assert!(r.header("etag").is_some() && r.header("last-modified").is_some());
        assert_eq!(r.header("content-length"), Some("0"));

        // HEAD and GET show it; appends are refused; sealing again keeps the first time.
        for method in ["HEAD", "GET"] {
            let r = signer
                .call(&client, &emu.endpoint(), Req::new(method, &key))
                .await;
            assert_eq!(r.header("x-oss-sealed-time"), Some(sealed.as_str()));
            assert_eq!(r.header("x-oss-object-type"), Some("Appendable"));
        }
        let r = signer
            .call(&client, &emu.endpoint(), Req::append(&key, 5, b"more"))
            .await;
        r.assert_error(400, "AppendSealedObjectNotAllowed", "0026-00000018");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let r = signer.call(&client, &emu.endpoint(), seal(&key, "5")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-oss-sealed-time"), Some(sealed.as_str()));
        assert_eq!(data(&emu, &key).unwrap(), b"hello");
    }
    // Not appendable, or missing.
    let signer = Signer::new(Version::V4);
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::new("PUT", "seal/normal").body(b"abc"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = signer
        .call(&client, &emu.endpoint(), seal("seal/normal", "3"))
        .await;
    r.assert_error(409, "AppendSealedObjectNotAllowed", "0026-00000019");
    let r = signer
        .call(&client, &emu.endpoint(), seal("seal/none", "0"))
        .await;
    r.assert_error(404, "NoSuchKey", "0026-00000001");

    // Sealed survives a restart of the data directory; a PUT replaces the sealed object.
    emu.restart(Duration::from_millis(10)).await;
    assert!(emu
        .object(BUCKET, "seal/V4.log")
        .unwrap()
        .sealed_time
        .is_some());
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::append("seal/V4.log", 5, b"x"),
        )
        .await;
    assert_eq!(r.code().as_deref(), Some("AppendSealedObjectNotAllowed"));
    let r = signer
        .call(
            &client,
            &emu.endpoint(),
            Req::new("PUT", "seal/V4.log").body(b"new"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.object(BUCKET, "seal/V4.log").unwrap().sealed_time, None);
}

#[tokio::test]
async fn each_fault_does_what_it_says() {
    let emu = start().await;
    let client = http_client();
    let signer = Signer::new(Version::V4);
    let ep = emu.endpoint();
    let key = "faults/one.log";
    let append = |position: u64, body: &[u8]| Req::append(key, position, body);

    // Lost answer after commit: the connection closes, the data is there.
    emu.inject(Fault::drop_after_commit());
    assert!(try_call(&client, &ep, append(0, b"aaaa"), &signer)
        .await
        .is_err());
    assert_eq!(data(&emu, key).unwrap(), b"aaaa");
    let last = emu.requests().pop().unwrap();
    assert_eq!(
        (last.status, last.fault.as_deref()),
        (0, Some("drop-after-commit"))
    );

    // Lost before commit: nothing stored.
    emu.inject(Fault::drop_before_commit());
    assert!(try_call(&client, &ep, append(4, b"bbbb"), &signer)
        .await
        .is_err());
    assert_eq!(data(&emu, key).unwrap(), b"aaaa");

    // Reset after part of a large body: nothing stored.
    emu.inject(Fault::new(FaultAction::ResetMidBody {
        after_bytes: Some(1000),
    }));
    let big = vec![7u8; 1 << 20];
    assert!(try_call(&client, &ep, append(4, &big), &signer)
        .await
        .is_err());
    assert_eq!(data(&emu, key).unwrap(), b"aaaa");

    // 503 before commit: an OSS-style error, nothing stored.
    emu.inject(Fault::status(503));
    let r = try_call(&client, &ep, append(4, b"cccc"), &signer)
        .await
        .unwrap();
    r.assert_error(503, "ServiceUnavailable", "0000-00000503");
    assert_eq!(data(&emu, key).unwrap(), b"aaaa");

    // 500 after commit: the answer lies, the data is stored.
    emu.inject(Fault::status_after_commit(500));
    let r = try_call(&client, &ep, append(4, b"dddd"), &signer)
        .await
        .unwrap();
    r.assert_error(500, "InternalError", "0000-00000500");
    assert_eq!(data(&emu, key).unwrap(), b"aaaadddd");

    // Delayed answer: committed at once, answered late.
    emu.inject(Fault::delay_response(Duration::from_millis(300)));
    let t = Instant::now();
    let r = try_call(&client, &ep, append(8, b"eeee"), &signer)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // Slow read: 100 000 bytes at 200 000 B/s take about half a second.
    emu.inject(Fault::slow_read(200_000));
    let t = Instant::now();
    let r = try_call(&client, &ep, append(12, &vec![1u8; 100_000]), &signer)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );

    // Corruption: the first byte is flipped and the CRC is that of what was stored.
    emu.inject(Fault::corrupt());
    let r = try_call(&client, &ep, append(100_012, b"ffff"), &signer)
        .await
        .unwrap();
    let stored = data(&emu, key).unwrap();
    assert_eq!(&stored[100_012..], &[b'f' ^ 0xFF, b'f', b'f', b'f']);
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some(crc64::checksum(&stored).to_string().as_str())
    );

    // A fault for HEAD, another key, skip and count.
    emu.inject(
        Fault::status(502)
            .on(FaultOp::Head)
            .for_key(key)
            .after(1)
            .times(2),
    );
    let head = || Req::new("HEAD", key);
    assert_eq!(signer.call(&client, &ep, head()).await.status, 200);
    assert_eq!(signer.call(&client, &ep, head()).await.status, 502);
    let r = signer
        .call(&client, &ep, Req::new("HEAD", "faults/other"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(signer.call(&client, &ep, head()).await.status, 502);
    assert_eq!(signer.call(&client, &ep, head()).await.status, 200);
    // A faulted request that fails anyway (409) still loses its answer.
    emu.inject(Fault::drop_after_commit());
    assert!(try_call(&client, &ep, append(0, b"x"), &signer)
        .await
        .is_err());
    assert!(emu.pending_faults().is_empty());
    let fired: Vec<_> = emu.fired_faults().iter().map(|f| f.action.name()).collect();
    assert_eq!(
        fired,
        [
            "drop-after-commit",
            "drop-before-commit",
            "reset-mid-body",
            "status",
            "status",
            "delay-response",
            "slow-read",
            "corrupt",
            "status",
            "status",
            "drop-after-commit"
        ]
    );
    // Unauthenticated requests never consume faults.
    emu.inject(Fault::status(500));
    let r = send(&client, &ep, &append(0, b"x")).await;
    assert_eq!(r.status, 403);
    assert_eq!(emu.pending_faults().len(), 1);
}

#[tokio::test]
async fn restart_fault_closes_the_port_and_keeps_committed_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let emu = start_with(|c| c.data_dir = Some(path)).await;
    let client = http_client();
    let signer = Signer::new(Version::V1);
    let ep = emu.endpoint();
    let r = signer
        .call(&client, &ep, Req::append("r.log", 0, b"kept"))
        .await;
    assert_eq!(r.status, 200);
    emu.inject(Fault::new(FaultAction::Restart {
        after_commit: true,
        down_ms: 300,
    }));
    assert!(
        try_call(&client, &ep, Req::append("r.log", 4, b"+also"), &signer)
            .await
            .is_err()
    );
    // The port is closed for a while, then serves the reloaded store.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fresh = http_client();
    assert!(try_call(&fresh, &ep, Req::new("HEAD", "r.log"), &signer)
        .await
        .is_err());
    let deadline = Instant::now() + Duration::from_secs(5);
    let r = loop {
        match try_call(&fresh, &ep, Req::new("GET", "r.log"), &signer).await {
            Ok(r) => break r,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("not back: {e}"),
        }
    };
    assert_eq!(r.body, b"kept+also");
}

#[tokio::test]
async fn admin_endpoint_is_off_unless_enabled() {
    let emu = start().await;
    let client = http_client();
    let r = client
        .post(format!("{}/__faults", emu.endpoint()))
        .body("action=status,status=500")
        .send()
        .await
        .unwrap();
    // An ordinary (unsigned) OSS request: refused, nothing queued.
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(emu.pending_faults().is_empty());
}

/// A web page can make a browser send a simple cross-origin POST to 127.0.0.1, but not one with
/// a custom header (that needs a CORS preflight the emulator never approves), and a browser
/// always names the page in `Origin`. So the admin endpoint wants the header and no `Origin`.
#[tokio::test]
async fn admin_endpoint_requires_its_header_and_refuses_browser_origins() {
    let emu = start_with(|c| c.enable_fault_admin = true).await;
    let client = http_client();
    let faults = format!("{}/__faults", emu.endpoint());
    let restart = format!("{}/__restart", emu.endpoint());
    let spec = "action=status,status=500";

    for url in [&faults, &restart] {
        let r = client.post(url).body(spec).send().await.unwrap();
        assert_eq!(r.status(), 403, "{url} without the header");
        let text = r.text().await.unwrap();
        assert!(text.contains("x-oss-emulator-admin: 1"), "{text}");
    }
    let r = client.get(&faults).send().await.unwrap();
    assert_eq!(r.status(), 403, "GET without the header");
    let r = client
        .post(&faults)
        .header("x-oss-emulator-admin", "yes")
        .body(spec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a header value other than 1");
    for url in [&faults, &restart] {
        let r = admin_request(&client, "POST", url)
            .header("origin", "https://example.com")
            .body(spec)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{url} with Origin");
        let text = r.text().await.unwrap();
        assert!(text.contains("Origin"), "{text}");
    }
    // The preflight a browser would send first is refused too (no CORS approval).
    let r = client
        .request(reqwest::Method::OPTIONS, &faults)
        .header("origin", "https://example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-oss-emulator-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .headers()
        .keys()
        .all(|name| !name.as_str().starts_with("access-control-")));
    assert!(
        emu.pending_faults().is_empty(),
        "nothing refused was queued"
    );

    let r = admin_request(&client, "POST", &faults)
        .body(spec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(emu.pending_faults().len(), 1);
}

#[tokio::test]
async fn admin_endpoint_queues_lists_clears_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let emu = start_with(|c| {
        c.enable_fault_admin = true;
        c.data_dir = Some(path);
    })
    .await;
    let client = http_client();
    let admin = format!("{}/__faults", emu.endpoint());
    let r = admin_request(&client, "POST", &admin)
        .body("action=status,status=503,key=a.log\naction=drop-after-commit,count=2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "queued 2\n");
    let r = admin_request(&client, "POST", &admin)
        .body("action=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("unknown action"));
    assert_eq!(emu.pending_faults().len(), 2);

    let signer = Signer::new(Version::V4);
    let r = try_call(
        &client,
        &emu.endpoint(),
        Req::append("a.log", 0, b"1"),
        &signer,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 503);
    let listing = admin_request(&client, "GET", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains("pending action=drop-after-commit"),
        "{listing}"
    );
    assert!(listing.contains("fired status Append a.log"), "{listing}");
    let r = admin_request(&client, "DELETE", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(emu.pending_faults().is_empty());

    // Restart over HTTP: the answer comes first, then the port goes away and comes back.
    let r = signer
        .call(&client, &emu.endpoint(), Req::append("a.log", 0, b"1"))
        .await;
    assert_eq!(r.status, 200);
    let r = admin_request(&client, "POST", &format!("{}/__restart", emu.endpoint()))
        .body("down-ms=100")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut saw_down = false;
    loop {
        let fresh = http_client();
        match try_call(&fresh, &emu.endpoint(), Req::new("GET", "a.log"), &signer).await {
            Ok(r) if saw_down => {
                assert_eq!(r.body, b"1");
                break;
            }
            Ok(_) => {}
            Err(_) => saw_down = true,
        }
        assert!(Instant::now() < deadline, "no restart seen");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn cli_fault_flags_and_admin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--bucket",
            BUCKET,
            "--access-key-id",
            AK,
            "--access-key-secret",
            SK,
            "--security-token",
            "cli-token-secret-value",
            "--enable-fault-admin",
            "--fault",
            "action=status,status=503,count=2",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let endpoint = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = http_client();
        let mut signer = Signer::new(Version::V4);
        signer.token = Some("cli-token-secret-value".into());
        for _ in 0..2 {
            let r = signer
                .call(&client, &endpoint, Req::append("c.log", 0, b"x"))
                .await;
            assert_eq!(r.status, 503);
        }
        let r = signer
            .call(&client, &endpoint, Req::append("c.log", 0, b"x"))
            .await;
        assert_eq!(r.status, 200);
        let listing = admin_request(&client, "GET", &format!("{endpoint}/__faults"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(listing.matches("fired status").count(), 2, "{listing}");
    });
    // A bad spec is refused at start with the reason.
    let out = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .args(KEY_ARGS)
        .args(["--fault", "action=status,status=404"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("5xx"));

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let printed = format!(
        "{line}{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains(SK) && !printed.contains("cli-token-secret-value"));
}
