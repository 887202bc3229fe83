//! The `oss-append` command-line tool against the emulator: stdin piped in blocks (size and
//! idle flushes while the pipe stays open), a file appended to an existing object, `--seal`,
//! `--help` and usage errors, and its stderr log (`OSS_APPEND_LOG`) carrying request records
//! but never a credential, the STS token or the Authorization header.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{pattern, AK, BUCKET, SK};
use oss_append::crc64;
use oss_emulator::{start_blocking, BlockingEmulator, EmulatorConfig, Fault, FaultOp};

const TOKEN: &str = "cli-sts-token-value-abcdef0123456789";

fn emulator(token: Option<&str>) -> BlockingEmulator {
    let mut config = EmulatorConfig::new(AK, SK);
    config.buckets = vec![BUCKET.to_owned()];
    config.security_token = token.map(str::to_owned);
    start_blocking(config).expect("emulator starts")
}

fn cli(emu: &BlockingEmulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oss-append"));
    cmd.args(["--region", "cn-hangzhou", "--endpoint", &emu.endpoint()])
        .args(args)
        .env("OSS_ACCESS_KEY_ID", AK)
        .env("OSS_ACCESS_KEY_SECRET", SK)
        .env_remove("OSS_SESSION_TOKEN")
        .env_remove("OSS_APPEND_LOG")
        .env_remove("OSS_REGION")
        .env_remove("OSS_ENDPOINT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits until the object is `len` bytes long (or fails after 10 s).
fn wait_for_length(emu: &BlockingEmulator, key: &str, len: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = emu.object(BUCKET, key).map_or(0, |o| o.data.len());
        if now == len {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the object stayed at {now} bytes, expected {len}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn finish(child: Child) -> (bool, String, String) {
    let out = child.wait_with_output().expect("the CLI runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn appends(emu: &BlockingEmulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.query.contains("append"))
        .count()
}

#[test]
fn stdin_is_appended_in_blocks_by_size_and_by_idle_time() {
    let emu = emulator(None);
    let key = "cli/tail.log";
    let mut child = cli(
        &emu,
        &[
            "--bucket",
            BUCKET,
            "--key",
            key,
            "--block-size",
            "1k",
            "--flush-ms",
            "150",
        ],
    )
    .spawn()
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = pattern(2500, 1);
    // 2500 bytes at once: two full 1 KiB blocks go out at once ...
    stdin.write_all(&data).unwrap();
    stdin.flush().unwrap();
    wait_for_length(&emu, key, 2048);
    // ... and the remaining 452 after 150 ms without input, while the pipe is still open.
    wait_for_length(&emu, key, 2500);
    assert_eq!(appends(&emu), 3);
    stdin.write_all(b"last line\n").unwrap();
    drop(stdin); // end of input: the rest is appended at once
    let (ok, stdout, stderr) = finish(child);
    assert!(ok, "stderr: {stderr}");
    let mut all = data.clone();
    all.extend_from_slice(b"last line\n");
    let object = emu.object(BUCKET, key).unwrap();
    assert_eq!(object.data, all);
    assert_eq!(
        stdout.trim(),
        format!("position={} crc64={}", all.len(), crc64::checksum(&all))
    );
    assert_eq!(appends(&emu), 4);
}

#[test]
fn a_file_is_appended_to_an_existing_object_and_sealed() {
    let emu = emulator(None);
    let key = "cli/file.bin";
    // An existing appendable object: the CLI resumes at its end.
    let mut first = cli(&emu, &["--bucket", BUCKET, "--key", key])
        .spawn()
        .unwrap();
    first.stdin.take().unwrap().write_all(b"head:").unwrap();
    let (ok, stdout, stderr) = finish(first);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("position=5 crc64={}", crc64::checksum(b"head:"))
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("part.bin");
    let body = pattern(300_000, 2);
    std::fs::write(&path, &body).unwrap();
    let child = cli(
        &emu,
        &[
            "--bucket",
            BUCKET,
            "--key",
            key,
            "--v1",
            "--seal",
            path.to_str().unwrap(),
        ],
    )
    .spawn()
    .unwrap();
    let (ok, stdout, stderr) = finish(child);
    assert!(ok, "{stderr}");
    let mut all = b"head:".to_vec();
    all.extend_from_slice(&body);
    assert_eq!(emu.object(BUCKET, key).unwrap().data, all);
    assert_eq!(
        stdout.trim(),
        format!("position={} crc64={}", all.len(), crc64::checksum(&all))
    );
    // Sealed: a further run is refused by OSS when it opens the object, exit status 1.
    let child = cli(
        &emu,
        &["--bucket", BUCKET, "--key", key, path.to_str().unwrap()],
    )
    .spawn()
    .unwrap();
    let (ok, _, stderr) = finish(child);
    assert!(!ok);
    assert!(stderr.contains("AppendSealedObjectNotAllowed"), "{stderr}");
}

#[test]
fn help_and_usage_errors() {
    let emu = emulator(None);
    let out = cli(&emu, &["--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--bucket",
        "--block-size",
        "--flush-ms",
        "OSS_ACCESS_KEY_ID",
        "OSS_SESSION_TOKEN",
        "position=",
        "--max-retries",
        "--retry-deadline-ms",
        "position=unknown",
        "3 on a failure",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let out = cli(&emu, &["--bucket", BUCKET]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key is required"));
    let out = cli(&emu, &["--bucket", BUCKET, "--key", "k"])
        .env_remove("OSS_ACCESS_KEY_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OSS_ACCESS_KEY_SECRET"));
    assert!(emu.requests().is_empty(), "nothing was sent");
}

#[test]
fn the_log_has_request_records_and_no_secrets() {
    let emu = emulator(Some(TOKEN));
    let key = "cli/logged.log";
    for (level, signing) in [("trace", None), ("debug", Some("--v1"))] {
        let mut args = vec!["--bucket", BUCKET, "--key", key];
        args.extend(signing);
        let mut child = cli(&emu, &args)
            .env("OSS_SESSION_TOKEN", TOKEN)
            .env("OSS_APPEND_LOG", level)
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"some data\n")
            .unwrap();
        let (ok, _, log) = finish(child);
        assert!(ok, "{log}");
        // Start and end of the HEAD and the append, with method, bucket, key, status, request
        // id and duration.
        assert!(
            log.contains(&format!("HeadObject {BUCKET}/{key}: HEAD with 0 bytes")),
            "{log}"
        );
        assert!(
            log.contains(&format!("AppendObject {BUCKET}/{key}: POST with 10 bytes")),
            "{log}"
        );
        let request_id = &emu
            .requests()
            .iter()
            .rev()
            .find(|r| r.method == "POST")
            .unwrap()
            .request_id
            .clone();
        assert!(
            log.contains("POST answered 200 in ") && log.contains(request_id.as_str()),
            "{log}"
        );
        for secret in [
            SK,
            TOKEN,
            "Authorization",
            "authorization",
            "Signature",
            "x-oss-security-token",
        ] {
            assert!(
                !log.contains(secret),
                "the {level} log shows {secret}:\n{log}"
            );
        }
    }
    // Without the variable: nothing on stderr.
    let mut child = cli(&emu, &["--bucket", BUCKET, "--key", key])
        .env("OSS_SESSION_TOKEN", TOKEN)
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"quiet\n").unwrap();
    let (ok, _, log) = finish(child);
    assert!(ok);
    assert_eq!(log, "");
}

/// A file of `len` bytes (pattern `seed`) in a fresh temporary directory.
fn temp_file(len: usize, seed: u64) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.bin");
    let body = pattern(len, seed);
    std::fs::write(&path, &body).unwrap();
    (dir, path, body)
}

/// Carriage returns and escape sequences: what a redrawn progress line is made of.
fn has_terminal_control(text: &str) -> bool {
    text.contains('\r') || text.contains('\x1b')
}

#[test]
fn no_progress_is_drawn_when_stderr_is_not_a_terminal() {
    let emu = emulator(None);
    let key = "cli/quiet.bin";
    // Large enough for many progress reports (every 1 % of the body) if they were drawn.
    let (_dir, path, body) = temp_file(4 << 20, 3);
    let child = cli(
        &emu,
        &["--bucket", BUCKET, "--key", key, path.to_str().unwrap()],
    )
    .spawn()
    .unwrap();
    expect_quiet_success(child, "a file append");
    assert_eq!(emu.object(BUCKET, key).unwrap().data, body);

    // stdin streaming (the same file as stdin), in 64 blocks.
    let child = cli(
        &emu,
        &["--bucket", BUCKET, "--key", key, "--block-size", "64k"],
    )
    .stdin(std::fs::File::open(&path).unwrap())
    .spawn()
    .unwrap();
    expect_quiet_success(child, "stdin streaming");
    assert_eq!(emu.object(BUCKET, key).unwrap().data.len(), 2 * body.len());
}

/// Waits for `child` (`what` it does, for messages): it succeeds, writes nothing to the captured
/// stderr, and no redraw controls to stdout.
fn expect_quiet_success(child: Child, what: &str) {
    let (ok, stdout, stderr) = finish(child);
    assert!(ok, "{stderr}");
    assert_eq!(
        stderr, "",
        "{what} with stderr captured writes nothing there"
    );
    assert!(!has_terminal_control(&stdout), "{what}: {stdout:?}");
}

/// Runs the CLI as `cli` would, but under a pseudo-terminal (util-linux `script`), so stderr is
/// a terminal; `stdin_shell` (a shell command) feeds its stdin through a pipe when given, and
/// `env` is added to its environment. Returns whether it succeeded and everything written to
/// the terminal, or `None` when `script` is not available.
fn run_under_terminal(
    emu: &BlockingEmulator,
    args: &[&str],
    stdin_shell: Option<&str>,
    env: &[(&str, &str)],
) -> Option<(bool, String)> {
    let available = Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        return None;
    }
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_str().unwrap().replace('\'', r"'\''"));
    let mut inner = cli(emu, args);
    inner.envs(env.iter().copied());
    let mut line = std::iter::once(inner.get_program())
        .chain(inner.get_args())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(feed) = stdin_shell {
        line = format!("{feed} | {line}");
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in inner.get_envs() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    let out = cmd.output().expect("script runs");
    let mut seen = String::from_utf8_lossy(&out.stdout).into_owned();
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    Some((out.status.success(), seen))
}

#[test]
fn progress_is_drawn_when_stderr_is_a_terminal() {
    let emu = emulator(None);
    let key = "cli/terminal.bin";
    let (_dir, path, body) = temp_file(8 << 20, 4);
    let Some((ok, seen)) = run_under_terminal(
        &emu,
        &["--bucket", BUCKET, "--key", key, path.to_str().unwrap()],
        None,
        &[],
    ) else {
        println!(
            "SKIP: util-linux `script` is not available to run the CLI under a pseudo-terminal"
        );
        return;
    };
    assert!(ok, "{seen:?}");
    assert_eq!(emu.object(BUCKET, key).unwrap().data, body);
    // The byte bar (sent / total) was drawn, then cleared before the report.
    assert!(seen.contains("/8.00 MiB"), "no byte bar: {seen:?}");
    assert!(has_terminal_control(&seen), "{seen:?}");
    let report = format!("position={} crc64={}", body.len(), crc64::checksum(&body));
    assert!(seen.contains(&report), "{seen:?}");

    // stdin streaming: input that stays open for a while, so the spinner turns and the first
    // block (flushed after 100 ms idle) shows as appended.
    let Some((ok, seen)) = run_under_terminal(
        &emu,
        &[
            "--bucket",
            BUCKET,
            "--key",
            "cli/terminal.log",
            "--flush-ms",
            "100",
        ],
        Some("{ printf 'hello\\n'; sleep 1; }"),
        &[],
    ) else {
        unreachable!("script was there a moment ago");
    };
    assert!(ok, "{seen:?}");
    assert_eq!(
        emu.object(BUCKET, "cli/terminal.log").unwrap().data,
        b"hello\n"
    );
    for needle in ["read 6 B", "appended 6 B", "position 6"] {
        assert!(
            seen.contains(needle),
            "the stdin counter lacks {needle:?}: {seen:?}"
        );
    }
    assert!(seen.contains("position=6 crc64="), "{seen:?}");

    // With OSS_APPEND_LOG logging to the terminal, no bar: redraws would overwrite log lines.
    let Some((ok, seen)) = run_under_terminal(
        &emu,
        &[
            "--bucket",
            BUCKET,
            "--key",
            "cli/logged.bin",
            path.to_str().unwrap(),
        ],
        None,
        &[("OSS_APPEND_LOG", "info")],
    ) else {
        unreachable!("script was there a moment ago");
    };
    assert!(ok, "{seen:?}");
    assert!(
        seen.contains("POST answered 200"),
        "no log records: {seen:?}"
    );
    assert!(!seen.contains("MiB/"), "a bar next to the log: {seen:?}");
}

/// The CLI appending to `key` of the test bucket, with `flags`.
fn cli_on(emu: &BlockingEmulator, key: &str, flags: &[&str]) -> Command {
    cli(emu, &[&["--bucket", BUCKET, "--key", key], flags].concat())
}

/// The CLI on `key` with `flags`, its stdin fed `input` and closed; waits for it. Returns the
/// exit code, stdout and stderr.
fn run_with_input(
    emu: &BlockingEmulator,
    key: &str,
    flags: &[&str],
    input: &[u8],
) -> (Option<i32>, String, String) {
    let mut child = cli_on(emu, key, flags).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().expect("the CLI runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_outcome_reports_the_objects_real_length_or_unknown() {
    let emu = emulator(None);
    let data = b"0123456789";
    // The append is applied and its answer lost; then the session's HEADs (one try and two
    // retries) fail: the outcome is unknown to the session. The opening HEAD passes.
    let lose_the_outcome = |key: &str, failing_heads: u32| {
        emu.inject(Fault::drop_after_commit().for_key(key));
        emu.inject(
            Fault::status(503)
                .on(FaultOp::Head)
                .for_key(key)
                .after(1)
                .times(failing_heads),
        );
    };

    // The report's own HEAD gets through: it states the object's real end, the append in it.
    let key = "cli/unknown-then-head.log";
    lose_the_outcome(key, 3);
    let (code, stdout, stderr) = run_with_input(&emu, key, &["--max-retries", "2"], data);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is unknown"), "{stderr}");
    let object = emu.object(BUCKET, key).unwrap().data;
    assert_eq!(object, data, "the lost answer's append was applied");
    assert_eq!(
        stdout.trim(),
        format!(
            "position={} crc64={}",
            object.len(),
            crc64::checksum(&object)
        )
    );
    assert!(
        stderr.contains("oss-append: 0 bytes read from stdin were not appended\n"),
        "{stderr}"
    );

    // HEAD keeps failing past the retry budget: the position is unknown, and said so.
    let key = "cli/unknown-for-good.log";
    lose_the_outcome(key, 100);
    let (code, stdout, stderr) = run_with_input(&emu, key, &["--max-retries", "2"], data);
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(stdout.trim(), "position=unknown");
    assert!(
        stderr.contains(&format!(
            "the length of {BUCKET}/{key} is unknown: HEAD failed"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "0 bytes read from stdin were not appended; whether 10 more bytes were appended is \
             unknown"
        ),
        "{stderr}"
    );
    emu.clear_faults();
}

#[test]
fn another_writers_append_is_reported_as_the_objects_end() {
    let emu = emulator(None);
    let key = "cli/two-writers.log";
    let mut first = cli_on(&emu, key, &["--flush-ms", "100"]).spawn().unwrap();
    let mut first_stdin = first.stdin.take().unwrap();
    first_stdin.write_all(b"aaaa").unwrap();
    wait_for_length(&emu, key, 4);
    // Another writer appends while the first CLI still runs ...
    let (code, _, stderr) = run_with_input(&emu, key, &[], b"BBBB");
    assert_eq!(code, Some(0), "{stderr}");
    // ... so the first one's next append is refused (PositionNotEqualToLength).
    first_stdin.write_all(b"cccc").unwrap();
    drop(first_stdin);
    let (ok, stdout, stderr) = finish(first);
    assert!(!ok);
    assert!(stderr.contains("PositionNotEqualToLength"), "{stderr}");
    let object = emu.object(BUCKET, key).unwrap().data;
    assert_eq!(object, b"aaaaBBBB");
    assert_eq!(
        stdout.trim(),
        format!("position=8 crc64={}", crc64::checksum(&object)),
        "the object's end, not the first session's"
    );
    assert!(
        stderr.contains("oss-append: 4 bytes read from stdin were not appended"),
        "{stderr}"
    );
}

#[test]
fn the_retry_flags_reach_the_policy() {
    let emu = emulator(None);
    // Bad values are usage errors naming the flag; nothing is sent.
    for (flags, needle) in [
        (["--max-retries", "1001"], "at most 1000"),
        (["--max-retries", "many"], "number of retries"),
        (
            ["--retry-deadline-ms", "0"],
            "positive number of milliseconds",
        ),
        (["--retry-deadline-ms", "86400001"], "at most one day"),
    ] {
        let out = cli(
            &emu,
            &[&["--bucket", BUCKET, "--key", "k"], &flags[..]].concat(),
        )
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(
            stderr.contains(flags[0]) && stderr.contains(needle),
            "{flags:?}: {stderr}"
        );
    }
    assert!(emu.requests().is_empty(), "nothing was sent");

    // One connection reset: retried by default, the end with --max-retries 0.
    let reset_once = |key: &str| emu.inject(Fault::reset_mid_body().for_key(key));
    let key = "cli/no-retries.log";
    reset_once(key);
    let (code, stdout, stderr) = run_with_input(&emu, key, &["--max-retries", "0"], b"hello");
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(appends(&emu), 1, "no retry: {stderr}");
    assert_eq!(stdout.trim(), "position=0 crc64=0");
    assert!(emu.object(BUCKET, key).is_none());
    assert!(
        stderr.contains("oss-append: 5 bytes read from stdin were not appended"),
        "{stderr}"
    );
    let key = "cli/default-retries.log";
    reset_once(key);
    let (code, _, stderr) = run_with_input(&emu, key, &[], b"hello");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(emu.object(BUCKET, key).unwrap().data, b"hello");
}

#[test]
fn an_outage_past_the_deadline_ends_the_run_and_counts_what_was_not_appended() {
    let emu = emulator(None);
    let key = "cli/outage.log";
    let flags = ["--block-size=1k", "--flush-ms=100", "--max-retries=1000"];
    let mut child = cli_on(
        &emu,
        key,
        &[&flags[..], &["--retry-deadline-ms=800"]].concat(),
    )
    .spawn()
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = pattern(1624, 5);
    stdin.write_all(&data[..1024]).unwrap();
    wait_for_length(&emu, key, 1024);
    // From now on every append is cut off mid-body: an outage. The retry count would allow
    // far more than the deadline does.
    emu.inject(Fault::reset_mid_body().for_key(key).times(100_000));
    let outage = Instant::now();
    stdin.write_all(&data[1024..]).unwrap();
    stdin.flush().unwrap();
    // stdin stays open: the run ends by the deadline, not by end of input.
    let out = child.wait_with_output().expect("the CLI runs");
    let elapsed = outage.elapsed();
    drop(stdin);
    emu.clear_faults();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        elapsed < Duration::from_secs(10),
        "the 800 ms deadline ended the retries ({elapsed:?})"
    );
    let object = emu.object(BUCKET, key).unwrap().data;
    assert_eq!(object, &data[..1024]);
    assert!(
        stderr.contains(&format!(
            "oss-append: {} bytes read from stdin were not appended",
            data.len() - object.len()
        )),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("position=1024 crc64={}", crc64::checksum(&object))
    );
}

/// `--credentials-command`: the command (here: the emulator's STS endpoint through curl, tokens
/// living 1 s) runs at first use and again before each token expires, while stdin keeps
/// coming; every byte lands once and nothing of the secrets reaches the output.
#[test]
fn credentials_command_is_run_again_before_the_token_expires() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("SKIP credentials_command_is_run_again_before_the_token_expires: no curl");
        return;
    }
    let mut config = EmulatorConfig::new(AK, SK);
    config.buckets = vec![BUCKET.to_owned()];
    config.enable_fault_admin = true;
    let emu = start_blocking(config).expect("emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let command = format!(
        "echo run >> '{}'; curl -sf -H 'x-oss-emulator-admin: 1' -d lifetime-ms=1000 {}/__sts",
        calls.display(),
        emu.endpoint()
    );
    let key = "cli/rotating.log";
    let mut child = cli(
        &emu,
        &[
            "--bucket",
            BUCKET,
            "--key",
            key,
            "--flush-ms",
            "50",
            "--credentials-command",
            &command,
        ],
    )
    .env_remove("OSS_ACCESS_KEY_ID")
    .env_remove("OSS_ACCESS_KEY_SECRET")
    .env("OSS_APPEND_LOG", "info")
    .spawn()
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut sent = Vec::new();
    // About 3 s of input: tokens of 1 s are refreshed after half their life.
    for i in 0..30 {
        let line = format!("line {i}\n");
        stdin.write_all(line.as_bytes()).unwrap();
        sent.extend_from_slice(line.as_bytes());
        wait_for_length(&emu, key, sent.len());
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let (ok, stdout, stderr) = finish(child);
    assert!(ok, "stdout {stdout} stderr {stderr}");
    assert_eq!(emu.object(BUCKET, key).unwrap().data, sent);
    let runs = std::fs::read_to_string(&calls).unwrap().lines().count();
    assert!(runs >= 3, "the command ran {runs} times");
    assert!(stderr.contains("credentials refreshed"), "{stderr}");
    assert!(!stderr.contains("accessKeySecret\":\""), "{stderr}");

    // A command that fails: bad usage is not the reason, the credentials are; exit status 1.
    let child = cli(
        &emu,
        &[
            "--bucket",
            BUCKET,
            "--key",
            "cli/no.log",
            "--max-retries",
            "0",
            "--credentials-command",
            "echo nope; exit 4",
        ],
    )
    .env_remove("OSS_ACCESS_KEY_ID")
    .env_remove("OSS_ACCESS_KEY_SECRET")
    .env_remove("OSS_APPEND_LOG")
    .spawn()
    .unwrap();
    let (ok, _, stderr) = finish(child);
    assert!(!ok);
    assert!(stderr.contains("--credentials-command failed"), "{stderr}");
}

#[test]
fn over_https_with_ca_certs_and_resolve_as_in_production() {
    let pki = oss_emulator::tls::generate(
        &[
            "*.oss-cn-hangzhou.aliyuncs.com",
            "oss-cn-hangzhou.aliyuncs.com",
        ],
        oss_emulator::Validity::Current,
    )
    .unwrap();
    let mut config = EmulatorConfig::new(AK, SK);
    config.buckets = vec![BUCKET.to_owned()];
    config.tls = Some(pki.identity());
    let emu = start_blocking(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let resolve = format!("{BUCKET}.oss-cn-hangzhou.aliyuncs.com={}", emu.local_addr());
    let run = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oss-append"));
        cmd.args([
            "--region",
            "cn-hangzhou",
            "--bucket",
            BUCKET,
            "--key",
            "cli/tls.log",
        ])
        .args(["--resolve", &resolve, "--max-retries", "0"])
        .args(extra)
        .env("OSS_ACCESS_KEY_ID", AK)
        .env("OSS_ACCESS_KEY_SECRET", SK)
        .env_remove("OSS_SESSION_TOKEN")
        .env_remove("OSS_ENDPOINT")
        .env_remove("OSS_REGION")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"over TLS\n")
            .unwrap();
        finish(child)
    };
    // Without the CA the default trust refuses the throwaway certificate: nothing is stored.
    let (ok, _, stderr) = run(&[]);
    assert!(!ok);
    assert!(stderr.contains("unknown issuer"), "{stderr}");
    assert!(emu.object(BUCKET, "cli/tls.log").is_none());
    // With it, the default endpoint (https, virtual-hosted) reaches the emulator by name.
    let (ok, _, stderr) = run(&["--ca-certs", ca.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(
        emu.object(BUCKET, "cli/tls.log").unwrap().data,
        b"over TLS\n"
    );
    assert_eq!(
        emu.tls_handshakes(),
        1,
        "the refused handshake is not counted"
    );
    // Bad flags are usage errors naming the flag.
    let (ok, _, stderr) = run(&[
        "--ca-certs",
        dir.path().join("absent.pem").to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("--ca-certs"), "{stderr}");
    let mut bad = Command::new(env!("CARGO_BIN_EXE_oss-append"));
    let out = bad
        .args(["--region", "cn-hangzhou", "--bucket", BUCKET, "--key", "k"])
        .args(["--resolve", "no-equals-sign"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOST=ADDR"));
}

/// Whether some spool segment in `dir` holds `needle`.
fn spool_holds(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            std::fs::read(e.path()).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        })
    })
}

#[test]
fn with_a_spool_input_read_survives_a_killed_run_and_is_uploaded_by_the_next() {
    let emu = emulator(None);
    let spool = tempfile::tempdir().unwrap();
    let dir = spool.path().to_str().unwrap();
    let key = "spooled/cli.log";
    let (code, stdout, stderr) =
        run_with_input(&emu, key, &["--spool", dir, "--flush-ms", "10"], b"first\n");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("position=6 crc64={}", crc64::checksum(b"first\n"))
    );
    // A run that cannot reach OSS reads its input into the spool and is killed there.
    let mut offline = Command::new(env!("CARGO_BIN_EXE_oss-append"))
        .args([
            "--region",
            "cn-hangzhou",
            "--endpoint",
            "http://127.0.0.1:9",
        ])
        .args(["--bucket", BUCKET, "--key", key, "--spool", dir])
        .env("OSS_ACCESS_KEY_ID", AK)
        .env("OSS_ACCESS_KEY_SECRET", SK)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = offline.stdin.take().unwrap();
    stdin.write_all(b"second\n").unwrap();
    let started = std::time::Instant::now();
    while !spool_holds(spool.path(), b"second\n") {
        assert!(started.elapsed() < Duration::from_secs(10), "never spooled");
        std::thread::sleep(Duration::from_millis(20));
    }
    offline.kill().unwrap();
    offline.wait().unwrap();
    assert_eq!(emu.object(BUCKET, key).unwrap().data, b"first\n");
    let (code, stdout, stderr) =
        run_with_input(&emu, key, &["--spool", dir, "--flush-ms", "10"], b"third\n");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("left in the spool by an earlier run"),
        "{stderr}"
    );
    let all = b"first\nsecond\nthird\n";
    assert_eq!(emu.object(BUCKET, key).unwrap().data, all);
    assert_eq!(
        stdout.trim(),
        format!("position={} crc64={}", all.len(), crc64::checksum(all))
    );
    // --seal does not go with --spool.
    let (code, _, stderr) = run_with_input(&emu, key, &["--spool", dir, "--seal"], b"");
    assert_eq!(code, Some(2), "{stderr}");
}
