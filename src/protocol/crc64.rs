//! CRC-64 as OSS computes `x-oss-hash-crc64ecma`: CRC-64/XZ (a.k.a. CRC-64/GO-ECMA), reflected
//! polynomial 0x42F0E1EBA9EA3693, init and xorout all ones. Not CRC-64/ECMA-182.
//!
//! Backed by `crc-fast` (`CrcAlgorithm::Crc64Xz`), which picks a SIMD carry-less-multiply kernel
//! at run time (PCLMULQDQ / PMULL) and falls back to tables elsewhere.

use crc_fast::CrcAlgorithm::Crc64Xz;

/// A running CRC-64/XZ over data fed in pieces, optionally continuing an earlier value.
#[derive(Clone)]
pub struct Crc64 {
    digest: crc_fast::Digest,
}

impl Crc64 {
    /// A CRC of nothing yet (its value is 0).
    pub fn new() -> Self {
        Self {
            digest: crc_fast::Digest::new(Crc64Xz),
        }
    }

    /// Continues from the CRC of earlier data: the result is the CRC of earlier ‖ later.
    pub fn resume(previous: u64) -> Self {
        // crc-fast keeps the raw (reflected) register; the published CRC is register ^ xorout,
        // and xorout is all ones, so the register behind `previous` is `!previous`.
        Self {
            digest: crc_fast::Digest::new_with_init_state(Crc64Xz, !previous),
        }
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
    }

    /// The CRC of everything fed so far (including what `resume` started from).
    pub fn value(&self) -> u64 {
        self.digest.finalize()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crc64")
            .field("value", &self.value())
            .finish()
    }
}

/// CRC-64/XZ of `data`.
pub fn checksum(data: &[u8]) -> u64 {
    crc_fast::checksum(Crc64Xz, data)
}

/// CRC of A‖B from crc(A), crc(B) and len(B), without the data.
pub fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    crc_fast::checksum_combine(Crc64Xz, crc_a, crc_b, len_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EBS: &[u8] = b"This is a test of the emergency broadcast system.";

    /// Go SDK v2 `TestCRC64` and friends (oss-protocol.md §3).
    const VECTORS: &[(&[u8], u64, u64)] = &[
        (b"", 0x0, 0),
        (b"123456789", 0x995d_c9bb_df19_39fa, 11051210869376104954),
        (EBS, 0x27db_187f_c15b_bc72, 2871916124362751090),
        (b"hello", 0x9b1e_dae5_dbb9_37b1, 11177612005948864433),
        (b"hello world", 0x5303_7ecd_ef23_52da, 5981764153023615706),
        (b"hello world!", 0x8483_c0fa_3260_7d61, 9548687815775124833),
        (
            b"hi oss,append object",
            0x201b_3097_4a3b_b88b,
            2313496259928504459,
        ),
    ];

    #[test]
    fn table_vectors_hex_and_decimal_agree() {
        for &(data, hex, dec) in VECTORS {
            assert_eq!(hex, dec, "table row {:?}", String::from_utf8_lossy(data));
            assert_eq!(checksum(data), hex, "{:?}", String::from_utf8_lossy(data));
            let mut c = Crc64::new();
            c.update(data);
            assert_eq!(c.value(), hex);
            assert_eq!(c.value().to_string(), dec.to_string());
        }
    }

    #[test]
    fn check_value_is_crc64_xz_not_ecma182() {
        assert_eq!(checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(checksum(b"123456789"), 11051210869376104954);
        // CRC-64/ECMA-182 (non-reflected, init 0) check value: the trap behind the header name.
        assert_ne!(checksum(b"123456789"), 0x6c40_df5f_0b49_7347);
        // CRC-64/NVME check value.
        assert_ne!(checksum(b"123456789"), 0xae8b_1486_0a79_9888);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Crc64::new().value(), 0);
        assert_eq!(Crc64::default().value(), 0);
        assert_eq!(checksum(b""), 0);
        let mut c = Crc64::new();
        c.update(b"");
        assert_eq!(c.value(), 0);
    }

    #[test]
    fn concat_row_and_combine() {
        let mut concat = b"123456789".to_vec();
        concat.extend_from_slice(EBS);
        assert_eq!(EBS.len(), 49);
        assert_eq!(checksum(&concat), 0x6a7a_a19f_cbf4_8688);
        assert_eq!(checksum(&concat), 7672622622872733320);
        assert_eq!(
            combine(checksum(b"123456789"), checksum(EBS), 49),
            7672622622872733320
        );
    }

    #[test]
    fn combine_edge_cases() {
        let a = checksum(b"hello");
        // Appending nothing keeps the CRC.
        assert_eq!(combine(a, 0, 0), a);
        // Prefixing with nothing gives the second CRC.
        assert_eq!(combine(0, a, 5), a);
        assert_eq!(combine(a, checksum(b" world"), 6), checksum(b"hello world"));
    }

    #[test]
    fn resume_continues_previous_crc() {
        let hello = checksum(b"hello");
        let mut c = Crc64::resume(hello);
        c.update(b" world");
        assert_eq!(c.value(), 5981764153023615706);

        // Resuming from 0 is the same as starting fresh.
        let mut z = Crc64::resume(0);
        z.update(b"hello world");
        assert_eq!(z.value(), 5981764153023615706);

        // Resuming without feeding anything reports the previous value.
        assert_eq!(Crc64::resume(hello).value(), hello);
        assert_eq!(Crc64::resume(u64::MAX).value(), u64::MAX);

        // The OSS append chain: each response CRC seeds the next append.
        let mut c1 = Crc64::resume(0);
        c1.update(b"123456789");
        let mut c2 = Crc64::resume(c1.value());
        c2.update(EBS);
        assert_eq!(c2.value(), 7672622622872733320);
    }

    #[test]
    fn resume_with_raw_previous_would_be_wrong() {
        // Guard against the easy mistake of seeding crc-fast's register with the CRC itself.
        let mut wrong = crc_fast::Digest::new_with_init_state(Crc64Xz, checksum(b"hello"));
        wrong.update(b" world");
        assert_ne!(wrong.finalize(), 5981764153023615706);
    }

    #[test]
    fn pieces_and_clone() {
        // Large enough to exercise the SIMD path, with odd split points.
        let data: Vec<u8> = (0..1_000_003u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let whole = checksum(&data);
        for split in [0usize, 1, 7, 15, 16, 17, 255, 4096, 65_537, data.len()] {
            let mut c = Crc64::new();
            c.update(&data[..split]);
            let snapshot = c.clone();
            c.update(&data[split..]);
            assert_eq!(c.value(), whole, "split at {split}");
            assert_eq!(snapshot.value(), checksum(&data[..split]));

            let mut r = Crc64::resume(checksum(&data[..split]));
            r.update(&data[split..]);
            assert_eq!(r.value(), whole, "resume at {split}");

            assert_eq!(
                combine(
                    checksum(&data[..split]),
                    checksum(&data[split..]),
                    (data.len() - split) as u64
                ),
                whole,
                "combine at {split}"
            );
        }
        // Byte-at-a-time matches too (small prefix, to keep the test fast).
        let mut c = Crc64::new();
        for b in &data[..1000] {
            c.update(std::slice::from_ref(b));
        }
        assert_eq!(c.value(), checksum(&data[..1000]));
    }
}
