//! `oss-append`: appends a file or stdin to an OSS appendable object through an append session
//! (resume at the object's end, automatic positions, verified CRC-64 chain, recovery of lost
//! answers). Built with the `cli` feature (on by default on hosts; OHOS builds leave it out).
//!
//! ```text
//! tail -f app.log | oss-append --region cn-hangzhou --bucket b --key logs/app.log
//! ```

mod args;
mod progress;
mod stdin;

use std::path::Path;
use std::process::ExitCode;

use oss_append::{AppendOptions, Appender, AppenderOptions, Body, Client, SessionError};

use crate::args::{Args, Object};
use crate::progress::FileBar;
use crate::stdin::StreamError;

fn main() -> ExitCode {
    let (args, object) = args::parse();
    let logging = oss_append::logging::init_from_env();
    let show_progress = progress::wanted(logging);
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
    let result = runtime.block_on(run(&args, &object, show_progress));
    // The stdin thread may still be blocked in read(); don't wait for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("oss-append: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

/// Why the tool stops with a non-zero status, and the line it prints on stderr.
#[derive(Debug)]
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn usage(message: String) -> Self {
        Self { status: 2, message }
    }

    fn open(object: &Object, e: &SessionError) -> Self {
        Self {
            status: 1,
            message: format!("cannot open {object}: {e}"),
        }
    }

    fn append(object: &Object, e: &SessionError) -> Self {
        Self {
            status: 1,
            message: format!("append to {object} failed: {e}"),
        }
    }

    fn stream(object: &Object, e: &StreamError) -> Self {
        match e {
            StreamError::Append(e) => Self::append(object, e),
            StreamError::Read(e) => Self {
                status: 1,
                message: format!("reading stdin failed: {e}"),
            },
        }
    }
}

/// Opens the session, appends the input, seals if asked. Once the session is open, the final
/// report is printed whatever happens after, so a failure still tells what was appended.
async fn run(args: &Args, object: &Object, show_progress: bool) -> Result<(), Failure> {
    let client = args
        .client_config()
        .and_then(|config| Client::new(config).map_err(|e| e.to_string()))
        .map_err(Failure::usage)?;
    let mut session = open_session(&client, args, object).await?;
    let mut outcome = match args.file() {
        Some(path) => append_file(&mut session, path, show_progress)
            .await
            .map_err(|e| Failure::append(object, &e)),
        None => stdin::append_stdin(&mut session, args.batching(), show_progress)
            .await
            .map_err(|e| Failure::stream(object, &e)),
    };
    if outcome.is_ok() && args.seal {
        outcome = session
            .seal()
            .await
            .map(drop)
            .map_err(|e| Failure::append(object, &e));
    }
    report(&session);
    outcome
}

/// Opens the append session: resumes at the object's end, or creates the object with the
/// first append (with `--content-type`), retrying as the flags say.
async fn open_session(client: &Client, args: &Args, object: &Object) -> Result<Appender, Failure> {
    let options = AppendOptions {
        content_type: args.content_type.clone(),
        ..AppendOptions::default()
    };
    client
        .appender(
            AppenderOptions::new(&object.bucket, &object.key)
                .with_options(options)
                .with_retry(args.retry_policy()),
        )
        .await
        .map_err(|e| Failure::open(object, &e))
}

/// Appends the file, streamed, in one append; with `show_progress`, a byte bar on stderr until
/// it returns.
async fn append_file(
    session: &mut Appender,
    path: &Path,
    show_progress: bool,
) -> Result<(), SessionError> {
    let bar = FileBar::new(show_progress);
    session
        .append(bar.observe(Body::from_path(path)))
        .await
        .map(drop)
}

/// The final report on stdout.
fn report(session: &Appender) {
    println!("position={} crc64={}", session.position(), session.crc64());
}
