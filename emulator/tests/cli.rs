//! The `oss-emulator` binary: listening line, a real request, clean exit on SIGTERM/SIGINT,
//! durability across two processes, and argument validation.

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
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
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
