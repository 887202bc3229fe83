//! The `data` of an append as JS passes it: strings and buffers are copied as bytes by the
//! N-API layer; a file (`fileIo.open`'s object) arrives as its `fd`, a JS number, which must
//! name a descriptor before the binding duplicates it; a `FilePath` arrives as its path.

use std::path::PathBuf;

use crate::protocol::error::{Error, Result};

/// A `FilePath`'s path: not empty, and without NUL (which no path can hold; the OS would cut the
/// path there or refuse it with a less clear error). Whether the file can be read is found when
/// the request opens it, still before anything is sent.
pub fn file_path(path: String) -> Result<PathBuf> {
    if path.is_empty() {
        return Err(Error::invalid("data", "filePath must not be empty"));
    }
    if path.contains('\0') {
        return Err(Error::invalid(
            "data",
            format!("filePath must not contain NUL, got {path:?}"),
        ));
    }
    Ok(PathBuf::from(path))
}

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
    fn file_paths_are_non_empty_without_nul() {
        assert_eq!(
            file_path("/data/storage/el2/base/files/a.log".into()).unwrap(),
            PathBuf::from("/data/storage/el2/base/files/a.log")
        );
        assert_eq!(
            file_path("relative.txt".into()).unwrap(),
            PathBuf::from("relative.txt")
        );
        for bad in ["", "a\0b"] {
            let (field, rule) = refusal(file_path(bad.into()));
            assert_eq!(field, "data", "{bad:?}");
            assert!(rule.starts_with("filePath must not"), "{rule}");
        }
    }

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
