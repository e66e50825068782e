//! A peer that announces a huge message and sends a few bytes cannot make the receiver
//! allocate anywhere near the announced size.
//!
//! This test binary counts every allocation (its own global allocator), so it holds only the
//! tests that need the count.

#![cfg(unix)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use mpcore::{Connection, Error, READ_CHUNK};

/// The system allocator, remembering the largest block asked for since the last reset.
struct LargestAllocation;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` unchanged; only a counter is updated on the side.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which `System.alloc` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (every block here is).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: the caller upholds `realloc`'s contract, which `System.realloc` shares.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// The tests read a process-wide counter, so they take turns.
static SERIAL: Mutex<()> = Mutex::new(());

/// Sends `header` and `sent` payload bytes, closes, and returns what receiving gave and the
/// largest allocation made meanwhile.
fn receive_hostile(header: &[u8], sent: usize) -> (Result<Vec<u8>, Error>, usize) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (ours, mut peer) = UnixStream::pair().unwrap();
    let conn = Connection::new(ours.into(), true, true).unwrap();
    let header = header.to_vec();
    let writer = std::thread::spawn(move || {
        peer.write_all(&header).unwrap();
        for _ in 0..sent / 1000 {
            peer.write_all(&[0x5a; 1000]).unwrap();
        }
    });
    LARGEST.store(0, Ordering::Relaxed);
    let result = conn.recv_bytes(None);
    let largest = LARGEST.load(Ordering::Relaxed);
    writer.join().unwrap();
    (result, largest)
}

#[test]
fn an_announced_2_pow_62_bytes_allocates_only_what_arrived() {
    let header = [&(-1i32).to_be_bytes()[..], &(1u64 << 62).to_be_bytes()].concat();
    let (result, largest) = receive_hostile(&header, 5_000);
    assert!(matches!(result, Err(Error::EofInMessage)), "{result:?}");
    assert!(largest <= READ_CHUNK, "largest allocation {largest} bytes");
}

#[test]
fn a_lie_the_allocator_would_grant_is_still_not_believed() {
    // 1 GiB is an allocation Linux overcommit would happily grant without touching memory:
    // only the allocation size shows whether the receiver believed the header.
    let (result, largest) = receive_hostile(&(1i32 << 30).to_be_bytes(), 3_000_000);
    assert!(matches!(result, Err(Error::EofInMessage)), "{result:?}");
    assert!(
        largest <= 2 * 3_000_000 + READ_CHUNK,
        "largest allocation {largest} bytes for 3 MB received"
    );
}
