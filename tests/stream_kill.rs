//! The kill harness: a child process (this test binary again, running `child`) writes a seeded
//! sequence of records to an append stream and prints each acknowledged write's index; the
//! parent SIGKILLs it at random points (while it opens and recovers, mid-write, mid-fsync,
//! mid-upload) 50 times, with emulator restarts and scripted faults (lost answers, 503s after
//! commit, resets mid-body) in the mix, starting it again on the same spool
//! each time. A last child flushes and closes. The object must then be exactly the records
//! 0..n in order for some n covering every acknowledged one: nothing lost, nothing doubled,
//! unacknowledged writes at most once and only after all acknowledged ones.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use oss_append::stream::{Durability, Reconnect, StreamOptions};
use oss_append::{Client, ClientConfig, Credentials, RetryPolicy, SignatureVersion};

const KEY: &str = "kill/stream.log";
const KILLS: usize = 50;
/// The most records one child writes (it is killed long before).
const MAX_RECORDS: u64 = 200_000;

/// Record `i` of the sequence: its index, then 10..300 seeded bytes, then a newline.
fn record(seed: u64, i: u64) -> Vec<u8> {
    let mut r = format!("<{i}>").into_bytes();
    let mut x = (seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r.extend(pattern(10 + (x % 290) as usize, x));
    r.push(b'\n');
    r
}

fn stream_options(spool: &str, round: u64) -> StreamOptions {
    let durability = if round.is_multiple_of(3) {
        Durability::EachWrite
    } else {
        Durability::GroupCommit {
            interval: Duration::from_millis(1 + round % 4),
        }
    };
    StreamOptions::new(BUCKET, KEY, spool)
        .with_durability(durability)
        .with_coalescing(
            8 * 1024 + (round % 5) * 4096,
            Duration::from_millis(round % 7),
        )
        .with_retry(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            deadline: Duration::from_secs(1),
            jitter_seed: Some(round),
        })
        .with_reconnect(Reconnect {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            give_up_after: None,
        })
}

/// The child's side (does nothing in a normal test run).
#[test]
fn child() {
    let Ok(spool) = std::env::var("STREAM_KILL_SPOOL") else {
        return;
    };
    let endpoint = std::env::var("STREAM_KILL_ENDPOINT").unwrap();
    let seed: u64 = std::env::var("STREAM_KILL_SEED").unwrap().parse().unwrap();
    let round: u64 = std::env::var("STREAM_KILL_ROUND").unwrap().parse().unwrap();
    let finish = std::env::var("STREAM_KILL_FINISH").is_ok();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "oss-cn-hangzhou")
            .unwrap()
            .with_endpoint(endpoint)
            .with_signature_version(SignatureVersion::V4)
            .with_timeouts(Duration::from_millis(500), Duration::from_secs(2));
        let client = Client::new(config).unwrap();
        let stream = client
            .append_stream(stream_options(&spool, round))
            .await
            .unwrap();
        let out = &mut std::io::stdout();
        // libtest's "test child ... " has no newline yet.
        writeln!(out).unwrap();
        if finish {
            let state = tokio::time::timeout(Duration::from_secs(60), stream.close())
                .await
                .expect("final flush within 60 s")
                .unwrap();
            writeln!(out, "done {}", state.written).unwrap();
            return;
        }
        // Where the spool ends is where this child goes on: every durable record is in it.
        let written = stream.state().written;
        let (mut i, mut sum) = (0u64, 0u64);
        while sum < written {
            sum += record(seed, i).len() as u64;
            i += 1;
        }
        assert_eq!(sum, written, "the spool ends inside a record");
        writeln!(out, "start {i}").unwrap();
        out.flush().unwrap();
        // Up to four writes in flight, acknowledged in order.
        let mut in_flight = std::collections::VecDeque::new();
        while i < MAX_RECORDS {
            in_flight.push_back((i, stream.write(record(seed, i))));
            i += 1;
            if in_flight.len() == 4 {
                let (n, w) = in_flight.pop_front().unwrap();
                w.await.unwrap();
                writeln!(out, "ack {n}").unwrap();
                out.flush().unwrap();
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_points_the_object_is_exactly_the_acknowledged_writes() {
    if std::env::var("STREAM_KILL_SPOOL").is_ok() {
        return; // the child run of this binary
    }
    let data_dir = tempfile::tempdir().unwrap();
    let dd = data_dir.path().to_path_buf();
    let emu = Arc::new(emulator_with(move |c| c.data_dir = Some(dd)).await);
    if emu.is_https() {
        println!("SKIP: the kill harness child speaks plain HTTP to the emulator");
        return;
    }
    let spool = tempfile::tempdir().unwrap();
    // The seed of the records and of the kill points: STREAM_KILL_SEED_BASE picks another run.
    let seed = std::env::var("STREAM_KILL_SEED_BASE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_u64);
    println!("stream kill harness: seed {seed}");
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let started = Instant::now();
    let acked = Arc::new(AtomicI64::new(-1));
    let exe = std::env::current_exe().unwrap();
    let spawn = |round: u64, finish: bool| {
        let mut cmd = Command::new(&exe);
        cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"])
            .env("STREAM_KILL_SPOOL", spool.path())
            .env("STREAM_KILL_ENDPOINT", emu.endpoint())
            .env("STREAM_KILL_SEED", seed.to_string())
            .env("STREAM_KILL_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(if std::env::var("STREAM_KILL_DEBUG").is_ok() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        if finish {
            cmd.env("STREAM_KILL_FINISH", "1");
        }
        cmd.spawn().expect("child starts")
    };
    let mut restarts = 0;
    for round in 0..KILLS as u64 {
        let mut child = spawn(round, false);
        let stdout = child.stdout.take().unwrap();
        let acked_by_reader = acked.clone();
        let before = acked.load(Ordering::SeqCst);
        let reader = std::thread::spawn(move || {
            let mut start = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("ack ") {
                    acked_by_reader.fetch_max(n.parse().unwrap(), Ordering::SeqCst);
                } else if let Some(n) = line.strip_prefix("start ") {
                    start = Some(n.parse::<i64>().unwrap());
                }
            }
            start
        });
        // Scripted faults in the mix: lost answers (applied, not answered), 503s that lie about
        // the outcome, and resets mid-body, each hitting the next appends the child sends.
        match round % 8 {
            1 => emu.inject(oss_emulator::Fault::drop_after_commit().times(2)),
            3 => emu.inject(
                oss_emulator::Fault::new(oss_emulator::FaultAction::Status {
                    status: 503,
                    after_commit: true,
                })
                .times(2),
            ),
            7 => emu.inject(oss_emulator::Fault::new(
                oss_emulator::FaultAction::ResetMidBody { after_bytes: None },
            )),
            _ => {}
        }
        if round % 8 == 5 {
            restarts += 1;
            let emu = emu.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                emu.restart(Duration::from_millis(150)).await
            });
        }
        tokio::time::sleep(Duration::from_millis(30 + next() % 400)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let start = reader.join().unwrap();
        if let Some(start) = start {
            assert!(
                start > before,
                "round {round}: the child resumed at record {start}, but {before} was acknowledged"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "the harness ran too long"
        );
    }
    // Let any restart finish, then the last child uploads everything (faults still queued fire
    // on it, and must not change the outcome either).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut child = spawn(KILLS as u64, true);
    let stdout = child.stdout.take().unwrap();
    let done = tokio::task::spawn_blocking(move || {
        let lines: Vec<String> = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect();
        lines
            .iter()
            .find_map(|l| l.strip_prefix("done ").map(|n| n.parse::<u64>().unwrap()))
    })
    .await
    .unwrap();
    assert!(child.wait().unwrap().success(), "the final child failed");
    let written = done.expect("the final child reports");
    let object = emu.object(BUCKET, KEY).expect("the object exists").data;
    assert_eq!(
        object.len() as u64,
        written,
        "the object holds all spooled bytes"
    );
    let acked = acked.load(Ordering::SeqCst);
    assert!(
        acked > 100,
        "the children acknowledged only {acked} records"
    );
    let mut expected = Vec::new();
    let mut n = 0;
    while expected.len() < object.len() {
        expected.extend(record(seed, n));
        n += 1;
    }
    assert!(
        object == expected,
        "the object is not records 0..{n} in order (first difference at byte {:?})",
        object.iter().zip(&expected).position(|(a, b)| a != b)
    );
    assert!(
        n as i64 > acked,
        "record {acked} was acknowledged but the object ends at record {n}"
    );
    println!(
        "{KILLS} kills, {restarts} emulator restarts, {} faults fired, {acked} acknowledged, {n} \
         records in the object, {:?}",
        emu.fired_faults().len(),
        started.elapsed()
    );
}
