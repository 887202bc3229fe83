//! The `data` of an append as JS passes it: strings and buffers are copied as bytes by the
//! N-API layer; a file (`fileIo.open`'s object) arrives as its `fd`, a JS number, which must
//! name a descriptor before the binding duplicates it.

use crate::protocol::error::{Error, Result};

/// A file's `fd` given as a JS number: an integer 0 ..= `i32::MAX` (what `dup` takes).
pub fn file_descriptor(fd: f64) -> Result<i32> {
    // NaN fails the range check; -0 is the integer 0, as in JS.
    if fd.fract() != 0.0 || !(0.0..=i32::MAX as f64).contains(&fd) {
        return Err(Error::invalid(
            "data",
            format!("fd must be a non-negative integer file descriptor, got {fd}"),
        ));
    }
    Ok(fd as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::js::test_support::refusal;

    #[test]
    fn descriptors_are_integers_from_0_to_i32_max() {
        assert_eq!(file_descriptor(0.0).unwrap(), 0);
        assert_eq!(file_descriptor(-0.0).unwrap(), 0);
        assert_eq!(file_descriptor(17.0).unwrap(), 17);
        assert_eq!(file_descriptor(i32::MAX as f64).unwrap(), i32::MAX);
        for bad in [
            -1.0,
            1.5,
            i32::MAX as f64 + 1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let (field, rule) = refusal(file_descriptor(bad));
            assert_eq!(field, "data", "{bad}");
            assert!(
                rule.starts_with("fd must be a non-negative integer"),
                "{rule}"
            );
        }
    }
}
