//! K writers race on one key with plain `append_object` (no session): every acknowledged append
//! is in the object exactly once, at the position it was acknowledged at; every loser got 409
//! `PositionNotEqualToLength` carrying the server's next position, which is a real boundary of
//! the object. Seeded (`FAULT_MATRIX_SEED`).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::*;
use oss_append::{crc64, AppendObjectRequest};

const WRITERS: usize = 4;
const ACKS_PER_WRITER: usize = 15;

#[derive(Debug, Clone)]
struct Ack {
    writer: usize,
    position: u64,
    data: Vec<u8>,
    next: u64,
    crc: u64,
}

#[derive(Debug, Clone)]
struct Loss {
    writer: usize,
    tried: u64,
    next: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writers_each_acknowledged_append_exactly_once() {
    let seed: u64 = std::env::var("FAULT_MATRIX_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xC0FFEE);
    let emu = emulator().await;
    let key = "race/one-key.log";
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let losses = Arc::new(Mutex::new(Vec::<Loss>::new()));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let client = client(&emu);
        let (acks, losses) = (acks.clone(), losses.clone());
        tasks.push(tokio::spawn(async move {
            let mut position = 0u64;
            let mut i = 0u64;
            let mut won = 0;
            while won < ACKS_PER_WRITER {
                // Unique bytes per (writer, try); sizes 1..16 KiB.
                let try_seed = seed ^ ((writer as u64) << 32) ^ i;
                i += 1;
                let len = 1 + (try_seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 50) as usize;
                let data = pattern(len, try_seed);
                let result = client
                    .append_object(
                        AppendObjectRequest::new(BUCKET, key, data.clone()).with_position(position),
                    )
                    .await;
                match result {
                    Ok(out) => {
                        assert_eq!(out.next_append_position, position + len as u64);
                        acks.lock().unwrap().push(Ack {
                            writer,
                            position,
                            data,
                            next: out.next_append_position,
                            crc: out.hash_crc64ecma.expect("CRC header"),
                        });
                        position = out.next_append_position;
                        won += 1;
                    }
                    Err(e) => {
                        let s = e
                            .as_service()
                            .unwrap_or_else(|| panic!("writer {writer}: {e}"));
                        assert_eq!(s.status, 409, "{e}");
                        assert_eq!(s.code, "PositionNotEqualToLength");
                        let next = s
                            .next_append_position()
                            .expect("409 carries x-oss-next-append-position");
                        assert!(next > position, "the object grew past {position}: {next}");
                        losses.lock().unwrap().push(Loss {
                            writer,
                            tried: position,
                            next,
                        });
                        position = next;
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    let acks = acks.lock().unwrap().clone();
    let losses = losses.lock().unwrap().clone();
    let object = emu.object(BUCKET, key).unwrap().data;
    assert_eq!(acks.len(), WRITERS * ACKS_PER_WRITER);

    // The acknowledged appends tile the object from 0 to its end, each at its position.
    let by_position: BTreeMap<u64, &Ack> = acks.iter().map(|a| (a.position, a)).collect();
    assert_eq!(by_position.len(), acks.len(), "two acks at one position");
    let mut offset = 0u64;
    for (position, ack) in &by_position {
        assert_eq!(
            *position, offset,
            "gap or overlap before writer {}",
            ack.writer
        );
        let range = ack.position as usize..ack.next as usize;
        assert!(
            object[range.clone()] == ack.data[..],
            "writer {}'s bytes at {}",
            ack.writer,
            ack.position
        );
        // Each answer's CRC is that of the object up to its end.
        assert_eq!(ack.crc, crc64::checksum(&object[..range.end]));
        offset = ack.next;
    }
    assert_eq!(offset, object.len() as u64, "bytes nobody was told about");

    // Every loser was told a position that is a boundary of acknowledged data.
    let boundaries: std::collections::BTreeSet<u64> = acks.iter().map(|a| a.next).collect();
    for loss in &losses {
        assert!(
            boundaries.contains(&loss.next),
            "writer {} at {} was told {}, not a boundary",
            loss.writer,
            loss.tried,
            loss.next
        );
    }
    eprintln!(
        "RACE| {WRITERS} writers | {} acknowledged | {} PositionNotEqualToLength | {} bytes |",
        acks.len(),
        losses.len(),
        object.len()
    );
    // With four writers starting at 0 together, someone must have lost at least once.
    assert!(!losses.is_empty());
}
