//! Windows kernel semaphores, on `windows-sys`: the only unsafe code of this backend.
//!
//! As in stock CPython, the semaphore is **unnamed** (`CreateSemaphoreW` with a null name): the
//! name a `SemLock` is given is kept as data only, there is nothing to open by name or to
//! unlink, and a child gets the semaphore as a handle its parent duplicated into it
//! (`SemLock::duplicate_for_child`, then `SemLock::from_raw_handle` in the child: `handoff.rs`). The
//! kernel knows the maximum given at creation and refuses a post beyond it
//! (`ERROR_TOO_MANY_POSTS`), so `release()` needs no check of its own. What the numbers the calls
//! return mean is decided in `windows_codes.rs`, which Linux tests cover; the calls are documented in
//! Microsoft's pages for `CreateSemaphoreW`, `WaitForSingleObjectEx`, `ReleaseSemaphore`,
//! `DuplicateHandle` and `CloseHandle`.
//!
//! **Ctrl-C.** Stock CPython waits on the semaphore and on the interpreter's internal SIGINT
//! event, which a Rust crate cannot reach (`_PyOS_SigintEvent` is private). We wait on the
//! semaphore alone, in slices of at most `schedule::SLICE_MS` (50 ms), and give control back
//! between slices ([`Waited::NotYet`]); the binding runs Python's signal handlers there, so
//! Ctrl-C raises `KeyboardInterrupt` within one slice. We chose slices over a console-control
//! handler of our own (`SetConsoleCtrlHandler` setting an event we also wait on) because:
//! * handlers run newest first on a system thread, so ours would run *before* the C runtime's
//!   handler that trips Python's SIGINT flag: the waiter could wake, find no pending signal,
//!   and wait again, losing the Ctrl-C, unless we added a second mechanism anyway;
//! * slices also see what never passes through the console: `_thread.interrupt_main()`,
//!   `signal.raise_signal()`, a handler for another signal;
//! * a library should not install process-wide console handlers behind its host's back;
//! * it is the same contract as the macOS polling wait, so the binding has one loop for all.
//!
//! The cost is one wake-up per 50 ms while a thread is blocked, and up to 50 ms of latency for
//! Ctrl-C. With a single handle, `WaitForSingleObjectEx` is the `WaitForMultipleObjectsEx`
//! stock uses minus the event. Run under Wine by `scripts/wine-test.sh` (`tests/windows_*.rs`).

use std::io;
use std::os::windows::io::{AsRawHandle, BorrowedHandle};
use std::ptr;
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    self as foundation, CloseHandle, DuplicateHandle, GetLastError, SetLastError,
    DUPLICATE_SAME_ACCESS, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::System::Threading::{
    self as threading, CreateSemaphoreW, GetCurrentProcess, GetCurrentThreadId, ReleaseSemaphore,
    WaitForSingleObjectEx,
};

use super::backend::{Backend, ReleaseCheck, Waited};
use super::deadline::Deadline;
use super::{schedule, windows_codes};
use crate::error::{Error, Result};

// The portable mapping in `windows_codes.rs` spells these numbers out so Linux tests can use them;
// here the compiler holds them to the SDK's.
const _: () = {
    assert!(windows_codes::WAIT_OBJECT_0 == foundation::WAIT_OBJECT_0);
    assert!(windows_codes::WAIT_TIMEOUT == foundation::WAIT_TIMEOUT);
    assert!(windows_codes::WAIT_FAILED == foundation::WAIT_FAILED);
    assert!(windows_codes::INFINITE == threading::INFINITE);
    assert!(windows_codes::ERROR_TOO_MANY_POSTS == foundation::ERROR_TOO_MANY_POSTS);
};

/// `FALSE` for the `BOOL` parameters: waits are not alertable, duplicates not inheritable.
const FALSE: windows_sys::core::BOOL = 0;

/// One semaphore handle this process owns, closed on drop.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    handle: HANDLE,
}

// SAFETY: a kernel semaphore handle may be used from any thread; every operation below is a
// thread-safe kernel call on it.
unsafe impl Send for RawSemaphore {}
// SAFETY: as above, shared references only make thread-safe kernel calls.
unsafe impl Sync for RawSemaphore {}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

impl RawSemaphore {
    /// Takes ownership of a raw handle value.
    ///
    /// # Safety
    ///
    /// `handle` must be an open semaphore handle of this process that the caller owns and
    /// gives up: nothing else may use or close it afterwards.
    pub(super) unsafe fn from_raw(handle: usize) -> Result<Self> {
        let handle = handle as HANDLE;
        if handle.is_null() || handle == INVALID_HANDLE_VALUE {
            return Err(Error::InvalidHandle);
        }
        Ok(RawSemaphore { handle })
    }

    /// `DuplicateHandle` of this semaphore into `process`, same access, not inheritable.
    pub(super) fn duplicate_into(&self, process: BorrowedHandle<'_>) -> Result<usize> {
        let mut target: HANDLE = ptr::null_mut();
        // SAFETY: GetCurrentProcess returns a pseudo-handle that needs no closing; `self.handle`
        // is open; `process` is a live handle for the duration of the call (borrowed); `target`
        // is a valid place for the result.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                self.handle,
                process.as_raw_handle() as HANDLE,
                &mut target,
                0,
                FALSE,
                DUPLICATE_SAME_ACCESS,
            )
        };
        if ok == 0 {
            return Err(Error::Os(last_error()));
        }
        Ok(target as usize)
    }
}

impl Backend for RawSemaphore {
    /// Stock uses `LONG_MAX`, and `LONG` is 32 bits on Windows.
    const SEM_VALUE_MAX: i32 = i32::MAX;
    const RELEASE_CHECK: ReleaseCheck = ReleaseCheck::Kernel;

    /// `CreateSemaphoreW(NULL, value, maxvalue, NULL)`: unnamed. As stock, the call counts as
    /// failed if `GetLastError()` is not 0 afterwards (it was cleared before). A `value` that
    /// came from a negative `int` is negative again here and refused by the kernel, as in stock.
    fn create(_name: &str, value: u32, maxvalue: i32) -> Result<Self> {
        // SAFETY: SetLastError only writes this thread's last-error slot.
        unsafe { SetLastError(0) };
        // SAFETY: null security attributes and a null name are allowed; the counts are plain
        // integers the kernel validates.
        let handle = unsafe { CreateSemaphoreW(ptr::null(), value as i32, maxvalue, ptr::null()) };
        // SAFETY: GetLastError only reads this thread's last-error slot.
        let code = unsafe { GetLastError() };
        if handle.is_null() || code != 0 {
            if !handle.is_null() {
                // SAFETY: `handle` was just created and is not used again.
                unsafe { CloseHandle(handle) };
            }
            return Err(Error::Os(io::Error::from_raw_os_error(code as i32)));
        }
        Ok(RawSemaphore { handle })
    }

    /// Windows semaphores are unnamed: there is nothing to open. Use a handle.
    fn open(_name: &str) -> Result<Self> {
        Err(Error::Os(io::Error::new(
            io::ErrorKind::Unsupported,
            "semaphores are unnamed on Windows: adopt a duplicated handle instead",
        )))
    }

    /// The `HANDLE` as an integer, CPython's `SemLock.handle`.
    fn handle(&self) -> usize {
        self.handle as usize
    }

    /// `WaitForSingleObjectEx(h, 0, FALSE)`.
    fn try_wait(&self) -> Result<bool> {
        // SAFETY: `self.handle` is an open semaphore handle until drop.
        let rc = unsafe { WaitForSingleObjectEx(self.handle, 0, FALSE) };
        windows_codes::try_wait_result(rc, last_error)
    }

    /// One slice of at most 50 ms of `WaitForSingleObjectEx`, or less if the deadline is
    /// nearer: [`Waited::NotYet`] when a slice ends before the deadline (see the module docs).
    fn wait(&self, deadline: Option<Deadline>) -> Result<Waited> {
        let (ms, to_deadline) = schedule::win_slice(deadline.map(Deadline::remaining));
        // SAFETY: `self.handle` is open (see `try_wait`).
        let rc = unsafe { WaitForSingleObjectEx(self.handle, ms, FALSE) };
        windows_codes::wait_result(rc, to_deadline, last_error)
    }

    /// `ReleaseSemaphore(h, 1, NULL)`; past the maximum is `ReleasedTooManyTimes`.
    fn post(&self) -> Result<()> {
        // SAFETY: `self.handle` is open; a null previous-count pointer is allowed.
        if unsafe { ReleaseSemaphore(self.handle, 1, ptr::null_mut()) } != 0 {
            return Ok(());
        }
        // SAFETY: GetLastError only reads this thread's last-error slot.
        Err(windows_codes::release_error(unsafe { GetLastError() }))
    }

    /// Stock's `_GetSemaphoreValue`: a zero-timeout wait, then a release that reports the
    /// count it started from. Racy by nature, as in stock.
    fn value(&self) -> Result<i32> {
        let taken = self.try_wait()?;
        let mut previous = 0;
        // SAFETY: `self.handle` is open and `previous` a valid place for the count.
        if taken && unsafe { ReleaseSemaphore(self.handle, 1, &mut previous) } == 0 {
            return Err(Error::Os(last_error()));
        }
        Ok(windows_codes::value_from(taken, previous))
    }

    /// Nothing has a name: a no-op, as stock's `SEM_UNLINK` is on Windows.
    fn unlink(_name: &str) -> Result<()> {
        Ok(())
    }

    /// `GetCurrentThreadId()`: what `threading.get_ident()` returns on Windows.
    fn current_thread_id() -> u64 {
        // SAFETY: GetCurrentThreadId has no preconditions and cannot fail.
        u64::from(unsafe { GetCurrentThreadId() })
    }

    /// Whole milliseconds as stock computes them (`windows_codes::timeout_millis`), from now.
    fn deadline_after_secs(seconds: f64) -> Result<Deadline> {
        let ms = windows_codes::timeout_millis(seconds)?;
        Ok(Deadline::after(Duration::from_millis(u64::from(ms))))
    }
}

impl Drop for RawSemaphore {
    /// `CloseHandle`: the semaphore lives on while another handle to it is open.
    fn drop(&mut self) {
        // SAFETY: `self.handle` is open and owned, and nothing uses it after drop. An error here
        // has no one to report to.
        unsafe { CloseHandle(self.handle) };
    }
}
