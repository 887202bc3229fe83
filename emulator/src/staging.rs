//! Memory for in-memory uploads and objects.
//!
//! Receiving a large body into memory is dominated by the kernel, not by the emulator: a buffer
//! that grows as bytes arrive takes a page fault per 4 KiB page (plus the reallocations of its
//! doubling), and every fresh page is zeroed by the kernel before it is used. With the emulator
//! at a full core on that work, it — not the client — set the pace of a fast upload. So:
//! * a body with a declared length gets its whole buffer up front, backed by transparent huge
//!   pages where the kernel offers them (one fault per 2 MiB instead of per 4 KiB);
//! * large buffers of uploads and objects that are gone (deleted, replaced, aborted, merged into
//!   an append) are kept, up to [`RETAINED_MAX`] bytes in all, and reused by the next large
//!   upload: no faults and no zeroing at all.
//!
//! Reserving capacity costs address space only until bytes arrive, so a client that declares a
//! large body and sends little costs nothing.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Bodies below this size gain nothing from huge pages or recycling.
const LARGE: usize = 4 << 20;
/// Cap on the up-front reservation (OSS allows 5 GiB per request; past this the buffer grows).
const RESERVE_MAX: u64 = 1 << 30;
/// Cap on the capacity of the buffers kept for reuse, across all emulators of the process.
const RETAINED_MAX: usize = 1 << 30;

/// Buffers kept for reuse (their contents are stale and never read).
static RETAINED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// The bytes of an in-memory upload or object. Dereferences to the `Vec<u8>`; a large one goes
/// back to the pool when dropped.
#[derive(Default)]
pub(crate) struct StagingBuffer(Vec<u8>);

impl StagingBuffer {
    /// An empty buffer for a body of `declared_len` bytes (the request's Content-Length).
    pub(crate) fn for_body(declared_len: Option<u64>) -> Self {
        let Some(len) = declared_len.filter(|&n| n > 0) else {
            return Self::default();
        };
        let want = len.min(RESERVE_MAX) as usize;
        if want < LARGE {
            return Self(Vec::with_capacity(want));
        }
        if let Some(buf) = take_retained(want) {
            return Self(buf);
        }
        let buf = Vec::with_capacity(want);
        advise_huge_pages(&buf);
        Self(buf)
    }
}

impl Deref for StagingBuffer {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for StagingBuffer {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for StagingBuffer {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        if buf.capacity() < LARGE {
            return;
        }
        let mut retained = RETAINED.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = retained.iter().map(Vec::capacity).sum();
        if total + buf.capacity() <= RETAINED_MAX {
            retained.push(buf);
        }
    }
}

/// The smallest retained buffer with room for `want` bytes, emptied.
fn take_retained(want: usize) -> Option<Vec<u8>> {
    let mut retained = RETAINED.lock().unwrap_or_else(|e| e.into_inner());
    let (index, _) = retained
        .iter()
        .enumerate()
        .filter(|(_, b)| b.capacity() >= want)
        .min_by_key(|(_, b)| b.capacity())?;
    let mut buf = retained.swap_remove(index);
    buf.clear();
    Some(buf)
}

/// Asks the kernel to back the buffer's spare capacity with transparent huge pages. A hint:
/// ignored where THP is off or unavailable.
#[cfg(target_os = "linux")]
fn advise_huge_pages(buf: &Vec<u8>) {
    const HUGE_PAGE: usize = 2 << 20;
    let start = buf.as_ptr() as usize;
    let end = start + buf.capacity();
    let aligned_start = start.next_multiple_of(HUGE_PAGE);
    let aligned_end = end - end % HUGE_PAGE;
    if aligned_end > aligned_start {
        // SAFETY: the range lies inside the buffer's own allocation, none of it written yet;
        // MADV_HUGEPAGE changes how its pages are backed, never what they hold.
        unsafe {
            libc::madvise(
                aligned_start as *mut libc::c_void,
                aligned_end - aligned_start,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_buf: &Vec<u8>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_unknown_bodies_reserve_what_they_declare() {
        assert_eq!(StagingBuffer::for_body(None).capacity(), 0);
        assert_eq!(StagingBuffer::for_body(Some(0)).capacity(), 0);
        assert!(StagingBuffer::for_body(Some(1000)).capacity() >= 1000);
    }

    #[test]
    fn a_dropped_large_buffer_is_reused_empty() {
        // An odd size no other test in this process asks for, so the pool hit is ours.
        let want = LARGE + 12_345;
        let mut first = StagingBuffer::for_body(Some(want as u64));
        first.extend_from_slice(&[7u8; 100]);
        let ptr = first.as_ptr();
        drop(first);
        let second = StagingBuffer::for_body(Some(want as u64));
        assert!(second.is_empty(), "a reused buffer starts empty");
        assert!(second.capacity() >= want);
        assert_eq!(second.as_ptr(), ptr, "the retained allocation was reused");
    }
}
