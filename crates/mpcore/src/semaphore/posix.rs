//! POSIX named semaphores: the `sem_open` family, and the only unsafe code of this backend.
//!
//! Each function cites the call it wraps; see the POSIX pages `sem_open(3)`, `sem_trywait(3)`,
//! `sem_timedwait(3)`, `sem_post(3)`, `sem_getvalue(3)`, `sem_close(3)` and `sem_unlink(3)`.
//! Nothing here keeps bookkeeping or knows about kinds: that is `super`'s job.
//!
//! **macOS** (`target_vendor = "apple"`) is this same backend with three differences, each kept
//! next to its Linux twin under `cfg` so that the shared 80% (open, try, post, close, unlink)
//! exists once:
//! * there is no `sem_timedwait`: a timed wait polls, one step per call (`schedule.rs`);
//! * `sem_getvalue` does not work (`HAVE_BROKEN_SEM_GETVALUE`): [`Backend::value`] reports
//!   `ValueUnavailable` and `release()` checks only `maxvalue == 1`, by try-and-post;
//! * `SEM_VALUE_MAX` is 32767.
//!
//! Names on macOS are limited to 31 bytes (`PSEMNAMLEN`); CPython's are 12 (`/mp-xxxxxxxx`),
//! and a longer one fails in `sem_open` with `ENAMETOOLONG`, passed on as an OS error.
//! Only the Linux build is run-tested; the macOS variant is linted (clippy) for
//! `x86_64-apple-darwin` and `aarch64-apple-darwin` by `scripts/cross-check.sh`.

use std::ffi::CString;
use std::io;
use std::ptr::NonNull;

use super::backend::{Backend, ReleaseCheck, Waited};
use super::deadline::Deadline;
use crate::error::{Error, Result};

/// The largest value a semaphore can hold: glibc's `SEM_VALUE_MAX` (`INT_MAX`); macOS's
/// `<sys/semaphore.h>` says 32767.
#[cfg(not(target_vendor = "apple"))]
const SEM_VALUE_MAX: i32 = i32::MAX;
#[cfg(target_vendor = "apple")]
const SEM_VALUE_MAX: i32 = 32767;

/// `sem_getvalue` works everywhere but on macOS.
#[cfg(not(target_vendor = "apple"))]
const RELEASE_CHECK: ReleaseCheck = ReleaseCheck::Value;
#[cfg(target_vendor = "apple")]
const RELEASE_CHECK: ReleaseCheck = ReleaseCheck::TryWaitIfBinary;

/// One open named semaphore (a `sem_t*` from `sem_open`), closed on drop.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    sem: NonNull<libc::sem_t>,
}

// SAFETY: a `sem_t` opened by `sem_open` is a process-shared object designed for concurrent use
// from any thread; every operation below goes through the thread-safe `sem_*` calls.
unsafe impl Send for RawSemaphore {}
// SAFETY: as above, shared references only ever call thread-safe `sem_*` functions.
unsafe impl Sync for RawSemaphore {}

fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| {
        Error::Os(io::Error::new(
            io::ErrorKind::InvalidInput,
            "embedded null character",
        ))
    })
}

impl RawSemaphore {
    fn from_sem_open(sem: *mut libc::sem_t) -> Result<Self> {
        if sem == libc::SEM_FAILED {
            return Err(Error::Os(io::Error::last_os_error()));
        }
        NonNull::new(sem)
            .map(|sem| RawSemaphore { sem })
            .ok_or_else(|| Error::Os(io::Error::from_raw_os_error(libc::EINVAL)))
    }

    /// `sem_wait`: blocks until a unit is taken; `Err(Interrupted)` on a signal.
    fn wait_forever(&self) -> Result<Waited> {
        // SAFETY: `self.sem` came from a successful sem_open and stays open until drop.
        if unsafe { libc::sem_wait(self.sem.as_ptr()) } == 0 {
            Ok(Waited::Acquired)
        } else {
            Err(Error::from_os(io::Error::last_os_error()))
        }
    }

    /// `sem_timedwait` until `deadline`.
    #[cfg(not(target_vendor = "apple"))]
    fn wait_until(&self, deadline: Deadline) -> Result<Waited> {
        let (secs, nanos) = deadline.as_secs_nanos();
        // SAFETY: timespec is plain old data; every field is set below.
        let mut abstime: libc::timespec = unsafe { std::mem::zeroed() };
        abstime.tv_sec = secs as libc::time_t;
        abstime.tv_nsec = nanos as _;
        // SAFETY: `self.sem` is open (see `wait_forever`) and `abstime` is a valid timespec
        // that outlives the call.
        if unsafe { libc::sem_timedwait(self.sem.as_ptr(), &abstime) } == 0 {
            return Ok(Waited::Acquired);
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ETIMEDOUT) => Ok(Waited::TimedOut),
            e => Err(Error::from_os(e)),
        }
    }

    /// One step of stock's polling fallback (macOS has no `sem_timedwait`): `sem_trywait`; if
    /// that fails and the deadline has not passed, sleep the step's delay and return
    /// [`Waited::NotYet`] so the caller can check signals before the next step
    /// (`schedule::poll_step`).
    #[cfg(target_vendor = "apple")]
    fn wait_until(&self, deadline: Deadline) -> Result<Waited> {
        super::schedule::poll_step(deadline, || self.try_wait(), Deadline::now, sleep)
    }
}

/// `nanosleep(2)` once, without resuming after a signal: `Err(Interrupted)` then, as stock's
/// `select()` sleep gives `EINTR`. (`std::thread::sleep` would sleep through signals.)
#[cfg(target_vendor = "apple")]
fn sleep(delay: std::time::Duration) -> Result<()> {
    if delay.is_zero() {
        return Ok(());
    }
    // SAFETY: timespec is plain old data; every field is set below.
    let mut request: libc::timespec = unsafe { std::mem::zeroed() };
    // A polling delay is at most 20 ms, so both fields are in range.
    request.tv_sec = delay.as_secs() as libc::time_t;
    request.tv_nsec = delay.subsec_nanos() as _;
    // SAFETY: `request` is a valid timespec; a null `rem` is allowed.
    if unsafe { libc::nanosleep(&request, std::ptr::null_mut()) } == 0 {
        Ok(())
    } else {
        Err(Error::from_os(io::Error::last_os_error()))
    }
}

impl Backend for RawSemaphore {
    const SEM_VALUE_MAX: i32 = SEM_VALUE_MAX;
    const RELEASE_CHECK: ReleaseCheck = RELEASE_CHECK;

    /// `sem_open(name, O_CREAT | O_EXCL, 0600, value)`: a new semaphore that must not exist yet.
    /// `maxvalue` is not the kernel's business here.
    fn create(name: &str, value: u32, _maxvalue: i32) -> Result<Self> {
        let name = c_name(name)?;
        let mode: libc::c_uint = 0o600;
        // SAFETY: `name` is a valid NUL-terminated string; with O_CREAT, sem_open reads exactly
        // two variadic arguments, a mode_t (promoted to unsigned int) and an unsigned int value.
        let sem = unsafe {
            libc::sem_open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_EXCL,
                mode,
                value as libc::c_uint,
            )
        };
        Self::from_sem_open(sem)
    }

    /// `sem_open(name, 0)`: an existing semaphore, by name.
    fn open(name: &str) -> Result<Self> {
        let name = c_name(name)?;
        // SAFETY: `name` is a valid NUL-terminated string; without O_CREAT no variadic argument
        // is read.
        let sem = unsafe { libc::sem_open(name.as_ptr(), 0) };
        Self::from_sem_open(sem)
    }

    /// The `sem_t*` as an integer, CPython's `SemLock.handle`.
    fn handle(&self) -> usize {
        self.sem.as_ptr() as usize
    }

    /// `sem_trywait`: `Ok(true)` if a unit was taken, `Ok(false)` if the value was zero.
    #[inline]
    fn try_wait(&self) -> Result<bool> {
        // SAFETY: `self.sem` is open (see `wait_forever`).
        if unsafe { libc::sem_trywait(self.sem.as_ptr()) } == 0 {
            return Ok(true);
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::EAGAIN) => Ok(false),
            e => Err(Error::from_os(e)),
        }
    }

    /// `sem_wait`, or a timed wait until `deadline`: `sem_timedwait`, or on macOS one polling
    /// step. `Err(Interrupted)` on a signal.
    fn wait(&self, deadline: Option<Deadline>) -> Result<Waited> {
        match deadline {
            None => self.wait_forever(),
            Some(deadline) => self.wait_until(deadline),
        }
    }

    /// `sem_post`: adds one unit and wakes a waiter.
    #[inline]
    fn post(&self) -> Result<()> {
        // SAFETY: `self.sem` is open (see `wait_forever`).
        if unsafe { libc::sem_post(self.sem.as_ptr()) } == 0 {
            Ok(())
        } else {
            Err(Error::Os(io::Error::last_os_error()))
        }
    }

    /// `sem_getvalue`, as the kernel reports it (may be negative on some systems).
    #[cfg(not(target_vendor = "apple"))]
    #[inline]
    fn value(&self) -> Result<i32> {
        let mut value: libc::c_int = 0;
        // SAFETY: `self.sem` is open and `value` is a valid place for the result.
        if unsafe { libc::sem_getvalue(self.sem.as_ptr(), &mut value) } == 0 {
            Ok(value)
        } else {
            Err(Error::Os(io::Error::last_os_error()))
        }
    }

    /// macOS's `sem_getvalue` fails with `ENOSYS` for named semaphores: no value.
    #[cfg(target_vendor = "apple")]
    #[inline]
    fn value(&self) -> Result<i32> {
        Err(Error::ValueUnavailable)
    }

    /// `sem_unlink(name)`: removes the name; processes that have the semaphore open keep
    /// using it.
    fn unlink(name: &str) -> Result<()> {
        let name = c_name(name)?;
        // SAFETY: `name` is a valid NUL-terminated string.
        if unsafe { libc::sem_unlink(name.as_ptr()) } == 0 {
            Ok(())
        } else {
            Err(Error::Os(io::Error::last_os_error()))
        }
    }

    /// `pthread_self()`: the value CPython's `threading.get_ident()` returns, so ownership
    /// means the same in both.
    #[inline]
    fn current_thread_id() -> u64 {
        // SAFETY: pthread_self has no preconditions and cannot fail.
        unsafe { libc::pthread_self() as u64 }
    }

    /// A deadline `seconds` from now; one `timespec` cannot hold is `EINVAL`, as stock's
    /// `sem_timedwait` reports it.
    fn deadline_after_secs(seconds: f64) -> Result<Deadline> {
        Deadline::after_secs_f64(seconds)
            .ok_or_else(|| Error::Os(io::Error::from_raw_os_error(libc::EINVAL)))
    }
}

impl Drop for RawSemaphore {
    /// `sem_close`: unmaps this process's view. It never unlinks the name.
    fn drop(&mut self) {
        // SAFETY: `self.sem` is open and nothing uses it after drop. An error here has no one
        // to report to and leaves nothing to clean up.
        unsafe { libc::sem_close(self.sem.as_ptr()) };
    }
}
