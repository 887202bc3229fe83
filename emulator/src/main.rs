//! `oss-emulator`: runs the strict local OSS-compatible server until SIGINT or SIGTERM.

use clap::builder::RangedU64ValueParser;
use clap::Parser;
use oss_emulator::{EmulatorConfig, Fault};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A strict, local Alibaba Cloud OSS-compatible server for tests (AppendObject, PutObject,
/// GetObject, HeadObject, DeleteObject; V1 and V4 header signatures; STS tokens).
///
/// Prints `listening on http://127.0.0.1:PORT` (`https://…` with --tls-cert or --tls-generate)
/// as the first line on stdout, then serves until SIGINT or SIGTERM and exits 0. Secrets are
/// never printed.
///
/// The key id, secret and security token can come from OSS_EMULATOR_ACCESS_KEY_ID,
/// OSS_EMULATOR_ACCESS_KEY_SECRET and OSS_EMULATOR_SECURITY_TOKEN instead of flags; a flag given
/// on the command line wins over its variable.
#[derive(Parser, Debug)]
#[command(name = "oss-emulator", version)]
struct Args {
    /// Address to listen on; must be a loopback address. Port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Directory for durable object storage (one subdirectory per bucket). Objects survive
    /// restarts. Without it everything is kept in memory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// A bucket that exists (repeat for more). Other bucket names answer NoSuchBucket.
    #[arg(long = "bucket", value_name = "NAME", required = true)]
    buckets: Vec<String>,

    /// The AccessKey ID requests must be signed with.
    #[arg(long, value_name = "AK", env = "OSS_EMULATOR_ACCESS_KEY_ID", hide_env_values = true,
          value_parser = non_empty)]
    access_key_id: String,

    /// The AccessKey secret requests must be signed with. Prefer the environment variable: a
    /// flag is visible to every local user in `ps`.
    #[arg(long, value_name = "SK", env = "OSS_EMULATOR_ACCESS_KEY_SECRET",
          hide_env_values = true, value_parser = non_empty)]
    access_key_secret: String,

    /// Treat the key as an STS key: every request must carry this x-oss-security-token. Prefer
    /// the environment variable: a flag is visible to every local user in `ps`.
    #[arg(long, value_name = "TOKEN", env = "OSS_EMULATOR_SECURITY_TOKEN",
          hide_env_values = true, value_parser = non_empty)]
    security_token: Option<String>,

    /// Region id the V4 signing scope must name (no "oss-" prefix).
    #[arg(long, value_name = "REGION", default_value = "cn-hangzhou")]
    region: String,

    /// Serve the unsigned fault admin endpoint on the same port: POST/GET/DELETE /__faults
    /// (one fault spec per line), POST /__restart, and POST /__sts (body lifetime-ms=N: issues
    /// STS credentials that expire, answered as JSON). Requests must carry the header
    /// "x-oss-emulator-admin: 1" and no Origin header (so no web page can use it). Off by
    /// default.
    #[arg(long)]
    enable_fault_admin: bool,

    /// Queue a scripted fault at start (repeatable), e.g.
    /// "action=drop-after-commit,count=2,key=logs/a.log" or "action=status,status=503".
    /// Actions: drop-after-commit, drop-before-commit, reset-mid-body, status, delay-response,
    /// slow-read, corrupt, restart.
    #[arg(long = "fault", value_name = "SPEC", value_parser = parse_fault)]
    faults: Vec<Fault>,

    /// How long a connection may take to send a request header, in milliseconds; also how
    /// long an idle keep-alive connection stays open. Then the connection is closed.
    #[arg(long, value_name = "MS",
          default_value_t = oss_emulator::DEFAULT_HEADER_READ_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64)
              .range(1..=oss_emulator::MAX_HEADER_READ_TIMEOUT.as_millis() as u64))]
    header_read_timeout_ms: u64,

    /// Connections served at once. Beyond it the emulator stops accepting until one ends: new
    /// connections wait in the listen backlog (they are not refused).
    #[arg(long, value_name = "N", default_value_t = oss_emulator::DEFAULT_MAX_CONNECTIONS,
          value_parser = RangedU64ValueParser::<usize>::new()
              .range(1..=oss_emulator::MAX_CONNECTIONS_LIMIT as u64))]
    max_connections: usize,

    /// Request records kept in memory (the most recent ones).
    #[arg(long, value_name = "N", default_value_t = oss_emulator::DEFAULT_REQUEST_LOG_LIMIT,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    request_log_limit: usize,

    /// Serve HTTPS with this certificate chain (PEM: the server certificate first, then any
    /// intermediates). Needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_generate"
    )]
    tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Serve HTTPS with a throwaway test CA and a server certificate it signs for these DNS
    /// names and IP addresses (comma-separated, wildcards allowed), e.g.
    /// "*.oss-cn-hangzhou.aliyuncs.com,oss-cn-hangzhou.aliyuncs.com,127.0.0.1". A new CA every
    /// start; its certificate goes to --tls-ca-out. Tests only.
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',', num_args = 1..,
          requires = "tls_ca_out")]
    tls_generate: Vec<String>,

    /// Where --tls-generate writes the CA certificate (PEM) that clients must trust. Written
    /// before the listening line is printed.
    #[arg(long, value_name = "FILE", requires = "tls_generate")]
    tls_ca_out: Option<PathBuf>,

    /// Runtime worker threads (default: one per core). With one, a request's tasks never wake
    /// an idle second worker, which keeps small requests' latency and CPU low (benchmarks).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    worker_threads: Option<u16>,
}

/// Secrets must not be empty (an empty environment variable is a mistake, not "no secret").
/// The error never repeats the value.
fn non_empty(value: &str) -> Result<String, String> {
    if value.is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(value.to_string())
    }
}

fn parse_fault(spec: &str) -> Result<Fault, String> {
    Fault::parse(spec)
}

/// The TLS identity the flags ask for (writing the generated CA out), or a usage error naming
/// the flag.
fn tls_identity(args: &Args) -> Result<Option<oss_emulator::TlsIdentity>, String> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let read = |flag: &str, path: &PathBuf| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("--tls-{flag} {}: cannot read the file: {e}", path.display()))
        };
        let identity = oss_emulator::TlsIdentity::new(read("cert", cert)?, read("key", key)?);
        oss_emulator::tls::server_config(&identity).map_err(|e| {
            format!(
                "--tls-cert {} / --tls-key {}: {e}",
                cert.display(),
                key.display()
            )
        })?;
        return Ok(Some(identity));
    }
    if args.tls_generate.is_empty() {
        return Ok(None);
    }
    let names: Vec<&str> = args.tls_generate.iter().map(|n| n.trim()).collect();
    let pki = oss_emulator::tls::generate(&names, oss_emulator::Validity::Current)
        .map_err(|e| format!("--tls-generate: {e}"))?;
    let out = args
        .tls_ca_out
        .as_ref()
        .ok_or("--tls-generate needs --tls-ca-out FILE")?;
    std::fs::write(out, &pki.ca_pem)
        .map_err(|e| format!("--tls-ca-out {}: cannot write the file: {e}", out.display()))?;
    Ok(Some(pki.identity()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let tls = match tls_identity(&args) {
        Ok(tls) => tls,
        Err(message) => {
            use clap::CommandFactory;
            Args::command()
                .error(clap::error::ErrorKind::ValueValidation, message)
                .exit()
        }
    };
    let mut config = EmulatorConfig::new(args.access_key_id, args.access_key_secret);
    config.listen = args.listen;
    config.buckets = args.buckets;
    config.security_token = args.security_token;
    config.region = args.region;
    config.data_dir = args.data_dir;
    config.enable_fault_admin = args.enable_fault_admin;
    config.faults = args.faults;
    config.header_read_timeout = std::time::Duration::from_millis(args.header_read_timeout_ms);
    config.max_connections = args.max_connections;
    config.request_log_limit = args.request_log_limit;
    config.tls = tls;

    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.worker_threads {
        builder.worker_threads(n.into());
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oss-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        // Install the signal handlers before announcing the endpoint: a supervisor may send
        // SIGTERM as soon as it has read the line, and it must get the clean exit 0.
        let signals = match Signals::install() {
            Ok(signals) => signals,
            Err(e) => {
                eprintln!("oss-emulator: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        };
        let emulator = match oss_emulator::start(config).await {
            Ok(emulator) => emulator,
            Err(e) => {
                eprintln!("oss-emulator: cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut stdout = std::io::stdout();
        // If nobody reads stdout, keep serving anyway.
        let _ =
            writeln!(stdout, "listening on {}", emulator.endpoint()).and_then(|_| stdout.flush());
        signals.wait().await;
        emulator.shutdown().await;
        ExitCode::SUCCESS
    })
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> std::io::Result<Self> {
        Ok(Signals)
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
