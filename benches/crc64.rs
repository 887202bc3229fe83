//! CRC-64/XZ throughput (`x-oss-hash-crc64ecma`), the checksum every upload byte goes through.
//!
//! `cargo bench --bench crc64` — reported in decimal GB/s (target: >= 5 GB/s). Three cases:
//! one-shot `checksum` over a 1 MiB and a 64 MiB buffer, and the whole-body path: a running
//! `Crc64::update` fed 1 MiB at a time over 64 MiB (what `body::TrackedBody` does per chunk).
//! `bench/run.sh` reads criterion's estimates from `target/criterion/crc64/*/new/`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oss_append::crc64::{checksum, Crc64};

const MIB: usize = 1024 * 1024;

/// Deterministic, incompressible-looking bytes (the CRC kernels don't care, but the page
/// contents should not be all zeros).
fn data(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn crc64(c: &mut Criterion) {
    let big = data(64 * MIB);
    let small = &big[..MIB];

    let mut group = c.benchmark_group("crc64");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    group.throughput(Throughput::BytesDecimal(small.len() as u64));
    group.bench_function("checksum_1MiB", |b| b.iter(|| checksum(black_box(small))));

    group.sample_size(20);
    group.throughput(Throughput::BytesDecimal(big.len() as u64));
    group.bench_function("checksum_64MiB", |b| b.iter(|| checksum(black_box(&big))));
    group.bench_function("update_1MiB_chunks_64MiB", |b| {
        b.iter(|| {
            let mut crc = Crc64::new();
            for chunk in black_box(&big).chunks(MIB) {
                crc.update(chunk);
            }
            crc.value()
        })
    });
    group.finish();
}

criterion_group!(benches, crc64);
criterion_main!(benches);
