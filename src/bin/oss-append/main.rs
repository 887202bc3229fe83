//! `oss-append`: appends a file or stdin to an OSS appendable object through an append session
//! (resume at the object's end, automatic positions, verified CRC-64 chain, recovery of lost
//! answers). Built with the `cli` feature (on by default on hosts; OHOS builds leave it out).
//!
//! ```text
//! tail -f app.log | oss-append --region cn-hangzhou --bucket b --key logs/app.log
//! ```

mod args;
mod credentials_command;
mod failure;
mod progress;
mod report;
mod spooled;
mod stdin;

use std::path::Path;
use std::process::ExitCode;

use oss_append::{crc64, AppendOptions, Appender, AppenderOptions, Body, Client, SessionError};

use crate::args::{Args, Object};
use crate::failure::Failure;
use crate::progress::FileBar;
use crate::report::{ObjectEnd, Source, Tally};
use crate::stdin::StreamError;

/// Exit status of a failure after which the object's length could not be learned.
const EXIT_POSITION_UNKNOWN: u8 = 3;

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
            for note in &failure.notes {
                eprintln!("oss-append: {note}");
            }
            ExitCode::from(failure.status)
        }
    }
}

/// Opens the session, appends the input, seals if asked. Once the session is open, the final
/// report is printed whatever happens after, so a failure still tells what was appended.
async fn run(args: &Args, object: &Object, show_progress: bool) -> Result<(), Failure> {
    let client = args
        .client_config()
        .and_then(|config| {
            match args.credentials_command() {
                Some(command) => Client::with_credentials_provider(
                    config,
                    credentials_command::CommandProvider::new(command.to_owned()),
                ),
                None => Client::new(config),
            }
            .map_err(|e| e.to_string())
        })
        .map_err(Failure::usage)?;
    if let Some(dir) = &args.spool {
        if args.seal {
            return Err(Failure::usage("--seal cannot be used with --spool".into()));
        }
        return spooled::run(&client, args, object, dir, args.file()).await;
    }
    let mut session = open_session(&client, args, object).await?;
    let (mut outcome, mut tally) = match args.file() {
        Some(path) => {
            let mut tally = Tally::new(
                Source::File(path.display().to_string()),
                std::fs::metadata(path).ok().map(|m| m.len()),
            );
            let outcome = append_file(&mut session, path, show_progress, &mut tally)
                .await
                .map_err(StreamError::Append);
            (outcome, tally)
        }
        None => {
            let mut tally = Tally::new(Source::Stdin, None);
            let outcome =
                stdin::append_stdin(&mut session, args.batching(), show_progress, &mut tally).await;
            (outcome, tally)
        }
    };
    if outcome.is_ok() && args.seal {
        outcome = session.seal().await.map(drop).map_err(StreamError::Append);
    }
    let error = outcome.err();
    let end = object_end(&client, &session, object, args, error.as_ref()).await;
    println!("{end}");
    let Some(error) = error else {
        return Ok(());
    };
    let mut failure = Failure::stream(object, &error);
    tally.settle((session.position(), session.crc64()), &end);
    if let ObjectEnd::Unknown(why) = &end {
        failure.status = EXIT_POSITION_UNKNOWN;
        failure
            .notes
            .push(format!("the length of {object} is unknown: {why}"));
    }
    failure.notes.extend(tally.not_appended_line());
    Err(failure)
}

/// The object's end for the report: the session's position and CRC-64 while it can vouch for
/// them, else what HEAD says (see [`report::session_cannot_vouch`]).
async fn object_end(
    client: &Client,
    session: &Appender,
    object: &Object,
    args: &Args,
    error: Option<&StreamError>,
) -> ObjectEnd {
    let session_error = match error {
        Some(StreamError::Append(e)) => Some(e),
        _ => None,
    };
    if report::session_cannot_vouch(session.poisoned().is_some(), session_error) {
        report::head_end(client, object, &args.retry_policy()).await
    } else {
        ObjectEnd::Known {
            position: session.position(),
            crc64: Some(session.crc64()),
        }
    }
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
/// it returns. `tally` gets the file's bytes once appended, or the append if its outcome is
/// open.
async fn append_file(
    session: &mut Appender,
    path: &Path,
    show_progress: bool,
    tally: &mut Tally,
) -> Result<(), SessionError> {
    let bar = FileBar::new(show_progress);
    match session.append(bar.observe(Body::from_path(path))).await {
        Ok(done) => {
            // The length the session fixed when it opened the file, if it changed since.
            tally.read = Some(done.length);
            tally.appended += done.length;
            Ok(())
        }
        Err(e) => {
            let length = tally.read.unwrap_or(0);
            // Read again, only in this rare case, to tell whether the object holds it.
            tally.failed(&e, length, || file_crc64(path));
            Err(e)
        }
    }
}

/// CRC-64 of the file's content, `None` if it cannot be read.
fn file_crc64(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut crc = crc64::Crc64::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Some(crc.value()),
            Ok(n) => crc.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
