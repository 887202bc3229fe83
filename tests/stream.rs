//! The durable append stream: the spool on its own (torn and corrupt records, segment
//! deletion) and the stream against the emulator (group commit, coalescing, flush, reopening,
//! recovery of uploaded-but-unrecorded data, conflicts, outages, a full spool, rollover). The
//! kill harness is in `stream_kill.rs`.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;
use oss_append::stream::spool::{Checkpoint, Spool, INDEX_SPACING, POSITION_UNKNOWN};
use oss_append::stream::{
    AppendStream, Durability, FullPolicy, NextKey, NextKeyFn, NextKeyFuture, Reconnect, Rollover,
    StreamError, StreamOptions,
};
use oss_append::{AppendObjectRequest, Client, ClientConfig, Credentials, RetryPolicy};
use oss_emulator::{Fault, RunningEmulator};

// --- The spool alone ------------------------------------------------------------------------

fn first_checkpoint() -> Checkpoint {
    Checkpoint {
        offset: 0,
        object_number: 0,
        position: POSITION_UNKNOWN,
        crc64: 0,
        bucket: "b".into(),
        origin_key: "k".into(),
        key: "k".into(),
        started_ms: 1_700_000_000_000,
    }
}

fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    v.sort();
    v
}

fn spool_with(dir: &Path, records: &[&[u8]]) {
    let mut spool = Spool::open(dir, 1 << 20).unwrap();
    spool.start(first_checkpoint()).unwrap();
    for r in records {
        spool.append(r).unwrap();
    }
    spool.sync().unwrap();
}

#[test]
fn a_torn_last_record_is_dropped_on_replay() {
    let dir = tempfile::tempdir().unwrap();
    spool_with(dir.path(), &[b"alpha", b"beta", b"gamma"]);
    let seg = segments(dir.path()).pop().unwrap();
    let len = fs::metadata(&seg).unwrap().len();
    // Cut into the last record (a crash in the middle of its write).
    let f = fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(spool.end(), 9, "alpha and beta survive, gamma is gone");
    assert!(spool.replay().truncated_bytes > 0);
    assert_eq!(spool.read_records(0, 1 << 20).unwrap(), b"alphabeta");
    // The spool goes on after it.
    spool.append(b"delta").unwrap();
    spool.sync().unwrap();
    drop(spool);
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(spool.read_records(0, 1 << 20).unwrap(), b"alphabetadelta");
    assert_eq!(spool.replay().truncated_bytes, 0);
}

#[test]
fn a_bit_flip_in_a_middle_record_is_a_named_error() {
    let dir = tempfile::tempdir().unwrap();
    spool_with(dir.path(), &[b"first record", b"second record", b"third"]);
    let seg = segments(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&seg).unwrap();
    let at = bytes
        .windows(6)
        .position(|w| w == b"second")
        .expect("payload stored as is");
    bytes[at + 2] ^= 0x10;
    fs::write(&seg, &bytes).unwrap();
    let err = Spool::open(dir.path(), 1 << 20).unwrap_err();
    assert_eq!(err.code(), "StreamSpoolCorrupt", "{err}");
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    // Left as it was.
    assert_eq!(fs::read(&seg).unwrap(), bytes);
}

#[test]
fn a_bit_flip_in_the_last_record_counts_as_torn() {
    let dir = tempfile::tempdir().unwrap();
    spool_with(dir.path(), &[b"kept", b"lost-one"]);
    let seg = segments(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 1;
    fs::write(&seg, &bytes).unwrap();
    let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(spool.read_records(0, 100).unwrap(), b"kept");
}

#[test]
fn segments_are_deleted_once_a_durable_checkpoint_covers_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), 4096).unwrap();
    spool.start(first_checkpoint()).unwrap();
    let record = vec![7u8; 1000];
    for _ in 0..20 {
        spool.append(&record).unwrap();
        spool.sync().unwrap();
    }
    assert!(spool.segment_count() >= 4, "{}", spool.segment_count());
    assert_eq!(segments(dir.path()).len(), spool.segment_count());
    // Half uploaded: the segments wholly before offset 10 000 go.
    let before = spool.segment_count();
    spool
        .checkpoint(Checkpoint {
            offset: 10_000,
            position: 10_000,
            ..first_checkpoint()
        })
        .unwrap();
    spool.sync().unwrap();
    assert!(spool.segment_count() < before);
    assert_eq!(spool.read_records(10_000, 1000).unwrap(), record);
    spool
        .checkpoint(Checkpoint {
            offset: 20_000,
            position: 20_000,
            ..first_checkpoint()
        })
        .unwrap();
    spool.sync().unwrap();
    assert_eq!(segments(dir.path()).len(), 1);
    drop(spool);
    let spool = Spool::open(dir.path(), 4096).unwrap();
    assert_eq!((spool.end(), spool.pending()), (20_000, 0));
    assert_eq!(spool.latest_checkpoint().unwrap().position, 20_000);
}

#[test]
fn the_uploader_reads_durable_records_only_even_from_deleted_segments() {
    let dir = tempfile::tempdir().unwrap();
    // Small segments: the 40 records below span several files.
    let mut spool = Spool::open(dir.path(), 4096).unwrap();
    spool.start(first_checkpoint()).unwrap();
    let records: Vec<Vec<u8>> = (0..40u8).map(|i| vec![b'a' + i % 26; 300]).collect();
    for r in &records[..30] {
        spool.append(r).unwrap();
    }
    spool.sync().unwrap();
    for r in &records[30..] {
        spool.append(r).unwrap();
    }
    assert!(segments(dir.path()).len() > 1);
    // Ten records are written but not fsynced: the plan stops before them.
    let plan = spool.read_plan(0, u64::MAX).unwrap();
    assert_eq!(plan.read().unwrap(), records[..30].concat());
    // From inside a record, bounded: whole records up to the bound (the first one always).
    let plan = spool.read_plan(450, 1000).unwrap();
    assert_eq!(plan.read().unwrap(), records[1..4].concat()[150..].to_vec());
    let plan = spool.read_plan(600, 10).unwrap();
    assert_eq!(plan.read().unwrap(), records[2]);
    spool.sync().unwrap();
    let plan = spool.read_plan(0, u64::MAX).unwrap();
    assert_eq!(plan.read().unwrap(), records.concat());
    // A plan outlives the deletion of the segments it reads.
    let plan = spool.read_plan(0, u64::MAX).unwrap();
    let end = spool.end();
    spool
        .checkpoint(Checkpoint {
            offset: end,
            position: end,
            ..first_checkpoint()
        })
        .unwrap();
    spool.sync().unwrap();
    assert_eq!(segments(dir.path()).len(), 1);
    assert_eq!(plan.read().unwrap(), records.concat());
}

#[test]
fn reads_from_any_offset_match_what_was_written_with_an_index_of_few_marks() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(dir.path(), 256 * 1024).unwrap();
    spool.start(first_checkpoint()).unwrap();
    // 20,000 small writes of 1..=120 bytes (seeded), over several 256 KiB segments.
    let mut all = Vec::new();
    let mut starts = Vec::new();
    let mut seed = 7u32;
    for i in 0..20_000u32 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let len = 1 + (seed >> 16) as usize % 120;
        let record: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
        starts.push(all.len() as u64);
        all.extend_from_slice(&record);
        spool.append(&record).unwrap();
        if i % 1000 == 999 {
            spool.sync().unwrap();
        }
    }
    spool.sync().unwrap();
    assert!(segments(dir.path()).len() >= 4);
    // One mark per 64 KiB of data and segment, not one per write.
    let bound = all.len() as u64 / INDEX_SPACING + segments(dir.path()).len() as u64 + 1;
    assert!(
        spool.index_marks() as u64 <= bound,
        "{} marks",
        spool.index_marks()
    );
    // The expected answer: whole records from `from`, at least one, within `max`.
    let expect = |from: u64, max: u64| -> Vec<u8> {
        let first = starts.partition_point(|&s| s <= from) - 1;
        let mut end = starts.get(first + 1).copied().unwrap_or(all.len() as u64);
        let later_ends = starts.get(first + 2..).unwrap_or(&[]);
        for &next_end in later_ends.iter().chain([all.len() as u64].iter()) {
            if next_end - from > max {
                break;
            }
            end = next_end;
        }
        all[from as usize..end as usize].to_vec()
    };
    for k in 0..300u64 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let from = match k % 3 {
            0 => starts[(seed as usize >> 4) % starts.len()],
            _ => (seed as u64 >> 4) % all.len() as u64,
        };
        let max = [1, 100, 5_000, 70_000, 300_000, u64::MAX][k as usize % 6];
        let got = spool.read_plan(from, max).unwrap().read().unwrap();
        assert_eq!(got.len(), expect(from, max).len(), "from {from}, max {max}");
        assert_eq!(got, expect(from, max), "from {from}, max {max}");
    }
}

#[test]
fn a_second_open_of_the_same_spool_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Spool::open(dir.path(), 1 << 20).unwrap();
    let err = Spool::open(dir.path(), 1 << 20).unwrap_err();
    assert_eq!(err.code(), "StreamSpoolLocked", "{err}");
}

// --- The stream against the emulator ---------------------------------------------------------

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        deadline: Duration::from_secs(2),
        jitter_seed: Some(3),
    }
}

fn fast_reconnect() -> Reconnect {
    Reconnect {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        give_up_after: None,
    }
}

fn options(key: &str, dir: &Path) -> StreamOptions {
    StreamOptions::new(BUCKET, key, dir)
        .with_retry(fast_retry())
        .with_reconnect(fast_reconnect())
        .with_coalescing(4 * 1024 * 1024, Duration::from_millis(20))
}

fn posts(emu: &RunningEmulator) -> usize {
    emu.requests().iter().filter(|r| r.method == "POST").count()
}

/// Writes `count` seeded chunks of `len(i)` bytes, each awaited (and flushed, if asked);
/// returns what was written.
async fn write_chunks(
    stream: &AppendStream,
    count: u64,
    len: impl Fn(u64) -> usize,
    flush_each: bool,
) -> Vec<u8> {
    let mut written = Vec::new();
    for i in 0..count {
        let chunk = pattern(len(i), i);
        written.extend_from_slice(&chunk);
        stream.write(chunk).await.unwrap();
        if flush_each {
            stream.flush().await.unwrap();
        }
    }
    written
}

fn data(emu: &RunningEmulator, key: &str) -> Vec<u8> {
    emu.object(BUCKET, key).map(|o| o.data).unwrap_or_default()
}

#[tokio::test]
async fn group_commit_takes_one_fsync_for_many_writes_and_each_write_one_each() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let stream = client(&emu)
        .append_stream(
            options("gc.log", dir.path()).with_durability(Durability::GroupCommit {
                interval: Duration::from_millis(500),
            }),
        )
        .await
        .unwrap();
    let before = stream.state().fsyncs;
    let pending: Vec<_> = (0..200).map(|i| stream.write(format!("{i},"))).collect();
    for p in pending {
        p.await.unwrap();
    }
    let group = stream.state().fsyncs - before;
    assert!((1..=4).contains(&group), "200 writes took {group} fsyncs");
    stream.close().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let stream = client(&emu)
        .append_stream(options("each.log", dir.path()).with_durability(Durability::EachWrite))
        .await
        .unwrap();
    let before = stream.state().fsyncs;
    let pending: Vec<_> = (0..50).map(|i| stream.write(format!("{i},"))).collect();
    for p in pending {
        p.await.unwrap();
    }
    assert!(stream.state().fsyncs - before >= 50);
    stream.close().await.unwrap();
    let expected: String = (0..200).map(|i| format!("{i},")).collect();
    assert_eq!(data(&emu, "gc.log"), expected.as_bytes());
}

#[tokio::test]
async fn uploaded_segments_are_deleted_and_gone_once_the_stream_is_closed() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options("segments.log", dir.path());
    opts.segment_bytes = 4096;
    let stream = client(&emu).append_stream(opts).await.unwrap();
    let mut expected = Vec::new();
    for round in 0..4u32 {
        let pending: Vec<_> = (0..50u32)
            .map(|i| {
                let line = format!("{round}:{i:03} {}\n", "x".repeat(90));
                expected.extend_from_slice(line.as_bytes());
                stream.write(line)
            })
            .collect();
        for p in pending {
            p.await.unwrap();
        }
        stream.flush().await.unwrap();
    }
    stream.close().await.unwrap();
    // 20 KB went through 4 KiB segments; only the newest (checkpoints only) is left.
    assert_eq!(segments(dir.path()).len(), 1);
    assert_eq!(data(&emu, "segments.log"), expected);
}

#[tokio::test]
async fn many_small_writes_leave_as_few_appends_and_flush_means_in_oss() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let stream = client(&emu)
        .append_stream(options("coalesce.log", dir.path()))
        .await
        .unwrap();
    let mut expected = Vec::new();
    let mut pending = Vec::new();
    for i in 0..2000u32 {
        let line = format!("line {i}\n");
        expected.extend_from_slice(line.as_bytes());
        pending.push(stream.write(line));
    }
    let mut last = None;
    for p in pending {
        last = Some(p.await.unwrap());
    }
    assert_eq!(last.unwrap().end(), expected.len() as u64);
    let state = stream.flush().await.unwrap();
    assert_eq!(state.uploaded, expected.len() as u64);
    assert_eq!(state.spooled, 0);
    assert_eq!(state.position, Some(expected.len() as u64));
    assert_eq!(state.crc64, oss_append::crc64::checksum(&expected));
    assert!(state.online);
    // flush resolved: the data is in the object now.
    assert_eq!(data(&emu, "coalesce.log"), expected);
    let appends = posts(&emu);
    assert!(appends <= 20, "2000 writes took {appends} appends");
    assert_eq!(state.appends as usize, appends);
    let closed = stream.close().await.unwrap();
    assert!(closed.closed);
    // Everything uploaded: only the newest segment (with the checkpoint) is left.
    assert_eq!(segments(dir.path()).len(), 1);
}

#[tokio::test]
async fn a_stream_dropped_without_close_continues_when_reopened() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&emu);
    let slow =
        || options("reopen.log", dir.path()).with_coalescing(1 << 20, Duration::from_secs(60));
    let stream = client.append_stream(slow()).await.unwrap();
    stream.write("one,").await.unwrap();
    stream.write("two,").await.unwrap();
    drop(stream); // before the 60 s delay let anything go out
    let stream = client.append_stream(slow()).await.unwrap();
    assert_eq!(stream.state().written, 8);
    stream.write("three").await.unwrap();
    stream.close().await.unwrap();
    assert_eq!(data(&emu, "reopen.log"), b"one,two,three");
}

#[tokio::test]
async fn spooled_bytes_the_object_already_has_are_not_sent_again() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let copy = tempfile::tempdir().unwrap();
    let client = client(&emu);
    let slow = |d: &Path| options("known.log", d).with_coalescing(1 << 20, Duration::from_secs(60));
    let stream = client.append_stream(slow(dir.path())).await.unwrap();
    stream.write("hello,").await.unwrap();
    stream.flush().await.unwrap();
    stream.write("spooled once").await.unwrap();
    drop(stream);
    // The spool as it would be if the process died after the append but before its checkpoint.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for f in fs::read_dir(dir.path()).unwrap() {
        let f = f.unwrap().path();
        fs::copy(&f, copy.path().join(f.file_name().unwrap())).unwrap();
    }
    let stream = client.append_stream(slow(dir.path())).await.unwrap();
    stream.close().await.unwrap();
    assert_eq!(data(&emu, "known.log"), b"hello,spooled once");
    let appends = posts(&emu);
    let stream = client.append_stream(slow(copy.path())).await.unwrap();
    assert_eq!(stream.state().spooled, 12);
    let state = stream.flush().await.unwrap();
    assert_eq!(state.spooled, 0);
    stream.close().await.unwrap();
    assert_eq!(data(&emu, "known.log"), b"hello,spooled once");
    assert_eq!(posts(&emu), appends, "nothing was sent again");
}

#[tokio::test]
async fn another_writer_stops_the_stream_and_the_spool_is_kept() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&emu);
    let stream = client
        .append_stream(options("conflict.log", dir.path()))
        .await
        .unwrap();
    stream.write("abc").await.unwrap();
    stream.close().await.unwrap();
    client
        .append_object(AppendObjectRequest::new(BUCKET, "conflict.log", "zzz").with_position(3))
        .await
        .unwrap();
    let stream = client
        .append_stream(options("conflict.log", dir.path()))
        .await
        .unwrap();
    stream.write("def").await.unwrap();
    let err = stream.flush().await.unwrap_err();
    assert_eq!(err.code(), "StreamConflict", "{err}");
    let StreamError::Conflict {
        base,
        server_length,
        ..
    } = err.root()
    else {
        panic!("{err:?}");
    };
    assert_eq!((*base, *server_length), (3, 6));
    assert!(stream.state().stopped.is_some());
    let write = stream.write("more").await.unwrap_err();
    assert_eq!(write.code(), "StreamConflict");
    assert!(stream.close().await.is_err());
    assert_eq!(data(&emu, "conflict.log"), b"abczzz");
    // The spool still holds "def", for the app to decide.
    let spool = Spool::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(spool.pending(), 3);
}

#[tokio::test]
async fn a_spool_of_another_object_is_refused() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&emu);
    client
        .append_stream(options("mine.log", dir.path()))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    let err = client
        .append_stream(options("other.log", dir.path()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StreamError::SpoolMismatch { field: "key", .. }),
        "{err}"
    );
}

#[tokio::test]
async fn bad_options_name_the_field() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let err = client(&emu)
        .append_stream(options("k", dir.path()).with_coalescing(0, Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            StreamError::InvalidOption {
                field: "max_append_bytes",
                ..
            }
        ),
        "{err}"
    );
    // The object's own rules are checked at open, before a write is acknowledged; the spool
    // directory is not even created.
    let spool_dir = dir.path().join("never");
    let mut bad_bucket = options("k", &spool_dir);
    bad_bucket.bucket = "b".into();
    let mut bad_key = options("/k", &spool_dir);
    bad_key.key = "/k".into();
    let mut bad_template = options("k", &spool_dir);
    bad_template.rollover = Some(Rollover {
        key_template: "/{n}".into(),
        ..Rollover::default()
    });
    for (opts, field, says) in [
        (bad_bucket, "bucket", "3 to 63"),
        (bad_key, "key", "must not start with '/'"),
        (
            bad_template,
            "rollover.key_template",
            "must not start with '/'",
        ),
    ] {
        let err = client(&emu).append_stream(opts).await.unwrap_err();
        match &err {
            StreamError::InvalidOption { field: f, rule } => {
                assert_eq!(*f, field, "{err}");
                assert!(rule.contains(says), "{err}");
            }
            other => panic!("{other}"),
        }
    }
    assert!(!spool_dir.exists());
}

#[tokio::test]
async fn lost_answers_and_5xx_lose_and_double_nothing() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let stream = client(&emu)
        .append_stream(options("faults.log", dir.path()).with_coalescing(64, Duration::ZERO))
        .await
        .unwrap();
    emu.inject(Fault::drop_after_commit().times(3));
    emu.inject(Fault::status(503).times(8).after(2));
    emu.inject(Fault::drop_before_commit().times(2).after(5));
    let expected = write_chunks(&stream, 60, |i| 10 + (i as usize % 40), false).await;
    stream.close().await.unwrap();
    assert_eq!(data(&emu, "faults.log"), expected);
    assert!(!emu.fired_faults().is_empty());
}

#[tokio::test]
async fn an_outage_longer_than_the_session_budget_is_ridden_out() {
    let data_dir = tempfile::tempdir().unwrap();
    let dd = data_dir.path().to_path_buf();
    let emu = emulator_with(move |c| c.data_dir = Some(dd)).await;
    let dir = tempfile::tempdir().unwrap();
    let retry = RetryPolicy {
        max_retries: 1,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(5),
        deadline: Duration::from_millis(50),
        jitter_seed: Some(1),
    };
    let c = client_with(&emu, |c| {
        c.with_timeouts(Duration::from_millis(300), Duration::from_secs(2))
    });
    let stream = c
        .append_stream(
            options("outage.log", dir.path())
                .with_retry(retry)
                .with_coalescing(1024, Duration::ZERO),
        )
        .await
        .unwrap();
    let mut events = stream.subscribe();
    let mut expected = Vec::new();
    stream.write("before,").await.unwrap();
    expected.extend_from_slice(b"before,");
    stream.flush().await.unwrap();
    let restart = emu.restart(Duration::from_millis(1500));
    let writes = async {
        for i in 0..30 {
            let line = format!("during {i},");
            stream.write(line.clone()).await.unwrap();
            expected.extend_from_slice(line.as_bytes());
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    };
    tokio::join!(restart, writes);
    let state = stream.flush().await.unwrap();
    assert_eq!(state.uploaded, expected.len() as u64);
    assert!(state.online);
    let saw_offline = {
        let mut seen = false;
        // The last error of the outage stays visible after recovery.
        if let Some(e) = &events.borrow_and_update().last_error {
            seen = e.code() == "StreamRetrying";
        }
        seen
    };
    stream.close().await.unwrap();
    assert_eq!(data(&emu, "outage.log"), expected);
    assert!(saw_offline, "the outage showed as a retrying error");
}

#[tokio::test]
async fn a_full_spool_rejects_with_a_named_error() {
    // No server: nothing is ever uploaded.
    let dir = tempfile::tempdir().unwrap();
    let config = ClientConfig::new(Credentials::new(AK, SK, None).unwrap(), "oss-cn-hangzhou")
        .unwrap()
        .with_endpoint("http://127.0.0.1:9");
    let client = Client::new(config).unwrap();
    let stream = client
        .append_stream(
            options("full.log", dir.path()).with_max_spool_bytes(1 << 20, FullPolicy::Reject),
        )
        .await
        .unwrap();
    stream.write(vec![1u8; 600 * 1024]).await.unwrap();
    let err = stream.write(vec![2u8; 600 * 1024]).await.unwrap_err();
    assert!(
        matches!(
            err,
            StreamError::SpoolFull {
                pending: 614_400,
                ..
            }
        ),
        "{err}"
    );
    stream.write(vec![3u8; 1000]).await.unwrap();
    let state = stream.state();
    assert_eq!(state.written, 600 * 1024 + 1000);
    assert!(!state.online);
    drop(stream);
}

#[tokio::test]
async fn rollover_continues_at_the_next_key_and_seals_the_full_one() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let stream = client(&emu)
        .append_stream(
            options("roll.log", dir.path())
                .with_coalescing(1 << 20, Duration::ZERO)
                .with_rollover(Rollover {
                    max_object_bytes: 1000,
                    seal: true,
                    key_template: "{key}.{n}".into(),
                    ..Rollover::default()
                }),
        )
        .await
        .unwrap();
    let expected = write_chunks(&stream, 10, |_| 300, false).await;
    let state = stream.close().await.unwrap();
    assert_eq!(state.object_number, 3);
    assert_eq!(state.key, "roll.log.3");
    let mut joined = Vec::new();
    for key in ["roll.log", "roll.log.1", "roll.log.2", "roll.log.3"] {
        let o = emu.object(BUCKET, key).unwrap();
        assert!(o.data.len() <= 1000 && o.data.len() % 300 == 0, "{key}");
        joined.extend_from_slice(&o.data);
        assert_eq!(o.sealed_time.is_some(), key != "roll.log.3", "{key}");
    }
    assert_eq!(joined, expected);
    // A restart continues at the current object.
    let stream = client(&emu)
        .append_stream(options("roll.log", dir.path()).with_rollover(Rollover {
            max_object_bytes: 1000,
            seal: true,
            key_template: "{key}.{n}".into(),
            ..Rollover::default()
        }))
        .await
        .unwrap();
    assert_eq!(stream.state().key, "roll.log.3");
    stream.write("tail").await.unwrap();
    stream.close().await.unwrap();
    assert!(data(&emu, "roll.log.3").ends_with(b"tail"));
}

#[tokio::test]
async fn rollover_by_age_moves_on_with_the_next_data_and_keeps_the_clock_across_restarts() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let by_age = || Rollover {
        max_age: Some(Duration::from_millis(400)),
        key_template: "{key}-{n}".into(),
        ..Rollover::default()
    };
    let c = client(&emu);
    let open = || {
        c.append_stream(
            options("aged.log", dir.path())
                .with_coalescing(1 << 20, Duration::ZERO)
                .with_rollover(by_age()),
        )
    };
    let stream = open().await.unwrap();
    stream.write("first ").await.unwrap();
    stream.write("object").await.unwrap();
    stream.flush().await.unwrap();
    assert_eq!(stream.state().key, "aged.log");
    // Within the age: same object.
    stream.write("!").await.unwrap();
    stream.flush().await.unwrap();
    assert_eq!(stream.state().object_number, 0);
    // Dropped without close; the object's age keeps counting in the spool.
    drop(stream);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stream = open().await.unwrap();
    assert_eq!(
        stream.state().key,
        "aged.log",
        "no data yet: no rollover yet"
    );
    stream.write("second").await.unwrap();
    let state = stream.close().await.unwrap();
    assert_eq!((state.object_number, state.key.as_str()), (1, "aged.log-1"));
    assert_eq!(data(&emu, "aged.log"), b"first object!");
    assert_eq!(data(&emu, "aged.log-1"), b"second");
}

/// Names the next objects `parts/<n>` and fails the first time it is asked, like an app whose
/// naming service is briefly unreachable.
struct PartNames {
    calls: std::sync::atomic::AtomicU32,
}

impl NextKey for PartNames {
    fn next_key(&self, key: &str, n: u32) -> NextKeyFuture {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answer = if call == 0 {
            Err("naming service unreachable".to_owned())
        } else {
            Ok(format!("parts/{key}/{n:04}"))
        };
        Box::pin(async move { answer })
    }
}

#[tokio::test]
async fn rollover_asks_a_callback_for_the_next_key_and_retries_when_it_fails() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let names = std::sync::Arc::new(PartNames {
        calls: std::sync::atomic::AtomicU32::new(0),
    });
    let stream = client(&emu)
        .append_stream(
            options("cb.log", dir.path())
                .with_coalescing(1 << 20, Duration::ZERO)
                .with_reconnect(Reconnect {
                    initial_backoff: Duration::from_millis(20),
                    ..Reconnect::default()
                })
                .with_rollover(Rollover {
                    max_object_bytes: 500,
                    next_key: Some(NextKeyFn(names.clone())),
                    ..Rollover::default()
                }),
        )
        .await
        .unwrap();
    let expected = write_chunks(&stream, 4, |_| 300, true).await;
    let state = stream.close().await.unwrap();
    assert_eq!(state.key, "parts/cb.log/0003");
    let mut joined = data(&emu, "cb.log");
    for n in 1..=3 {
        joined.extend_from_slice(&data(&emu, &format!("parts/cb.log/{n:04}")));
    }
    assert_eq!(
        joined, expected,
        "every record once, in order, across the objects"
    );
    assert_eq!(
        names.calls.load(std::sync::atomic::Ordering::SeqCst),
        4,
        "one failed call, then one per rollover"
    );
}

/// What a binding relies on: the stream is `Send + Sync`, a write's future is `Send + 'static`,
/// `flush` and `close` futures are `Send` (checked at compile time).
#[allow(dead_code)]
fn the_stream_types_cross_threads(stream: AppendStream) {
    fn send_static<T: Send + 'static>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&stream);
    send_static(&stream.write("x"));
    send(&stream.flush());
    send_static(&stream.close());
}
