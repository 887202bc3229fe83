//! The `oss-emulator` binary: listening line, a real request, clean exit on SIGTERM/SIGINT,
//! durability across two processes, HTTPS (generated or given certificates), and argument
//! validation.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variables the binary reads secrets from.
const SECRET_ENV: [&str; 3] = [
    "OSS_EMULATOR_ACCESS_KEY_ID",
    "OSS_EMULATOR_ACCESS_KEY_SECRET",
    "OSS_EMULATOR_SECURITY_TOKEN",
];

/// The binary with exactly the secret environment variables given (none inherited from the
/// test runner's environment).
fn command_with_env(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oss-emulator"));
    for name in SECRET_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

fn spawn(args: &[&str]) -> (Child, String) {
    spawn_with_env(args, &[])
}

fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let (child, endpoint) = spawn_announcing(args, env);
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    (child, endpoint)
}

/// Starts the binary and returns it with the endpoint of its first stdout line.
fn spawn_announcing(args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = command_with_env(env)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first stdout line");
    let endpoint = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, endpoint)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("oss-emulator did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM and expects the clean exit 0.
fn terminate(mut child: Child) {
    signal(&child, "TERM");
    assert_eq!(
        wait_with_timeout(&mut child, Duration::from_secs(10)).code(),
        Some(0)
    );
}

/// An emulator that holds an STS key refuses a request without the token and accepts one with
/// it.
async fn assert_sts_key_enforced(endpoint: &str, mut signer: Signer, token: &str) {
    let client = http_client();
    let r = signer
        .call(&client, endpoint, Req::append("m.log", 0, b"x"))
        .await;
    r.assert_error(403, "InvalidAccessKeyId", "0002-00000003");
    signer.token = Some(token.into());
    let r = signer
        .call(&client, endpoint, Req::append("m.log", 0, b"x"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

fn base_args(data_dir: &str) -> Vec<&str> {
    vec![
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir,
        "--bucket",
        BUCKET,
        "--bucket",
        "other-bucket",
        "--access-key-id",
        AK,
        "--access-key-secret",
        SK,
        "--region",
        "cn-hangzhou",
    ]
}

#[tokio::test]
async fn serves_until_sigterm_and_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_string();
    let client = http_client();
    let signer = Signer::new(Version::V4);

    let (mut child, endpoint) = spawn(&base_args(&data_dir));
    let r = signer
        .call(&client, &endpoint, Req::append("cli.log", 0, b"one,"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = signer
        .call(
            &client,
            &endpoint,
            Req::new("PUT", "x").bucket("other-bucket").body(b"y"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = signer
        .call(
            &client,
            &endpoint,
            Req::new("GET", "x").bucket("third-bucket"),
        )
        .await;
    r.assert_error(404, "NoSuchBucket", "0015-00000101");
    signal(&child, "TERM");
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");

    // Second process on the same directory: the acknowledged append is there.
    let (mut child, endpoint) = spawn(&base_args(&data_dir));
    let r = signer
        .call(&client, &endpoint, Req::append("cli.log", 4, b"two"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = signer
        .call(&client, &endpoint, Req::new("GET", "cli.log"))
        .await;
    assert_eq!(r.body, b"one,two");
    signal(&child, "INT");
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains(SK), "the secret must never be logged");
}

#[tokio::test]
async fn in_memory_with_sts_token() {
    let (child, endpoint) = spawn(&[
        "--bucket",
        BUCKET,
        "--access-key-id",
        "STS.Temp",
        "--access-key-secret",
        "TempSecret",
        "--security-token",
        "tok",
    ]);
    let mut signer = Signer::new(Version::V1);
    signer.ak = "STS.Temp".into();
    signer.sk = "TempSecret".into();
    assert_sts_key_enforced(&endpoint, signer, "tok").await;
    terminate(child);
}

/// Secrets can come from the environment (not visible in `ps`, unlike flags); a flag wins over
/// its variable; `--help` names the variables but never shows their values.
#[tokio::test]
async fn secrets_from_environment_variables() {
    let client = http_client();
    let env = [
        ("OSS_EMULATOR_ACCESS_KEY_ID", "STS.FromEnv"),
        ("OSS_EMULATOR_ACCESS_KEY_SECRET", "SecretFromEnv"),
        ("OSS_EMULATOR_SECURITY_TOKEN", "token-from-env"),
    ];
    let (child, endpoint) = spawn_with_env(&["--bucket", BUCKET], &env);
    let mut signer = Signer::new(Version::V4);
    signer.ak = "STS.FromEnv".into();
    signer.sk = "SecretFromEnv".into();
    assert_sts_key_enforced(&endpoint, signer, "token-from-env").await;
    terminate(child);

    // Flags win: the environment's secret is wrong, the flag's is used.
    let (child, endpoint) = spawn_with_env(
        &["--bucket", BUCKET, "--access-key-secret", SK],
        &[
            ("OSS_EMULATOR_ACCESS_KEY_ID", AK),
            ("OSS_EMULATOR_ACCESS_KEY_SECRET", "not-the-secret"),
        ],
    );
    let r = Signer::new(Version::V1)
        .call(&client, &endpoint, Req::append("env.log", 0, b"x"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    terminate(child);

    let out = command_with_env(&env).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in SECRET_ENV {
        assert!(help.contains(name), "--help lacks {name}:\n{help}");
    }
    for (_, value) in env {
        assert!(!help.contains(value), "--help shows a secret:\n{help}");
    }
    // An empty secret, from a flag or the environment, is refused with the reason.
    let empty = [("OSS_EMULATOR_SECURITY_TOKEN", "")];
    let out = command_with_env(&empty)
        .args(KEY_ARGS)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--security-token") && stderr.contains("empty"),
        "{stderr}"
    );
}

/// The limit flags reach the server (a half-sent request is cut after
/// `--header-read-timeout-ms`), and out-of-range values are refused with the flag's name.
#[tokio::test]
async fn limit_flags() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = [
        "--header-read-timeout-ms",
        "300",
        "--max-connections",
        "4",
        "--request-log-limit",
        "3",
    ];
    let (child, endpoint) = spawn(&[&KEY_ARGS[..], &limits].concat());
    let addr: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    stalled
        .write_all(b"GET /test-bucket/k HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut sink = Vec::new();
    // The server closes it (after a possible 408), well before the test's own limit.
    let closed = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut sink)).await;
    assert!(
        closed.is_ok(),
        "a half-sent request was not cut after 300 ms"
    );
    let r = Signer::new(Version::V4)
        .call(&http_client(), &endpoint, Req::append("l.log", 0, b"x"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    terminate(child);

    for (flag, value) in [
        ("--header-read-timeout-ms", "0"),
        ("--header-read-timeout-ms", "3600001"),
        ("--max-connections", "0"),
        ("--max-connections", "many"),
        ("--request-log-limit", "0"),
    ] {
        let out = command_with_env(&[])
            .args(KEY_ARGS)
            .args([flag, value])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
    }
    let out = command_with_env(&[]).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--header-read-timeout-ms",
        "--max-connections",
        "--request-log-limit",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn rejects_bad_arguments() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // Non-loopback listen address.
    let out = run(&[
        "--listen",
        "0.0.0.0:0",
        "--bucket",
        BUCKET,
        "--access-key-id",
        "a",
        "--access-key-secret",
        "s",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    // Missing bucket.
    let out = run(&["--access-key-id", "a", "--access-key-secret", "s"]);
    assert!(!out.status.success());
    // --help documents every flag.
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--bucket",
        "--access-key-id",
        "--access-key-secret",
        "--security-token",
        "--region",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

/// The port of an `https://127.0.0.1:PORT` endpoint.
fn https_addr(endpoint: &str) -> std::net::SocketAddr {
    let rest = endpoint
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("not an https endpoint: {endpoint}"));
    assert!(rest.starts_with("127.0.0.1:"), "{endpoint}");
    rest.parse().unwrap()
}

#[tokio::test]
async fn tls_generate_serves_https_with_the_ca_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ca_out = dir.path().join("ca.pem");
    let mut args = KEY_ARGS.to_vec();
    args.extend([
        "--tls-generate",
        "*.oss-cn-hangzhou.aliyuncs.com,oss-cn-hangzhou.aliyuncs.com,127.0.0.1",
        "--tls-ca-out",
        ca_out.to_str().unwrap(),
        "--enable-fault-admin",
    ]);
    let (child, endpoint) = spawn_announcing(&args, &[]);
    let addr = https_addr(&endpoint);
    // Written before the listening line.
    let ca = std::fs::read_to_string(&ca_out).expect("the CA file");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert!(!ca.contains("PRIVATE KEY"));
    let client = https_client_trusting(&ca, addr);
    let r = send_virtual(
        &client,
        addr.port(),
        Req::append("cli.log", 0, b"over https"),
    )
    .await
    .expect("served over HTTPS");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send_virtual(&client, addr.port(), Req::new("GET", "cli.log"))
        .await
        .unwrap();
    assert_eq!(r.body, b"over https");
    let stats = client
        .get(format!("https://{ENDPOINT_HOST}:{}/__stats", addr.port()))
        .header(oss_emulator::ADMIN_HEADER, oss_emulator::ADMIN_HEADER_VALUE)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(stats, r#"{"connections":2,"tlsHandshakes":2}"#);
    terminate(child);

    // Every start makes a new CA: the previous one does not vouch for the new server.
    let (child, endpoint) = spawn_announcing(&args, &[]);
    let addr = https_addr(&endpoint);
    let new_ca = std::fs::read_to_string(&ca_out).unwrap();
    assert_ne!(new_ca, ca);
    let e = send_virtual(
        &https_client_trusting(&ca, addr),
        addr.port(),
        Req::new("HEAD", "k"),
    )
    .await
    .expect_err("the previous start's CA does not vouch for this one");
    assert!(e.is_connect(), "{e:?}");
    terminate(child);
}

#[tokio::test]
async fn tls_cert_and_key_files_are_served() {
    let pki = oss_emulator::tls::generate(
        &["127.0.0.1", "*.oss-cn-hangzhou.aliyuncs.com"],
        oss_emulator::Validity::Current,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("chain.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &pki.cert_chain_pem).unwrap();
    std::fs::write(&key, &pki.key_pem).unwrap();
    let mut args = KEY_ARGS.to_vec();
    args.extend([
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let (child, endpoint) = spawn_announcing(&args, &[]);
    let addr = https_addr(&endpoint);
    let client = https_client_trusting(&pki.ca_pem, addr);
    let r = send_virtual(&client, addr.port(), Req::new("HEAD", "missing"))
        .await
        .expect("served over HTTPS");
    assert_eq!(r.status, 404);
    // By IP address too: the certificate names 127.0.0.1.
    let r = client
        .get(format!("{endpoint}/test-bucket/k"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "unsigned, but over TLS");
    terminate(child);
}

#[test]
fn rejects_bad_tls_flags() {
    let dir = tempfile::tempdir().unwrap();
    let pki = oss_emulator::tls::generate(&["127.0.0.1"], oss_emulator::Validity::Current).unwrap();
    let other =
        oss_emulator::tls::generate(&["127.0.0.1"], oss_emulator::Validity::Current).unwrap();
    let cert = dir.path().join("chain.pem");
    let key = dir.path().join("other-key.pem");
    std::fs::write(&cert, &pki.cert_chain_pem).unwrap();
    std::fs::write(&key, &other.key_pem).unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let ca_out = dir.path().join("ca.pem");
    let ca_out = ca_out.to_str().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let unwritable = dir.path().join("no-such-dir").join("ca.pem");
    let unwritable = unwritable.to_str().unwrap();
    let key_line = other.key_pem.lines().nth(1).unwrap().to_string();

    let cases: &[(&[&str], &[&str])] = &[
        (&["--tls-generate", "127.0.0.1"], &["--tls-ca-out"]),
        (&["--tls-ca-out", ca_out], &["--tls-generate"]),
        (&["--tls-cert", cert], &["--tls-key"]),
        (&["--tls-key", key], &["--tls-cert"]),
        (
            &[
                "--tls-cert",
                cert,
                "--tls-key",
                key,
                "--tls-generate",
                "x.com",
                "--tls-ca-out",
                ca_out,
            ],
            &["--tls-generate", "--tls-cert"],
        ),
        (
            &["--tls-cert", missing, "--tls-key", key],
            &["--tls-cert", "cannot read"],
        ),
        (
            &["--tls-cert", cert, "--tls-key", missing],
            &["--tls-key", "cannot read"],
        ),
        (
            &["--tls-cert", cert, "--tls-key", key],
            &["--tls-key", "does not belong"],
        ),
        (
            &["--tls-cert", key, "--tls-key", key],
            &["--tls-cert", "no CERTIFICATE"],
        ),
        (
            &["--tls-generate", "bad..name", "--tls-ca-out", ca_out],
            &["--tls-generate", "\"bad..name\""],
        ),
        (
            &["--tls-generate", "127.0.0.1", "--tls-ca-out", unwritable],
            &["--tls-ca-out", "cannot write"],
        ),
    ];
    for (flags, expected) in cases {
        let mut args = KEY_ARGS.to_vec();
        args.extend_from_slice(flags);
        let out = command_with_env(&[])
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{flags:?}: nothing announced");
        for text in *expected {
            assert!(stderr.contains(text), "{flags:?}: {text:?} not in {stderr}");
        }
        assert!(
            !stderr.contains(&key_line),
            "{flags:?}: key material in {stderr}"
        );
    }
    assert!(
        !std::path::Path::new(ca_out).exists(),
        "no CA written on a refused start"
    );

    let out = command_with_env(&[]).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--tls-cert", "--tls-key", "--tls-generate", "--tls-ca-out"] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

/// Peak resident memory of a process, from /proc (Linux only).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A 1 GiB append in data-dir mode is streamed to disk: the server's peak memory stays far below
/// the upload size, and the CRC of the whole object is right (about 5 s: 1 GiB through loopback
/// and one fsync).
#[tokio::test]
async fn one_gib_append_is_streamed_in_data_dir_mode() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SIZE: u64 = 1024 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_string();
    let (mut child, endpoint) = spawn(&base_args(&data_dir));
    let addr: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let signer = Signer::new(Version::V4);

    let (target, headers) = signed_raw_headers(Req::append("huge.bin", 0, b""), &signer);
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {SIZE}\r\n{headers}\r\n"
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let block: Vec<u8> = (0..1024 * 1024u32).map(|i| (i * 7 % 253) as u8).collect();
    let mut crc = oss_append::crc64::Crc64::new();
    for _ in 0..SIZE / block.len() as u64 {
        stream.write_all(&block).await.unwrap();
        crc.update(&block);
    }
    let mut response = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(120), stream.read(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains(&format!("x-oss-next-append-position: {SIZE}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("x-oss-hash-crc64ecma: {}", crc.value())),
        "{text}"
    );

    let peak = peak_rss_kib(child.id()).expect("VmHWM");
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB for a 1 GiB upload");
    let client = http_client();
    let head = signer
        .call(&client, &endpoint, Req::new("HEAD", "huge.bin"))
        .await;
    assert_eq!(
        head.header("content-length"),
        Some(SIZE.to_string().as_str())
    );
    signal(&child, "TERM");
    assert_eq!(
        wait_with_timeout(&mut child, Duration::from_secs(10)).code(),
        Some(0)
    );
}
