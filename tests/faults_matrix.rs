//! The fault matrix: for each fault kind, an append session writes ~30 random-sized blocks
//! (0..256 KiB) and two multi-MiB file blocks while the emulator injects that fault before a
//! random third of the appends. The final object must be the exact concatenation (bytes and
//! CRC-64): nothing lost, nothing twice. Seeded: `FAULT_MATRIX_SEED` overrides the seeds,
//! `FAULT_MATRIX_BLOCKS` the number of small blocks. Each test prints one `MATRIX|` row
//! (`cargo test --test faults_matrix -- --nocapture`); `tests/reliability.sh` collects them.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use oss_append::{crc64, AppenderOptions, Body, Client, RetryPolicy};
use oss_emulator::{Fault, FaultAction, FaultOp, RunningEmulator};

/// xorshift64*: the tests' only source of randomness.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How one row of the matrix is set up.
struct Row {
    name: &'static str,
    /// The faults to inject before an append (given the block's size).
    fault: fn(&mut Rng, usize) -> Vec<Fault>,
    /// Client read/write timeout.
    timeout: Duration,
    /// Keep objects in a data directory (needed for restarts).
    data_dir: bool,
}

fn seed_for(name: &str) -> u64 {
    match std::env::var("FAULT_MATRIX_SEED") {
        Ok(v) => v.parse().expect("FAULT_MATRIX_SEED must be a u64"),
        Err(_) => name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01B3)
        }),
    }
}

fn small_blocks() -> usize {
    std::env::var("FAULT_MATRIX_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

/// Counts for the report.
#[derive(Debug, Default)]
struct Outcome {
    appends: u64,
    bytes: u64,
    faults_fired: usize,
    requests: u64,
    heads: u64,
    retries: u64,
    transient: u64,
    ambiguous: u64,
    recovered: u64,
    resent: u64,
    elapsed: Duration,
}

async fn run(row: Row) -> Outcome {
    let seed = seed_for(row.name);
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = row.data_dir.then(|| dir.path().join("data"));
    let emu: RunningEmulator = emulator_with(|c| c.data_dir = data_dir).await;
    let client: Client = client_with(&emu, |c| {
        c.with_timeouts(Duration::from_secs(2), row.timeout)
    });
    let key = format!("matrix/{}.bin", row.name);
    let retry = RetryPolicy {
        max_retries: 20,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(100),
        deadline: Duration::from_secs(60),
        jitter_seed: Some(seed),
    };
    let mut session = client
        .appender(AppenderOptions::new(BUCKET, &key).with_retry(retry))
        .await
        .unwrap_or_else(|e| panic!("[{} seed {seed}] open: {e}", row.name));

    // The blocks: small random ones and two multi-MiB file blocks at random places.
    let total = small_blocks() + 2;
    let first_file = rng.below(total as u64) as usize;
    let second_file = (first_file + 1 + rng.below(total as u64 - 1) as usize) % total;
    let mut files = Vec::new();
    let mut expected = Vec::new();
    let started = Instant::now();
    for i in 0..total {
        let (body, data): (Body, Vec<u8>) = if i == first_file || i == second_file {
            let len = 2 * 1024 * 1024 + rng.below(1024 * 1024) as usize;
            let data = pattern(len, rng.next());
            let mut file = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
            file.write_all(&data).unwrap();
            // One by path, one by descriptor: both are re-read from byte 0 on a resend.
            let body = if i == first_file {
                Body::from_path(file.path())
            } else {
                Body::from_file(file.reopen().unwrap())
            };
            files.push(file);
            (body, data)
        } else {
            let len = rng.below(256 * 1024 + 1) as usize;
            let data = pattern(len, rng.next());
            (Body::from(data.clone()), data)
        };
        if rng.below(3) == 0 {
            for fault in (row.fault)(&mut rng, data.len()) {
                emu.inject(fault.for_key(&key));
            }
        }
        let position = expected.len() as u64;
        let done = session.append(body).await.unwrap_or_else(|e| {
            panic!(
                "[{} seed {seed}] append {i} ({} bytes at {position}): {e}",
                row.name,
                data.len()
            )
        });
        assert_eq!(done.position, position, "[{} seed {seed}]", row.name);
        expected.extend_from_slice(&data);
        assert_eq!(done.next_append_position, expected.len() as u64);
        // Faults meant for this append must not leak into the next one.
        emu.clear_faults();
    }
    let elapsed = started.elapsed();

    // Exactly the concatenation: compare bytes (server side and read back) and CRC-64.
    let stored = emu.object(BUCKET, &key).unwrap();
    assert_eq!(
        stored.data.len(),
        expected.len(),
        "[{} seed {seed}] length",
        row.name
    );
    assert!(stored.data == expected, "[{} seed {seed}] bytes", row.name);
    let crc = crc64::checksum(&expected);
    assert_eq!(stored.crc64, crc, "[{} seed {seed}] server CRC", row.name);
    assert_eq!(
        session.crc64(),
        crc,
        "[{} seed {seed}] session CRC",
        row.name
    );
    let read_back = client.get_object(BUCKET, &key, None).await.unwrap();
    assert!(
        read_back.body[..] == expected[..],
        "[{} seed {seed}] GET",
        row.name
    );

    let stats = session.stats().clone();
    assert_eq!(stats.appends, total as u64);
    let outcome = Outcome {
        appends: stats.appends,
        bytes: stats.bytes,
        faults_fired: emu.fired_faults().len(),
        requests: stats.requests,
        heads: stats.heads,
        retries: stats.retries,
        transient: stats.transient_failures,
        ambiguous: stats.ambiguous_failures,
        recovered: stats.recovered,
        resent: stats.resent,
        elapsed,
    };
    eprintln!(
        "MATRIX| {} | {} | {} | {:.1} MiB | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} s |",
        row.name,
        seed,
        outcome.appends,
        outcome.bytes as f64 / (1024.0 * 1024.0),
        outcome.faults_fired,
        outcome.requests,
        outcome.heads,
        outcome.retries,
        outcome.transient,
        outcome.ambiguous,
        outcome.recovered,
        outcome.resent,
        outcome.elapsed.as_secs_f64(),
    );
    assert!(
        outcome.faults_fired > 0,
        "[{} seed {seed}] no fault fired",
        row.name
    );
    outcome
}

fn one_or_two(rng: &mut Rng, fault: Fault) -> Fault {
    fault.times(1 + rng.below(2) as u32)
}

#[tokio::test]
async fn matrix_drop_after_commit() {
    let o = run(Row {
        name: "drop-after-commit",
        fault: |rng, _| vec![one_or_two(rng, Fault::drop_after_commit())],
        timeout: Duration::from_secs(5),
        data_dir: false,
    })
    .await;
    // Every fired fault was a committed append whose answer was lost: all recovered by HEAD.
    assert_eq!(o.recovered as usize, o.faults_fired);
    assert_eq!(o.resent, 0);
}

#[tokio::test]
async fn matrix_drop_before_commit() {
    let o = run(Row {
        name: "drop-before-commit",
        fault: |rng, _| vec![one_or_two(rng, Fault::drop_before_commit())],
        timeout: Duration::from_secs(5),
        data_dir: false,
    })
    .await;
    assert_eq!(o.recovered, 0);
}

#[tokio::test]
async fn matrix_reset_mid_body() {
    run(Row {
        name: "reset-mid-body",
        fault: |rng, _| vec![one_or_two(rng, Fault::reset_mid_body())],
        timeout: Duration::from_secs(5),
        data_dir: false,
    })
    .await;
}

#[tokio::test]
async fn matrix_status_5xx_before_commit() {
    let o = run(Row {
        name: "5xx-before-commit",
        fault: |rng, _| {
            let status = [500, 502, 503, 504][rng.below(4) as usize];
            vec![one_or_two(rng, Fault::status(status))]
        },
        timeout: Duration::from_secs(5),
        data_dir: false,
    })
    .await;
    assert_eq!(o.recovered, 0);
}

#[tokio::test]
async fn matrix_status_5xx_after_commit() {
    let o = run(Row {
        name: "5xx-after-commit",
        fault: |rng, _| {
            let status = [500, 503][rng.below(2) as usize];
            vec![Fault::status_after_commit(status).times(1 + rng.below(2) as u32)]
        },
        timeout: Duration::from_secs(5),
        data_dir: false,
    })
    .await;
    assert_eq!(o.resent, 0);
    assert_eq!(o.recovered as usize, o.faults_fired);
}

#[tokio::test]
async fn matrix_delay_past_timeout() {
    let o = run(Row {
        name: "delay-past-timeout",
        fault: |_, _| vec![Fault::delay_response(Duration::from_millis(700))],
        timeout: Duration::from_millis(250),
        data_dir: false,
    })
    .await;
    assert_eq!(o.recovered as usize, o.faults_fired);
}

#[tokio::test]
async fn matrix_slow_reads() {
    // 192 KiB/s against a 400 ms timeout: blocks over ~75 KiB are still being read when the
    // client stops waiting, so HEAD, resend and the 409-after-our-own-failure rule all run.
    // File blocks are read fast enough (they would take ~15 s otherwise).
    run(Row {
        name: "slow-read",
        fault: |_, len| {
            let rate = if len > 1024 * 1024 {
                16 * 1024 * 1024
            } else {
                192 * 1024
            };
            vec![Fault::slow_read(rate)]
        },
        timeout: Duration::from_millis(400),
        data_dir: false,
    })
    .await;
}

#[tokio::test]
async fn matrix_restart_with_data_dir() {
    run(Row {
        name: "restart",
        fault: |rng, _| {
            let after_commit = rng.below(2) == 0;
            vec![Fault::new(FaultAction::Restart {
                after_commit,
                down_ms: 50 + rng.below(100),
            })]
        },
        timeout: Duration::from_secs(5),
        data_dir: true,
    })
    .await;
}

#[tokio::test]
async fn matrix_head_failures_during_recovery() {
    // Every lost answer is followed by failing HEADs (503, reset, lost).
    run(Row {
        name: "lost-answer+head-faults",
        fault: |rng, _| {
            let head = match rng.below(3) {
                0 => Fault::status(503),
                1 => Fault::reset_mid_body(),
                _ => Fault::drop_after_commit(),
            };
            vec![
                Fault::drop_after_commit(),
                head.on(FaultOp::Head).times(1 + rng.below(3) as u32),
            ]
        },
        timeout: Duration::from_secs(5),
        data_dir: false,
    })
    .await;
}

#[tokio::test]
async fn matrix_mixed() {
    let o = run(Row {
        name: "mixed",
        fault: |rng, len| {
            vec![match rng.below(8) {
                0 => Fault::drop_after_commit(),
                1 => Fault::drop_before_commit(),
                2 => Fault::reset_mid_body(),
                3 => Fault::status(503),
                4 => Fault::status_after_commit(500),
                5 => Fault::delay_response(Duration::from_millis(700)),
                6 if len < 1024 * 1024 => Fault::slow_read(256 * 1024),
                6 => Fault::status(502),
                _ => Fault::status(503).on(FaultOp::Head).times(2),
            }]
        },
        timeout: Duration::from_millis(400),
        data_dir: false,
    })
    .await;
    assert!(o.faults_fired > 0);
}
