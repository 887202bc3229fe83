//! `oss-emulator`: runs the strict local OSS-compatible server until SIGINT or SIGTERM.

use clap::Parser;
use oss_emulator::EmulatorConfig;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A strict, local Alibaba Cloud OSS-compatible server for tests (AppendObject, PutObject,
/// GetObject, HeadObject, DeleteObject; V1 and V4 header signatures; STS tokens).
///
/// Prints `listening on http://127.0.0.1:PORT` as the first line on stdout, then serves until
/// SIGINT or SIGTERM and exits 0. Secrets are never printed.
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
    #[arg(long, value_name = "AK")]
    access_key_id: String,

    /// The AccessKey secret requests must be signed with.
    #[arg(long, value_name = "SK")]
    access_key_secret: String,

    /// Treat the key as an STS key: every request must carry this x-oss-security-token.
    #[arg(long, value_name = "TOKEN")]
    security_token: Option<String>,

    /// Region id the V4 signing scope must name (no "oss-" prefix).
    #[arg(long, value_name = "REGION", default_value = "cn-hangzhou")]
    region: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = EmulatorConfig::new(args.access_key_id, args.access_key_secret);
    config.listen = args.listen;
    config.buckets = args.buckets;
    config.security_token = args.security_token;
    config.region = args.region;
    config.data_dir = args.data_dir;

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oss-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let emulator = match oss_emulator::start(config).await {
            Ok(emulator) => emulator,
            Err(e) => {
                eprintln!("oss-emulator: cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut stdout = std::io::stdout();
        if writeln!(stdout, "listening on {}", emulator.endpoint())
            .and_then(|_| stdout.flush())
            .is_err()
        {
            // Nobody is reading; keep serving anyway.
        }
        if let Err(e) = wait_for_signal().await {
            eprintln!("oss-emulator: cannot wait for signals: {e}");
            emulator.shutdown().await;
            return ExitCode::FAILURE;
        }
        emulator.shutdown().await;
        ExitCode::SUCCESS
    })
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}
