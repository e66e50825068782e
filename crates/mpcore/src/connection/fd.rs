//! The system calls of the connection area on raw descriptors, and its only unsafe code.
//!
//! Each function wraps one call (`read(2)`, `write(2)`, `writev(2)`, `poll(2)`, `pipe(2)`,
//! `accept(2)`, `listen(2)`, and on Linux `preadv2(2)`/`pwritev2(2)` with `RWF_NOWAIT`) and
//! reports its error as is: nothing here retries `EINTR`, so a signal always reaches the
//! caller as [`io::ErrorKind::Interrupted`].

use std::io;
use std::mem::MaybeUninit;
#[cfg(not(cloexec_at_creation))]
use std::os::fd::AsFd;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
#[cfg(nowait_io)]
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Converts a `-1`-on-error return value into the errno it left.
fn check(rc: isize) -> io::Result<usize> {
    usize::try_from(rc).map_err(|_| io::Error::last_os_error())
}

/// The most one call asks for: POSIX leaves larger counts to the implementation, and Linux
/// transfers at most `0x7ffff000` bytes per call anyway.
const MAX_IO: usize = isize::MAX as usize;

/// Whether a transfer may wait for the peer (a plain blocking call) or must take only what
/// can move at once: data already there to read, room already there to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// `read(2)`/`write(2)`: blocks on a blocking descriptor.
    Yes,
    /// `preadv2`/`pwritev2` with `RWF_NOWAIT` (Linux 4.14+, pipes since 5.x): fails with
    /// `WouldBlock` instead of waiting, without touching the descriptor's flags (which other
    /// processes share). Where that is not available, every call is `WouldBlock`, and callers
    /// go on with [`Wait::Yes`].
    No,
}

/// `read(2)` into `buf`, or with [`Wait::No`] only what has arrived; `Ok(0)` is end of file.
pub(super) fn read(fd: BorrowedFd<'_>, buf: &mut [u8], wait: Wait) -> io::Result<usize> {
    // SAFETY: initialised bytes are valid `MaybeUninit<u8>`, and the call only writes bytes.
    read_uninit(
        fd,
        unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) },
        wait,
    )
}

/// `read(2)` of at most `max` bytes into the spare capacity of `buf`, or with [`Wait::No`]
/// only what has arrived; `buf` grows by what arrived. The caller reserves the capacity;
/// `Ok(0)` is end of file.
pub(super) fn read_into_spare(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    wait: Wait,
) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(max);
    let n = read_uninit(fd, &mut spare[..len], wait)?;
    // SAFETY: the read initialised the first `n <= len` bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// `read(2)` into possibly uninitialised memory, or with [`Wait::No`] only what has arrived;
/// `Ok(0)` is end of file. Bytes `..n` of `buf` are initialised on `Ok(n)`.
pub(super) fn read_uninit(
    fd: BorrowedFd<'_>,
    buf: &mut [MaybeUninit<u8>],
    wait: Wait,
) -> io::Result<usize> {
    let len = buf.len().min(MAX_IO);
    let iov = [libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    }];
    if wait == Wait::No {
        // SAFETY: `iov` describes `len` writable bytes of `buf`.
        return unsafe { nowait::readv(fd, &iov) };
    }
    // SAFETY: `buf` is valid for writes of `len` bytes (uninitialised memory may be written)
    // and `fd` is open for the borrow.
    let rc = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), len) };
    check(rc)
}

/// The wait-free transfers of [`Wait::No`].
mod nowait {
    use super::*;

    /// Set once the kernel refused `RWF_NOWAIT` (too old, or a file type without it): from
    /// then on wait-free attempts are skipped rather than paid for on every call.
    #[cfg(nowait_io)]
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

    fn would_block() -> io::Error {
        io::ErrorKind::WouldBlock.into()
    }

    /// `preadv2(fd, iov, -1, RWF_NOWAIT)`: reads what has arrived, at the current position.
    ///
    /// # Safety
    /// Every `iovec` describes memory valid for writes for the duration of the call.
    #[cfg(nowait_io)]
    pub(super) unsafe fn readv(fd: BorrowedFd<'_>, iov: &[libc::iovec]) -> io::Result<usize> {
        // SAFETY: the caller vouches for `iov`, as preadv2 needs it.
        unsafe { transfer(libc::SYS_preadv2, fd, iov) }
    }

    /// `pwritev2(fd, iov, -1, RWF_NOWAIT)`: writes what fits without waiting.
    ///
    /// # Safety
    /// Every `iovec` describes memory valid for reads for the duration of the call.
    #[cfg(nowait_io)]
    pub(super) unsafe fn writev(fd: BorrowedFd<'_>, iov: &[libc::iovec]) -> io::Result<usize> {
        // SAFETY: the caller vouches for `iov`, as pwritev2 needs it.
        unsafe { transfer(libc::SYS_pwritev2, fd, iov) }
    }

    /// The system call `preadv2` or `pwritev2` (same arguments) with `RWF_NOWAIT` at the
    /// current position, unless `RWF_NOWAIT` is known to be missing; "not supported" becomes
    /// `WouldBlock` (remembered), so that callers go on with a blocking call.
    ///
    /// A raw system call rather than glibc's wrappers, which are glibc 2.26: the extension
    /// needs nothing newer than glibc 2.17 (its wheel is manylinux2014). A kernel without the
    /// calls (before 4.6) answers `ENOSYS`, as the wrappers would.
    ///
    /// # Safety
    /// `iov` is valid for what `call` does with it, for the duration of the call.
    #[cfg(nowait_io)]
    unsafe fn transfer(
        call: libc::c_long,
        fd: BorrowedFd<'_>,
        iov: &[libc::iovec],
    ) -> io::Result<usize> {
        if UNSUPPORTED.load(Ordering::Relaxed) {
            return Err(would_block());
        }
        let count = iov.len() as libc::c_long;
        // The kernel takes the offset as two longs, low half then high half; -1 in both is -1
        // ("the current position") for 64-bit, 32-bit and compat callers alike.
        let (offset_low, offset_high): (libc::c_long, libc::c_long) = (-1, -1);
        let flags = libc::c_long::from(libc::RWF_NOWAIT);
        // SAFETY: the caller vouches for `iov`; `fd` is open for the borrow; every argument is
        // passed as the long the kernel reads it as.
        let rc = unsafe {
            libc::syscall(
                call,
                libc::c_long::from(fd.as_raw_fd()),
                iov.as_ptr(),
                count,
                offset_low,
                offset_high,
                flags,
            )
        };
        check(rc as isize).map_err(|err| match err.raw_os_error() {
            Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL | libc::ESPIPE) => {
                UNSUPPORTED.store(true, Ordering::Relaxed);
                would_block()
            }
            _ => err,
        })
    }

    /// No `RWF_NOWAIT` here: every wait-free attempt "would block".
    ///
    /// # Safety
    /// None needed; the signature matches Linux's.
    #[cfg(not(nowait_io))]
    pub(super) unsafe fn readv(_fd: BorrowedFd<'_>, _iov: &[libc::iovec]) -> io::Result<usize> {
        Err(would_block())
    }

    /// See [`readv`].
    ///
    /// # Safety
    /// None needed; the signature matches Linux's.
    #[cfg(not(nowait_io))]
    pub(super) unsafe fn writev(_fd: BorrowedFd<'_>, _iov: &[libc::iovec]) -> io::Result<usize> {
        Err(would_block())
    }
}

/// `write(2)` of `buf`; returns how much was written, which may be less.
pub(super) fn write(fd: BorrowedFd<'_>, buf: &[u8], wait: Wait) -> io::Result<usize> {
    write_two(fd, buf, &[], wait)
}

/// `writev(2)` of two buffers in one call (the header and its payload); returns how much was
/// written in total, which may be less than both.
pub(super) fn write_two(
    fd: BorrowedFd<'_>,
    first: &[u8],
    second: &[u8],
    wait: Wait,
) -> io::Result<usize> {
    let second = &second[..second.len().min(MAX_IO - first.len().min(MAX_IO))];
    let iov = [
        libc::iovec {
            iov_base: first.as_ptr() as *mut libc::c_void,
            iov_len: first.len(),
        },
        libc::iovec {
            iov_base: second.as_ptr() as *mut libc::c_void,
            iov_len: second.len(),
        },
    ];
    let iov = &iov[..if second.is_empty() { 1 } else { 2 }];
    if wait == Wait::No {
        // SAFETY: `iov` describes readable bytes of `first` and `second`, which outlive the call.
        return unsafe { nowait::writev(fd, iov) };
    }
    // SAFETY: as above; `fd` is open for the borrow.
    let rc = unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), iov.len() as libc::c_int) };
    check(rc)
}

/// Grows the kernel buffer of `fd` to hold `wanted` bytes if `fd` is a pipe (Linux): a pipe
/// holds 64 KiB by default, so a 1 MiB message crosses it in 16 hand-overs between writer and
/// reader, each a sleep and a wake-up. Never beyond `/proc/sys/fs/pipe-max-size` (1 MiB by
/// default), which keeps unprivileged users under `pipe-user-pages-soft` (past it the kernel
/// gives all of the user's new pipes a minimal buffer); never shrinks. Best effort: on a socket
/// (`F_GETPIPE_SZ` fails) nothing happens, and a refusal (`EPERM` past the user's limit) leaves
/// the buffer as it was, which carries the same bytes, only in more steps.
#[cfg(resizable_pipes)]
pub(super) fn grow_pipe(fd: BorrowedFd<'_>, wanted: usize) {
    // SAFETY: F_GETPIPE_SZ takes no argument and `fd` is open for the borrow.
    let current = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) };
    let target = wanted.min(pipe_max_size());
    if current < 0 || current as usize >= target {
        return;
    }
    // SAFETY: F_SETPIPE_SZ takes one int argument (`target` is at most pipe-max-size, an int)
    // and `fd` is open for the borrow; its only effect is the size of the pipe's buffer.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, target as libc::c_int) };
}

#[cfg(not(resizable_pipes))]
pub(super) fn grow_pipe(_fd: BorrowedFd<'_>, _wanted: usize) {}

/// `/proc/sys/fs/pipe-max-size`, read once: the largest pipe buffer an unprivileged process may
/// ask for (1 MiB if the file cannot be read).
#[cfg(resizable_pipes)]
fn pipe_max_size() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .filter(|&max: &usize| max <= libc::c_int::MAX as usize)
            .unwrap_or(1 << 20)
    })
}

/// `madvise(MADV_HUGEPAGE)` (Linux) on the 2 MiB-aligned middle of `buf`, so that the kernel
/// backs the pages a large receive faults in with huge pages: 32 faults for 64 MiB instead of
/// 16,384. Memory is still committed only as it is written, one 2 MiB page at a time. Advice
/// only: where it cannot be taken (another kernel setting, memory that is not anonymous) the
/// error is ignored and nothing changes.
#[cfg(huge_pages)]
pub(super) fn advise_huge_pages(buf: &mut [MaybeUninit<u8>]) {
    const HUGE: usize = 2 << 20;
    let start = (buf.as_mut_ptr() as usize).next_multiple_of(HUGE);
    let end = (buf.as_mut_ptr() as usize + buf.len()) & !(HUGE - 1);
    if end > start {
        // SAFETY: [start, end) lies inside `buf`, memory this process owns; MADV_HUGEPAGE only
        // changes how future page faults there are served, never the contents.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(huge_pages))]
pub(super) fn advise_huge_pages(_buf: &mut [MaybeUninit<u8>]) {}

/// `poll(2)` for `POLLIN`: whether `fd` became ready (readable, end of file, or an error)
/// within `timeout` (`None`: wait as long as it takes).
pub(super) fn poll_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let mut pollfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = timeout.map_or(-1, timeout_millis);
    // SAFETY: `pollfd` is one valid, writable pollfd for the duration of the call.
    let rc = unsafe { libc::poll(&mut pollfd, 1, millis) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc > 0 && pollfd.revents != 0)
}

/// A timeout in whole milliseconds for poll(2), rounded up so that a short timeout still
/// waits instead of spinning, and capped at the largest `c_int`.
fn timeout_millis(timeout: Duration) -> libc::c_int {
    let millis = timeout.as_nanos().div_ceil(1_000_000);
    libc::c_int::try_from(millis).unwrap_or(libc::c_int::MAX)
}

/// `pipe(2)` with both ends close-on-exec (every descriptor Python creates is
/// non-inheritable, PEP 446): `(read end, write end)`.
pub(super) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    #[cfg(cloexec_at_creation)]
    // SAFETY: `fds` has room for the two descriptors pipe2(2) stores.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    #[cfg(not(cloexec_at_creation))]
    // SAFETY: `fds` has room for the two descriptors pipe(2) stores.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so both are fresh descriptors that nothing else owns.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(not(cloexec_at_creation))]
    {
        set_cloexec(reader.as_fd())?;
        set_cloexec(writer.as_fd())?;
    }
    Ok((reader, writer))
}

/// `accept(2)` on a listening socket, the new descriptor close-on-exec. Unlike std's
/// `accept`, an `EINTR` comes back to the caller instead of being retried.
pub(super) fn accept(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    #[cfg(cloexec_at_creation)]
    // SAFETY: null address pointers ask accept4(2) not to report the peer address; `fd` is open
    // for the borrow.
    let rc = unsafe {
        libc::accept4(
            fd.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC,
        )
    };
    #[cfg(not(cloexec_at_creation))]
    // SAFETY: as above, for accept(2).
    let rc = unsafe { libc::accept(fd.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut()) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so `rc` is a fresh descriptor that nothing else owns.
    let conn = unsafe { OwnedFd::from_raw_fd(rc) };
    #[cfg(not(cloexec_at_creation))]
    set_cloexec(conn.as_fd())?;
    Ok(conn)
}

/// Sets `FD_CLOEXEC`, where the system cannot create a descriptor with it atomically.
#[cfg(not(cloexec_at_creation))]
fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_GETFD takes no argument and `fd` is open for the borrow.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: F_SETFD takes one int argument and `fd` is open for the borrow.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `listen(2)` with `backlog`: std binds with a fixed backlog, and a second listen(2) on a
/// listening socket sets the one the caller asked for.
pub(super) fn listen(fd: BorrowedFd<'_>, backlog: i32) -> io::Result<()> {
    // SAFETY: listen(2) only reads its integer arguments; `fd` is open for the borrow.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeouts_round_up_to_the_millisecond() {
        assert_eq!(timeout_millis(Duration::ZERO), 0);
        assert_eq!(timeout_millis(Duration::from_nanos(1)), 1);
        assert_eq!(timeout_millis(Duration::from_millis(1500)), 1500);
        assert_eq!(timeout_millis(Duration::MAX), libc::c_int::MAX);
    }
}
