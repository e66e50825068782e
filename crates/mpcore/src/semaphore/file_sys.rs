//! The system calls of the file-backed semaphore (Linux): futexes on a word of a shared file
//! mapping, the mapping itself, and the `*at` calls relative to a checked directory. The only
//! unsafe code of that backend.
//!
//! Each function cites the call it wraps: `futex(2)`, `mmap(2)`, `munmap(2)`, `openat(2)`,
//! `linkat(2)`, `unlinkat(2)`, `geteuid(2)`. Nothing here knows what a semaphore is: `file.rs`
//! keeps the rules of the shared word, `private_dir.rs` the rules of the directory.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use super::deadline::Deadline;

/// `FUTEX_BITSET_MATCH_ANY` from `<linux/futex.h>` (not in `libc`): a bitset wait that any
/// wake matches, which makes `FUTEX_WAIT_BITSET` a plain wait with an absolute deadline.
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// Where the low 32 bits of a `u64` sit in memory: the futex word is the value half of the
/// semaphore's state word.
#[cfg(target_endian = "little")]
const LOW_HALF_OFFSET: usize = 0;
#[cfg(target_endian = "big")]
const LOW_HALF_OFFSET: usize = 4;

fn low_half(word: &AtomicU64) -> *const u32 {
    word.as_ptr()
        .cast::<u8>()
        .wrapping_add(LOW_HALF_OFFSET)
        .cast::<u32>()
}

/// How a [`futex_wait_low`] ended, other than by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FutexWake {
    /// Woken by a `FUTEX_WAKE` (or spuriously): look at the word again.
    Woken,
    /// The word no longer held the expected value when the kernel looked (`EAGAIN`).
    Changed,
    /// The deadline passed (`ETIMEDOUT`).
    TimedOut,
}

/// `futex(FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME)` on the low 32 bits of `word`: sleeps while
/// they equal `expected`, until a wake or `deadline` (an absolute `CLOCK_REALTIME` instant, as
/// `sem_timedwait` takes it; `None` waits without limit). The futex is not private
/// (`FUTEX_PRIVATE_FLAG` unset): `word` is in a shared file mapping, and the kernel keys the wait
/// on the file's page, so waiters and wakers in other processes meet.
///
/// A signal gives `Err` with `ErrorKind::Interrupted` (the kernel does not restart this call for
/// handlers installed without `SA_RESTART`, which is how Python installs them).
pub(crate) fn futex_wait_low(
    word: &AtomicU64,
    expected: u32,
    deadline: Option<Deadline>,
) -> io::Result<FutexWake> {
    let abstime = deadline.map(|deadline| {
        let (secs, nanos) = deadline.as_secs_nanos();
        // SAFETY: timespec is plain old data; every field is set below.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        ts.tv_sec = secs as libc::time_t;
        ts.tv_nsec = nanos as _;
        ts
    });
    let timeout = abstime
        .as_ref()
        .map_or(std::ptr::null(), |ts| ts as *const libc::timespec);
    // SAFETY: the futex word is 4 aligned bytes inside `word`, which the caller's borrow keeps
    // mapped for the duration of the call; `timeout` is null or points to a timespec that
    // outlives the call; the two unused arguments of FUTEX_WAIT_BITSET are null and the bitset.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            low_half(word),
            libc::FUTEX_WAIT_BITSET | libc::FUTEX_CLOCK_REALTIME,
            expected,
            timeout,
            std::ptr::null::<u32>(),
            FUTEX_BITSET_MATCH_ANY,
        )
    };
    if rc == 0 {
        return Ok(FutexWake::Woken);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) => Ok(FutexWake::Changed),
        Some(libc::ETIMEDOUT) => Ok(FutexWake::TimedOut),
        _ => Err(err),
    }
}

/// `futex(FUTEX_WAKE)` on the low 32 bits of `word`: wakes up to `count` waiters of
/// [`futex_wait_low`], in any process that maps the same file.
pub(crate) fn futex_wake_low(word: &AtomicU64, count: i32) -> io::Result<()> {
    // SAFETY: as in `futex_wait_low`; FUTEX_WAKE reads no pointer argument but the word's
    // address, which it only uses as a key.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            low_half(word),
            libc::FUTEX_WAKE,
            count,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A `MAP_SHARED` read-write mapping of the start of a file, unmapped on drop.
#[derive(Debug)]
pub(crate) struct SharedMapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory, valid until drop; this type hands out only
// atomic views of it (`word`), which any thread may use concurrently.
unsafe impl Send for SharedMapping {}
// SAFETY: as above: shared references only ever give atomic access.
unsafe impl Sync for SharedMapping {}

impl SharedMapping {
    /// `mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)`: the first `len` bytes of
    /// `file`, which must already be at least that long (a page beyond the end of the file
    /// would fault with `SIGBUS`). The descriptor may be closed afterwards.
    pub(crate) fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh mapping chosen by the kernel (null hint), of a descriptor that is open
        // for reading and writing; the result is checked for MAP_FAILED below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(SharedMapping { ptr, len })
    }

    /// The address of the mapping, unique among this process's live mappings.
    pub(crate) fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// The 8-byte word at `offset`, for atomic access shared with every process that maps
    /// the same file; the mapping goes with it.
    ///
    /// # Panics
    /// If `offset` is not 8-aligned or the word is not inside the mapping: a caller bug.
    pub(crate) fn into_word(self, offset: usize) -> SharedWord {
        assert!(
            offset.is_multiple_of(8) && offset + 8 <= self.len,
            "word {offset} out of the mapping"
        );
        SharedWord { map: self, offset }
    }
}

/// An 8-byte word of a [`SharedMapping`], checked once to lie inside it.
#[derive(Debug)]
pub(crate) struct SharedWord {
    map: SharedMapping,
    offset: usize,
}

impl SharedWord {
    /// The word, for atomic access shared with every process that maps the same file.
    #[inline]
    pub(crate) fn get(&self) -> &AtomicU64 {
        // SAFETY: mappings are page-aligned, so `ptr + offset` is 8-aligned, and it lies within
        // the mapping (both checked in `into_word`), which stays valid while `self` is borrowed.
        // The memory is shared with other processes, which only ever access it atomically (or,
        // if hostile and of the same user, could change the value but never make the access
        // unsound).
        unsafe { AtomicU64::from_ptr(self.map.ptr.as_ptr().add(self.offset).cast::<u64>()) }
    }

    /// The address of the mapping the word is in.
    pub(crate) fn mapping_addr(&self) -> usize {
        self.map.addr()
    }
}

impl Drop for SharedMapping {
    /// `munmap`: this process's view goes away; the file and other processes' views stay.
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned and nothing borrows the mapping
        // after drop. An error has no one to report to and leaves nothing to clean up.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// `openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW, mode)`: a file inside `dir`, never through
/// a symbolic link in its last component (`ELOOP` then).
pub(crate) fn open_at(dir: &File, name: &CStr, flags: i32, mode: u32) -> io::Result<File> {
    // SAFETY: `dir` is an open descriptor and `name` a NUL-terminated string; openat reads the
    // mode argument only with O_CREAT or O_TMPFILE and accepts it otherwise.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// `linkat(dir, from, dir, to, 0)`: a second name for a file, failing with `EEXIST` if `to`
/// exists (this is what makes creation atomic: the name appears with its content).
pub(crate) fn link_at(dir: &File, from: &CStr, to: &CStr) -> io::Result<()> {
    // SAFETY: `dir` is an open descriptor and both names are NUL-terminated strings.
    let rc = unsafe {
        libc::linkat(
            dir.as_raw_fd(),
            from.as_ptr(),
            dir.as_raw_fd(),
            to.as_ptr(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `unlinkat(dir, name, 0)`: removes a name inside `dir` (a symbolic link itself, never its
/// target).
pub(crate) fn unlink_at(dir: &File, name: &CStr) -> io::Result<()> {
    // SAFETY: `dir` is an open descriptor and `name` a NUL-terminated string.
    let rc = unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `geteuid()`: the user whose private directory this process uses.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
