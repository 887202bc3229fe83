//! The command line (clap) and what it resolves to: the object, the client configuration (with
//! its environment fallbacks) and the stdin batching.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use oss_append::session::retry::{DEFAULT_DEADLINE, DEFAULT_MAX_RETRIES};

use oss_append::{ClientConfig, Credentials, Error, RetryPolicy, SignatureVersion};

const USAGE: &str = "\
oss-append --bucket NAME --key KEY [OPTIONS] [FILE]
       tail -f app.log | oss-append --region cn-hangzhou --bucket NAME --key logs/app.log";

const ABOUT: &str = "oss-append: append a file or stdin to an Alibaba Cloud OSS appendable object";

const LONG_ABOUT: &str = "\
oss-append: append a file or stdin to an Alibaba Cloud OSS appendable object

Appends FILE (streamed, in one append) or, without FILE or with '-', stdin. The object is
created by the first append, or resumed at its end if it is appendable already. Appends go
through an append session: positions are automatic, every append's CRC-64 is checked, and
failures are retried (--max-retries, --retry-deadline-ms) or, when an answer was lost, checked
with HEAD so nothing is written twice.

stdin is read as it arrives and appended in blocks: a block goes out as soon as --block-size
bytes are buffered, or when input has been idle for --flush-ms with something buffered, or
when the oldest buffered byte has waited --max-delay-ms; at end of input, or on SIGINT/SIGTERM,
what is buffered is appended and the tool exits.

With --spool DIR the input goes through a durable append stream instead: each block read is
written to a write-ahead log in DIR (fsynced) before it is uploaded, uploads are retried for as
long as an outage lasts, and at end of input the tool waits until everything is in OSS. On
SIGINT/SIGTERM, or when killed, what was read stays in DIR; the next run with the same DIR,
bucket and key uploads it exactly once before anything new.";

// In `after_help` rather than `long_about` so that `-h` shows it too: scripts depend on it.
const AFTER_HELP: &str = "\
At the end it prints `position=<object length> crc64=<CRC-64 of the whole object>` on stdout.
After a failure it prints only what is known: when the outcome of an append could not be
learned, or another writer changed the object, the object is asked (HEAD) first; if that fails
too, it prints `position=unknown`. On stderr it then says how many bytes of the input were not
appended (`oss-append: N bytes read from stdin were not appended`).

Environment:
  OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET   credentials (required without --credentials-command)
  OSS_SESSION_TOKEN                          STS security token (optional)
  OSS_REGION, OSS_ENDPOINT                   defaults of --region and --endpoint
  OSS_APPEND_LOG=error|warn|info|debug       log records on stderr (never secrets)

Exit status: 0 when everything read was appended, 1 on an OSS or network failure (what was
appended before it is printed), 2 on bad usage, 3 on a failure after which the object's length
could not be learned (`position=unknown`).";

/// The largest `--block-size`: one append of a block is held in memory.
const MAX_BLOCK_SIZE: usize = 1024 * 1024 * 1024;

#[derive(Debug, Parser)]
#[command(
    name = "oss-append",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    override_usage = USAGE,
    after_help = AFTER_HELP
)]
pub struct Args {
    /// bucket (required)
    // Optional for clap and checked in `Args::object`, so that a missing one is reported as
    // "--bucket is required", the wording the tool has always had.
    #[arg(long, value_name = "NAME")]
    bucket: Option<String>,

    /// object key (required)
    #[arg(long, value_name = "KEY")]
    key: Option<String>,

    /// region, e.g. cn-hangzhou or oss-cn-hangzhou (default: $OSS_REGION)
    // No clap `env`: an empty variable counts as unset here (as the credentials do), while an
    // explicit empty --region still reaches the configuration and is refused there.
    #[arg(long, value_name = "REGION")]
    region: Option<String>,

    /// credentials from a command (run with sh -c, again before they expire): it prints
    /// {"accessKeyId","accessKeySecret","securityToken","expiration"} as JSON
    #[arg(long, value_name = "CMD")]
    credentials_command: Option<String>,

    /// endpoint (default: $OSS_ENDPOINT, else https://oss-<region>.aliyuncs.com)
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,

    /// also trust the CA certificates in this PEM file (private OSS deployments, enterprise
    /// proxies); there is no way to skip certificate checks
    #[arg(long, value_name = "FILE")]
    ca_certs: Option<PathBuf>,

    /// resolve HOST to ADDR without DNS (repeatable), e.g.
    /// bucket.oss-cn-hangzhou.aliyuncs.com=10.0.0.7 or =127.0.0.1:8443; the certificate is
    /// still checked against HOST
    #[arg(long, value_name = "HOST=ADDR", value_parser = parse_resolve)]
    resolve: Vec<(String, SocketAddr)>,

    /// sign with signature V1 (default: V4)
    #[arg(long)]
    v1: bool,

    /// address the bucket in the path
    #[arg(long)]
    path_style: bool,

    /// stdin block size; suffixes k, m (KiB, MiB) allowed
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "1m",
        value_parser = parse_size
    )]
    block_size: usize,

    /// append buffered stdin after this much idle time
    #[arg(
        long = "flush-ms",
        value_name = "MS",
        default_value = "1000",
        value_parser = parse_millis
    )]
    flush_after: Duration,

    /// append buffered stdin at the latest this long after it arrived
    #[arg(
        long = "max-delay-ms",
        value_name = "MS",
        default_value = "10000",
        value_parser = parse_millis
    )]
    max_delay: Duration,

    /// retries of each append (and of each HEAD that checks one) after transient failures;
    /// 0 to 1000
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_RETRIES,
        value_parser = parse_max_retries
    )]
    max_retries: u32,

    /// no retry of an append starts this long after it began; at most one day
    #[arg(
        long = "retry-deadline-ms",
        value_name = "MS",
        default_value_t = DEFAULT_DEADLINE.as_millis() as u64,
        value_parser = parse_retry_deadline
    )]
    retry_deadline_ms: u64,

    /// Content-Type of the object (when the append creates it)
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,

    /// seal the object at the end (it takes no more appends)
    #[arg(long)]
    pub seal: bool,

    /// spool the input in DIR first (a durable append stream): input read is on disk before
    /// it is uploaded, outages are ridden out for as long as they last, and a later run with
    /// the same DIR uploads what an earlier one left; not with --seal
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,

    /// file to append; none or '-': stdin
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

/// The object appended to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bucket: String,
    pub key: String,
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.bucket, self.key)
    }
}

/// Parses the process's command line, or exits: status 0 after `--help` / `--version`, 2 with
/// clap's message on bad usage.
pub fn parse() -> (Args, Object) {
    let args = Args::parse();
    match args.object() {
        Ok(object) => (args, object),
        Err(e) => e.exit(),
    }
}

impl Args {
    /// The bucket and key, both required.
    fn object(&self) -> Result<Object, clap::Error> {
        let required = |value: &Option<String>, flag: &str| {
            value.clone().ok_or_else(|| {
                Args::command().error(
                    ErrorKind::MissingRequiredArgument,
                    format!("{flag} is required"),
                )
            })
        };
        Ok(Object {
            bucket: required(&self.bucket, "--bucket")?,
            key: required(&self.key, "--key")?,
        })
    }

    /// The file to append, or `None` for stdin (no FILE, or `-`).
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref().filter(|path| *path != Path::new("-"))
    }

    /// `--credentials-command`, if given.
    pub fn credentials_command(&self) -> Option<&str> {
        self.credentials_command.as_deref()
    }

    pub fn batching(&self) -> Batching {
        Batching {
            block_size: self.block_size,
            flush_after: self.flush_after,
            max_delay: self.max_delay,
        }
    }

    /// The retry policy of the session and of the final HEAD: the library's defaults with
    /// `--max-retries` and `--retry-deadline-ms` (each checked when parsed).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            deadline: Duration::from_millis(self.retry_deadline_ms),
            ..RetryPolicy::default()
        }
    }

    /// The client configuration: credentials from the environment, region and endpoint from
    /// the flags or the environment. An error here is bad usage (exit status 2).
    pub fn client_config(&self) -> Result<ClientConfig, String> {
        let keys = (env("OSS_ACCESS_KEY_ID"), env("OSS_ACCESS_KEY_SECRET"));
        let credentials = match (&self.credentials_command, keys) {
            (Some(command), _) if command.trim().is_empty() => {
                return Err("--credentials-command must not be empty".into())
            }
            (Some(_), _) => None,
            (None, (Some(id), Some(secret))) => Some(
                Credentials::new(id, secret, env("OSS_SESSION_TOKEN"))
                    .map_err(|e| e.to_string())?,
            ),
            (None, _) => {
                return Err(
                    "set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN \
                        for STS credentials), or give --credentials-command"
                        .into(),
                )
            }
        };
        let region = self
            .region
            .clone()
            .or_else(|| env("OSS_REGION"))
            .ok_or("--region is required (or set OSS_REGION)")?;
        let mut config = match credentials {
            Some(credentials) => ClientConfig::new(credentials, &region),
            None => ClientConfig::without_credentials(&region),
        }
        .map_err(|e| e.to_string())?;
        if let Some(endpoint) = self.endpoint.clone().or_else(|| env("OSS_ENDPOINT")) {
            config = config.with_endpoint(endpoint);
        }
        if self.v1 {
            config = config.with_signature_version(SignatureVersion::V1);
        }
        if let Some(path) = &self.ca_certs {
            config = config.with_ca_certs(read_ca_certs(path)?);
        }
        let mut hosts: std::collections::BTreeMap<String, Vec<SocketAddr>> = Default::default();
        for (host, address) in &self.resolve {
            hosts.entry(host.clone()).or_default().push(*address);
        }
        for (host, addresses) in hosts {
            config = config.with_dns_override(&host, addresses);
        }
        Ok(config.with_path_style(self.path_style))
    }
}

/// `--ca-certs`: the PEM text of a file of at most 1 MiB (checked as certificates when the
/// client is built).
fn read_ca_certs(path: &Path) -> Result<String, String> {
    let limit = 1024 * 1024;
    let meta =
        std::fs::metadata(path).map_err(|e| format!("--ca-certs {}: {e}", path.display()))?;
    if meta.len() > limit {
        return Err(format!(
            "--ca-certs {}: over {limit} bytes; a PEM file of CA certificates is expected",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("--ca-certs {}: {e}", path.display()))
}

/// `--resolve HOST=ADDR`: a host name and an IP address with or without a port.
fn parse_resolve(text: &str) -> Result<(String, SocketAddr), String> {
    let (host, address) = text
        .split_once('=')
        .ok_or_else(|| format!("expected HOST=ADDR, got {text:?}"))?;
    let address = oss_append::protocol::resolver::parse_address(address).map_err(|e| match e {
        Error::InvalidArgument { rule, .. } => rule,
        other => other.to_string(),
    })?;
    Ok((host.trim().to_ascii_lowercase(), address))
}

/// An environment variable; unset, empty and non-UTF-8 all count as absent.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `--block-size`: bytes, or KiB / MiB with a `k` / `m` suffix (any case); 1 byte to 1 GiB.
fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, unit) = match t.strip_suffix(['k', 'm']) {
        Some(d) if t.ends_with('k') => (d, 1024),
        Some(d) => (d, 1024 * 1024),
        None => (t.as_str(), 1),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("not a size: {text:?}"))?;
    let size = n
        .checked_mul(unit)
        .ok_or_else(|| format!("too large: {text:?}"))?;
    if size == 0 || size > MAX_BLOCK_SIZE {
        return Err(format!("must be between 1 byte and 1 GiB, got {text:?}"));
    }
    Ok(size)
}

/// `--flush-ms`, `--max-delay-ms`: a positive number of milliseconds.
fn parse_millis(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "must be a positive number of milliseconds, got {text:?}"
        )),
    }
}

/// `--max-retries`: a number of retries the library's policy accepts.
fn parse_max_retries(text: &str) -> Result<u32, String> {
    let max_retries = text
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("must be a number of retries, got {text:?}"))?;
    accepted(RetryPolicy {
        max_retries,
        ..RetryPolicy::default()
    })?;
    Ok(max_retries)
}

/// `--retry-deadline-ms`: a positive number of milliseconds the library's policy accepts.
fn parse_retry_deadline(text: &str) -> Result<u64, String> {
    let deadline = parse_millis(text)?;
    accepted(RetryPolicy {
        deadline,
        ..RetryPolicy::default()
    })?;
    Ok(deadline.as_millis() as u64)
}

/// The library's verdict on `policy`, as the rule alone: clap names the flag, and the library's
/// field name (`retry.maxRetries`) would only confuse on the command line. The limits live in
/// `RetryPolicy::validate`, so the flags cannot drift from them.
fn accepted(policy: RetryPolicy) -> Result<(), String> {
    policy.validate().map_err(|e| match e {
        Error::InvalidArgument { rule, .. } => rule,
        other => other.to_string(),
    })
}

/// When buffered stdin goes out.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// A block goes out as soon as this many bytes are buffered.
    pub block_size: usize,
    /// ... or after input was idle this long with something buffered ...
    pub flush_after: Duration,
    /// ... or once the oldest buffered byte waited this long.
    pub max_delay: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("oss-append").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4k").unwrap(), 4096);
        assert_eq!(parse_size("2M").unwrap(), 2 << 20);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert_eq!(parse_size("1024m").unwrap(), MAX_BLOCK_SIZE);
        for bad in ["0", "x", "2g", "1025m", "", "99999999999999999999k"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn flags_values_and_defaults() {
        let a = parse(&[
            "--bucket=b",
            "--key",
            "k",
            "--v1",
            "--block-size",
            "1k",
            "f.log",
        ])
        .unwrap();
        assert_eq!(
            a.object().unwrap(),
            Object {
                bucket: "b".into(),
                key: "k".into()
            }
        );
        assert!(a.v1 && !a.path_style && !a.seal);
        assert_eq!(a.file(), Some(Path::new("f.log")));
        let batching = a.batching();
        assert_eq!(batching.block_size, 1024);
        assert_eq!(batching.flush_after, Duration::from_millis(1000));
        assert_eq!(batching.max_delay, Duration::from_millis(10_000));
        assert_eq!(a.retry_policy(), RetryPolicy::default());

        let a = parse(&["--bucket", "b", "--key", "k", "--max-delay-ms=5", "-"]).unwrap();
        assert_eq!(a.file(), None, "'-' is stdin");
        assert_eq!(a.batching().block_size, 1 << 20);
        assert_eq!(a.batching().max_delay, Duration::from_millis(5));

        let a = parse(&[
            "--bucket=b",
            "--key=k",
            "--max-retries=1000",
            "--retry-deadline-ms=86400000",
        ])
        .unwrap();
        let policy = a.retry_policy();
        assert_eq!(policy.max_retries, 1000);
        assert_eq!(policy.deadline, Duration::from_secs(86_400));
        assert!(policy.validate().is_ok());
    }

    #[test]
    fn usage_errors() {
        let missing = |args: &[&str]| parse(args).unwrap().object().unwrap_err();
        let e = missing(&["--key", "k"]);
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument);
        assert!(e.to_string().contains("--bucket is required"), "{e}");
        assert!(missing(&["--bucket", "b"])
            .to_string()
            .contains("--key is required"));
        assert!(missing(&[]).to_string().contains("--bucket is required"));

        let error = |args: &[&str]| parse(args).unwrap_err();
        let e = error(&["--bucket", "b", "--key", "k", "--nope"]);
        assert_eq!(e.kind(), ErrorKind::UnknownArgument);
        assert!(e.to_string().contains("--nope"));
        assert_eq!(error(&["--bucket"]).kind(), ErrorKind::InvalidValue);
        let e = error(&["--bucket", "b", "--key", "k", "--flush-ms", "0"]);
        assert!(
            e.to_string().contains("positive number of milliseconds"),
            "{e}"
        );
        let e = error(&["--bucket", "b", "--key", "k", "--max-retries", "1001"]);
        assert!(e.to_string().contains("--max-retries"), "{e}");
        assert!(
            e.to_string().contains("must be at most 1000, got 1001"),
            "{e}"
        );
        let e = error(&["--key", "k", "--retry-deadline-ms", "86400001"]);
        assert!(e.to_string().contains("--retry-deadline-ms"), "{e}");
        assert!(e.to_string().contains("at most one day"), "{e}");
        assert!(error(&["--max-retries", "x"])
            .to_string()
            .contains("must be a number of retries"));
        assert!(error(&["--bucket", "b", "--key", "k", "--block-size", "0"])
            .to_string()
            .contains("between 1 byte and 1 GiB"));
        assert_eq!(
            error(&["--bucket", "b", "--key", "k", "one", "two"]).kind(),
            ErrorKind::UnknownArgument
        );
        assert_eq!(error(&["--help"]).kind(), ErrorKind::DisplayHelp);
        assert_eq!(error(&["-V"]).kind(), ErrorKind::DisplayVersion);
        assert_eq!(error(&["--help"]).exit_code(), 0);
        assert_eq!(error(&["--nope"]).exit_code(), 2);
    }
}
