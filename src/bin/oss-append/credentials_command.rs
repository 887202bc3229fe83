//! `--credentials-command CMD`: credentials from a command, as the AWS CLI's
//! `credential_process` gets them. CMD runs through `sh -c` when the first request needs
//! credentials and again before they expire (the library's refresh rules: 5 minutes before, or
//! after half their lifetime for short-lived ones, and when OSS refuses them), so a long
//! `tail -f | oss-append` outlives any one STS token.
//!
//! CMD prints one JSON object on stdout (at most [`MAX_OUTPUT`] bytes) and exits 0:
//! `{"accessKeyId": "...", "accessKeySecret": "...", "securityToken": "...", "expiration":
//! "2026-05-01T12:00:00Z"}` — `securityToken` and `expiration` optional; `expiration` an RFC
//! 3339 UTC time or milliseconds since 1970. STS's own spelling (`AccessKeyId`,
//! `AccessKeySecret`, `SecurityToken`, `Expiration`, also nested in `"Credentials": {...}`) is
//! accepted too. Its stderr goes to ours. A failure (exit status, too much output, bad JSON, a
//! missing field) is a credentials error naming the rule, never echoing the output (it holds
//! secrets).

use std::process::Stdio;

use std::time::{Duration, UNIX_EPOCH};

use oss_append::client::credentials::CredentialsFuture;
use oss_append::{Credentials, CredentialsProvider, ProvidedCredentials};
use tokio::io::AsyncReadExt;

/// The most a credentials command may print.
pub const MAX_OUTPUT: usize = 64 * 1024;

/// Runs the command for credentials.
pub struct CommandProvider {
    command: String,
}

impl CommandProvider {
    pub fn new(command: String) -> Self {
        Self { command }
    }
}

impl CredentialsProvider for CommandProvider {
    fn fetch(&self) -> CredentialsFuture {
        let command = self.command.clone();
        Box::pin(async move { Ok(parse(&run(&command).await?)?) })
    }
}

/// Runs `sh -c command`: its stdout, bounded. The library bounds each fetch by a timeout and
/// drops the fetch when it passes: the command is killed then (`kill_on_drop`), not left to
/// hang on beside the tool.
async fn run(command: &str) -> Result<Vec<u8>, String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("--credentials-command could not be started: {e}"))?;
    let mut output = Vec::new();
    let read = child
        .stdout
        .take()
        .expect("piped")
        .take(MAX_OUTPUT as u64 + 1)
        .read_to_end(&mut output)
        .await;
    if read.is_err() || output.len() > MAX_OUTPUT {
        let _ = child.kill().await;
        return Err(match read {
            Err(e) => format!("reading the output of --credentials-command failed: {e}"),
            Ok(_) => format!("--credentials-command printed more than {MAX_OUTPUT} bytes"),
        });
    }
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for --credentials-command failed: {e}"))?;
    if !status.success() {
        return Err(format!("--credentials-command failed ({status})"));
    }
    Ok(output)
}

/// The credentials in a command's output (see the module docs).
pub fn parse(output: &[u8]) -> Result<ProvidedCredentials, String> {
    let value: serde_json::Value = serde_json::from_slice(output).map_err(|e| {
        format!(
            "the output of --credentials-command is not JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let object = value
        .get("Credentials")
        .unwrap_or(&value)
        .as_object()
        .ok_or("the output of --credentials-command must be a JSON object")?;
    let text = |camel: &str, pascal: &str| -> Result<Option<String>, String> {
        match object.get(camel).or_else(|| object.get(pascal)) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!(
                "{camel} in the output of --credentials-command must be a string"
            )),
        }
    };
    let bad_expiration = || {
        "expiration in the output of --credentials-command must be an RFC 3339 UTC time \
         (2026-05-01T12:00:00Z) or milliseconds since 1970"
            .to_owned()
    };
    let expiration = match object
        .get("expiration")
        .or_else(|| object.get("Expiration"))
    {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => {
            let t = s.trim();
            Some(
                humantime::parse_rfc3339_weak(t.strip_suffix('Z').unwrap_or(t))
                    .map_err(|_| bad_expiration())?,
            )
        }
        Some(serde_json::Value::Number(n)) => {
            let ms = n.as_u64().ok_or_else(bad_expiration)?;
            Some(UNIX_EPOCH + Duration::from_millis(ms))
        }
        Some(_) => return Err(bad_expiration()),
    };
    let required = |camel: &str, pascal: &str| {
        text(camel, pascal)?
            .ok_or_else(|| format!("the output of --credentials-command has no {camel}"))
    };
    let credentials = Credentials::new(
        required("accessKeyId", "AccessKeyId")?,
        required("accessKeySecret", "AccessKeySecret")?,
        text("securityToken", "SecurityToken")?,
    )
    .map_err(|e| format!("--credentials-command printed unusable credentials: {e}"))?;
    Ok(ProvidedCredentials::new(credentials, expiration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_and_the_bad_cases() {
        let p = parse(
            br#"{"accessKeyId":"STS.a","accessKeySecret":"s3cr3t","securityToken":"t0k","expiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(p.credentials.access_key_id(), "STS.a");
        assert!(p.expiration.is_some());
        let p = parse(
            br#"{"RequestId":"x","Credentials":{"AccessKeyId":"STS.b","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T00:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(p.credentials.access_key_id(), "STS.b");
        for (bad, says) in [
            (&b"not json s3cr3t"[..], "not JSON"),
            (b"[1]", "JSON object"),
            (br#"{"accessKeyId":"a"}"#, "no accessKeySecret"),
            (
                br#"{"accessKeyId":1,"accessKeySecret":"s3cr3t"}"#,
                "must be a string",
            ),
            (
                br#"{"accessKeyId":"a","accessKeySecret":"s3cr3t","expiration":"soon"}"#,
                "expiration",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{e}");
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }

    #[tokio::test]
    async fn the_command_runs_and_its_failures_are_named() {
        let out = run("printf '%s' '{\"x\":1}'").await.unwrap();
        assert_eq!(out, br#"{"x":1}"#);
        assert!(run("exit 3").await.unwrap_err().contains("failed"));
        let e = run(&format!("head -c {} /dev/zero", MAX_OUTPUT + 10))
            .await
            .unwrap_err();
        assert!(e.contains("more than"), "{e}");
    }

    /// Whether process `pid` still runs (a zombie, killed and not yet reaped, does not).
    fn running(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            })
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_killed_when_the_fetch_gives_up() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            println!("SKIP a_command_that_hangs_is_killed_when_the_fetch_gives_up: no /proc");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // `exec`: the shell becomes the sleep, so the pid written is the child's own.
        let command = format!("echo $$ > '{}'; exec sleep 30", pid_file.display());
        let provider = CommandProvider::new(command);
        let fetch = provider.fetch();
        // What the library's refresh timeout does: give up on the fetch, dropping it.
        let gave_up = tokio::time::timeout(Duration::from_millis(500), fetch).await;
        assert!(gave_up.is_err(), "the hanging command answered");
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while running(pid) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            !running(pid),
            "the command (pid {pid}) still runs after the fetch was dropped"
        );
    }
}
