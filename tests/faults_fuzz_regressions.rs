//! Replays the fuzz seeds and every input the fuzzers ever crashed on
//! (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the same harness the fuzz
//! targets run (`fuzz/harness.rs`), so a fixed crash stays fixed without libFuzzer.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let dir = root.join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} panics", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn service_error_inputs() {
    assert!(replay("service_error", harness::service_error) > 0);
}

#[test]
fn response_header_inputs() {
    assert!(replay("response_headers", harness::response_headers) > 0);
}

#[test]
fn authorization_inputs() {
    assert!(replay("parse_authorization", harness::parse_authorization) > 0);
}

/// Inputs worth keeping in plain sight (edge cases the fuzzers visit early).
#[test]
fn hand_picked_edge_cases() {
    for data in [
        &b""[..],
        b"\x01",
        b"\x00\x00<Error>",
        b"\xff\xff<Error><Code></Code></Error>",
        b"\x01\xf4\x00%%%%\x00",
        b"\x01\x90<Error><Code>A</Code><Code>B</Code></Error>",
    ] {
        harness::service_error(data);
    }
    for text in [
        "x-oss-next-append-position: 18446744073709551616",
        "x-oss-next-append-position:\ncontent-length: 00",
        "X-OSS-NEXT-APPEND-POSITION: 1\nx-oss-hash-crc64ecma: 18446744073709551615",
        "content-length: 1\nx-oss-sealed-time:\n",
    ] {
        harness::response_headers(text.as_bytes());
    }
    for text in [
        "OSS4-HMAC-SHA256",
        "OSS4-HMAC-SHA256 ",
        "OSS4-HMAC-SHA256\tCredential=a/b/c/d/e,Signature=s",
        "OSS4-HMAC-SHA256 Credential=//////,Signature=s",
        "OSS a:b",
        "OSS :",
        "oss a:b",
    ] {
        harness::parse_authorization_input(text);
    }
}
