//! `oss-append`: appends a file or stdin to an OSS appendable object through an append session
//! (resume at the object's end, automatic positions, verified CRC-64 chain, recovery of lost
//! answers). Built with the `cli` feature (on by default on hosts; OHOS builds leave it out).
//!
//! ```text
//! tail -f app.log | oss-append --region cn-hangzhou --bucket b --key logs/app.log
//! ```

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use oss_append::{
    AppendOptions, AppenderOptions, Body, Client, ClientConfig, Credentials, SessionError,
    SignatureVersion,
};

const USAGE: &str = "\
oss-append: append a file or stdin to an Alibaba Cloud OSS appendable object

Usage:
  oss-append --bucket NAME --key KEY [options] [FILE]
  tail -f app.log | oss-append --region cn-hangzhou --bucket NAME --key logs/app.log

Appends FILE (streamed, in one append) or, without FILE or with '-', stdin. The object is
created by the first append, or resumed at its end if it is appendable already. Appends go
through an append session: positions are automatic, every append's CRC-64 is checked, and
failures are retried or, when an answer was lost, checked with HEAD so nothing is written twice.

stdin is read as it arrives and appended in blocks: a block goes out as soon as --block-size
bytes are buffered, or when input has been idle for --flush-ms with something buffered, or
when the oldest buffered byte has waited --max-delay-ms; at end of input, or on SIGINT/SIGTERM,
what is buffered is appended and the tool exits.

At the end it prints `position=<object length> crc64=<CRC-64 of the whole object>` on stdout.

Options:
  --bucket NAME          bucket (required)
  --key KEY              object key (required)
  --region REGION        region, e.g. cn-hangzhou or oss-cn-hangzhou (default: $OSS_REGION)
  --endpoint URL         endpoint (default: $OSS_ENDPOINT, else https://oss-<region>.aliyuncs.com)
  --v1                   sign with signature V1 (default: V4)
  --path-style           address the bucket in the path
  --block-size BYTES     stdin block size; suffixes k, m (KiB, MiB) allowed (default 1m)
  --flush-ms MS          append buffered stdin after this much idle time (default 1000)
  --max-delay-ms MS      append buffered stdin at the latest this long after it arrived
                         (default 10000)
  --content-type TYPE    Content-Type of the object (when the append creates it)
  --seal                 seal the object at the end (it takes no more appends)
  -h, --help             this text
  -V, --version          the version

Environment:
  OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET   credentials (required)
  OSS_SESSION_TOKEN                          STS security token (optional)
  OSS_APPEND_LOG=error|warn|info|debug       log records on stderr (never secrets)

Exit status: 0 when everything read was appended, 1 on an OSS or network failure (what was
appended before it is printed), 2 on bad usage.
";

#[derive(Debug)]
struct Args {
    bucket: String,
    key: String,
    region: Option<String>,
    endpoint: Option<String>,
    v1: bool,
    path_style: bool,
    block_size: usize,
    flush: Duration,
    max_delay: Duration,
    content_type: Option<String>,
    seal: bool,
    file: Option<PathBuf>,
}

#[derive(Debug)]
enum Parsed {
    Run(Box<Args>),
    Help,
    Version,
}

fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, unit) = match t.strip_suffix(['k', 'm']) {
        Some(d) if t.ends_with('k') => (d, 1024),
        Some(d) => (d, 1024 * 1024),
        None => (t.as_str(), 1),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("--block-size: not a size: {text:?}"))?;
    let size = n
        .checked_mul(unit)
        .ok_or_else(|| format!("--block-size: too large: {text:?}"))?;
    if size == 0 || size > 1024 * 1024 * 1024 {
        return Err(format!(
            "--block-size: must be between 1 byte and 1 GiB, got {text:?}"
        ));
    }
    Ok(size)
}

fn parse_ms(flag: &str, text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{flag}: must be a positive number of milliseconds, got {text:?}"
        )),
    }
}

fn parse_args(argv: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut it = argv.into_iter();
    let mut bucket = None;
    let mut key = None;
    let mut region = std::env::var("OSS_REGION").ok().filter(|s| !s.is_empty());
    let mut endpoint = std::env::var("OSS_ENDPOINT").ok().filter(|s| !s.is_empty());
    let mut v1 = false;
    let mut path_style = false;
    let mut block_size = 1024 * 1024;
    let mut flush = Duration::from_millis(1000);
    let mut max_delay = Duration::from_millis(10_000);
    let mut content_type = None;
    let mut seal = false;
    let mut file: Option<PathBuf> = None;
    while let Some(arg) = it.next() {
        // `--flag=value` and `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            "--bucket" => bucket = Some(value("--bucket")?),
            "--key" => key = Some(value("--key")?),
            "--region" => region = Some(value("--region")?),
            "--endpoint" => endpoint = Some(value("--endpoint")?),
            "--v1" => v1 = true,
            "--path-style" => path_style = true,
            "--block-size" => block_size = parse_size(&value("--block-size")?)?,
            "--flush-ms" => flush = parse_ms("--flush-ms", &value("--flush-ms")?)?,
            "--max-delay-ms" => max_delay = parse_ms("--max-delay-ms", &value("--max-delay-ms")?)?,
            "--content-type" => content_type = Some(value("--content-type")?),
            "--seal" => seal = true,
            "-" => file = None,
            f if f.starts_with('-') => return Err(format!("unknown option {f}")),
            _ => {
                if file.is_some() {
                    return Err("only one FILE can be given".into());
                }
                file = Some(PathBuf::from(arg));
            }
        }
    }
    let bucket = bucket.ok_or("--bucket is required")?;
    let key = key.ok_or("--key is required")?;
    Ok(Parsed::Run(Box::new(Args {
        bucket,
        key,
        region,
        endpoint,
        v1,
        path_style,
        block_size,
        flush,
        max_delay,
        content_type,
        seal,
        file,
    })))
}

fn client(args: &Args) -> Result<Client, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(id), Some(secret)) = (env("OSS_ACCESS_KEY_ID"), env("OSS_ACCESS_KEY_SECRET")) else {
        return Err(
            "set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN for \
                    STS credentials)"
                .into(),
        );
    };
    let region = args
        .region
        .clone()
        .ok_or("--region is required (or set OSS_REGION)")?;
    let credentials =
        Credentials::new(id, secret, env("OSS_SESSION_TOKEN")).map_err(|e| e.to_string())?;
    let mut config = ClientConfig::new(credentials, &region).map_err(|e| e.to_string())?;
    if let Some(endpoint) = &args.endpoint {
        config = config.with_endpoint(endpoint.clone());
    }
    if args.v1 {
        config = config.with_signature_version(SignatureVersion::V1);
    }
    config = config.with_path_style(args.path_style);
    Client::new(config).map_err(|e| e.to_string())
}

/// What the stdin reader thread sends.
enum Input {
    Data(Vec<u8>),
    End,
    Failed(std::io::Error),
}

/// Reads stdin on its own thread (reads block) and forwards what arrives.
fn read_stdin(tx: tokio::sync::mpsc::Sender<Input>) {
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let message = match stdin.read(&mut buf) {
                Ok(0) => Input::End,
                Ok(n) => Input::Data(buf[..n].to_vec()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Input::Failed(e),
            };
            let last = !matches!(message, Input::Data(_));
            if tx.blocking_send(message).is_err() || last {
                return;
            }
        }
    });
}

/// Resolves on SIGINT or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn describe(e: &SessionError) -> String {
    e.to_string()
}

async fn run(args: Args) -> Result<(), (u8, String)> {
    let client = client(&args).map_err(|e| (2, e))?;
    let options = AppendOptions {
        content_type: args.content_type.clone(),
        ..AppendOptions::default()
    };
    let mut session = client
        .appender(AppenderOptions::new(&args.bucket, &args.key).with_options(options))
        .await
        .map_err(|e| {
            (
                1,
                format!("cannot open {}/{}: {}", args.bucket, args.key, describe(&e)),
            )
        })?;
    let report = |s: &oss_append::Appender| {
        println!("position={} crc64={}", s.position(), s.crc64());
    };
    let failed = |s: &oss_append::Appender, e: SessionError| {
        report(s);
        (
            1,
            format!(
                "append to {}/{} failed: {}",
                args.bucket,
                args.key,
                describe(&e)
            ),
        )
    };

    if let Some(path) = &args.file {
        if let Err(e) = session.append(Body::from_path(path)).await {
            return Err(failed(&session, e));
        }
    } else {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Input>(16);
        read_stdin(tx);
        let mut buffer: Vec<u8> = Vec::new();
        let mut first_at = Instant::now();
        let interrupt = interrupted();
        tokio::pin!(interrupt);
        loop {
            let wait = if buffer.is_empty() {
                None
            } else {
                Some(
                    args.flush
                        .min(args.max_delay.saturating_sub(first_at.elapsed())),
                )
            };
            let next = tokio::select! {
                biased;
                () = &mut interrupt => None,
                m = rx.recv() => Some(m.unwrap_or(Input::End)),
                () = sleep_or_never(wait) => {
                    // Idle (or the oldest byte waited long enough): append what is buffered.
                    let block = std::mem::take(&mut buffer);
                    if let Err(e) = session.append(block).await {
                        return Err(failed(&session, e));
                    }
                    continue;
                }
            };
            match next {
                Some(Input::Data(data)) => {
                    if buffer.is_empty() {
                        first_at = Instant::now();
                    }
                    buffer.extend_from_slice(&data);
                    while buffer.len() >= args.block_size {
                        let rest = buffer.split_off(args.block_size);
                        let block = std::mem::replace(&mut buffer, rest);
                        if let Err(e) = session.append(block).await {
                            return Err(failed(&session, e));
                        }
                        first_at = Instant::now();
                    }
                }
                Some(Input::Failed(e)) => {
                    if !buffer.is_empty() {
                        if let Err(e) = session.append(std::mem::take(&mut buffer)).await {
                            return Err(failed(&session, e));
                        }
                    }
                    report(&session);
                    return Err((1, format!("reading stdin failed: {e}")));
                }
                Some(Input::End) | None => break,
            }
        }
        if !buffer.is_empty() {
            if let Err(e) = session.append(buffer).await {
                return Err(failed(&session, e));
            }
        }
    }
    if args.seal {
        if let Err(e) = session.seal().await {
            return Err(failed(&session, e));
        }
    }
    report(&session);
    Ok(())
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => *args,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("oss-append {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("oss-append: {e}\nTry 'oss-append --help'.");
            return ExitCode::from(2);
        }
    };
    oss_append::logging::init_from_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oss-append: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(args));
    // The stdin thread may still be blocked in read(); don't wait for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("oss-append: {message}");
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn sizes_and_flags() {
        assert_eq!(parse_size("4k").unwrap(), 4096);
        assert_eq!(parse_size("2M").unwrap(), 2 << 20);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("0").is_err() && parse_size("x").is_err() && parse_size("2g").is_err());
        let Parsed::Run(a) = parse(&[
            "--bucket=b",
            "--key",
            "k",
            "--v1",
            "--block-size",
            "1k",
            "f.log",
        ])
        .unwrap() else {
            panic!("expected a run")
        };
        assert_eq!(
            (a.bucket.as_str(), a.key.as_str(), a.v1, a.block_size),
            ("b", "k", true, 1024)
        );
        assert_eq!(a.file, Some(PathBuf::from("f.log")));
        assert!(matches!(parse(&["--help"]), Ok(Parsed::Help)));
        assert!(parse(&["--key", "k"]).unwrap_err().contains("--bucket"));
        assert!(parse(&["--bucket", "b", "--key", "k", "--nope"])
            .unwrap_err()
            .contains("--nope"));
        assert!(parse(&["--bucket"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--bucket", "b", "--key", "k", "--flush-ms", "0"]).is_err());
    }
}
